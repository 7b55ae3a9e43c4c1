"""The three per-device history reads (``thingspace-diagnostics.md`` §1-§4).

Connection history (data sessions), provisioning history (who did what to the line) and daily
usage. All three page the same way: at most 500 records, HTTP 202 with ``hasMoreData`` while
more remain, the next page asked for by moving ``earliest``. Where the reference marks a fact
unconfirmed (the provisioning answer's top-level shape, a missing list key) both readings are
accepted on the way in.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import Field, field_validator, model_validator

from m2m_tui.api.models.base import (
    FlexibleDateTime,
    InboundModel,
    KeyValue,
    LenientInt,
    OutboundModel,
)
from m2m_tui.api.models.devices import DeviceId

#: Provisioning-history ``eventType`` classes, matched by case-insensitive substring (§3.2).
EVENT_CLASSES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("deactivate", ("deactiv",)),
    ("activate", ("activ",)),
    ("suspend", ("suspend",)),
    ("restore", ("restore", "resume")),
    ("move", ("move",)),
    ("plan", ("plan",)),
    ("change", ("change",)),
)


def wire_time(moment: datetime) -> str:
    """ISO-8601 with ``Z`` for UTC (the doc examples' form); naive times are taken as UTC."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def as_utc(value: datetime | str | None) -> datetime | None:
    """A parsed timestamp in UTC (naive ones taken as UTC); None for unparsed text."""
    if not isinstance(value, datetime):
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)


class HistoryRequest(OutboundModel):
    """Body of the connection and provisioning history calls: one device, one window."""

    deviceId: DeviceId
    earliest: str
    latest: str


class UsageLabel(OutboundModel):
    name: str = Field(pattern=r"^[A-Za-z0-9]{3,32}$")
    value: str = Field(pattern=r"^[A-Za-z0-9]{3,32}$")


class UsageHistoryRequest(OutboundModel):
    """Body of the usage call: a device or a usage-segmentation label, and a window."""

    deviceId: DeviceId | None = None
    label: UsageLabel | None = None
    earliest: str
    latest: str

    @model_validator(mode="after")
    def _one_target(self) -> UsageHistoryRequest:
        if (self.deviceId is None) == (self.label is None):
            raise ValueError("usage history needs exactly one of deviceId or label")
        return self


class ConnectionEvent(InboundModel):
    """One data-session event; attribute values are strings, unknown keys are kept verbatim."""

    occurredAt: FlexibleDateTime = None
    connectionEventAttributes: list[KeyValue] = Field(default_factory=list)
    extendedAttributes: list[Any] | None = None

    def attribute(self, key: str) -> str | None:
        """An attribute's value, key compared case-insensitively."""
        wanted = key.lower()
        for pair in self.connectionEventAttributes:
            if pair.key.lower() == wanted:
                return pair.value
        return None

    @property
    def when(self) -> datetime | None:
        return as_utc(self.occurredAt)

    @property
    def event(self) -> str | None:
        """``Start`` or ``Stop`` (capitalised as the examples show), or what was sent."""
        value = self.attribute("Event")
        if value is None:
            return None
        lowered = value.strip().lower()
        return {"start": "Start", "stop": "Stop"}.get(lowered, value.strip())

    @property
    def bytes_used(self) -> int | None:
        value = self.attribute("BytesUsed")
        if value is None:
            return None
        try:
            return int(value.strip())
        except ValueError:
            return None

    def identity(self) -> tuple[str, tuple[tuple[str, str | None], ...]]:
        """What de-duplicates records seen on two pages: the timestamp and every attribute."""
        pairs = tuple(sorted((p.key, p.value) for p in self.connectionEventAttributes))
        return (str(self.occurredAt), pairs)


class ConnectionHistoryResponse(InboundModel):
    """A missing ``connectionHistory`` key means an empty list (the SDK marks it optional)."""

    connectionHistory: list[ConnectionEvent] = Field(default_factory=list)
    hasMoreData: bool = False

    @field_validator("connectionHistory", mode="before")
    @classmethod
    def _null_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value


def event_class(event_type: str | None) -> str | None:
    """The class of a free-text ``eventType`` (``deactivate`` before ``activate``), or None."""
    if not event_type:
        return None
    text = event_type.lower()
    for name, needles in EVENT_CLASSES:
        if name == "activate" and "deactiv" in text:
            continue
        if any(n in text for n in needles):
            return name
    return None


class ProvisioningEvent(InboundModel):
    occurredAt: FlexibleDateTime = None
    status: str | None = None
    eventBy: str | None = None
    eventType: str | None = None
    servicePlan: str | None = None
    mdn: str | None = None
    msisdn: str | None = None
    extendedAttributes: list[KeyValue] | None = None

    @property
    def when(self) -> datetime | None:
        return as_utc(self.occurredAt)

    @property
    def succeeded(self) -> bool:
        """Any status other than ``Success`` (any case) counts as not successful (§3.2)."""
        return (self.status or "").strip().lower() == "success"

    @property
    def kind(self) -> str | None:
        return event_class(self.eventType)

    def identity(self) -> tuple[str, ...]:
        return tuple(
            str(v)
            for v in (
                self.occurredAt,
                self.eventType,
                self.eventBy,
                self.status,
                self.servicePlan,
                self.mdn,
                self.msisdn,
            )
        )


class ProvisioningHistoryResponse(InboundModel):
    """Accepts both documented top-level shapes: a bare object or an array of objects (§3.2)."""

    provisioningHistory: list[ProvisioningEvent] = Field(default_factory=list)
    hasMoreData: bool = False

    @model_validator(mode="before")
    @classmethod
    def _array_or_object(cls, data: Any) -> Any:
        if isinstance(data, list):
            events: list[Any] = []
            more = False
            for item in data:
                if isinstance(item, dict):
                    events.extend(item.get("provisioningHistory") or [])
                    more = more or bool(item.get("hasMoreData"))
            return {"provisioningHistory": events, "hasMoreData": more}
        if isinstance(data, dict) and data.get("provisioningHistory") is None:
            return {**data, "provisioningHistory": []}
        return data


class UsageRecord(InboundModel):
    """One day of usage; a day that is absent means zero (§4.3)."""

    timestamp: FlexibleDateTime = None
    bytesUsed: LenientInt = None
    smsUsed: LenientInt = None
    source: str | None = None
    servicePlan: str | None = None
    extendedAttributes: list[KeyValue] | None = None

    @property
    def when(self) -> datetime | None:
        return as_utc(self.timestamp)

    def attribute(self, key: str) -> str | None:
        for pair in self.extendedAttributes or []:
            if pair.key.lower() == key.lower():
                return pair.value
        return None

    @property
    def mo_sms(self) -> int | None:
        value = self.attribute("MoSms")
        return int(value) if value is not None and value.strip().isdigit() else None

    def identity(self) -> tuple[str, ...]:
        return (str(self.timestamp), str(self.bytesUsed), str(self.smsUsed), str(self.source))


class UsageHistoryResponse(InboundModel):
    usageHistory: list[UsageRecord] = Field(default_factory=list)
    hasMoreData: bool = False

    @field_validator("usageHistory", mode="before")
    @classmethod
    def _null_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value


__all__ = [
    "EVENT_CLASSES",
    "ConnectionEvent",
    "ConnectionHistoryResponse",
    "HistoryRequest",
    "ProvisioningEvent",
    "ProvisioningHistoryResponse",
    "UsageHistoryRequest",
    "UsageLabel",
    "UsageRecord",
    "as_utc",
    "event_class",
    "wire_time",
]
