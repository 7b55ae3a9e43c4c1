"""The journal side of the one request summary: pages and single requests as
:class:`~m2m_tui.tracking.records.RequestSummary`, the shape the tracker returns too.

A page is one indexed query for the requests plus one for their result counts (the shared
rule in :mod:`m2m_tui.tracking.results`), so it costs the same with 10 requests in the
journal as with 10,000. The desk's queries call these; no front end reads rows itself.
"""

from __future__ import annotations

from collections.abc import Iterable

from m2m_tui.tracking.journal import Journal
from m2m_tui.tracking.records import RequestState, RequestSummary


def request_summaries(
    journal: Journal,
    states: Iterable[RequestState | str] | None = None,
    limit: int = 50,
    offset: int = 0,
    text: str | None = None,
) -> list[RequestSummary]:
    """One page, newest first, as :meth:`Journal.list_requests` pages it."""
    rows = journal.list_requests(states, limit=limit, offset=offset, text=text)
    counts = journal.result_counts([row.request_id for row in rows])
    return [RequestSummary.of_row(row, *counts.get(row.request_id, (0, 0))) for row in rows]


def request_summary(journal: Journal, request_id: str) -> RequestSummary | None:
    """One request with its result counts; None when the journal does not hold it."""
    row = journal.get_request(request_id)
    if row is None:
        return None
    received, failures = journal.result_counts([request_id]).get(request_id, (0, 0))
    return RequestSummary.of_row(row, received, failures)
