"""``m2m-tui export`` as people run it (issue 12 points 13 and 15): the default journal, the
short ids the screens show, and progress on a terminal only. Real processes, real sqlite."""

from __future__ import annotations

import io
import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from m2m_tui.tracking.export_command import ProgressLine
from m2m_tui.tracking.journal.sqlite import Journal
from m2m_tui.tracking.records import CallbackRecord
from m2m_tui.tracking.tracker import Tracker

ACCOUNT = "0000123456-00001"
DEVICE = [{"id": "5551234567", "kind": "mdn"}]
ONE = "5a3f0c1e-1111-4aaa-8aaa-000000000001"
TWO = "5a3fab00-2222-4bbb-8bbb-000000000002"
THREE = "7b00d2c4-3333-4ccc-8ccc-000000000003"
STRANGER = "c0ffee12-4444-4ddd-8ddd-000000000004"  # a callback nobody here submitted


def _callback(request_id: str, count: int) -> CallbackRecord:
    return CallbackRecord(
        request_id=request_id,
        kind="device_result",
        body={"requestId": request_id, "status": "Success", "callbackCount": count},
        device_key="mdn:5551234567",
        callback_count=count,
    )


def _fill(path: Path) -> Path:
    """Three requests (two sharing the start 5a3f) and four callbacks, one not ours: 7 rows."""
    with Journal.open(path) as journal:
        tracker = Tracker(journal)
        for request_id in (ONE, TWO, THREE):
            tracker.submitted("suspend", ACCOUNT, request_id, devices=DEVICE)
        journal.append_callbacks(
            [_callback(ONE, 1), _callback(TWO, 1), _callback(THREE, 1), _callback(STRANGER, 1)]
        )
    return path


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    return _fill(tmp_path / "journal.sqlite")


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "m2m_tui", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        stdin=subprocess.DEVNULL,
    )


# --- point 13: the default journal -----------------------------------------------------------


