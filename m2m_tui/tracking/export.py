"""Requests and callbacks out of the journal as JSON, CSV, or a Markdown ticket summary.

Bodies come from the journal, where the password was already redacted on write; they are
redacted once more here so an export can never carry one, whatever wrote the journal.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from m2m_tui.tracking.journal import Journal
from m2m_tui.tracking.records import CallbackRow, RequestRow
from m2m_tui.tracking.redact import redact_body

FORMATS = ("json", "csv", "md")


def iso(timestamp: float | None) -> str | None:
    """UTC ISO-8601 with seconds: unambiguous in a ticket read in another time zone."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


def _requests(journal: Journal, request_id: str | None) -> list[RequestRow]:
    if request_id is not None:
        row = journal.get_request(request_id)
        return [row] if row is not None else []
    rows: list[RequestRow] = []
    offset = 0
    while True:
        page = journal.list_requests(limit=500, offset=offset)
        rows.extend(page)
        if len(page) < 500:
            return list(reversed(rows))  # oldest first reads like a timeline
        offset += 500


def _callbacks(journal: Journal, request_id: str | None) -> Iterable[CallbackRow]:
    if request_id is not None:
        yield from journal.callbacks_for(request_id)
        return
    after = 0
    while True:
        page = journal.recent_callbacks(limit=1000, after_id=after)
        yield from page
        if len(page) < 1000:
            return
        after = page[-1].id


def _body(row: CallbackRow) -> Any:
    try:
        return redact_body(row.body_dict())
    except ValueError:
        return row.body


def request_dict(row: RequestRow) -> dict[str, Any]:
    return {
        "requestId": row.request_id,
        "action": row.action,
        "account": row.account,
        "target": row.target,
        "state": row.state,
        "completedBy": row.completed_by,
        "pollable": row.pollable,
        "expectedResults": row.expected_results,
        "submittedAt": iso(row.submitted_at),
        "updatedAt": iso(row.updated_at),
        "deadline": iso(row.deadline),
        "lastErrorCode": row.last_error_code,
        "lastErrorMessage": row.last_error_message,
        "profile": row.profile,
    }


def callback_dict(row: CallbackRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "requestId": row.request_id,
        "receivedAt": iso(row.received_at),
        "kind": row.kind,
        "device": row.device_key,
        "callbackCount": row.callback_count,
        "duplicate": row.duplicate,
        "source": row.source,
        "body": _body(row),
    }


