"""Growth: a journal of 100,000 callbacks over 10,000 requests against an empty one.

Builds both journals (written directly with ``Journal.add_request`` / ``append_callbacks`` in
batches; 1 % of the requests left unfinished so the tracker has something to resume, 1 in 10
callbacks a resend), then measures in fresh subprocesses, alternating big and empty:

- (a) start-up: process start to the first painted login screen;
- (t) tracking start as a login does it: open the journal and resume unfinished requests;
- (b) opening the requests view until its first page is shown and painted;
- peak RSS of the process (``ru_maxrss``).

The app runs headless (``App.run_test`` at 80x24) in each subprocess: the moment the first
page is in the table is then observable exactly (``RequestsScreen.pages_shown``) instead of
guessed from escape sequences, and frames cost the same for both journals, so the ratio is
fair. ``bench/startup.py`` measures the absolute first paint in a real pty.
Target: the big journal within 1.5x of the empty one (medians), peak RSS under 300 MB.

    python bench/journal_growth.py [--runs 5] [--requests 10000] [--callbacks 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import time
T0 = time.perf_counter()
import argparse, asyncio, json, resource, sys
from pathlib import Path

async def painted(widget) -> None:
    # The next refresh after now: the frame holding what is already on the widget.
    done = asyncio.Event()
    widget.call_after_refresh(done.set)
    await done.wait()

async def main(path: Path) -> None:
    from m2m_tui.ui.app import M2MApp
    from m2m_tui.ui.run import build_options

    options = build_options(argparse.Namespace(profile=None, read_only=False, no_mouse=True))
    options.journal = path
    options.watchdog = False
    options.persist_settings = False
    app = M2MApp(options)
    async with app.run_test(size=(80, 24)):
        await painted(app.screen)
        startup = time.perf_counter() - T0

        from m2m_tui.tracking.service import TrackingSettings

        t1 = time.perf_counter()
        link = await app.desk.start_tracking(TrackingSettings(journal_path=path, listener=None))
        tracking = time.perf_counter() - t1

        from m2m_tui.ui.screens.requests import RequestsScreen

        t2 = time.perf_counter()
        screen = RequestsScreen(app.services)
        await app.push_screen(screen)
        while screen.pages_shown == 0:
            await asyncio.sleep(0.002)
        await painted(screen.table)
        opened = time.perf_counter() - t2
        rows = screen.table.row_count
        await app.desk.close()
        app.desk.tracking = None
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"startup": startup, "tracking": tracking, "requests": opened,
                      "rows": rows, "rss_mb": rss}))

asyncio.run(main(Path(sys.argv[1])))
"""


def build(path: Path, requests: int, callbacks: int) -> float:
    from m2m_tui.tracking.journal.sqlite import Journal
    from m2m_tui.tracking.records import CallbackRecord

    start = time.perf_counter()
    now = time.time()
    per_request = max(1, callbacks // max(1, requests))
    with Journal.open(path) as journal:
        batch: list[CallbackRecord] = []
        for index in range(requests):
            request_id = f"{index:08x}-0000-4000-8000-{index:012x}"
            unfinished = index % 100 == 0
            submitted = now - (requests - index) * 30.0
            journal.add_request(
                request_id,
                action="suspension_status",
                account="0000123456-00001",
                target={"filter": {"groupName": f"group-{index % 50}"}},
                pollable=False,
                deadline=now + 86400 if unfinished else submitted + 1500,
                submitted_at=submitted,
                state="partial" if unfinished else "completed",
            )
            for n in range(per_request):
                resend = n % 10 == 9  # the same body again: stored as a duplicate
                device = f"imei:35987654{(index * per_request + (n - 1 if resend else n)):07d}"
                body = {
                    "requestId": request_id,
                    "deviceIds": [{"id": device[5:], "kind": "imei"}],
                    "deviceResponse": {
                        "deviceSuspensionStatusResponse": [
                            {"state": "suspend", "numDaysSuspendedLast12Months": "29"}
                        ]
                    },
                    "callbackCount": 2 if resend else 1,
                }
                batch.append(
                    CallbackRecord(
                        request_id, "suspension_status", body, device, 1, None, submitted + n
                    )
                )
            if len(batch) >= 2000:
                journal.append_callbacks(batch)
                batch = []
        if batch:
            journal.append_callbacks(batch)
    return time.perf_counter() - start


def measure(path: Path, env: dict[str, str]) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"child failed:\n{result.stderr[-2000:]}")
    value: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--callbacks", type=int, default=100_000)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    folder = Path(tempfile.mkdtemp(prefix="m2m-growth-"))
    home = folder / "home"
    home.mkdir()
    env = {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "LANG": "C.UTF-8",
    }
    big, empty = folder / "big.sqlite3", folder / "empty.sqlite3"
    built = build(big, args.requests, args.callbacks)
    build(empty, 0, 0)
    size = big.stat().st_size + sum(p.stat().st_size for p in folder.glob("big.sqlite3-*"))
    print(f"command: {sys.executable} bench/journal_growth.py --runs {args.runs}", end="")
    print(f" --requests {args.requests} --callbacks {args.callbacks}")
    print(f"built {args.requests} requests / {args.callbacks} callbacks in {built:.1f} s")
    print(f"journal size {size / 1e6:.1f} MB")
    measure(big, env)  # warm the file and bytecode caches
    measure(empty, env)
    runs: dict[str, list[dict[str, float]]] = {"big": [], "empty": []}
    for _ in range(args.runs):
        runs["big"].append(measure(big, env))
        runs["empty"].append(measure(empty, env))
    medians = {
        name: {key: statistics.median(r[key] for r in results) for key in results[0]}
        for name, results in runs.items()
    }
    ok = True
    for key, label in (
        ("startup", "(a) start-up to first paint"),
        ("tracking", "    tracking start (resume)"),
        ("requests", "(b) requests view, first page"),
    ):
        b, e = medians["big"][key], medians["empty"][key]
        ratio = b / e if e else float("inf")
        gated = key != "tracking"
        ok = ok and (ratio <= 1.5 or not gated)
        verdict = ("OK" if ratio <= 1.5 else "OVER") if gated else "info"
        print(
            f"{label}: big {b * 1000:.0f} ms, empty {e * 1000:.0f} ms, "
            f"ratio {ratio:.2f}x (target <= 1.5x) {verdict}"
        )
    rss = max(r["rss_mb"] for r in runs["big"])
    ok = ok and rss < 300
    print(
        f"rows shown: big {medians['big']['rows']:.0f}, empty {medians['empty']['rows']:.0f}; "
        f"peak RSS big {rss:.0f} MB, empty {max(r['rss_mb'] for r in runs['empty']):.0f} MB "
        f"(target < 300 MB) {'OK' if rss < 300 else 'OVER'}"
    )
    print("result:", "OK" if ok else "OVER")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
