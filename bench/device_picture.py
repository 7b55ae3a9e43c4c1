"""Time from Enter on a pasted identifier to the complete device picture painted (issue 10).

Runs the real app headless (Textual ``run_test``, 80x24) in ``--demo`` mode, with the demo's
simulator answering every HTTP call after a fixed latency (``FaultConfig.latency``, 120 ms by
default: a realistic ThingSpace round trip). After logging in, the identifier of a story
device is pasted into the input, Enter is pressed, and the clock stops at the first frame
after the card, the diagnosis, the connection timeline, the provisioning history and the plan
are all painted: the first frame the screen's compositor renders (headless Textual renders
every frame; it only skips writing it to a terminal) that shows the diagnosis verdict, which
the card paints only once every section has an answer or an error; after the clock, the bench
checks that no section still says "loading". Nothing polls the app while it works (an
earlier version polled every 2 ms through the pilot, which ran a message through every widget
on the app's own loop, then waited for the whole process to go idle, journal writes
included). Every HTTP call the app makes is recorded (start, end, path) from the
client's own httpx transport, and the number of *sequential* round trips is the longest chain
of calls where each one starts after the previous one ended.

Target: at most 2 round trips + 150 ms; one round trip when the identifier's kind is certain
(an MDN, ICCID or IMEI starts the history calls together with the lookup).

    python bench/device_picture.py [--runs 3] [--latency 0.12] [--identifier 5551230102]
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from m2m_tui.sim import SimConfig  # noqa: E402
from m2m_tui.sim.config import FaultConfig  # noqa: E402

Call = tuple[float, float, str]


def sequential_round_trips(calls: list[Call]) -> tuple[int, list[str]]:
    """The longest chain of calls, each starting after the previous ended (and its paths)."""
    ordered = sorted(calls, key=lambda c: c[1])
    best: list[tuple[int, list[str]]] = []
    for i, (start, _end, path) in enumerate(ordered):
        length, chain = 1, [path]
        for j in range(i):
            if ordered[j][1] <= start and best[j][0] + 1 > length:
                length, chain = best[j][0] + 1, [*best[j][1], path]
        best.append((length, chain))
    return max(best, default=(0, []))


async def one_run(
    identifier: str, latency: float, folder: Path
) -> tuple[float, list[Call], dict[str, float]]:
    from textual.widgets import Input, Static

    from m2m_tui.ui.app import M2MApp
    from m2m_tui.ui.run import demo_options
    from m2m_tui.ui.widgets.device_card import DeviceCard
    from m2m_tui.ui.widgets.picture_sections import CardSection

    options = demo_options(argparse.Namespace(read_only=False), folder)
    options.watchdog = False
    assert options.demo is not None
    options.demo.listener = False
    options.demo.sim_config = SimConfig(faults=FaultConfig(latency=latency))
    app = M2MApp(options)
    calls: list[Call] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await _until(
            pilot, lambda: app.demo_services is not None and app.demo_services.ready.is_set()
        )
        await pilot.press("enter")  # the demo login is pre-filled
        await _until(pilot, lambda: type(app.screen).__name__ == "DevicesScreen")
        await _until(pilot, lambda: app.client is not None)
        http: Any = app.client._http  # type: ignore[union-attr]
        real_send = http.send

        async def timed_send(request: Any, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await real_send(request, *args, **kwargs)
            finally:
                calls.append((started, time.perf_counter(), request.url.path))

        http.send = timed_send
        # The screen is pushed before it is composed: wait for its search box.
        await _until(pilot, lambda: bool(app.screen.query("#identifier")))
        field = app.screen.query_one("#identifier", Input)
        field.focus()
        field.value = identifier  # pasted
        await pilot.pause()
        card = app.screen.query_one(DeviceCard)
        landed: dict[str, float] = {}
        real_landed, real_diagnosis = card.section_landed, card.show_diagnosis

        def section_landed(picture: Any, section: Any) -> None:
            landed.setdefault(section.name, time.perf_counter())
            real_landed(picture, section)

        def show_diagnosis(picture: Any, diagnosis: Any) -> None:
            landed.setdefault("diagnosis", time.perf_counter())
            real_diagnosis(picture, diagnosis)

        card.section_landed = section_landed  # type: ignore[method-assign]
        card.show_diagnosis = show_diagnosis  # type: ignore[method-assign]

        def complete() -> bool:
            picture = card.picture
            return (
                card.diagnosis is not None
                and picture is not None
                and all(
                    s.done
                    for s in (
                        picture.device,
                        picture.connections,
                        picture.provisioning,
                        picture.plans,
                    )
                )
            )

        # The clock stops at the first frame the screen renders (Textual renders every frame
        # headless too; only the write to a terminal is skipped) that shows the diagnosis
        # verdict once every section is in: nothing polls the app's loop while it works.
        painted = asyncio.Event()
        real_display = app._display

        def display(screen: Any, update: Any) -> None:
            at = time.perf_counter()
            real_display(screen, update)
            if painted.is_set() or not complete():
                return
            verdict = card.diagnosis.line  # type: ignore[union-attr]
            if verdict and verdict[:40] in frame_text(update):
                landed["frame"] = at
                painted.set()

        app._display = display  # type: ignore[method-assign]
        started = time.perf_counter()
        await pilot.press("enter")
        await asyncio.wait_for(painted.wait(), 60)
        elapsed = landed["frame"] - started
        app._display = real_display  # type: ignore[method-assign]
        http.send = real_send
        still_loading = [s.id for s in card.query(CardSection) if "loading…" in str(s.content)]
        if still_loading or "loading…" in str(card.query_one("#card-body", Static).content):
            raise AssertionError(f"frame counted with sections still loading: {still_loading}")
    sections = {name: at - started for name, at in landed.items()}
    return elapsed, [c for c in calls if c[0] >= started], sections


def frame_text(update: Any) -> str:
    """The characters of one rendered frame (a full layout, or only its changed chops)."""
    from textual.strip import Strip

    strips: list[Any] = []
    for line in getattr(update, "strips", ()):
        strips.extend([line] if isinstance(line, Strip) else line)
    for chop in getattr(update, "chops", ()):
        strips.extend(strip for strip in chop.values() if strip is not None)
    return "\n".join(strip.text for strip in strips)


async def _until(pilot: Any, predicate: Any, within: float = 60.0, step: float = 0.02) -> None:
    deadline = time.perf_counter() + within
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"timed out waiting for {predicate}")
        await pilot.pause(step)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.12)
    parser.add_argument("--identifier", default="5551230102", help="story B's MDN by default")
    args = parser.parse_args()
    command = "python " + " ".join(
        shlex.quote(a) for a in ["bench/device_picture.py", *sys.argv[1:]]
    )
    figures: list[float] = []
    trips: list[int] = []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            elapsed, calls, sections = asyncio.run(
                one_run(args.identifier, args.latency, Path(tmp) / f"r{run}")
            )
            count, chain = sequential_round_trips(calls)
            figures.append(elapsed)
            trips.append(count)
            print(
                f"run {run + 1}: {elapsed * 1000:.0f} ms, {len(calls)} HTTP calls, "
                f"{count} sequential round trip(s): {' -> '.join(chain)}"
            )
            spans = ", ".join(
                f"{(end - start) * 1000:.0f} ms {path.rsplit('/', 3)[-2]}"
                for start, end, path in sorted(calls)
            )
            print(f"  calls: {spans}")
            print(
                "  handed to the card at: "
                + ", ".join(
                    f"{k} {v * 1000:.0f} ms"
                    for k, v in sorted(sections.items(), key=lambda i: i[1])
                )
            )
    limit = max(trips) * args.latency + 0.150
    print(
        f"Enter -> complete picture painted: median {statistics.median(figures) * 1000:.0f} ms, "
        f"max {max(figures) * 1000:.0f} ms over {args.runs} run(s); latency {args.latency * 1000:.0f} ms"
        f" per call; sequential round trips {max(trips)}; target <= {limit * 1000:.0f} ms "
        f"({'met' if max(figures) <= limit else 'NOT met'})"
    )
    print(f"command: {command}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
