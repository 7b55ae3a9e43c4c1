"""Both journal backends for the behaviour tests: an sqlite file, and a PostgreSQL schema.

``journal_location`` is parametrised over the two, so one test states one behaviour for both.
The PostgreSQL server comes from ``$M2M_TUI_TEST_POSTGRES`` (``.ci/run`` starts one with
``.ci/postgres-up``); each test gets a fresh schema of its own, named in the URL's
``options`` (the URL is handed to libpq whole, as users' URLs are). Without a server the
PostgreSQL cases skip with the reason, except under ``CI``, where they fail.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from psycopg import sql

from m2m_tui.tracking.journal.interface import is_postgres

POSTGRES_ENV = "M2M_TUI_TEST_POSTGRES"


def with_schema(url: str, schema: str) -> str:
    """``url`` with its search_path set to ``schema`` (a libpq ``options`` parameter)."""
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The test server's URL; skips (fails under CI) without one."""
    url = os.environ.get(POSTGRES_ENV, "").strip()
    if not url:
        reason = (
            f"no PostgreSQL server for the team-journal tests: set ${POSTGRES_ENV} to a "
            "database URL (`bash .ci/postgres-up` starts a throwaway one and prints it)"
        )
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; under CI these tests must run, not skip")
        pytest.skip(reason)
    return url


def admin(url: str) -> psycopg.Connection[tuple[Any, ...]]:
    """A plain autocommit connection for the test's own set-up and checks."""
    return psycopg.connect(url, autocommit=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A URL whose search_path is a new, empty schema (dropped afterwards)."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with admin(postgres_server) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    yield with_schema(postgres_server, schema)
    with admin(postgres_server) as conn:
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture(params=["sqlite", "postgres"])
def journal_location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a journal goes: a file path, or a PostgreSQL URL (a fresh schema)."""
    if request.param == "sqlite":
        return str(tmp_path / "journal.db")
    url: str = request.getfixturevalue("postgres_url")
    return url


def stored_bytes(location: str) -> dict[str, bytes]:
    """Everything the journal holds, as bytes, by where it is: the files of an sqlite journal
    (the WAL included), or every row of every table of a PostgreSQL one, as text."""
    if not is_postgres(location):
        path = Path(location)
        return {
            p.name: p.read_bytes() for p in path.parent.iterdir() if p.name.startswith(path.name)
        }
    out: dict[str, bytes] = {}
    with admin(location) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            )
        ]
        for table in tables:
            rows = conn.execute(
                sql.SQL("SELECT t::text FROM {} AS t").format(sql.Identifier(table))
            ).fetchall()
            out[table] = "\n".join(row[0] for row in rows).encode()
    return out


def drop_callbacks_table(location: str) -> None:
    """Make the journal unwritable for callbacks, behind its writer's back."""
    if is_postgres(location):
        with admin(location) as conn:
            conn.execute("DROP TABLE callbacks")
        return
    conn = sqlite3.connect(location)
    conn.execute("DROP TABLE callbacks")
    conn.commit()
    conn.close()


def make_foreign(location: str) -> None:
    """Put another program's data where the journal would go."""
    if is_postgres(location):
        with admin(location) as conn:
            conn.execute("CREATE TABLE requests (id serial PRIMARY KEY, what text)")
            conn.execute("INSERT INTO requests (what) VALUES ('theirs')")
        return
    Path(location).write_text("hello" * 100)


def foreign_untouched(location: str) -> bool:
    if is_postgres(location):
        with admin(location) as conn:
            tables = conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            ).fetchall()
            rows = conn.execute("SELECT what FROM requests").fetchall()
        return tables == [("requests",)] and rows == [("theirs",)]
    return Path(location).read_text() == "hello" * 100
