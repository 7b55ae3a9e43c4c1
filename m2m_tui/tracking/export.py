"""Requests and callbacks out of the journal as JSON, CSV, or a Markdown ticket summary.

Bodies come from the journal, where the password was already redacted on write; they are
redacted once more here so an export can never carry one, whatever wrote the journal.

Callback fields are remote text, and exports get printed to terminals and pasted into
tickets: CSV and Markdown show control characters (C0, DEL, C1, bidirectional overrides) as
visible escapes (``\\x1b``), so an export cannot retitle a terminal or reorder a line. JSON
is strict: no ``Infinity``/``NaN`` (a callback with ``1e999`` exports the number as a string),
and those characters are ``\\u`` escapes. Files are created 0600: they hold account numbers
and device identifiers.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from m2m_tui.tracking.journal.diagnoses import (
    JournaledDiagnosis,
    journaled_diagnoses,
    latest_for,
)
from m2m_tui.tracking.journal.interface import JournalReader
from m2m_tui.tracking.records import CallbackRow, JournalError, RequestRow, device_key
from m2m_tui.tracking.redact import redact_body, redact_secrets, redact_text

FORMATS = ("json", "csv", "md")

#: Told ``(done, total)`` as a whole-journal export goes, so ``m2m-tui export`` can show how far
#: a big journal has got. Counted in :data:`PROGRESS_UNITS` of the format.
Progress = Callable[[int, int], None]
#: What a format's progress counts: JSON and CSV every request and callback, Markdown requests
#: (its sections; callbacks nobody tracked are not in it).
PROGRESS_UNITS = {"json": "rows", "csv": "rows", "md": "requests"}
Tick = Callable[[], None]


def _no_tick() -> None:
    pass


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


class ExportError(Exception):
    """An export cannot be written (no such folder, no permission): one line for the user."""


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(text: object) -> str:
    """``text`` with control characters shown as visible escapes (``\\x1b``, ``\\u202e``)."""
    return _CONTROL.sub(_escape, str(text))


def _strict(value: Any) -> Any:
    """``value`` with non-finite floats (``1e999`` parses as infinity) as strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # "inf", "-inf", "nan": strict JSON has no such numbers
    if isinstance(value, dict):
        return {key: _strict(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_strict(item) for item in value]
    return value


def strict_json(value: Any, **options: Any) -> str:
    """JSON any parser accepts, with terminal-unsafe characters as ``\\u`` escapes."""
    text = json.dumps(_strict(value), allow_nan=False, ensure_ascii=False, **options)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def iso(timestamp: float | None) -> str | None:
    """UTC ISO-8601 with seconds: unambiguous in a ticket read in another time zone."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


def _requests(journal: JournalReader, request_id: str | None) -> list[RequestRow]:
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


def _callbacks(journal: JournalReader, request_id: str | None) -> Iterable[CallbackRow]:
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


def _body(row: CallbackRow, secrets: Sequence[str] = ()) -> Any:
    """The body, passwords redacted, and ``secrets`` (the configured callback password) too
    wherever they occur: journals written before free text was redacted may quote it."""
    try:
        body = redact_body(row.body_dict())
    except ValueError:
        return redact_text(row.body, *secrets)
    return redact_secrets(body, secrets) if secrets else body


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
        "submittedBy": row.submitted_by,
    }


def callback_dict(row: CallbackRow, secrets: Sequence[str] = ()) -> dict[str, Any]:
    return {
        "id": row.id,
        "requestId": row.request_id,
        "receivedAt": iso(row.received_at),
        "kind": row.kind,
        "device": row.device_key,
        "callbackCount": row.callback_count,
        "duplicate": row.duplicate,
        "source": row.source,
        "body": _body(row, secrets),
    }


def _diagnoses(journal: JournalReader) -> list[JournaledDiagnosis]:
    """The journaled diagnoses (none from a journal too old to hold looked-up devices)."""
    try:
        return journaled_diagnoses(journal)
    except JournalError:
        return []


def _device_diagnoses(
    row: RequestRow, diagnoses: Sequence[JournaledDiagnosis]
) -> list[tuple[str, JournaledDiagnosis]]:
    """(device label, its latest diagnosis) for each device the request names that has one."""
    target = row.target
    devices = target.get("devices") if isinstance(target, dict) else target
    found: list[tuple[str, JournaledDiagnosis]] = []
    if not diagnoses or not isinstance(devices, list):
        return found
    for device in devices:
        if not isinstance(device, dict):
            continue
        kind, value = device.get("kind"), device.get("id")
        if not isinstance(kind, str) or not isinstance(value, str):
            continue
        latest = latest_for(diagnoses, [device_key(kind, value)])
        if latest is not None and all(latest is not seen for _, seen in found):
            found.append((f"{kind.upper()} {value}", latest))
    return found


def _relation(diagnosis: JournaledDiagnosis, row: RequestRow) -> str:
    return "before" if diagnosis.at <= row.submitted_at else "after"


def _diagnosis_dicts(row: RequestRow, diagnoses: Sequence[JournaledDiagnosis]) -> Any:
    return [
        {
            "device": label,
            "at": iso(found.at),
            "relation": _relation(found, row),
            "rule": found.rule,
            "markdown": found.markdown,
            "identifiers": sorted(found.identifiers),
        }
        for label, found in _device_diagnoses(row, diagnoses)
    ]


def _with_diagnoses(
    item: dict[str, Any], row: RequestRow, diagnoses: Sequence[JournaledDiagnosis]
) -> dict[str, Any]:
    item["diagnoses"] = _diagnosis_dicts(row, diagnoses)
    return item


def export_json(
    journal: JournalReader,
    request_id: str | None = None,
    secrets: Sequence[str] = (),
    tick: Tick = _no_tick,
) -> str:
    def counted(item: dict[str, Any]) -> dict[str, Any]:
        tick()
        return item

    diagnoses = _diagnoses(journal)
    document = {
        "requests": [
            counted(_with_diagnoses(request_dict(r), r, diagnoses))
            for r in _requests(journal, request_id)
        ],
        "callbacks": [counted(callback_dict(c, secrets)) for c in _callbacks(journal, request_id)],
    }
    return strict_json(document, indent=2) + "\n"


CSV_COLUMNS = (
    "requestId",
    "action",
    "account",
    "state",
    "completedBy",
    "submittedAt",
    "submittedBy",
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


def export_csv(
    journal: JournalReader,
    request_id: str | None = None,
    secrets: Sequence[str] = (),
    tick: Tick = _no_tick,
) -> str:
    """One row per callback with its request's fields; a request without callbacks gets one row."""
    requests = {r.request_id: r for r in _requests(journal, request_id)}
    out = io.StringIO()
    rows = csv.writer(out, lineterminator="\n")
    rows.writerow(CSV_COLUMNS)

    def write(cells: list[Any]) -> None:  # every cell cleaned: remote text reaches terminals
        rows.writerow(
            [
                "" if cell is None else cell if isinstance(cell, int) else clean(cell)
                for cell in cells
            ]
        )

    seen: set[str] = set()
    for callback in _callbacks(journal, request_id):
        tick()
        request = requests.get(callback.request_id)
        body = _body(callback, secrets)
        outcome, code = _outcome(body)
        seen.add(callback.request_id)
        write(
            [
                callback.request_id,
                request.action if request else "",
                request.account if request else "",
                request.state if request else "not ours",
                (request.completed_by or "") if request else "",
                iso(request.submitted_at) if request else "",
                (request.submitted_by or "") if request else "",
                iso(callback.received_at),
                callback.kind,
                callback.device_key or "",
                "" if callback.callback_count is None else callback.callback_count,
                "yes" if callback.duplicate else "no",
                outcome,
                code,
                strict_json(body, separators=(",", ":")),
            ]
        )
    for request in requests.values():
        tick()  # every request counts once, written here or with its callbacks above
        if request.request_id not in seen:
            write(
                [
                    request.request_id,
                    request.action,
                    request.account,
                    request.state,
                    request.completed_by or "",
                    iso(request.submitted_at),
                    request.submitted_by or "",
                    *([""] * 8),
                ]
            )
    return out.getvalue()


def _md(text: object) -> str:
    """Table-cell and line safe: pipes would break the table, control characters the
    terminal (a newline shows as ``\\x0a``: one field, one line)."""
    return clean(text).replace("|", "\\|")


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


def _submitter(row: RequestRow) -> str:
    """`` by `user@host` (profile `p`)`` as far as the journal knows (older ones: nothing)."""
    who = f" by `{row.submitted_by}`" if row.submitted_by else ""
    return who + (f" (profile `{row.profile}`)" if row.profile else "")


def export_markdown(
    journal: JournalReader,
    request_id: str | None = None,
    secrets: Sequence[str] = (),
    tick: Tick = _no_tick,
    stamp: Callable[[float | None], str | None] = iso,
    diagnoses: bool = True,
) -> str:
    """A summary fit to paste into a support ticket: one section per request.

    ``stamp`` writes its times (the app passes its labelled convention, desk/times.py);
    ``diagnoses`` False leaves out the journaled diagnoses (the caller adds its own)."""
    lines: list[str] = []
    requests = _requests(journal, request_id)
    if not requests:
        return (
            "No tracked requests.\n" if request_id is None else f"No request {clean(request_id)}.\n"
        )
    found_diagnoses = _diagnoses(journal) if diagnoses else []
    for row in requests:
        tick()
        callbacks = list(journal.callbacks_for(row.request_id))
        duplicates = sum(1 for c in callbacks if c.duplicate)
        by = f" by {row.completed_by}" if row.completed_by else ""
        lines += [
            f"### {row.action.replace('_', ' ')} `{row.request_id}`",
            "",
            f"- Account: `{row.account}`",
            f"- Target: {_target_text(row)}",
            f"- Submitted: {stamp(row.submitted_at)}{_submitter(row)}",
            f"- State: **{row.state}**{by} (updated {stamp(row.updated_at)})",
            f"- Callbacks: {len(callbacks)} received, {duplicates} duplicate(s)",
        ]
        if row.last_error_code or row.last_error_message:
            code = f"`{row.last_error_code}` " if row.last_error_code else ""
            lines.append(f"- Last error: {code}{row.last_error_message or ''}")
        if callbacks:
            lines += ["", "| received | device | result | dup |", "|---|---|---|---|"]
            for callback in callbacks:
                body = _body(callback, secrets)
                lines.append(
                    f"| {stamp(callback.received_at)} | {_md(callback.device_key or '-')} "
                    f"| {_md(_result_text(callback, body))} | {'yes' if callback.duplicate else ''} |"
                )
        for label, found in _device_diagnoses(row, found_diagnoses):
            rule = f" (rule {found.rule})" if found.rule else ""
            lines += [
                "",
                f"#### {label}: diagnosis at {stamp(found.at)}, "
                f"{_relation(found, row)} this request{rule}",
                "",
                *found.markdown.splitlines(),
            ]
        lines.append("")
    return "\n".join(clean(line) for line in lines)  # one field can never add a line


def _progress_total(journal: JournalReader, fmt: str) -> int:
    """How many :data:`PROGRESS_UNITS` a whole-journal export in ``fmt`` counts (two counts)."""
    requests = journal.count_requests()
    if fmt == "md":
        return requests
    counts = journal.counts()
    return requests + counts.callbacks_accepted + counts.callbacks_duplicate


def _ticker(journal: JournalReader, fmt: str, progress: Progress) -> Tick:
    total = _progress_total(journal, fmt)
    done = 0
    progress(0, total)

    def tick() -> None:
        nonlocal done
        done += 1
        progress(done, max(total, done))  # rows journaled since the count stretch the total

    return tick


def export(
    journal: JournalReader,
    fmt: str,
    request_id: str | None = None,
    secrets: Sequence[str] = (),
    progress: Progress | None = None,
    stamp: Callable[[float | None], str | None] = iso,
    diagnoses: bool = True,
) -> str:
    """The export in ``fmt``; ``secrets`` are redacted from callback bodies wherever found.

    ``stamp`` writes the Markdown summary's times (JSON and CSV keep ISO 8601 UTC);
    ``diagnoses`` False leaves the journaled diagnoses out of the Markdown summary.

    ``progress`` is told how far a whole-journal export has got (not used with ``request_id``:
    one request is quick).
    """
    secrets = tuple(secret for secret in secrets if secret)
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")
    tick = _no_tick
    if progress is not None and request_id is None:
        tick = _ticker(journal, fmt, progress)
    if fmt == "json":
        return export_json(journal, request_id, secrets, tick=tick)
    if fmt == "csv":
        return export_csv(journal, request_id, secrets, tick=tick)
    return export_markdown(
        journal, request_id, secrets, tick=tick, stamp=stamp, diagnoses=diagnoses
    )


def write_export(target: Path, text: str) -> Path:
    """Write ``text`` to ``target``, created 0600 (an existing file is tightened to that too).

    Raises ExportError with one line that says what is wrong (a folder that does not exist,
    no permission, a folder in the way) instead of an OSError's traceback.
    """
    target = Path(target).expanduser()
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except FileNotFoundError:
        raise ExportError(
            f"cannot write {target}: the folder {target.parent} does not exist"
        ) from None
    except IsADirectoryError:
        raise ExportError(f"cannot write {target}: it is a folder") from None
    except OSError as exc:
        raise ExportError(f"cannot write {target}: {exc.strerror or exc}") from None
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise ExportError(f"cannot write {target}: {exc.strerror or exc}") from None
    return target.resolve()
