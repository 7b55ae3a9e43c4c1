"""Choosing the backend from a location, showing a location safely, and sqlite's independence
from the PostgreSQL driver (no server needed here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from m2m_tui.tracking.journal.interface import is_postgres, safe_location
from m2m_tui.tracking.journal.open import open_journal, open_writer
from m2m_tui.tracking.journal.sqlite import Journal
from m2m_tui.tracking.journal.sqlite_writer import JournalWriter

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("location", "postgres"),
    [
        ("postgresql://u@h/db", True),
        ("POSTGRES://h/db", True),
        ("postgresql://a:5432,b:5433/db?target_session_attrs=read-write", True),
        ("journal.sqlite3", False),
        ("/tmp/postgresql/journal.db", False),
        (Path("postgresql:/h/db"), False),  # a Path is a path, whatever it spells
    ],
)
def test_location_picks_the_backend(location: str | Path, postgres: bool) -> None:
    assert is_postgres(location) is postgres


@pytest.mark.parametrize(
    ("location", "shown"),
    [
        (
            "postgresql://tui:s3cr%40t@db.example:5432/journal",
            "postgresql://tui:***@db.example:5432/journal",
        ),
        (
            "postgresql://tui:pw1@a:5432,b:5433/j?target_session_attrs=read-write&sslmode=require",
            "postgresql://tui:***@a:5432,b:5433/j?target_session_attrs=read-write&sslmode=require",
        ),
        (
            "postgresql://db/j?user=tui&password=pw2&sslpassword=pw3&sslmode=verify-full",
            "postgresql://db/j?user=tui&password=***&sslpassword=***&sslmode=verify-full",
        ),
        ("postgresql://tui@db/j", "postgresql://tui@db/j"),
        ("host=db user=tui password='p w4' dbname=j", "host=db user=tui password=*** dbname=j"),
        ("/home/me/journal.sqlite3", "/home/me/journal.sqlite3"),
    ],
)
def test_safe_location_hides_the_password(location: str, shown: str) -> None:
    assert safe_location(location) == shown


def test_a_path_opens_sqlite(tmp_path: Path) -> None:
    with open_journal(tmp_path / "j.db") as journal:
        assert isinstance(journal, Journal)
        assert journal.location == str(tmp_path / "j.db")
    writer = open_writer(str(tmp_path / "j.db"))
    assert isinstance(writer, JournalWriter) and writer.location == str(tmp_path / "j.db")


def test_sqlite_never_loads_the_postgres_driver(tmp_path: Path) -> None:
    """sqlite users and the start-up path never import psycopg (it is an optional extra)."""
    code = (
        "import asyncio, sys\n"
        "import m2m_tui.cli, m2m_tui.tracking.service, m2m_tui.tracking.export\n"
        "from m2m_tui.tracking.journal.open import open_journal, open_writer\n"
        "from m2m_tui.tracking.records import CallbackRecord\n"
        f"path = {str(tmp_path / 'j.db')!r}\n"
        "w = open_writer(path); w.start()\n"
        "asyncio.run(w.append_callback(CallbackRecord('r1', 'other', {'requestId': 'r1'})))\n"
        "w.close()\n"
        "with open_journal(path) as j: assert j.last_callback_id() == 1\n"
        "print(sorted(m for m in sys.modules if m.startswith(('psycopg', 'm2m_tui.tracking.journal.pg'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
