"""The PostgreSQL journal's read queries shared by :mod:`.pg` and the follower."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from m2m_tui.tracking.records import UNFINISHED_STATES, RequestState

REQUEST_COLUMNS = (
    "request_id, action, account, target, expected_results, pollable, submitted_at, state,"
    " completed_by, deadline, updated_at, last_error_code, last_error_message, profile"
)
CALLBACK_COLUMNS = (
    "id, received_at, request_id, kind, device_key, body, body_hash, callback_count,"
    " duplicate, verdict, source"
)
REJECTION_COLUMNS = "id, received_at, reason, detail, source, excerpt"
DEVICE_COLUMNS = "account, kind, device_id, label, summary, looked_up_at, lookups"
UNFINISHED = sorted(state.value for state in UNFINISHED_STATES)
#: Callbacks / rejections after an id, in id order (also the follower's catch-up queries).
CALLBACKS_AFTER = f"SELECT {CALLBACK_COLUMNS} FROM callbacks WHERE id > %s ORDER BY id LIMIT %s"
REJECTIONS_AFTER = f"SELECT {REJECTION_COLUMNS} FROM rejections WHERE id > %s ORDER BY id LIMIT %s"
#: Byte order, as sqlite compares text, whatever the database's collation.
BY_ID_TEXT = 'request_id COLLATE "C"'


def request_filter(
    states: Iterable[RequestState | str] | None, text: str | None
) -> tuple[str, list[Any]]:
    """A WHERE clause and its parameters: states, and text in id, account, action, devices."""
    clauses: list[str] = []
    params: list[Any] = []
    if states is not None:
        values = [RequestState(state).value for state in states]
        if not values:
            return " WHERE false", []
        clauses.append("state = ANY(%s)")
        params.append(values)
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        columns = ("request_id", "account", "action", "target", "profile")
        # ILIKE: sqlite's LIKE ignores ASCII case, and the meaning must be the same.
        clauses.append("(" + " OR ".join(f"{c} ILIKE %s ESCAPE '\\'" for c in columns) + ")")
        params.extend([pattern] * len(columns))
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params