def _home_env(home: Path) -> dict[str, str]:
    """HOME and the XDG folders in a temp folder, no M2M_TUI_* location overrides."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("M2M_TUI_", "XDG_"))}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
    )
    return env


def test_export_without_journal_reads_the_default_journal(tmp_path: Path) -> None:
    env = _home_env(tmp_path / "home")
    located = _cli("locate", "journal", env=env)
    assert located.returncode == 0, located.stderr
    default = Path(located.stdout.strip())
    assert default.is_relative_to(tmp_path)  # the test's own folder, not the user's journal

    absent = _cli("export", env=env)  # nothing journaled yet: says where it looked
    assert absent.returncode == 2 and f"no journal at {default}" in absent.stderr

    default.parent.mkdir(parents=True)
    _fill(default)
    done = _cli("export", "--format", "json", env=env)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert {r["requestId"] for r in document["requests"]} == {ONE, TWO, THREE}
    assert done.stderr == f"m2m-tui export: reading the default journal {default}" + (
        " (--journal PATH reads another)\n"
    )

    given = _cli("export", "--journal", str(default), "--format", "json", env=env)
    assert given.returncode == 0 and given.stderr == ""  # named: nothing to say


# --- point 13: the ids the screens show --------------------------------------------------------


def _exported_ids(stdout: str) -> tuple[set[str], set[str]]:
    document = json.loads(stdout)
    return (
        {r["requestId"] for r in document["requests"]},
        {c["requestId"] for c in document["callbacks"]},
    )


def test_export_of_a_request_by_the_start_of_its_id(journal_path: Path) -> None:
    journal = str(journal_path)
    for given in (ONE[:8], ONE[:8].upper(), ONE[:7] + "…", ONE[:4] + "0"):
        done = _cli("export", "--journal", journal, "--format", "json", "--request", given)
        assert done.returncode == 0, (given, done.stderr)
        assert _exported_ids(done.stdout) == ({ONE}, {ONE}), given
        assert done.stderr == ""
    markdown = _cli("export", "--journal", journal, "--request", THREE[:8])
    assert markdown.returncode == 0 and f"`{THREE}`" in markdown.stdout
    assert ONE not in markdown.stdout
    # a callback nobody tracked, as the inbox shows it, is found by its start too
    stranger = _cli("export", "--journal", journal, "--format", "json", "--request", STRANGER[:8])
    assert stranger.returncode == 0, stranger.stderr
    assert _exported_ids(stranger.stdout) == (set(), {STRANGER})


def test_an_ambiguous_or_unknown_start_says_so_and_exports_nothing(tmp_path: Path) -> None:
    path = _fill(tmp_path / "journal.sqlite")
    ambiguous = _cli("export", "--journal", str(path), "--request", "5a3f")
    assert ambiguous.returncode == 1 and ambiguous.stdout == ""
    assert f"5a3f is the start of 2 requestIds: {ONE}, {TWO}" in ambiguous.stderr
    assert ambiguous.stderr.count("\n") == 1

    with Journal.open(path) as journal:  # five more: only a few are named
        tracker = Tracker(journal)
        for n in range(5):
            tracker.submitted("suspend", ACCOUNT, f"5a3f99{n:02d}-extra", devices=DEVICE)
    many = _cli("export", "--journal", str(path), "--request", "5A3F")
    assert many.returncode == 1 and many.stdout == ""
    assert "5A3F is the start of 7 requestIds:" in many.stderr and "and 2 more" in many.stderr
    assert many.stderr.count("5a3f") == 5  # five ids named

    unknown = _cli("export", "--journal", str(path), "--request", "dead")
    assert unknown.returncode == 1 and unknown.stdout == ""
    assert "no request dead" in unknown.stderr and "no requestId starts with dead" in unknown.stderr
    short = _cli("export", "--journal", str(path), "--request", "5a3")
    assert short.returncode == 2 and "at least 4 characters" in short.stderr


def test_an_exact_id_wins_and_a_start_prefers_the_current_attempt(tmp_path: Path) -> None:
    """A requestId given out again leaves ``<id>`` and the earlier ``<id>~1`` (issue 8): the
    start of the id exports the current attempt and names the other; the full id of either,
    in any case, exports that one; a start shared with another request stays ambiguous."""
    path = _fill(tmp_path / "journal.sqlite")
    with Journal.open(path) as journal:
        Tracker(journal).submitted("restore", ACCOUNT, ONE, devices=DEVICE, sent_at=time.time())
        assert journal.get_request(f"{ONE}~1") is not None

    def exported(given: str) -> tuple[set[str], str]:
        done = _cli("export", "--journal", str(path), "--format", "json", "--request", given)
        assert done.returncode == 0, (given, done.stderr)
        return _exported_ids(done.stdout)[0], done.stderr

    current, said = exported(ONE[:8])
    assert current == {ONE} and f"also starts {ONE}~1" in said
    assert exported(ONE.upper())[0] == {ONE}
    assert exported(f"{ONE}~1")[0] == {f"{ONE}~1"}
    assert exported(f"{ONE}~1".upper())[0] == {f"{ONE}~1"}
    ambiguous = _cli("export", "--journal", str(path), "--request", "5a3f")
    assert ambiguous.returncode == 1 and ambiguous.stdout == ""
    assert f"5a3f is the start of 3 requestIds: {ONE}, {ONE}~1, {TWO}" in ambiguous.stderr


# --- point 15: progress on a terminal, nothing on a pipe -------------------------------------


def _stderr_on_a_pty(*args: str, within: float = 60.0) -> tuple[int, bytes]:
    """Run ``m2m-tui`` with stderr on a pseudo-terminal; its exit code and what it drew."""
    controller, terminal = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "m2m_tui", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=terminal,
    )
    os.close(terminal)
    drawn = bytearray()
    deadline = time.monotonic() + within
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the child closed its end and everything was read
                break
            if not chunk:
                break
            drawn += chunk
        else:
            proc.kill()
            pytest.fail(f"export did not finish within {within} s")
        return proc.wait(timeout=within), bytes(drawn)
    finally:
        os.close(controller)


@pytest.mark.parametrize(
    ("fmt", "total"), [("json", "7 rows"), ("csv", "7 rows"), ("md", "3 requests")]
)
def test_progress_is_drawn_on_a_terminal_and_absent_on_a_pipe(
    journal_path: Path, tmp_path: Path, fmt: str, total: str
) -> None:
    out = tmp_path / f"out.{fmt}"
    args = ("export", "--journal", str(journal_path), "--format", fmt, "-o", str(out))
    code, drawn = _stderr_on_a_pty(*args)
    assert code == 0, drawn
    text = drawn.decode()
    assert f"m2m-tui export: 0 of {total}" in text
    done = total.split()[0]
    assert f"m2m-tui export: {done} of {total} (100%)" in text  # the end is always drawn
    assert text.startswith("\r\x1b[K") and text.endswith("\r\x1b[K")  # in place, then cleared
    assert "\n" not in text
    out.unlink()

    piped = _cli(*args)  # the same export into a pipe: a clean stderr
    assert piped.returncode == 0 and piped.stderr == ""
    assert out.read_text()


def test_progress_redraws_at_most_a_few_times_a_second() -> None:
    now = [0.0]
    stream = io.StringIO()
    line = ProgressLine(stream, "rows", clock=lambda: now[0])
    line(0, 10_000)
    for done in range(1, 10_000):  # just under a second's worth of rows, 0.1 ms apart
        now[0] = done / 10_000
        line(done, 10_000)
    assert line.draws == 1 + 3  # the first, then at 0.25, 0.5 and 0.75 s
    line(10_000, 10_000)  # the end is drawn at once
    line(10_001, 10_001)  # rows journaled during the export: not drawn again before its time
    assert line.draws == 5
    assert stream.getvalue().endswith("m2m-tui export: 10,000 of 10,000 rows (100%)")
    line.clear()
    assert stream.getvalue().endswith("\r\x1b[K")
    assert stream.getvalue().count("\r\x1b[K") == line.draws + 1

    quiet = io.StringIO()
    ProgressLine(quiet, "rows").clear()  # never drawn: nothing to clear
    assert quiet.getvalue() == ""
