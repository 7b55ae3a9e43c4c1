"""Replay a saved callback (a JSON file a customer sent) through the same path as a real one.

Two paths, and the result says which was used:

- **listener**: the body is POSTed to our own running listener, so it is checked, journaled
  and tracked exactly like a callback from ThingSpace;
- **journal**: no listener runs in this process (following another process's journal, or
  none): the body goes through the listener's own checks (:func:`intake.examine`), is
  journaled, and the stored row is handed to the tracker.

A customer's file carries *their* registration's username and password (or a redacted one),
which our listener would refuse. ``credentials`` replaces them with ours first, so the
message itself is what gets examined; the result says so.

A file that is not a callback at all (not JSON, not an object, no ``requestId``) is refused
when it is loaded, with one line saying what is wrong: posting it would only count a rejection
in the listener's statistics and tell the user less.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from m2m_tui.api.models.callbacks import CallbackMessage
from m2m_tui.tracking.events import CallbackRejected
from m2m_tui.tracking.intake import Credentials, Refusal, examine
from m2m_tui.tracking.listener_config import MAX_BODY
from m2m_tui.tracking.records import RejectionRecord

if TYPE_CHECKING:
    from m2m_tui.tracking.journal.interface import JournalStore
    from m2m_tui.tracking.tracker import Tracker

REPLAY_SOURCE = "replay"
REPLAY_TIMEOUT = 5.0


class ReplayError(Exception):
    """The file cannot be replayed (unreadable, too large, not a callback); nothing was sent."""


@dataclass(frozen=True, slots=True)
class ReplayResult:
    path: str
    """``listener`` or ``journal``."""
    accepted: bool
    detail: str
    status: int | None = None
    record_id: int | None = None
    duplicate: bool = False
    credentials_replaced: bool = False

    def describe(self) -> str:
        via = (
            "POSTed to our listener"
            if self.path == "listener"
            else "journaled directly (no listener here)"
        )
        creds = "; username/password replaced by ours" if self.credentials_replaced else ""
        outcome = "accepted" + (" (duplicate)" if self.duplicate else "")
        if not self.accepted:
            outcome = "rejected: " + self.detail
        return f"{via}: {outcome}{creds}"


def load_callback_file(path: Path, *, limit: int = MAX_BODY) -> bytes:
    """The file's bytes, once they look like a ThingSpace callback.

    Raises ReplayError with one line (the file's name first) when the file is missing, larger
    than a callback may be, or not a callback object (see :func:`callback_problem`). A UTF-8
    byte-order mark, which some editors add, is dropped.
    """
    try:
        size = path.stat().st_size
        if size > limit:
            raise ReplayError(f"{path} is {size} bytes; a callback may be at most {limit}")
        raw = path.read_bytes()
    except OSError as exc:
        raise ReplayError(f"cannot read {path}: {exc.strerror or exc}") from exc
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    problem = callback_problem(raw)
    if problem is not None:
        raise ReplayError(f"{path.name} {problem}; nothing replayed")
    return raw


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def callback_problem(raw: bytes) -> str | None:
    """What keeps ``raw`` from being a callback, as the end of a sentence about the file
    ("is not JSON (...)"); None when it is an object the listener's envelope check accepts."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"is not UTF-8 text (byte {exc.start})"
    if not text.strip():
        return "is empty"
    try:
        body: Any = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        return f"is not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
    except ValueError as exc:
        return f"is not JSON ({exc})"
    except RecursionError:
        return "is not JSON we can read (nested too deeply)"
    if isinstance(body, list):
        items = "item" if len(body) == 1 else "items"
        return f"holds a JSON list of {len(body)} {items}, not one callback object"
    if not isinstance(body, dict):
        kind = {str: "string", bool: "true/false", int: "number", float: "number"}
        return f"holds a JSON {kind.get(type(body), 'null')}, not a callback object"
    try:
        CallbackMessage.model_validate(body)
    except ValidationError as exc:
        return "is not a ThingSpace callback: " + _envelope_problem(exc)
    except RecursionError:
        return "is not a ThingSpace callback: nested too deeply"
    return None


def _envelope_problem(exc: ValidationError) -> str:
    """The first envelope problem in plain words, never echoing the input (a password)."""
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    if not errors:
        return "invalid envelope"
    first = errors[0]
    where = ".".join(str(part) for part in first.get("loc", ())) or "body"
    kind = first.get("type")
    if kind == "missing":
        said = f"no {where}"
    elif kind == "string_too_short":
        said = f"{where} is empty"
    else:
        said = f"{where}: {first.get('msg', 'invalid')}"
    others = len(errors) - 1
    more = f" (and {others} more problem{'s' if others > 1 else ''})" if others else ""
    return said + more


def with_credentials(raw: bytes, credentials: tuple[str, str] | None) -> tuple[bytes, bool]:
    """The body with ``username``/``password`` set to ours (when it is a JSON object)."""
    if credentials is None:
        return raw, False
    try:
        body: Any = json.loads(raw)
    except ValueError:
        return raw, False
    if not isinstance(body, dict):
        return raw, False
    body["username"], body["password"] = credentials
    return json.dumps(body).encode(), True


async def replay_to_listener(
    raw: bytes,
    url: str,
    *,
    credentials: tuple[str, str] | None = None,
    time_limit: float = REPLAY_TIMEOUT,
    transport: Any = None,
) -> ReplayResult:
    """POST the body to our running listener; its answer is the verdict."""
    import httpx

    body, replaced = with_credentials(raw, credentials)
    async with httpx.AsyncClient(timeout=time_limit, transport=transport) as client:
        try:
            response = await client.post(
                url, content=body, headers={"Content-Type": "application/json"}
            )
        except httpx.HTTPError as exc:
            return ReplayResult("listener", False, f"listener did not answer: {exc}", None)
    try:
        answer: Any = response.json()
    except ValueError:
        answer = {}
    answer = answer if isinstance(answer, dict) else {}
    if response.status_code == 200:
        return ReplayResult(
            "listener",
            True,
            "accepted",
            200,
            duplicate=bool(answer.get("duplicate")),
            credentials_replaced=replaced,
        )
    reason = str(answer.get("reason") or f"HTTP {response.status_code}")
    detail = str(answer.get("detail") or "")
    text = f"{reason}: {detail}" if detail else reason
    return ReplayResult(
        "listener", False, text, response.status_code, credentials_replaced=replaced
    )


def replay_to_journal(
    raw: bytes,
    journal: JournalStore,
    tracker: Tracker | None,
    *,
    credentials: tuple[str, str] | None = None,
    expected: tuple[str, str] | None = None,
    feed_tracker: bool = True,
    now: float | None = None,
) -> ReplayResult:
    """Examine, journal and track the body without a listener.

    ``expected`` are the credentials a listener would insist on (None: any are accepted).
    ``feed_tracker`` False when something else (a journal follower) will read the new row.
    """
    body, replaced = with_credentials(raw, credentials)
    received_at = time.time() if now is None else now
    secrets = (expected[1],) if expected and expected[1] else ()
    outcome = examine(
        body,
        received_at=received_at,
        source=REPLAY_SOURCE,
        credentials=Credentials.of(*expected) if expected else None,
        secrets=secrets,
    )
    if isinstance(outcome, Refusal):
        record = RejectionRecord(
            outcome.reason.value, outcome.detail, outcome.excerpt, REPLAY_SOURCE, received_at
        )
        journal.append_rejections([record])
        if tracker is not None and feed_tracker:
            tracker.publish(
                CallbackRejected(outcome.reason.value, outcome.detail, REPLAY_SOURCE, received_at)
            )
        return ReplayResult(
            "journal",
            False,
            f"{outcome.reason.value}: {outcome.detail}",
            outcome.status,
            credentials_replaced=replaced,
        )
    stored = journal.append_callbacks([outcome])[0]
    if tracker is not None and feed_tracker:
        rows = journal.recent_callbacks(limit=1, after_id=stored.id - 1)
        if rows:
            tracker.callback(rows[0])
    return ReplayResult(
        "journal",
        True,
        "accepted",
        200,
        record_id=stored.id,
        duplicate=stored.duplicate,
        credentials_replaced=replaced,
    )
