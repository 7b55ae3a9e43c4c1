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
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from m2m_tui.tracking.events import CallbackRejected
from m2m_tui.tracking.intake import Credentials, Refusal, examine
from m2m_tui.tracking.listener_config import MAX_BODY
from m2m_tui.tracking.records import RejectionRecord

if TYPE_CHECKING:
    from m2m_tui.tracking.journal import Journal
    from m2m_tui.tracking.tracker import Tracker

REPLAY_SOURCE = "replay"
REPLAY_TIMEOUT = 5.0


class ReplayError(Exception):
    """The file cannot be read (missing, too large); nothing was replayed."""


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
    """The file's bytes; raises ReplayError when it is missing or larger than a callback may be."""
    try:
        size = path.stat().st_size
        if size > limit:
            raise ReplayError(f"{path} is {size} bytes; a callback may be at most {limit}")
        return path.read_bytes()
    except OSError as exc:
        raise ReplayError(f"cannot read {path}: {exc.strerror or exc}") from exc


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
    journal: Journal,
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
