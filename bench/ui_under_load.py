"""The TUI under a burst of callbacks: ingest rate, time until shown, key latency, in a pty.

Each run starts the real app (``python -m m2m_tui --demo``) on an 80x24 pseudo-terminal, logs
in (Enter on the pre-filled demo login), looks a device up and asks for its suspension status
by keys, so one request is tracked and the simulator's own callbacks finish it. The listener's
port is read from the status bar (``cb 127.0.0.1:PORT ✓N ✗M``), the tracked requestId from
the demo's journal. Then, in the same run:

1. idle: keys are typed into the identifier input and each one is timed from the write to the
   pty until the frame showing the new value arrives;
2. burst: a separate process (so the load generator does not slow this one's reading) POSTs
   ``-n`` realistic DeviceSuspensionStatus callbacks over ``-c`` keep-alive connections with
   the raw HTTP/1.1 client of ``bench/callbacks.py``, as fast as the listener answers; one in
   ``--share`` names the tracked request (new devices), the others requests that are not
   ours. Meanwhile keys are timed the same way, and the status bar is read until it shows
   ``✓`` = the count before the burst + ``-n``.

Targets (issue 5): every callback shown, p90 key latency during the burst < 100 ms, and
>= 2,000 callbacks/s ingested with the UI live. ``--screen requests`` / ``--screen inbox`` run
the burst with the requests view / the callbacks inbox open instead of typing: keys are not
timed there (their tables change under any overlay, so no frame is unique to a key press).
"Visible" is the status bar's accepted count (on the inbox: the row of the last one sent). A negative "after the last
answer" means the bar showed the total before the load process had read its last 200.

    python bench/ui_under_load.py [--runs 5] [-n 5000] [-c 32]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import json
import os
import pty
import random
import re
import select
import shlex
import shutil
import signal
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from callbacks import body_for as callbacks_body  # noqa: E402  (the sibling benchmark)
from callbacks import drive  # noqa: E402  (its raw keep-alive client)

# The demo's callback credentials (m2m_tui/desk/demo.py).
USERNAME = "demo-callbacks"
PASSWORD = "demo-callback-secret"
DEVICE = "5551234568"  # m2m_tui/sim/wellknown.py SUSPENDED_MDN
ANSI = re.compile(
    rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[()][A-Z0-9]|\x1b."
)
STATUS = re.compile(r"cb 127\.0\.0\.1:(\d+) ✓(\d+) ✗(\d+)".encode())
# Letters that never follow "qz" in the UI's own text: every typed value is new on screen.
LETTERS = "bdfhjkmpvwxz"
CHAIN = 14  # measured keys per chain, then ctrl+u clears the input


def body_for(index: int, request_id: str) -> bytes:
    """One per-device DeviceSuspensionStatus callback with the demo's credentials."""
    return callbacks_body(index, request_id, username=USERNAME, password=PASSWORD, mdn_prefix="556")


def bodies_for(count: int, tracked: str, share: int, seed: int) -> list[bytes]:
    """``count`` distinct bodies; every ``share``-th names the tracked request."""
    rng = random.Random(seed)
    return [
        body_for(
            i, tracked if share and i % share == 0 else str(uuid.UUID(int=rng.getrandbits(128)))
        )
        for i in range(count)
    ]


# --- the load process ------------------------------------------------------------------------


def run_driver(args: argparse.Namespace) -> int:
    """``--drive``: build the bodies, say ready, wait for "go", POST them all, report JSON."""
    bodies = bodies_for(args.requests, args.tracked, args.share, args.seed)
    print("ready", flush=True)
    sys.stdin.readline()
    started = time.monotonic()
    result = asyncio.run(drive("burst", args.url, bodies, args.concurrency, args.pid, "raw"))
    ended = time.monotonic()
    report = {
        "ok": result.ok,
        "errors": result.errors,
        "started": started,
        "ended": ended,
        "seconds": result.seconds,
        "p50_ms": result.percentile(0.5),
        "p99_ms": result.percentile(0.99),
        "app_cpu": result.cpu_seconds,
    }
    print(json.dumps(report), flush=True)
    return 0


