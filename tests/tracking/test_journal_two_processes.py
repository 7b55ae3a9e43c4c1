"""Two processes on one journal: one closing must never take the other's WAL away.

Closing any descriptor of a file drops every POSIX lock the process holds on it, so a journal
opened with Python's ``open()`` (to read its header) while sqlite connections of the same
process had it open left them unlocked; another process closing its last connection then
checkpointed and deleted the ``-wal``/``-shm`` still in use, and the rows written afterwards
were lost (found by a walk with two UIs on one journal).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from m2m_tui.tracking.journal.sqlite import Journal
from m2m_tui.tracking.journal.sqlite_watch import identity

ROOT = Path(__file__).resolve().parents[2]

OTHER_PROCESS = """
import sys
from m2m_tui.tracking.journal.sqlite import Journal
Journal.open(sys.argv[1]).close()
"""


def test_another_process_closing_leaves_our_wal_in_place(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    first = Journal.open(path)
    first.add_device_lookup("acct", "imei", "359876543210987", label="one", summary={})
    second = Journal.open(path)  # a second connection of this process (queries, recent devices)
    wal = identity(f"{path}-wal")
    assert wal is not None
    result = subprocess.run(
        [sys.executable, "-c", OTHER_PROCESS, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
    assert identity(f"{path}-wal") == wal, "the other process deleted our -wal"
    first.add_device_lookup("acct", "imei", "359876543210988", label="two", summary={})
    first.close()
    second.close()
    with Journal.open(path, readonly=True) as reader:
        assert len(reader.recent_devices(10)) == 2
