"""The requests page and one request's detail, as plain frozen values read in a thread.

"Mine" narrows the page to the requests submitted from this ``user@host``
(:func:`m2m_tui.desk.identity.local_submitter`), not to this profile too: a profile is a name
in each engineer's own config (two engineers may both call theirs "prod", and one engineer
moves between several on one account), so it says which account, not who. The profile is
still recorded and shown beside the submitter.

A page is one indexed ``LIMIT/OFFSET`` query, its total, and the result counts of the
requests on it (without reading any body): opening the view costs the same with 10 requests
in the journal as with 10,000. A detail is the request, its polls and callbacks, and the
per-device outcome (faults decoded) the callbacks tell, computed here so the screen only
draws.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from m2m_tui.tracking.records import (
    UNFINISHED_STATES,
    CallbackRow,
    PollRow,
    RequestRow,
    RequestState,
    RequestSummary,
)
from m2m_tui.tracking.results import ResultTally, counts_as_result, result_key

if TYPE_CHECKING:
    from m2m_tui.desk.times import Times
    from m2m_tui.tracking.journal.interface import JournalStore

#: States a request can still leave (the requests view's "unfinished" filter).
UNFINISHED: tuple[RequestState, ...] = tuple(s for s in RequestState if s in UNFINISHED_STATES)


def request_matches(
    states: tuple[str, ...] | None,
    text: str | None,
    *,
    request_id: str,
    account: str,
    action: str,
    state: str,
    target: Any,
    mine: str | None = None,
    submitted_by: str | None = None,
) -> bool:
    """The page's filter rules, for a request that arrives live (not read through a page);
    ``mine``: the query's submitter (None: everyone's), ``submitted_by``: the request's."""
    if states is not None and state not in states:
        return False
    if mine is not None and submitted_by != mine:
        return False
    if text:
        needle = text.lower()
        shown = json.dumps(target, separators=(",", ":"))
        return any(needle in part.lower() for part in (request_id, account, action, shown))
    return True


@dataclass(frozen=True, slots=True)
class RequestsQuery:
    """Which page: ``states`` None means all; ``text`` matches id, account, action, devices;
    ``submitted_by`` (``user@host``) keeps one engineer's requests, None everyone's."""

    states: tuple[str, ...] | None = None
    text: str | None = None
    offset: int = 0
    limit: int = 60
    submitted_by: str | None = None


@dataclass(frozen=True, slots=True)
class RequestsPage:
    query: RequestsQuery
    rows: tuple[RequestSummary, ...]
    total: int
    error: str | None = None


def read_page(journal: JournalStore, query: RequestsQuery) -> RequestsPage:
    rows = journal.list_requests(
        query.states, query.limit, query.offset, query.text, query.submitted_by
    )
    total = journal.count_requests(query.states, query.text, query.submitted_by)
    counts = journal.result_counts([row.request_id for row in rows])
    summaries = tuple(RequestSummary.of_row(row, *counts[row.request_id]) for row in rows)
    return RequestsPage(query, summaries, total)


# ---------------------------------------------------------------------- one request


def device_label(key: str | None) -> str:
    """``imei:359876543210987`` as ``IMEI 359876543210987``."""
    if not key:
        return "-"
    kind, sep, value = key.partition(":")
    return f"{kind.upper()} {value}" if sep else key


def body_of(row: CallbackRow) -> dict[str, Any]:
    """The stored (redacted) body as a dict; {} when it is not a JSON object."""
    try:
        body = row.body_dict()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


@dataclass(frozen=True, slots=True)
class DeviceOutcome:
    """The latest non-duplicate callback about one device."""

    device: str
    ok: bool
    kind: str
    at: float
    record_id: int
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def fault(self) -> tuple[str | None, str | None]:
        """(faultcode, faultstring) of a failure callback."""
        fault = self.body.get("faultResponse")
        if isinstance(fault, dict):
            code, text = fault.get("faultcode"), fault.get("faultstring")
            return (str(code) if code else None, str(text) if text else None)
        return None, None

    def suspension_items(self) -> list[dict[str, Any]]:
        response = self.body.get("deviceResponse")
        items = (
            response.get("deviceSuspensionStatusResponse") if isinstance(response, dict) else None
        )
        return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def outcomes(callbacks: tuple[CallbackRow, ...] | list[CallbackRow]) -> list[DeviceOutcome]:
    """One entry per device: its latest non-duplicate result (the tracker's rule)."""
    latest: dict[str, DeviceOutcome] = {}
    for row in callbacks:
        if not counts_as_result(row.kind, row.duplicate):
            continue
        key = result_key(row.id, row.device_key)
        latest[key] = DeviceOutcome(
            device_label(row.device_key) if row.device_key else key,
            row.kind != "failure",
            row.kind,
            row.received_at,
            row.id,
            body_of(row),
        )
    return list(latest.values())


@dataclass(frozen=True, slots=True)
class RequestDetail:
    """Everything the journal holds about one request (``row`` None: not in it, yet)."""

    request_id: str
    row: RequestRow | None = None
    callbacks: tuple[CallbackRow, ...] = ()
    polls: tuple[PollRow, ...] = ()
    outcomes: tuple[DeviceOutcome, ...] = ()
    error: str | None = None

    @property
    def summary(self) -> RequestSummary | None:
        """The request with its result counts, by the tracker's rule over these callbacks."""
        if self.row is None:
            return None
        tally = ResultTally()
        for callback in self.callbacks:
            tally.add(callback.id, callback.kind, callback.device_key, callback.duplicate)
        return RequestSummary.of_row(self.row, *tally.counts())


def read_detail(journal: JournalStore, request_id: str) -> RequestDetail:
    callbacks = tuple(journal.callbacks_for(request_id))
    return RequestDetail(
        request_id,
        journal.get_request(request_id),
        callbacks,
        tuple(journal.polls_for(request_id)),
        tuple(outcomes(callbacks)),
    )


def export_text(
    journal: JournalStore,
    fmt: str,
    request_id: str,
    times: Times | None = None,
    diagnoses: bool = True,
) -> str:
    """One request as JSON, CSV or a Markdown ticket summary (bodies redacted again).

    The ticket's times follow ``times`` (the screens' convention); JSON and CSV keep ISO 8601
    with its offset, for programs. ``diagnoses`` False: no journaled diagnosis in the ticket
    (the screen adds the device picture it holds, diagnosis included)."""
    from m2m_tui.tracking.export import export

    if times is not None and fmt == "md":
        return export(journal, fmt, request_id, stamp=times.stamp, diagnoses=diagnoses)
    return export(journal, fmt, request_id, diagnoses=diagnoses)
