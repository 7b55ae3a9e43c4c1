"""The device card's facts, fetched in parallel: device, connections, provisioning, usage, plans.

Each section has its own result or error, and one failing never blocks or fails the others.
When the identifier's kind is certain, the history calls need nothing but that identifier, so
they start together with the lookup and the whole picture costs one round trip (plus 202
pages); when it is not, they wait for the lookup and use an identifier the device reports.
``on_section`` is called as each section lands, so a screen can paint it at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from m2m_tui.api.errors import ApiError, ThingSpaceError
from m2m_tui.api.history import DiagnosticsReads, IncompleteHistory
from m2m_tui.api.identifiers import DeviceKind
from m2m_tui.api.models.accounts import ServicePlan, ServicePlanList
from m2m_tui.api.models.callbacks import SuspensionStatus
from m2m_tui.api.models.devices import Device, DeviceId
from m2m_tui.api.models.history import ConnectionEvent, ProvisioningEvent, UsageRecord
from m2m_tui.desk.diagnosis import Diagnosis, diagnose
from m2m_tui.desk.diagnosis_facts import Facts

T = TypeVar("T")

CONNECTION_DAYS = 30
PROVISIONING_DAYS = 365
USAGE_DAYS = 30
SECTIONS = ("device", "connections", "provisioning", "usage", "plans")


@dataclass
class Section(Generic[T]):
    """One part of the card: its value, or the error that stopped it (partial values kept)."""

    name: str
    value: T | None = None
    error: Exception | None = None
    done: bool = False

    @property
    def ok(self) -> bool:
        return self.done and self.error is None

    @property
    def error_text(self) -> str | None:
        if self.error is None:
            return None
        return str(self.error) if isinstance(self.error, ThingSpaceError) else repr(self.error)


SectionHandler = Callable[[Section[Any]], None]


@dataclass
class DevicePicture:
    """What the card shows about one device, section by section."""

    account: str
    identifier: DeviceId
    now: datetime
    connections_since: datetime
    device: Section[Device] = field(default_factory=lambda: Section("device"))
    connections: Section[list[ConnectionEvent]] = field(
        default_factory=lambda: Section("connections")
    )
    provisioning: Section[list[ProvisioningEvent]] = field(
        default_factory=lambda: Section("provisioning")
    )
    usage: Section[list[UsageRecord]] = field(default_factory=lambda: Section("usage"))
    plans: Section[ServicePlanList] = field(default_factory=lambda: Section("plans"))

    @property
    def plan(self) -> ServicePlan | None:
        """The device's plan resolved in the account's plan list (None: unknown or not loaded)."""
        if self.device.value is None or self.plans.value is None:
            return None
        return self.plans.value.find(self.device.value.service_plan)

    def facts(
        self,
        *,
        ticket_imei: str | None = None,
        ticket_last_report: datetime | None = None,
        suspension: SuspensionStatus | None = None,
        reporting_interval: timedelta | None = None,
    ) -> Facts:
        """The rules' input; a failed section becomes None (or "incomplete" for connections)."""
        error = self.device.error
        facts = Facts(
            now=self.now,
            device=self.device.value,
            device_error_code=error.code if isinstance(error, ApiError) else None,
            device_error=self.device.error_text,
            connections=self.connections.value,
            connections_complete=self.connections.ok,
            connections_since=self.connections_since,
            provisioning=self.provisioning.value if self.provisioning.ok else None,
            usage=self.usage.value if self.usage.ok else None,
            plans=self.plans.value,
            suspension=suspension,
            ticket_imei=ticket_imei,
            ticket_last_report=ticket_last_report,
        )
        if reporting_interval is not None:
            facts.reporting_interval = reporting_interval
        return facts

    def diagnosis(self, **ticket: Any) -> Diagnosis:
        return diagnose(self.facts(**ticket))


async def _fill(section: Section[T], work: Awaitable[T], on_section: SectionHandler | None) -> None:
    """Run one section's call; its failure is recorded on the section, never raised."""
    try:
        section.value = await work
    except IncompleteHistory as exc:
        section.value = exc.records  # type: ignore[assignment]
        section.error = exc
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # one section's failure must not stop the others
        section.error = exc
    section.done = True
    if on_section is not None:
        on_section(section)


def history_identifier(device: Device, typed: DeviceId) -> DeviceId:
    """The identifier to ask the histories with: the typed one if the device reports it under
    that kind, else its MDN, ICCID or IMEI (the kinds every history call accepts)."""
    if device.identifier(typed.kind) == typed.id:
        return typed
    for kind in (DeviceKind.MDN, DeviceKind.ICCID, DeviceKind.IMEI):
        value = device.identifier(kind)
        if value:
            try:
                return DeviceId(id=value, kind=kind)
            except ValueError:
                continue
    return typed


async def fetch_picture(
    reads: DiagnosticsReads,
    account: str,
    identifier: DeviceId,
    *,
    kind_certain: bool = True,
    now: datetime | None = None,
    on_section: SectionHandler | None = None,
) -> DevicePicture:
    """Fetch every section of the card in parallel; see the module docstring."""
    moment = now or datetime.now(UTC)
    picture = DevicePicture(
        account=account,
        identifier=identifier,
        now=moment,
        connections_since=moment - timedelta(days=CONNECTION_DAYS),
    )
    client = reads.client

    def histories(target: DeviceId) -> list[Awaitable[None]]:
        return [
            _fill(
                picture.connections,
                reads.connection_history(target, picture.connections_since, moment),
                on_section,
            ),
            _fill(
                picture.provisioning,
                reads.provisioning_history(
                    target, moment - timedelta(days=PROVISIONING_DAYS), moment
                ),
                on_section,
            ),
            _fill(
                picture.usage,
                reads.usage_history(target, moment - timedelta(days=USAGE_DAYS), moment),
                on_section,
            ),
        ]

    lookup = _fill(picture.device, client.get_device(account, identifier), on_section)
    plans = _fill(picture.plans, reads.service_plans(account), on_section)
    if kind_certain:
        await asyncio.gather(lookup, plans, *histories(identifier))
        return picture

    async def lookup_then_histories() -> None:
        await lookup
        if picture.device.value is None:
            for section in (picture.connections, picture.provisioning, picture.usage):
                section.error = picture.device.error
                section.done = True
                if on_section is not None:
                    on_section(section)
            return
        await asyncio.gather(*histories(history_identifier(picture.device.value, identifier)))

    await asyncio.gather(plans, lookup_then_histories())
    return picture


__all__ = [
    "SECTIONS",
    "DevicePicture",
    "Section",
    "fetch_picture",
    "history_identifier",
]
