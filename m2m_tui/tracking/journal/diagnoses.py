"""A device's diagnosis, kept in the journal with its lookup so a later export can show it.

The card computes the diagnosis in the app's process; ``m2m-tui export`` runs in another and
reads only the journal. The diagnosis rides in the ``devices`` row's JSON summary under
``"diagnosis"`` (no schema change): its markdown, rule, time and every identifier the device
reported, so a request naming any of them finds it. Writing merges into the summary the
lookup left, on either backend; a row written first (the diagnosis lands before the lookup is
remembered) counts no lookup.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from m2m_tui.tracking.journal.interface import JournalReader, JournalStore

#: The summary key the diagnosis is kept under.
DIAGNOSIS_KEY = "diagnosis"
#: More devices than anyone looks up: every row is read when an export wants diagnoses.
_ALL_DEVICES = 100_000


@dataclass(frozen=True)
class JournaledDiagnosis:
    """One device's latest diagnosis as the journal holds it."""

    at: float
    rule: str | None
    markdown: str
    identifiers: frozenset[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "rule": self.rule,
            "markdown": self.markdown,
            "identifiers": sorted(self.identifiers),
        }


def record_diagnosis(
    journal: JournalStore,
    account: str,
    kind: str,
    device_id: str,
    *,
    markdown: str,
    rule: str | None,
    identifiers: Iterable[str],
    at: float | None = None,
) -> None:
    """Keep the diagnosis in the device's row (created, with no lookup counted, if missing)."""
    from m2m_tui.tracking.journal.sqlite import Journal

    entry = JournaledDiagnosis(
        time.time() if at is None else at, rule, markdown, frozenset(identifiers)
    ).as_dict()
    mark = "?" if isinstance(journal, Journal) else "%s"
    key = (account, kind.lower(), device_id)
    where = f"account = {mark} AND kind = {mark} AND device_id = {mark}"
    with journal.transaction() as conn:  # type: ignore[attr-defined]
        found = conn.execute(f"SELECT summary FROM devices WHERE {where}", key).fetchone()
        if found is None:
            summary = json.dumps({DIAGNOSIS_KEY: entry}, separators=(",", ":"))
            conn.execute(
                "INSERT INTO devices (account, kind, device_id, label, summary, looked_up_at,"
                f" lookups) VALUES ({mark}, {mark}, {mark}, NULL, {mark}, {mark}, 0)",
                (*key, summary, entry["at"]),
            )
            return
        try:
            current = json.loads(found[0]) if found[0] else {}
        except ValueError:
            current = {}
        merged = current if isinstance(current, dict) else {"previous": current}
        merged[DIAGNOSIS_KEY] = entry
        conn.execute(
            f"UPDATE devices SET summary = {mark} WHERE {where}",
            (json.dumps(merged, separators=(",", ":")), *key),
        )


def _parse(summary: Any, fallback: str) -> JournaledDiagnosis | None:
    entry = summary.get(DIAGNOSIS_KEY) if isinstance(summary, Mapping) else None
    if not isinstance(entry, Mapping) or not isinstance(entry.get("markdown"), str):
        return None
    at = entry.get("at")
    ids = entry.get("identifiers")
    keys = {str(i) for i in ids} if isinstance(ids, list) else set()
    rule = entry.get("rule")
    return JournaledDiagnosis(
        float(at) if isinstance(at, int | float) else 0.0,
        rule if isinstance(rule, str) else None,
        entry["markdown"],
        frozenset(keys | {fallback}),
    )


def journaled_diagnoses(journal: JournalReader) -> list[JournaledDiagnosis]:
    """Every device's diagnosis in the journal, newest first."""
    from m2m_tui.tracking.records import device_key

    found = []
    for row in journal.recent_devices(_ALL_DEVICES):
        try:
            summary = row.summary
        except ValueError:
            continue
        parsed = _parse(summary, device_key(row.kind, row.device_id))
        if parsed is not None:
            found.append(parsed)
    return sorted(found, key=lambda d: d.at, reverse=True)


def latest_for(
    diagnoses: Iterable[JournaledDiagnosis], keys: Iterable[str]
) -> JournaledDiagnosis | None:
    """The newest of ``diagnoses`` about a device with any of these ``kind:id`` keys."""
    wanted = frozenset(keys)
    newest = [d for d in diagnoses if not d.identifiers.isdisjoint(wanted)]
    return max(newest, key=lambda d: d.at) if newest else None
