"""The device picture as text a front end prints or copies: history rows, ticket Markdown, JSON.

Kept headless so the card, the ticket summary (``m``) and the raw-JSON view say the same thing
and are unit-testable without a terminal. Values are plain strings (never markup): they come
from the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from m2m_tui.api.models.callbacks import SuspensionStatus
from m2m_tui.api.models.history import ProvisioningEvent
from m2m_tui.desk.device_picture import DevicePicture, Section
from m2m_tui.desk.device_timeline import daily_bytes, recent_sessions, sparkline
from m2m_tui.desk.diagnosis import Diagnosis

#: Extended-attribute keys that say through what a provisioning event was made.
CHANNEL_KEYS = ("channel", "source", "via", "interface", "application")


@dataclass(frozen=True)
class ProvisioningRow:
    """One line of the provisioning history: when, what, by whom, through what, outcome."""

    when: str
    what: str
    by: str
    through: str
    status: str
    plan: str

    def cells(self) -> tuple[str, str, str, str, str]:
        return self.when, self.what, self.by, self.through, self.status


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if moment else "?"


def through_of(event: ProvisioningEvent) -> str:
    """The channel an event came through, when ThingSpace says so (an extended attribute), else
    what its ``eventBy`` shows plainly (an API client, the portal), else "-"."""
    for pair in event.extendedAttributes or []:
        if any(key in pair.key.lower() for key in CHANNEL_KEYS) and pair.value:
            return pair.value
    by = (event.eventBy or "").lower()
    if "api" in by.split() or by.endswith(" api"):
        return "API"
    if "portal" in by:
        return "portal"
    return "-"


def provisioning_rows(events: list[ProvisioningEvent], limit: int = 50) -> list[ProvisioningRow]:
    """The newest ``limit`` events, newest first (events without a time last)."""
    dated = sorted(events, key=lambda e: e.when or datetime.min.replace(tzinfo=UTC), reverse=True)
    return [
        ProvisioningRow(
            _when(e.when),
            e.eventType or "?",
            e.eventBy or "?",
            through_of(e),
            e.status or "?",
            e.servicePlan or "-",
        )
        for e in dated[:limit]
    ]


def suspension_from(items: list[dict[str, Any]]) -> SuspensionStatus | None:
    """The first readable entry of a DeviceSuspensionStatus callback, for rule R2 (which shows
    the auto-resume date only from this answer, never from a guessed 90 days)."""
    for item in items:
        try:
            return SuspensionStatus.model_validate(item)
        except ValueError:
            continue
    return None


def plan_text(picture: DevicePicture) -> str:
    """The device's plan as the account names it (code, name, allowance)."""
    device = picture.device.value
    code = device.service_plan if device is not None else None
    plan = picture.plan
    if plan is None:
        return f"{code or '-'} (not in the account's plan list)" if code else "-"
    size = f", {plan.sizeKb} kB" if plan.sizeKb else ""
    return f"{plan.code or code} - {plan.name or '?'}{size}"


def section_state(section: Section[Any]) -> str:
    """``loading``, ``ok``, ``partial`` (an error with records kept) or ``failed``."""
    if not section.done:
        return "loading"
    if section.error is None:
        return "ok"
    return "partial" if section.value else "failed"


def picture_markdown(picture: DevicePicture, diagnosis: Diagnosis, sessions: int = 5) -> str:
    """The ticket summary of a looked-up device: who it is, the diagnosis and its evidence, the
    newest sessions and provisioning events; a failed section says so instead of guessing."""
    device = picture.device.value
    lines = [f"### Device {picture.identifier.kind.value.upper()} {picture.identifier.id}"]
    if device is not None:
        ids = ", ".join(f"{d.kind.upper()} {d.id}" for d in device.deviceIds)
        lines.append(f"- Identifiers: {ids}")
        lines.append(f"- State: {device.state or 'unknown'}; plan {plan_text(picture)}")
        lines.append(f"- Account: {device.accountName or picture.account}")
    else:
        lines.append(f"- Lookup failed: {picture.device.error_text or 'no answer'}")
    lines.append(f"- Read at {picture.now.astimezone(UTC).strftime('%Y-%m-%d %H:%M UTC')}")
    lines += ["", diagnosis.markdown(), ""]
    lines.append("**Connections (last 30 days):**")
    if picture.connections.value is not None:
        events = picture.connections.value
        lines.append(f"- daily bytes: `{sparkline(daily_bytes(events, picture.now))}`")
        for row in recent_sessions(events, sessions):
            start, length, size = row.cells()
            lines.append(f"- {start} UTC, {length}, {size}")
    if picture.connections.error is not None:
        lines.append(f"- could not be read fully: {picture.connections.error_text}")
    lines.append("")
    lines.append("**Provisioning history (last 365 days):**")
    if picture.provisioning.value is not None:
        for prov in provisioning_rows(picture.provisioning.value, sessions):
            via = f" through {prov.through}" if prov.through != "-" else ""
            lines.append(f"- {prov.when} UTC {prov.what} by {prov.by}{via}: {prov.status}")
    if picture.provisioning.error is not None:
        lines.append(f"- could not be read fully: {picture.provisioning.error_text}")
    return "\n".join(lines)


def picture_json(picture: DevicePicture) -> dict[str, Any]:
    """The sections as ThingSpace sent them (for the raw-JSON view and copy)."""

    def dump(section: Section[Any]) -> Any:
        value = section.value
        if isinstance(value, list):
            return [item.model_dump(mode="json", exclude_none=True) for item in value]
        if value is not None:
            return value.model_dump(mode="json", exclude_none=True)
        return None

    out: dict[str, Any] = {
        "identifier": {"id": picture.identifier.id, "kind": picture.identifier.kind.value},
        "account": picture.account,
        "readAt": picture.now.astimezone(UTC).isoformat(),
    }
    for section in (
        picture.device,
        picture.connections,
        picture.provisioning,
        picture.usage,
        picture.plans,
    ):
        out[section.name] = dump(section)
        if section.error is not None:
            out[f"{section.name}Error"] = section.error_text
    return out


__all__ = [
    "ProvisioningRow",
    "picture_json",
    "picture_markdown",
    "plan_text",
    "provisioning_rows",
    "section_state",
    "suspension_from",
    "through_of",
]