# --- the pty ---------------------------------------------------------------------------------


class Terminal:
    """The app on a pty; every read is timestamped and scanned (escape sequences stripped)."""

    def __init__(self, command: list[str], env: dict[str, str], size: tuple[int, int]) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # child
            os.execvpe(command[0], command, env)
        cols, rows = size
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        os.set_blocking(self.fd, False)
        self.raw = bytearray()
        self.text = bytearray()  # everything shown, escape sequences stripped
        self.bytes_read = 0
        self.accepted = -1
        self.accepted_at: dict[int, float] = {}
        self.port: int | None = None
        self.closed = False
        self._changed = asyncio.Event()
        self._tail = b""

    def attach(self) -> None:
        asyncio.get_running_loop().add_reader(self.fd, self._read)

    def _read(self) -> None:
        now = time.monotonic()
        try:
            chunk = os.read(self.fd, 1 << 16)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            self.closed = True
            asyncio.get_running_loop().remove_reader(self.fd)
            self._changed.set()
            return
        self.bytes_read += len(chunk)
        # Strip escapes over the unfinished tail of the previous read plus this one.
        data = self._tail + chunk
        cut = data.rfind(b"\x1b")
        if cut >= 0 and len(data) - cut < 64:
            data, self._tail = data[:cut], data[cut:]
        else:
            self._tail = b""
        plain = ANSI.sub(b"", data)
        scan = bytes(self.text[-200:]) + plain
        self.text += plain
        if len(self.text) > 1 << 20:
            del self.text[: len(self.text) - (1 << 19)]
        for match in STATUS.finditer(scan):
            self.port = int(match.group(1))
            count = int(match.group(2))
            if count > self.accepted:
                self.accepted = count
                self.accepted_at.setdefault(count, now)
        self._changed.set()

    def write(self, data: bytes) -> float:
        os.write(self.fd, data)
        return time.monotonic()

    def mark(self) -> int:
        return len(self.text)

    async def wait_text(self, needle: bytes, since: int, within: float = 10.0) -> float:
        """The time ``needle`` appeared in what was shown after position ``since``."""
        deadline = time.monotonic() + within
        since = max(0, since - len(needle))  # (positions shift when the buffer is trimmed)
        while True:
            if needle in self.text[since:]:
                return time.monotonic()
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.closed:
                tail = bytes(self.text[-600:]).decode("utf-8", "replace")
                raise TimeoutError(f"{needle!r} not shown within {within} s; last: {tail!r}")
            await self._next_change(remaining)

    async def wait_until(self, predicate: Callable[[], bool], within: float) -> bool:
        deadline = time.monotonic() + within
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.closed:
                return False
            await self._next_change(remaining)
        return True

    async def _next_change(self, limit: float) -> None:
        self._changed.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), limit)

    def finish(self) -> None:
        with contextlib.suppress(OSError, ValueError, RuntimeError):
            asyncio.get_running_loop().remove_reader(self.fd)
        with contextlib.suppress(OSError, ValueError, RuntimeError):
            os.write(self.fd, b"\x11")  # ctrl+q
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            try:
                select.select([self.fd], [], [], 0.05)
                os.read(self.fd, 1 << 16)
            except OSError:
                pass
            done, _ = os.waitpid(self.pid, os.WNOHANG)
            if done == self.pid:
                break
        else:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.fd)


# --- key latency -----------------------------------------------------------------------------