def export_json(journal: Journal, request_id: str | None = None) -> str:
    document = {
        "requests": [request_dict(r) for r in _requests(journal, request_id)],
        "callbacks": [callback_dict(c) for c in _callbacks(journal, request_id)],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


CSV_COLUMNS = (
    "requestId",
    "action",
    "account",
    "state",
    "completedBy",
    "submittedAt",
    "receivedAt",
    "kind",
    "device",
    "callbackCount",
    "duplicate",
    "outcome",
    "faultCode",
    "body",
)


def _outcome(body: Any) -> tuple[str, str]:
    if not isinstance(body, dict):
        return "", ""
    fault = body.get("faultResponse")
    code = str(fault.get("faultcode", "")) if isinstance(fault, dict) else ""
    return str(body.get("status") or body.get("comment") or ""), code


def export_csv(journal: Journal, request_id: str | None = None) -> str:
    """One row per callback with its request's fields; a request without callbacks gets one row."""
    requests = {r.request_id: r for r in _requests(journal, request_id)}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    seen: set[str] = set()
    for callback in _callbacks(journal, request_id):
        request = requests.get(callback.request_id)
        body = _body(callback)
        outcome, code = _outcome(body)
        seen.add(callback.request_id)
        writer.writerow(
            [
                callback.request_id,
                request.action if request else "",
                request.account if request else "",
                request.state if request else "not ours",
                (request.completed_by or "") if request else "",
                iso(request.submitted_at) if request else "",
                iso(callback.received_at),
                callback.kind,
                callback.device_key or "",
                "" if callback.callback_count is None else callback.callback_count,
                "yes" if callback.duplicate else "no",
                outcome,
                code,
                json.dumps(body, separators=(",", ":"), ensure_ascii=False),
            ]
        )
    for request in requests.values():
        if request.request_id not in seen:
            writer.writerow(
                [
                    request.request_id,
                    request.action,
                    request.account,
                    request.state,
                    request.completed_by or "",
                    iso(request.submitted_at),
                    *([""] * 8),
                ]
            )
    return out.getvalue()


def _md(text: object) -> str:
    """Table-cell safe: pipes and newlines would break the table."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _target_text(row: RequestRow) -> str:
    target = row.target
    if isinstance(target, dict) and target.get("devices"):
        return ", ".join(
            f"{d.get('kind', '?').upper()} {d.get('id', '?')}" for d in target["devices"]
        )
    if isinstance(target, dict) and target.get("filter"):
        return "filter " + json.dumps(target["filter"], separators=(",", ":"))
    return json.dumps(target)


def _result_text(callback: CallbackRow, body: Any) -> str:
    if not isinstance(body, dict):
        return "unreadable body"
    fault = body.get("faultResponse")
    if isinstance(fault, dict):
        return f"FAILED {fault.get('faultcode', '')}: {fault.get('faultstring', '')}"
    statuses = (body.get("deviceResponse") or {}).get("deviceSuspensionStatusResponse")
    if isinstance(statuses, list) and statuses and isinstance(statuses[0], dict):
        s = statuses[0]
        return (
            f"state {s.get('state', '?')}, suspended {s.get('suspendDate', '-')}, resumes "
            f"{s.get('expectedResumeDate', '-')} ({s.get('daysRemainingAutoResume', '?')} days left), "
            f"{s.get('numDaysSuspendedLast12Months', '?')} of "
            f"{s.get('maxSuspendDaysAllowed', '?')} days used in 12 months"
        )
    if body.get("comment"):
        return str(body["comment"])
    return str(body.get("status") or callback.kind)


def export_markdown(
    journal: Journal,
    request_id: str | None = None,
    stamp: Callable[[float | None], str | None] = iso,
) -> str:
    """A summary fit to paste into a support ticket: one section per request.

    ``stamp`` writes its times (the app passes its labelled convention, desk/times.py)."""
    lines: list[str] = []
    requests = _requests(journal, request_id)
    if not requests:
        return "No tracked requests.\n" if request_id is None else f"No request {request_id}.\n"
    for row in requests:
        callbacks = list(journal.callbacks_for(row.request_id))
        duplicates = sum(1 for c in callbacks if c.duplicate)
        by = f" by {row.completed_by}" if row.completed_by else ""
        lines += [
            f"### {row.action.replace('_', ' ')} `{row.request_id}`",
            "",
            f"- Account: `{row.account}`",
            f"- Target: {_target_text(row)}",
            f"- Submitted: {stamp(row.submitted_at)}",
            f"- State: **{row.state}**{by} (updated {stamp(row.updated_at)})",
            f"- Callbacks: {len(callbacks)} received, {duplicates} duplicate(s)",
        ]
        if row.last_error_code or row.last_error_message:
            code = f"`{row.last_error_code}` " if row.last_error_code else ""
            lines.append(f"- Last error: {code}{row.last_error_message or ''}")
        if callbacks:
            lines += ["", "| received | device | result | dup |", "|---|---|---|---|"]
            for callback in callbacks:
                body = _body(callback)
                lines.append(
                    f"| {stamp(callback.received_at)} | {_md(callback.device_key or '-')} "
                    f"| {_md(_result_text(callback, body))} | {'yes' if callback.duplicate else ''} |"
                )
        lines.append("")
    return "\n".join(lines)


def export(
    journal: Journal,
    fmt: str,
    request_id: str | None = None,
    stamp: Callable[[float | None], str | None] = iso,
) -> str:
    if fmt == "json":
        return export_json(journal, request_id)
    if fmt == "csv":
        return export_csv(journal, request_id)
    if fmt == "md":
        return export_markdown(journal, request_id, stamp)
    raise ValueError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")
