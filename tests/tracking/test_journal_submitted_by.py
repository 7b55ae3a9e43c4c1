"""Who submitted a request (``user@host``) and under which profile, on both backends.

Issue 11: "the requests view shows who submitted each request (user@host, profile) and can be
narrowed to mine". The journal keeps ``submitted_by`` beside ``profile``, filters on it, and a
journal of the previous schema version opens, is migrated, and says so.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from m2m_tui.tracking.export import export
from m2m_tui.tracking.journal import pg_schema, sqlite_schema
from m2m_tui.tracking.journal.interface import is_postgres
from m2m_tui.tracking.journal.open import open_journal
from m2m_tui.tracking.records import RequestState

from .journal_backends import admin

ALICE = "alice@jump1"
BOB = "bob@jump2"
DEVICE = [{"id": "5551234567", "kind": "mdn"}]


def _old_journal(location: str, monkeypatch: pytest.MonkeyPatch) -> int:
    """A journal made by the previous schema version, holding one request; that version."""
    schema: Any = pg_schema if is_postgres(location) else sqlite_schema
    previous = len(schema.MIGRATIONS) - 1
    with monkeypatch.context() as patch:
        patch.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:previous])
        patch.setattr(schema, "SCHEMA_VERSION", previous)
        open_journal(location).close()
    # The row as the previous version wrote it: no submitted_by column to name.
    insert = (
        "INSERT INTO requests (request_id, action, account, target, pollable, submitted_at,"
        " state, deadline, updated_at, profile) VALUES ('old', 'restore', 'A', '[]', {}, 5,"
        " 'pending', 9, 5, 'prod')"
    )
    if is_postgres(location):
        with admin(location) as conn:
            conn.execute(insert.format("true"))
    else:
        conn = sqlite3.connect(location, isolation_level=None)
        conn.execute(insert.format(1))
        conn.close()
    return previous


def test_a_journal_of_the_previous_version_is_migrated_and_says_so(
    journal_location: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    previous = _old_journal(journal_location, monkeypatch)
    current = previous + 1
    with open_journal(journal_location) as journal:
        change = getattr(journal, "schema_change", None)
        assert change == f"migrated the journal from schema version {previous} to {current}"
        old = journal.get_request("old")
        assert old is not None and old.profile == "prod" and old.submitted_by is None
        journal.add_request(
            "new",
            action="suspend",
            account="A",
            target=DEVICE,
            pollable=True,
            deadline=10,
            profile="prod",
            submitted_by=ALICE,
        )
        new = journal.get_request("new")
        assert new is not None and (new.submitted_by, new.profile) == (ALICE, "prod")
    with open_journal(journal_location) as journal:
        assert getattr(journal, "schema_change", "missing") is None  # nothing more to do
    with open_journal(journal_location, readonly=True) as reader:
        assert [r.request_id for r in reader.list_requests(submitted_by=ALICE)] == ["new"]


def test_mine_narrows_and_combines_with_the_other_filters(journal_location: str) -> None:
    with open_journal(journal_location) as journal:
        for number, who in enumerate((ALICE, BOB, ALICE, None)):
            journal.add_request(
                f"r{number}",
                action="restore",
                account="A",
                target=DEVICE,
                pollable=True,
                deadline=10,
                submitted_at=100 + number,
                profile="prod",  # one profile name on two hosts: who is the user@host
                submitted_by=who,
            )
        journal.update_request("r2", state=RequestState.COMPLETED)
        assert [r.request_id for r in journal.list_requests()] == ["r3", "r2", "r1", "r0"]
        assert [r.submitted_by for r in journal.list_requests()] == [None, ALICE, BOB, ALICE]
        assert [r.request_id for r in journal.list_requests(submitted_by=ALICE)] == ["r2", "r0"]
        assert journal.count_requests(submitted_by=ALICE) == 2
        assert journal.count_requests(submitted_by=BOB) == 1
        assert journal.count_requests(submitted_by="carol@jump3") == 0
        pending = journal.list_requests([RequestState.SUBMITTED], submitted_by=ALICE)
        assert [r.request_id for r in pending] == ["r0"]
        assert journal.count_requests(None, "r2", ALICE) == 1
        assert journal.count_requests(None, "r1", ALICE) == 0
        assert journal.list_requests(limit=1, offset=1, submitted_by=ALICE)[0].request_id == "r0"


def test_exports_carry_who_submitted(journal_location: str) -> None:
    with open_journal(journal_location) as journal:
        journal.add_request(
            "r1",
            action="restore",
            account="A",
            target=DEVICE,
            pollable=True,
            deadline=10,
            profile="prod",
            submitted_by=ALICE,
        )
        as_json = export(journal, "json")
        as_csv = export(journal, "csv")
        as_md = export(journal, "md")
    assert f'"submittedBy": "{ALICE}"' in as_json and '"profile": "prod"' in as_json
    header, row = as_csv.splitlines()[:2]
    assert dict(zip(header.split(","), row.split(","), strict=True))["submittedBy"] == ALICE
    assert f"by `{ALICE}` (profile `prod`)" in as_md
