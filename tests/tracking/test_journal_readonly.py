"""Reading a healthy journal where sqlite cannot create its ``-shm`` (issue 9, point 6).

Another user exporting after the listener stopped, or a read-only mount: the folder is not
writable by the reader. As root (whom permissions do not stop) the reader runs as ``nobody``
through ``setpriv``, keeping only the right to read and search (so it can still run this
checkout's Python), never to write.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from m2m_tui.tracking.journal.sqlite import Journal
from m2m_tui.tracking.records import CallbackRecord
from tests.tracking.tracking_helpers import ROOT, suspension_body

_SETPRIV = shutil.which("setpriv")


def _reader_prefix() -> list[str]:
    if os.geteuid() != 0:
        return []
    if _SETPRIV is None:
        pytest.skip("running as root without setpriv: cannot test as a user who may not write")
    return [
        _SETPRIV, "--reuid=65534", "--regid=65534", "--clear-groups",
        "--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search",
    ]  # fmt: skip


@pytest.fixture
def folder() -> Iterator[Path]:
    """A folder others can search (pytest's tmp folders are private to root)."""
    path = Path(tempfile.mkdtemp(prefix="m2m-ro-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        path.chmod(0o755)
        shutil.rmtree(path, ignore_errors=True)


def _fill(journal: Path, request_id: str) -> None:
    with Journal.open(journal) as writer:
        writer.append_callbacks(
            [CallbackRecord(request_id, "suspension_status", suspension_body(request_id))]
        )


def _export(journal: Path) -> subprocess.CompletedProcess[str]:
    journal.parent.chmod(0o555)  # nobody may create the -shm here now
    journal.chmod(0o644)
    return subprocess.run(
        [*_reader_prefix(), sys.executable, "-m", "m2m_tui", "export", "--journal",
         str(journal), "--format", "json"],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        cwd=ROOT,
        timeout=60,
    )  # fmt: skip


def test_a_stopped_journal_in_a_folder_the_reader_cannot_write_is_read(folder: Path) -> None:
    journal = folder / "journal.db"
    _fill(journal, "req-ro")
    assert not Path(f"{journal}-wal").exists()  # the listener stopped cleanly
    done = _export(journal)
    assert done.returncode == 0, done.stderr
    callbacks = json.loads(done.stdout)["callbacks"]
    assert [c["requestId"] for c in callbacks] == ["req-ro"]
    assert not Path(f"{journal}-shm").exists()  # nothing written next to it


def test_unfinished_writes_in_a_folder_the_reader_cannot_write_are_explained(
    folder: Path, tmp_path: Path
) -> None:
    source = tmp_path / "live.db"
    _fill(source, "req-live")
    with Journal.open(source) as live:  # a listener still running: the WAL holds rows
        live.append_callbacks(
            [CallbackRecord("req-wal", "suspension_status", suspension_body("req-wal"))]
        )
        journal = folder / "journal.db"
        shutil.copy(source, journal)
        shutil.copy(f"{source}-wal", f"{journal}-wal")
    Path(f"{journal}-wal").chmod(0o644)
    done = _export(journal)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "damaged" not in done.stderr and "not a database" not in done.stderr
    assert "unfinished writes" in done.stderr and "journal.db-shm" in done.stderr
