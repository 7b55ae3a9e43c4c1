"""What both journal backends write the same way, once: columns, request rows, the filter.

The two backends keep the same tables and meanings; their SQL differs only in small ways: the
placeholder (``?`` or ``%s``), how a list is matched (``IN (?, ?)`` or ``= ANY(%s)``), case
folding in LIKE, and byte-order text comparison. A :class:`Dialect` names those differences,
so a query is built once for both (:mod:`.shared`, :mod:`.attempts`) instead of copied per
backend. Pure Python: importing it loads neither sqlite3 nor psycopg.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from m2m_tui.tracking.journal.interface import Target
from m2m_tui.tracking.records import (
    UNFINISHED_STATES,
    CompletedBy,
    RequestAction,
    RequestRow,
    RequestState,
)

REQUEST_COLUMNS = (
    "request_id, action, account, target, expected_results, pollable, submitted_at, state,"
    " completed_by, deadline, updated_at, last_error_code, last_error_message, profile,"
    " submitted_by"
)
CALLBACK_COLUMNS = (
    "id, received_at, request_id, kind, device_key, body, body_hash, callback_count,"
    " duplicate, verdict, source"
)
REJECTION_COLUMNS = "id, received_at, reason, detail, source, excerpt"
DEVICE_COLUMNS = "account, kind, device_id, label, summary, looked_up_at, lookups"
POLL_COLUMNS = "id, request_id, polled_at, status, changed"
#: Request fields the tracker may change after submission (``updated_at`` is set for it).
UPDATABLE_FIELDS = frozenset(
    {
        "state",
        "completed_by",
        "deadline",
        "expected_results",
        "pollable",
        "last_error_code",
        "last_error_message",
        "profile",
    }
)
UNFINISHED = tuple(sorted(state.value for state in UNFINISHED_STATES))
#: Columns the requests view's text filter searches.
_SEARCHED = ("request_id", "account", "action", "target", "profile")


@dataclass(frozen=True, slots=True)
class Dialect:
    """How one backend spells what the shared queries need."""

    #: The driver's placeholder: ``?`` (sqlite3) or ``%s`` (psycopg).
    param: str
    #: A LIKE that ignores ASCII case (sqlite's LIKE does; PostgreSQL needs ILIKE).
    like: str
    #: ``request_id`` compared byte by byte, as sqlite compares text, whatever the collation.
    by_id: str
    #: Appended to a SELECT that must lock the row it reads (sqlite locks the whole file).
    for_update: str
    #: Lists bind as one array parameter (``= ANY(%s)``) rather than one placeholder each.
    arrays: bool

    def one_of(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """``column`` is one of ``values``: the clause and its parameters (values not empty)."""
        if self.arrays:
            return f"{column} = ANY({self.param})", [list(values)]
        return f"{column} IN ({', '.join([self.param] * len(values))})", list(values)

    def values(self, count: int) -> str:
        """``count`` placeholders for an INSERT's VALUES list."""
        return ", ".join([self.param] * count)


SQLITE = Dialect(param="?", like="LIKE", by_id="request_id", for_update="", arrays=False)
POSTGRES = Dialect(
    param="%s", like="ILIKE", by_id='request_id COLLATE "C"', for_update=" FOR UPDATE", arrays=True
)


def describe_change(before: int, current: int) -> str | None:
    """What opening a journal did to its schema, in words (None: it was current)."""
    if before == current:
        return None
    if before == 0:
        return f"created the journal (schema version {current})"
    return f"migrated the journal from schema version {before} to {current}"


def request_filter(
    dialect: Dialect,
    states: Iterable[RequestState | str] | None,
    text: str | None,
    submitted_by: str | None = None,
) -> tuple[str, list[Any]]:
    """A WHERE clause and its parameters: states, text in id, account, action, devices, and
    who submitted (exactly: ``user@host``)."""
    clauses: list[str] = []
    params: list[Any] = []
    if submitted_by is not None:
        clauses.append(f"submitted_by = {dialect.param}")
        params.append(submitted_by)
    if states is not None:
        values = [RequestState(state).value for state in states]
        if not values:
            return " WHERE 1 = 0", []
        clause, bound = dialect.one_of("state", values)
        clauses.append(clause)
        params.extend(bound)
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        like = f" {dialect.like} {dialect.param} ESCAPE '\\'"
        clauses.append("(" + " OR ".join(column + like for column in _SEARCHED) + ")")
        params.extend([pattern] * len(_SEARCHED))
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def new_request(
    request_id: str,
    *,
    action: RequestAction | str,
    account: str,
    target: Target,
    pollable: bool,
    deadline: float,
    expected_results: int | None,
    submitted_at: float | None,
    state: RequestState | str,
    profile: str | None,
    submitted_by: str | None,
) -> tuple[Any, ...]:
    """The row :meth:`add_request` inserts, in :data:`REQUEST_COLUMNS` order."""
    now = time.time()
    return (
        request_id,
        RequestAction(action).value,
        account,
        json.dumps(target, separators=(",", ":")),
        expected_results,
        bool(pollable),
        now if submitted_at is None else submitted_at,
        RequestState(state).value,
        None,
        deadline,
        now,
        None,
        None,
        profile,
        submitted_by,
    )


def request_changes(fields: dict[str, Any]) -> dict[str, Any]:
    """Check and normalise :meth:`update_request`'s fields; ``updated_at`` set to now."""
    unknown = set(fields) - UPDATABLE_FIELDS
    if unknown:
        raise ValueError(f"cannot update request field(s): {', '.join(sorted(unknown))}")
    if "state" in fields:
        fields["state"] = RequestState(fields["state"]).value
    if fields.get("completed_by") is not None:
        fields["completed_by"] = CompletedBy(fields["completed_by"]).value
    if "pollable" in fields:
        fields["pollable"] = bool(fields["pollable"])
    fields["updated_at"] = time.time()
    return fields


def request_row(row: Sequence[Any]) -> RequestRow:
    """A stored request as the journal returns it (sqlite keeps ``pollable`` as 0/1)."""
    values = list(row)
    values[5] = bool(values[5])
    return RequestRow(*values)
