"""``m2m-tui export`` adds the journaled diagnosis of each request's device, on both backends.

The card journals a device's diagnosis (desk/diagnosis_journal.py) with every identifier the
device reported; a request naming any of them gets the newest one, labelled with its time and
whether it was made before or after the request."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from m2m_tui.tracking.export import export
from m2m_tui.tracking.journal.diagnoses import journaled_diagnoses, record_diagnosis
from m2m_tui.tracking.journal.interface import JournalStore
from m2m_tui.tracking.journal.open import open_journal

ACCOUNT = "0000123456-00001"
MDN, IMEI = "5551234567", "359876543210987"
OLD = "**Diagnosis:** Active, but no data session for 9 days\n- evidence: last session 9 days ago"
NEW = "**Diagnosis:** Suspended by jdoe 6 days ago\n- evidence: provisioning history"


@pytest.fixture
def journal(journal_location: str) -> Iterator[JournalStore]:
    with open_journal(journal_location) as opened:
        yield opened


def _request(journal: JournalStore, request_id: str, at: float, kind: str, value: str) -> None:
    journal.add_request(
        request_id,
        action="suspend",
        account=ACCOUNT,
        target={"devices": [{"id": value, "kind": kind}]},
        pollable=True,
        deadline=at + 1200,
        submitted_at=at,
    )


def _diagnose(journal: JournalStore, markdown: str, rule: str, at: float) -> None:
    record_diagnosis(
        journal,
        ACCOUNT,
        "mdn",
        MDN,
        markdown=markdown,
        rule=rule,
        identifiers=[f"mdn:{MDN}", f"imei:{IMEI}"],
        at=at,
    )


def test_the_newest_diagnosis_is_kept_beside_the_lookup(journal: JournalStore) -> None:
    journal.add_device_lookup(ACCOUNT, "mdn", MDN, label="pump", summary={"state": "active"})
    _diagnose(journal, OLD, "R7", 1_000.0)
    _diagnose(journal, NEW, "R2", 2_000.0)
    (row,) = journal.recent_devices()
    assert row.summary["state"] == "active"  # the lookup's summary is kept
    assert row.lookups == 1  # a diagnosis is not a lookup
    (found,) = journaled_diagnoses(journal)
    assert (found.rule, found.markdown, found.at) == ("R2", NEW, 2_000.0)


def test_markdown_export_adds_the_diagnosis_by_any_identifier(journal: JournalStore) -> None:
    _diagnose(journal, NEW, "R2", 2_000.0)
    _request(journal, "req-before", 1_500.0, "imei", IMEI)  # named by the other identifier
    _request(journal, "req-after", 2_500.0, "mdn", MDN)
    _request(journal, "req-other", 2_500.0, "mdn", "5550000000")
    text = export(journal, "md")
    sections = {s.split("`")[1]: s for s in ("\n" + text).split("\n### ")[1:]}
    before, after, other = sections["req-before"], sections["req-after"], sections["req-other"]
    assert f"IMEI {IMEI}: diagnosis at 1970-01-01T00:33:20+00:00, after this request (rule R2)" in (
        before
    )
    assert f"MDN {MDN}: diagnosis at 1970-01-01T00:33:20+00:00, before this request" in after
    assert "Suspended by jdoe 6 days ago" in before and "- evidence: provisioning" in after
    assert "iagnosis" not in other


def test_json_export_carries_the_diagnosis_as_a_field(journal: JournalStore) -> None:
    _diagnose(journal, OLD, "R7", 1_000.0)
    _request(journal, "req", 1_500.0, "imei", IMEI)
    _request(journal, "req-other", 1_500.0, "mdn", "5550000000")
    requests = {r["requestId"]: r for r in json.loads(export(journal, "json"))["requests"]}
    (diagnosis,) = requests["req"]["diagnoses"]
    assert diagnosis["device"] == f"IMEI {IMEI}"
    assert diagnosis["relation"] == "before"
    assert diagnosis["rule"] == "R7"
    assert diagnosis["markdown"] == OLD
    assert diagnosis["at"].startswith("1970-01-01T00:16:40")
    assert requests["req-other"]["diagnoses"] == []
