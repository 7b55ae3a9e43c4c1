"""Shared pieces of the wire models: base classes, lenient scalars, secrets that serialise safely.

ThingSpace is inconsistent on the way back (numbers as strings, two date formats, extra fields),
so inbound models are lenient and keep what they do not know; outbound models are strict so a
mistake of ours is caught before it reaches the API.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    SecretStr,
    SerializationInfo,
)


class InboundModel(BaseModel):
    """A body ThingSpace sends us: unknown fields are kept, never an error."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class OutboundModel(BaseModel):
    """A body we send: unknown fields are a bug of ours, so they are refused."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def wire(self, *, reveal_secrets: bool = False) -> dict[str, Any]:
        """The JSON-ready dict to send; secrets stay masked unless ``reveal_secrets``."""
        return self.model_dump(
            mode="json",
            by_alias=True,
            exclude_none=True,
            context={"reveal_secrets": reveal_secrets},
        )


def _serialise_secret(value: SecretStr, info: SerializationInfo) -> str:
    context = info.context
    if isinstance(context, dict) and context.get("reveal_secrets"):
        return value.get_secret_value()
    return str(value)


#: A SecretStr that serialises masked, or in clear only with ``context={"reveal_secrets": True}``.
Secret = Annotated[SecretStr, PlainSerializer(_serialise_secret, return_type=str)]


def _lenient_int(value: Any) -> Any:
    """ThingSpace sends counts as strings (``"61"``); blank means unknown."""
    if value is None or isinstance(value, bool):
        return None if value is None else int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            return int(text)
        except ValueError:
            try:
                as_float = float(text)
            except ValueError:
                return None
            return int(as_float) if as_float.is_integer() else None
    return None


#: An int that arrives as a number or a numeric string; anything else becomes None.
LenientInt = Annotated[int | None, BeforeValidator(_lenient_int)]

_DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%m/%d/%Y %I:%M:%S %p")


def parse_thingspace_datetime(value: str) -> datetime | None:
    """Parse both documented forms: ISO-8601 with offset and ``YYYY-MM-DD HH:MM:SS``.

    A trailing ``Z`` after an offset (seen in a malformed SDK example) is tolerated.
    """
    text = value.strip()
    if not text:
        return None
    for candidate in (text, text[:-1] if text.endswith("Z") else None):
        if candidate is None:
            continue
        try:
            return datetime.fromisoformat(candidate)
        except ValueError:
            continue
    for fmt in _DATETIME_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def _flexible_datetime(value: Any) -> Any:
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        if not value.strip():
            return None
        parsed = parse_thingspace_datetime(value)
        return parsed if parsed is not None else value
    return str(value)


def _flexible_date(value: Any) -> Any:
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str):
        if not value.strip():
            return None
        parsed = parse_thingspace_datetime(value)
        return parsed.date() if parsed is not None else value
    return str(value)


#: A timestamp in either documented format; text we cannot parse is kept as text, not lost.
FlexibleDateTime = Annotated[datetime | str | None, BeforeValidator(_flexible_datetime)]
#: A calendar date (``YYYY-MM-DD``); text we cannot parse is kept as text.
FlexibleDate = Annotated[date | str | None, BeforeValidator(_flexible_date)]


class KeyValue(InboundModel):
    """A ``{"key": ..., "value": ...}`` pair (custom fields, extended attributes)."""

    key: str
    value: str | None = None
