"""From the raw bytes of a callback POST to a record to journal, or a reasoned refusal.

No HTTP here, so every rule is testable without a server. The body is parsed once and
validated once; the pydantic model is dropped as soon as the few fields we index are read
(design.md: parsed models must not pile up in memory).
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from m2m_tui.api.models.callbacks import CallbackMessage
from m2m_tui.tracking.records import CallbackRecord, RejectionReason
from m2m_tui.tracking.redact import redact_body, redact_text

EXCERPT_CHARS = 500


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a body was refused: the HTTP status, the counted reason, a short safe detail."""

    status: int
    reason: RejectionReason
    detail: str
    excerpt: str


@dataclass(frozen=True, slots=True)
class Credentials:
    """The expected username and password as bytes, for constant-time comparison."""

    username: bytes
    password: bytes

    @classmethod
    def of(cls, username: str, password: str) -> Credentials:
        return cls(_utf8(username), _utf8(password))


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


# One decoder for all bodies: json.loads with a keyword argument would build one per call.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def _raw_excerpt(raw: bytes, secrets: tuple[str, ...]) -> str:
    text = raw[: EXCERPT_CHARS * 2].decode("utf-8", "replace")
    return redact_text(text[:EXCERPT_CHARS], *secrets)


def _object_excerpt(body: dict[str, Any], secrets: tuple[str, ...]) -> str:
    try:
        text = json.dumps(redact_body(body), separators=(",", ":"))
    except (ValueError, TypeError, RecursionError):
        return ""
    return redact_text(text[:EXCERPT_CHARS], *secrets)


def _first_id(ids: Any) -> str | None:
    if not isinstance(ids, list):
        return None
    for entry in ids:
        if isinstance(entry, dict):
            ident, kind = entry.get("id"), entry.get("kind")
            if isinstance(ident, int) and not isinstance(ident, bool):
                ident = str(ident)
            if isinstance(ident, str) and isinstance(kind, str) and ident.strip() and kind.strip():
                return f"{kind.strip().lower()}:{ident.strip()}"
    return None


def device_key_of(body: dict[str, Any]) -> str | None:
    """``"kind:id"`` of the first device a message names, wherever ThingSpace put it.

    Top-level ``deviceIds`` first, then the per-device items of ``deviceResponse`` (the
    suspension-status list, or an operation object with ``deviceIds``). Read from the raw
    dict: cheaper than building the nested models on the hot path.
    """
    key = _first_id(body.get("deviceIds"))
    if key is not None:
        return key
    response = body.get("deviceResponse")
    if isinstance(response, dict):
        for inner in response.values():
            if isinstance(inner, dict):
                key = _first_id(inner.get("deviceIds"))
            elif isinstance(inner, list):
                key = next(
                    (
                        k
                        for item in inner
                        if isinstance(item, dict)
                        if (k := _first_id(item.get("deviceIds")))
                    ),
                    None,
                )
            if key is not None:
                return key
    return None


def _validation_detail(exc: ValidationError) -> str:
    """The first problem, without echoing the input (it may hold a password)."""
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    if not errors:
        return "invalid callback envelope"
    first = errors[0]
    where = ".".join(str(part) for part in first.get("loc", ())) or "body"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {first.get('msg', 'invalid')}{more}"


def examine(
    raw: bytes,
    *,
    received_at: float,
    source: str | None,
    credentials: Credentials | None,
    secrets: tuple[str, ...] = (),
) -> CallbackRecord | Refusal:
    """Apply the listener's checks in order: JSON, object, envelope, credentials.

    ``credentials`` None means none are expected (any are accepted). ``secrets`` are scrubbed
    from excerpts of refused bodies.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Refusal(
            400,
            RejectionReason.NOT_JSON,
            f"body is not UTF-8 (byte {exc.start})",
            _raw_excerpt(raw, secrets),
        )
    try:
        body = _DECODER.decode(text)
    except RecursionError:
        return Refusal(
            400, RejectionReason.NOT_JSON, "JSON nested too deeply", _raw_excerpt(raw, secrets)
        )
    except ValueError as exc:
        detail = f"not JSON: {exc.msg}" if isinstance(exc, json.JSONDecodeError) else str(exc)
        return Refusal(400, RejectionReason.NOT_JSON, detail[:200], _raw_excerpt(raw, secrets))
    if not isinstance(body, dict):
        return Refusal(
            400,
            RejectionReason.NOT_OBJECT,
            f"JSON {type(body).__name__} is not an object",
            _raw_excerpt(raw, secrets),
        )
    try:
        message = CallbackMessage.model_validate(body)
    except ValidationError as exc:
        return Refusal(
            422,
            RejectionReason.INVALID_ENVELOPE,
            _validation_detail(exc),
            _object_excerpt(body, secrets),
        )
    except RecursionError:
        return Refusal(422, RejectionReason.INVALID_ENVELOPE, "nested too deeply", "")
    if credentials is not None:
        username = _utf8(message.username or "")
        password = _utf8(message.password.get_secret_value() if message.password else "")
        same_user = hmac.compare_digest(username, credentials.username)
        same_password = hmac.compare_digest(password, credentials.password)
        if not (same_user & same_password):
            return Refusal(
                401,
                RejectionReason.BAD_CREDENTIALS,
                "username or password does not match the registered callback credentials",
                _object_excerpt(body, secrets),
            )
    return CallbackRecord(
        request_id=message.requestId,
        kind=message.kind.value,
        body=body,
        device_key=device_key_of(body),
        callback_count=message.callbackCount,
        source=source,
        received_at=received_at,
    )
