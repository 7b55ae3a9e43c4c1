"""The README's "simulator on its own" walkthrough, run against a real ``m2m-tui sim``.

Every command of the section's shell block runs in bash (curl, jq) against a simulator started
with the default flags on a free port; each output the README shows must be what it answers
(request ids and timestamps aside: they depend on the simulator's version and start time).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SECTION = "### The simulator on its own"
DEFAULT_BASE = "http://127.0.0.1:8765"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?")


def sim_block() -> str:
    """The first ``sh`` block after the section heading."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert SECTION in text, "the README lost its simulator section"
    found = re.search(r"```sh\n(.*?)```", text[text.index(SECTION) :], re.S)
    assert found is not None, "no sh block in the simulator section"
    return found.group(1)


def normalized(line: str) -> str:
    return TIMESTAMP.sub("<time>", UUID.sub("<uuid>", line.strip()))


def shown_outputs(block: str) -> list[str]:
    """The answers the README shows: comment lines that hold JSON."""
    return [normalized(line[2:]) for line in block.splitlines() if re.match(r"# [{\[]", line)]


def test_the_section_shows_what_to_run_and_what_comes_back() -> None:
    block = sim_block()
    assert block.splitlines()[0] == "m2m-tui sim &"
    for call in ("oauth2/token", "session/login", "devices/actions/list", "actions/suspend"):
        assert call in block
    assert "requests/$RID/status" in block and "connections/actions/listHistory" in block
    assert len(shown_outputs(block)) == 4
    assert "m2m_tui/sim/README.md" in (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("bash", "curl", "jq", "date")),
    reason="the walkthrough needs bash, curl, jq and date",
)
def test_the_readme_walkthrough_runs_against_a_real_simulator() -> None:
    block = sim_block()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    sim = subprocess.Popen(
        [sys.executable, "-m", "m2m_tui.sim", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        assert sim.stdout is not None
        first = sim.stdout.readline()  # printed once the port is bound
        assert first.startswith("ThingSpace simulator listening on "), first
        base = first.rsplit(" ", 1)[1].strip()
        commands = block.split("\n", 1)[1].replace(DEFAULT_BASE, base)
        run = subprocess.run(
            ["bash", "-c", "set -euo pipefail\n" + commands],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 0, run.stderr
        got = [normalized(line) for line in run.stdout.splitlines() if line.strip()]
        assert got == shown_outputs(block)
    finally:
        sim.send_signal(signal.SIGINT)
        try:
            sim.wait(timeout=20)
        except subprocess.TimeoutExpired:
            sim.kill()
            sim.wait()