@dataclass
class KeySampler:
    """Types into the focused identifier input; times each key until its frame arrives.

    Every value typed is new on screen ("qz" plus random letters), so the first output after
    the write that contains it is the frame the key caused.
    """

    term: Terminal
    rng: random.Random
    gap: float = 0.05
    samples: list[tuple[float, float]] = field(default_factory=list)  # (pressed, latency)
    value: str = ""

    async def reset(self) -> None:
        self.term.write(b"\x15")  # ctrl+u: clear the input
        await asyncio.sleep(0.1)
        self.value = "qz"
        since = self.term.mark()
        self.term.write(b"qz")
        await self.term.wait_text(b"qz", since, within=10)

    async def press(self) -> None:
        if len(self.value) >= 2 + CHAIN or not self.value:
            await self.reset()
        letter = self.rng.choice(LETTERS)
        self.value += letter
        since = self.term.mark()
        pressed = self.term.write(letter.encode())
        shown = await self.term.wait_text(self.value.encode(), since, within=10)
        self.samples.append((pressed, shown - pressed))

    async def run(self, count: int | None = None, stop: asyncio.Event | None = None) -> None:
        done = 0
        while (count is None or done < count) and not (stop is not None and stop.is_set()):
            await self.press()
            done += 1
            await asyncio.sleep(self.gap)


#: --screen: the key that opens it from the device card, a text that says it is open.
SCREENS = {"requests": (b"g", b"Sort"), "inbox": (b"i", b"Category")}


def percentiles(values: list[float]) -> tuple[float, float, float]:
    """p50, p90, max in milliseconds."""
    if not values:
        return (float("nan"),) * 3  # type: ignore[return-value]
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return statistics.median(ordered) * 1000, p90 * 1000, ordered[-1] * 1000


# --- one run ---------------------------------------------------------------------------------


@dataclass
class RunResult:
    sent: int
    ok: int
    errors: int
    rate: float
    http_p50_ms: float
    http_p99_ms: float
    visible_after: float  # burst start to the status bar showing every callback
    lag_after_last: float  # last 200 answered to the status bar showing it
    shown: bool
    idle_keys: list[float]
    burst_keys: list[float]
    app_cpu: float
    frames_bytes: int

    def line(self, label: str) -> str:
        i50, i90, imax = percentiles(self.idle_keys)
        b50, b90, bmax = percentiles(self.burst_keys)
        shown = "all shown" if self.shown else "NOT ALL SHOWN"
        text = (
            f"{label}: {self.rate:6,.0f} callbacks/s ({self.ok}/{self.sent} ok, {self.errors} err,"
            f" http p50 {self.http_p50_ms:.1f} p99 {self.http_p99_ms:.1f} ms,"
            f" app CPU {self.app_cpu:.0%})\n"
            f"{'':>8}last visible {self.visible_after * 1000:5.0f} ms after start,"
            f" {self.lag_after_last * 1000:4.0f} ms after the last answer ({shown})"
        )
        if self.idle_keys or self.burst_keys:
            text += (
                f"\n{'':>8}keys idle  p50 {i50:5.1f} p90 {i90:5.1f} max {imax:5.1f} ms"
                f" (n={len(self.idle_keys)})\n"
                f"{'':>8}keys burst p50 {b50:5.1f} p90 {b90:5.1f} max {bmax:5.1f} ms"
                f" (n={len(self.burst_keys)})"
            )
        return text


def demo_env(home: Path) -> dict[str, str]:
    return {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "TMPDIR": str(home / "tmp"),  # the demo's folder (and journal) land here
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "COLORTERM": "truecolor",
    }


def tracked_request_id(home: Path) -> str:
    journals = sorted((home / "tmp").glob("m2m-tui-demo-*/journal.sqlite3"))
    if not journals:
        raise RuntimeError("the demo's journal was not found")
    conn = sqlite3.connect(f"{journals[-1].as_uri()}?mode=ro", uri=True)
    try:
        row = conn.execute(
            "SELECT request_id FROM requests ORDER BY submitted_at DESC LIMIT 1"
        ).fetchone()
    finally:
        conn.close()
    if row is None:
        raise RuntimeError("no request in the demo's journal")
    return str(row[0])


