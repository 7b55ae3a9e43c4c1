"""Remove callback passwords before anything is stored, printed or exported.

ThingSpace echoes the registered callback password in clear in every callback body
(``thingspace-api.md`` §4.3), so every copy of a body we keep goes through here first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

REDACTED = "[redacted]"

# A JSON member ``"password": <value>`` in raw text that may not parse: the value is a string
# (possibly cut off by truncation) or a bare literal. Keys are matched case-insensitively.
_JSON_MEMBER = re.compile(
    r"""(?P<key>["']password["']\s*:\s*)(?P<value>"(?:[^"\\]|\\.)*(?:"|\\?$)|[^,}\]\s]+)""",
    re.IGNORECASE | re.DOTALL,
)
# ``password=value`` as in a form or query string.
_FORM_FIELD = re.compile(r"(?P<key>\bpassword\s*=\s*)(?P<value>[^&\s]+)", re.IGNORECASE)


def _is_password_key(key: object) -> bool:
    return isinstance(key, str) and key.lower() == "password"


def _redact(value: Any) -> Any:
    """Return ``value`` itself when nothing inside needs redacting, so bodies are copied lazily."""
    if isinstance(value, dict):
        changed: dict[Any, Any] | None = None
        for key, item in value.items():
            if _is_password_key(key):
                new = REDACTED if item not in (None, "") else item
            else:
                new = _redact(item)
            if new is not item:
                if changed is None:
                    changed = dict(value)
                changed[key] = new
        return value if changed is None else changed
    if isinstance(value, list):
        items = [_redact(item) for item in value]
        if any(new is not old for new, old in zip(items, value, strict=True)):
            return items
        return value
    return value


def redact_body(body: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``body`` with every ``password`` member, at any depth, set to ``[redacted]``.

    Empty and null passwords are kept as they are: they reveal nothing and show the sender
    was registered without credentials. The input is never modified.
    """
    result: dict[str, Any] = _redact(body)
    return result


def redact_text(text: str, *secrets: str) -> str:
    """Redact password values in raw text that may not be valid JSON (rejected bodies).

    ``secrets`` are literal values (the configured callback password) that are also replaced
    wherever they occur, for bodies that carry them under an unexpected key.
    """
    text = _JSON_MEMBER.sub(lambda m: m["key"] + '"' + REDACTED + '"', text)
    text = _FORM_FIELD.sub(lambda m: m["key"] + REDACTED, text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def _without(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def redact_secrets(value: Any, secrets: Sequence[str]) -> Any:
    """``value`` with every occurrence of ``secrets`` in its strings (keys too) redacted.

    For free text of an accepted callback that quotes the configured password (a
    ``comment``, a ``faultstring``). Numbers are left alone. Copies lazily, like
    :func:`redact_body`.
    """
    if isinstance(value, str):
        return _without(value, secrets)
    if isinstance(value, dict):
        changed: dict[Any, Any] | None = None
        for key, item in value.items():
            new_key = _without(key, secrets) if isinstance(key, str) else key
            new = redact_secrets(item, secrets)
            if new is not item or new_key != key:
                if changed is None:
                    changed = {}
                    for k, v in value.items():
                        if k == key:
                            break
                        changed[k] = v
                changed[new_key] = new
            elif changed is not None:
                changed[key] = item
        return value if changed is None else changed
    if isinstance(value, list):
        items = [redact_secrets(item, secrets) for item in value]
        if any(new is not old for new, old in zip(items, value, strict=True)):
            return items
        return value
    return value
