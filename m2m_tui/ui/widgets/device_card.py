"""Everything ThingSpace says about one device, on one scrollable card.

Values come from the network, so every one is plain ``Content`` (never markup), and unknown
states or kinds are shown verbatim rather than refused.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

from m2m_tui.desk.times import UTC_TIMES, Times
from m2m_tui.ui.widgets.picture_sections import (
    CardSection,
    diagnosis_content,
    plan_content,
    provisioning_content,
    timeline_content,
)

if TYPE_CHECKING:
    from m2m_tui.api.models import Device
    from m2m_tui.desk.device_picture import DevicePicture, Section
    from m2m_tui.desk.diagnosis import Diagnosis

PICTURE_SECTIONS = ("diagnosis", "plan", "timeline", "provisioning")

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


def when(value: datetime | str | None, now: float | None = None, times: Times = UTC_TIMES) -> str:
    """A device date in the app's one convention (labelled), and how long ago when ``now``."""
    if value is None or isinstance(value, str):
        return times.minute(value)
    text = times.minute(value)
    if now is not None:
        text += f"  ({ago(value if value.tzinfo else value.replace(tzinfo=UTC), now)})"
    return text


def device_rows(
    device: Device, now: float | None = None, times: Times = UTC_TIMES
) -> list[tuple[str, Content]]:
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
    rows.append(("Last conn.", Content(when(device.lastConnectionDate, now, times))))
    activation = when(device.lastActivationDate, now, times)
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
    rows.append(("Created", Content(when(device.createdAt, times=times))))
    rows.append(("Bill cycle", Content(when(device.billingCycleEndDate, times=times))))
    for pair in device.extendedAttributes:
        label = pair.key.replace("PrimaryPlaceOfUse", "Place ")
        rows.append((label, Content(pair.value or "")))
    return rows


def card_content(
    device: Device,
    now: float | None = None,
    label_width: int = 12,
    width: int = 0,
    times: Times = UTC_TIMES,
) -> Content:
    """The card's text; two columns side by side when ``width`` leaves room for them."""
    wide = width >= 2 * WIDE_COLUMN
    if wide:
        label_width += 2
    lines: list[Content] = []
    for label, value in device_rows(device, now, times):
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


def summary_text(device: Device, times: Times = UTC_TIMES) -> str:
    ids = ", ".join(f"{d.kind.upper()} {d.id}" for d in device.deviceIds)
    last = when(device.lastConnectionDate, times=times)
    return (
        f"Device {ids}\nState: {device.state or 'unknown'}; plan {device.service_plan or '-'}; "
        f"connected {_yes_no(device.connected)}; last connection {last}; "
        f"account {device.accountName or '-'}"
    )


class DeviceCard(VerticalScroll, can_focus=True):
    """The card; ``show(device)`` fills it, ``clear()`` empties it."""

    DEFAULT_CSS = """
    DeviceCard {
        height: 1fr;
        border: round $m2m-border-idle;
        border-title-color: $primary;
        padding: 0 1;
        &:focus { border: round $primary; }
        & > #card-body { width: 1fr; }
    }
    """

    def __init__(self, *, id: str | None = None, times: Times = UTC_TIMES) -> None:
        super().__init__(id=id)
        self.times = times
        """The app's time convention, given by the screen (UTC in a widget test)."""
        self.device: Device | None = None
        self._now: float | None = None
        self.picture: DevicePicture | None = None
        self.diagnosis: Diagnosis | None = None

    def compose(self) -> ComposeResult:
        yield CardSection(id="diagnosis")
        yield Static(Content.styled("No device yet.", "$text-muted"), id="card-body")
        for name in PICTURE_SECTIONS[1:]:
            yield CardSection(id=name)

    def on_mount(self) -> None:
        self._hide_sections()

    def _hide_sections(self) -> None:
        for name in PICTURE_SECTIONS:
            self.query_one(f"#{name}", CardSection).display = False

    def _section(self, name: str) -> CardSection:
        return self.query_one(f"#{name}", CardSection)

    # ------------------------------------------------------------------ the picture

    def begin_picture(self, picture: DevicePicture, *, keep_device: bool = False) -> None:
        """A new picture is on its way: every section says it is loading, on its own."""
        self.picture, self.diagnosis = picture, None
        self._section("diagnosis").loading_text("Diagnosis")
        self._section("plan").loading_text("Plan")
        self._section("timeline").loading_text("Connections")
        self._section("provisioning").loading_text("Provisioning history")
        if not keep_device:
            self.device = None
            label = f"{picture.identifier.kind.value.upper()} {picture.identifier.id}"
            self.border_title = Content(f"Device {label}")
            self.query_one("#card-body", Static).update(
                Content.styled("Card: loading…", "$text-muted")
            )
        self.scroll_home(animate=False)

    def drop_picture(self) -> None:
        """Card fields only (no account to ask the histories with)."""
        self.picture = self.diagnosis = None
        self._hide_sections()

    def section_landed(self, picture: DevicePicture, section: Section[Any]) -> None:
        """Paint the section that just arrived (and the plan once device and plans are in)."""
        if picture is not self.picture:
            return  # an older lookup's late answer
        if section.name == "device" and section.value is None:
            self.query_one("#card-body", Static).update(
                Content.styled(f"Card: could not be read - {section.error_text}", "$error")
            )
        elif section.name == "connections":
            self._section("timeline").update(timeline_content(section, picture.now))
        elif section.name == "provisioning":
            self._section("provisioning").update(provisioning_content(section))
        if section.name in ("device", "plans") and picture.device.done and picture.plans.done:
            if picture.device.value is not None or picture.plans.error is not None:
                self._section("plan").update(plan_content(picture))
            else:
                self._section("plan").display = False

    def show_diagnosis(self, picture: DevicePicture, diagnosis: Diagnosis) -> None:
        if picture is not self.picture:
            return
        self.diagnosis = diagnosis
        self._section("diagnosis").update(diagnosis_content(diagnosis))

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
            body = card_content(self.device, self._now, width=width, times=self.times)
            self.query_one("#card-body", Static).update(body)

    def on_resize(self) -> None:
        self._render_card()

    def show_text(self, text: Content) -> None:
        self.device = None
        self.picture = self.diagnosis = None
        self._hide_sections()
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