async def one_run(args: argparse.Namespace, index: int) -> RunResult:
    home = Path(tempfile.mkdtemp(prefix="m2m-bench-ui-"))
    (home / "tmp").mkdir()
    env = demo_env(home)
    term = Terminal([sys.executable, "-m", "m2m_tui", "--demo"], env, (80, 24))
    term.attach()
    driver: asyncio.subprocess.Process | None = None
    try:
        # Log in once the demo's listener is up (its address is in the status bar).
        await term.wait_until(lambda: term.port is not None, 20)
        if term.port is None:
            raise RuntimeError("the listener address never appeared in the status bar")
        since = term.mark()
        term.write(b"\r")
        await term.wait_text(b"Paste any identifier", since, within=20)
        # Look a device up and ask for its suspension status: one tracked request.
        since = term.mark()
        term.write(DEVICE.encode() + b"\r")
        await term.wait_text(b"found (/ for another)", since, within=20)
        before = max(term.accepted, 0)
        since = term.mark()
        term.write(b"s")
        await term.wait_text(b"Request submitted", since, within=20)
        # The simulator answers by callback (per-device, then completion): let them land.
        await term.wait_until(lambda: term.accepted >= before + 2, 20)
        await asyncio.sleep(0.5)
        tracked = tracked_request_id(home)
        url = f"http://127.0.0.1:{term.port}/cb/devicesuspensionstatus"

        typing = args.screen not in SCREENS
        if typing:
            term.write(b"/")  # focus the identifier input for typing
        else:
            key, marker = SCREENS[args.screen]
            since = term.mark()
            term.write(key)
            await term.wait_text(marker, since, within=10)
        await asyncio.sleep(0.5)
        sampler = KeySampler(term, random.Random(index))

        driver = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--drive", "--url", url, "-n", str(args.requests),
            "-c", str(args.concurrency), "--tracked", tracked, "--share", str(args.share),
            "--seed", str(index), "--pid", str(term.pid),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT,
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
        )  # fmt: skip
        assert driver.stdin is not None and driver.stdout is not None
        ready = await driver.stdout.readline()
        if ready.strip() != b"ready":
            raise RuntimeError(f"load process: {ready!r}")

        if typing:
            await sampler.run(count=args.idle_keys)
        idle = [latency for _, latency in sampler.samples]
        sampler.samples.clear()
        await asyncio.sleep(0.3)

        baseline = max(term.accepted, 0)
        target = baseline + args.requests
        stop = asyncio.Event()
        keys = asyncio.create_task(sampler.run(stop=stop)) if typing else None
        go, go_mark = time.monotonic(), term.mark()
        driver.stdin.write(b"go\n")
        await driver.stdin.drain()
        line = await driver.stdout.readline()
        report = json.loads(line)
        if args.screen == "inbox":
            # At 80x24 the inbox's table pushes the status bar off the screen: wait for the
            # row of the last callback sent instead (newest first; the others are older).
            last_row = f"mdn:556{(args.requests - 1) % 10_000_000:07d}".encode()
            try:
                seen_at = await term.wait_text(last_row, go_mark, within=args.visible_timeout)
            except TimeoutError:
                seen_at = float("nan")
            shown = seen_at == seen_at
        else:
            await term.wait_until(lambda: term.accepted >= target, args.visible_timeout)
            shown = term.accepted >= target
            seen_at = min(
                (t for n, t in term.accepted_at.items() if n >= target), default=float("nan")
            )
        stop.set()
        if keys is not None:
            await keys
        if not shown:
            tail = bytes(term.text[-800:]).decode("utf-8", "replace")
            print(f"# not all shown: status bar at ✓{term.accepted}, wanted {target}; {tail!r}")
        burst = [
            lat
            for pressed, lat in sampler.samples
            if report["started"] <= pressed <= report["ended"]
        ]
        return RunResult(
            sent=args.requests,
            ok=report["ok"],
            errors=report["errors"],
            rate=report["ok"] / report["seconds"],
            http_p50_ms=report["p50_ms"],
            http_p99_ms=report["p99_ms"],
            visible_after=seen_at - go,
            lag_after_last=seen_at - report["ended"],
            shown=shown,
            idle_keys=idle,
            burst_keys=burst,
            app_cpu=report["app_cpu"] / report["seconds"],
            frames_bytes=term.bytes_read,
        )
    finally:
        if driver is not None and driver.returncode is None:
            driver.kill()
            await driver.wait()
        term.finish()
        shutil.rmtree(home, ignore_errors=True)


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh app per run; medians reported")
    parser.add_argument("-n", "--requests", type=int, default=5_000, help="callbacks per burst")
    parser.add_argument("-c", "--concurrency", type=int, default=32)
    parser.add_argument("--share", type=int, default=10, help="1 in N names the tracked request")
    parser.add_argument("--idle-keys", type=int, default=40)
    parser.add_argument("--screen", choices=["devices", "requests", "inbox"], default="devices")
    parser.add_argument("--visible-timeout", type=float, default=30.0)
    # The load process (internal).
    parser.add_argument("--drive", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--tracked", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--pid", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        return run_driver(args)

    command = (
        f"cd {shlex.quote(str(ROOT))} && PYTHONPATH=. {shlex.quote(sys.executable)} "
        f"bench/ui_under_load.py --runs {args.runs} -n {args.requests} -c {args.concurrency}"
        f" --share {args.share} --idle-keys {args.idle_keys} --screen {args.screen}"
    )
    print(f"# reproduce: {command}")
    print(
        f"# {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, load average {loadavg()}"
        f" (before); app in an 80x24 pty, load from a separate process"
    )
    results: list[RunResult] = []
    for index in range(args.runs):
        result = asyncio.run(one_run(args, index))
        results.append(result)
        print(result.line(f"run {index + 1}"), flush=True)
    print(f"# load average {loadavg()} (after)")

    def med(values: list[float]) -> float:
        return statistics.median(values)

    rate = med([r.rate for r in results])
    visible = med([r.visible_after for r in results])
    lag = med([r.lag_after_last for r in results])
    idle = [percentiles(r.idle_keys) for r in results]
    burst = [percentiles(r.burst_keys) for r in results]
    all_shown = all(r.shown and r.errors == 0 for r in results)
    print(
        f"median: {rate:,.0f} callbacks/s ingested; last callback visible {visible * 1000:.0f} ms"
        f" after the burst started ({lag * 1000:.0f} ms after the last answer);"
        f" every callback shown in every run: {'yes' if all_shown else 'NO'}"
    )
    typing = args.screen not in SCREENS
    for label, runs, pooled in typing * (
        ("idle ", idle, [k for r in results for k in r.idle_keys]),
        ("burst", burst, [k for r in results for k in r.burst_keys]),
    ):
        p50, p90, top = percentiles(pooled)
        print(
            f"median: keys {label} p50 {med([p[0] for p in runs]):.1f}"
            f" p90 {med([p[1] for p in runs]):.1f} max {med([p[2] for p in runs]):.1f} ms"
            f"  (all runs pooled: p50 {p50:.1f} p90 {p90:.1f} max {top:.1f} ms, n={len(pooled)})"
        )
    burst_p90 = med([p[1] for p in burst]) if typing else 0.0
    verdicts = [
        ("every callback shown", all_shown),
        (">= 2,000 callbacks/s", rate >= 2000),
    ]
    if typing:
        verdicts.append(("p90 key latency during the burst < 100 ms", burst_p90 < 100))
    print("targets: " + "; ".join(f"{name}: {'OK' if ok else 'MISSED'}" for name, ok in verdicts))
    return 0 if all(ok for _, ok in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
