"""Everything ThingSpace says about one device, on one scrollable card.

Values come from the network, so every one is plain ``Content`` (never markup), and unknown
states or kinds are shown verbatim rather than refused.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

if TYPE_CHECKING:
    from m2m_tui.api.models import Device

STATE_STYLES = {
    "active": "bold $success",
    "suspend": "bold $warning",
    "suspended": "bold $warning",
    "deactive": "bold $error",
    "deactivated": "bold $error",
    "pre-active": "bold $accent",
    "preactive": "bold $accent",
}
WIDE_COLUMN = 52
KIND_ORDER = ("mdn", "imei", "iccid", "msisdn", "esn", "meid", "eid", "imsi")


def ago(moment: datetime, now: float) -> str:
    seconds = now - moment.timestamp()
    if seconds < 0:
        return "in the future"
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{int(seconds // size)}{unit} ago"
    return "just now"


def when(value: datetime | str | None, now: float | None = None) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    text = value.strftime("%Y-%m-%d %H:%M")
    if value.tzinfo is not None:
        offset = value.strftime("%z")
        text += f" {offset[:3]}:{offset[3:]}" if offset else ""
        if now is not None:
            text += f"  ({ago(value, now)})"
    return text


def device_rows(device: Device, now: float | None = None) -> list[tuple[str, Content]]:
    """(label, value) pairs in reading order; the caller lays them out."""
    rows: list[tuple[str, Content]] = []
    ids = sorted(
        device.deviceIds,
        key=lambda d: KIND_ORDER.index(d.kind) if d.kind in KIND_ORDER else len(KIND_ORDER),
    )
    for device_id in ids:
        rows.append((device_id.kind.upper(), Content.styled(device_id.id, "bold")))
    state = device.state
    rows.append(
        ("State", Content.styled(state or "unknown", STATE_STYLES.get(state or "", "bold")))
    )
    rows.append(("Plan", Content(device.service_plan or "-")))
    if device.connected is None:
        connected = Content("unknown")
    else:
        connected = Content.styled(
            "yes" if device.connected else "no",
            "$success" if device.connected else "$warning",
        )
    rows.append(("Connected", connected))
    rows.append(("Last conn.", Content(when(device.lastConnectionDate, now))))
    activation = when(device.lastActivationDate, now)
    if device.lastActivationBy:
        activation += f" by {device.lastActivationBy}"
    rows.append(("Activated", Content(activation)))
    rows.append(("IP address", Content(device.ipAddress or "-")))
    rows.append(("Account", Content(device.accountName or "-")))
    rows.append(("Groups", Content(", ".join(device.groupNames) or "-")))
    if device.customFields:
        for pair in device.customFields:
            rows.append((pair.key, Content(pair.value or "")))
    else:
        rows.append(("Custom", Content("-")))
    rows.append(("Created", Content(when(device.createdAt))))
    rows.append(("Bill cycle", Content(when(device.billingCycleEndDate))))
    for pair in device.extendedAttributes:
        label = pair.key.replace("PrimaryPlaceOfUse", "Place ")
        rows.append((label, Content(pair.value or "")))
    return rows


def card_content(
    device: Device, now: float | None = None, label_width: int = 12, width: int = 0
) -> Content:
    """The card's text; two columns side by side when ``width`` leaves room for them."""
    wide = width >= 2 * WIDE_COLUMN
    if wide:
        label_width += 2
    lines: list[Content] = []
    for label, value in device_rows(device, now):
        shown = label if len(label) <= label_width else label[: label_width - 1] + "…"
        lines.append(Content.assemble((shown.ljust(label_width), "$text-muted"), " ", value))
    if wide and len(lines) > 8:
        half = (len(lines) + 1) // 2
        column = width // 2
        left, right = lines[:half], lines[half:]
        joined = []
        for index, line in enumerate(left):
            cell = line.truncate(column - 2, ellipsis=True)
            cell = cell.pad_right(column - cell.cell_length)
            other = right[index] if index < len(right) else Content("")
            joined.append(Content.assemble(cell, other))
        lines = joined
    return Content("\n").join(lines)


def device_summary(device: Device) -> dict[str, Any]:
    """The short dict kept in the journal and copied to tickets."""
    return {
        "ids": {d.kind: d.id for d in device.deviceIds},
        "state": device.state,
        "plan": device.service_plan,
        "connected": device.connected,
        "lastConnection": when(device.lastConnectionDate),
        "account": device.accountName,
    }


def _yes_no(flag: bool | None) -> str:
    return "unknown" if flag is None else ("yes" if flag else "no")


def summary_text(device: Device) -> str:
    ids = ", ".join(f"{d.kind.upper()} {d.id}" for d in device.deviceIds)
    return (
        f"Device {ids}\nState: {device.state or 'unknown'}; plan {device.service_plan or '-'}; "
        f"connected {_yes_no(device.connected)}; last connection {when(device.lastConnectionDate)}; "
        f"account {device.accountName or '-'}"
    )


class DeviceCard(VerticalScroll, can_focus=True):
    """The card; ``show(device)`` fills it, ``clear()`` empties it."""

    DEFAULT_CSS = """
    DeviceCard {
        height: 1fr;
        border: round $primary 50%;
        border-title-color: $primary;
        padding: 0 1;
        &:focus { border: round $primary; }
        & > #card-body { width: 1fr; }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.device: Device | None = None
        self._now: float | None = None

    def compose(self) -> ComposeResult:
        yield Static(Content.styled("No device yet.", "$text-muted"), id="card-body")

    def show(self, device: Device, now: float | None = None) -> None:
        self.device = device
        label = device.identifier("mdn") or device.identifier("imei") or "device"
        self.border_title = Content(f"Device {label}")
        self._now = now
        self._render_card()
        self.scroll_home(animate=False)

    def _render_card(self) -> None:
        if self.device is not None:
            width = self.scrollable_content_region.width
            body = card_content(self.device, self._now, width=width)
            self.query_one("#card-body", Static).update(body)

    def on_resize(self) -> None:
        self._render_card()

    def show_text(self, text: Content) -> None:
        self.device = None
        self.border_title = None
        self.clear_outcome()
        self.query_one("#card-body", Static).update(text)

    def show_outcome(self, panels: list[Widget]) -> None:
        """Panels about the last request on this device, above its fields (what was asked)."""
        self.clear_outcome()
        for panel in panels:
            panel.add_class("device-outcome")
        if panels:
            self.mount_all(panels, before="#card-body")
            self.scroll_home(animate=False)

    def clear_outcome(self) -> None:
        self.query(".device-outcome").remove()
