"""The device card's own sections: diagnosis, plan, connection timeline, provisioning history.

Each is a Static that shows "loading", its error, or its content, independently of the
others (a failed history never hides the card). Every value comes from the network, so all
text is plain ``Content`` (markup off). The text itself comes from :mod:`m2m_tui.desk`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from textual.content import Content
from textual.widgets import Static

from m2m_tui.desk.device_timeline import daily_bytes, recent_sessions, sparkline
from m2m_tui.desk.picture_text import plan_text, provisioning_rows

if TYPE_CHECKING:
    from m2m_tui.api.models.history import ConnectionEvent, ProvisioningEvent
    from m2m_tui.desk.device_picture import DevicePicture, Section
    from m2m_tui.desk.diagnosis import Diagnosis

CARD_SESSIONS = 8
CARD_EVENTS = 10


def _heading(text: str) -> Content:
    return Content.styled(text, "bold $primary")


def _muted(text: str) -> Content:
    return Content.styled(text, "$text-muted")


def _failed(what: str, section: Section[Any]) -> Content:
    return Content.styled(f"{what}: could not be read - {section.error_text}", "$error")


class CardSection(Static):
    """One independently loading part of the card."""

    DEFAULT_CSS = """
    CardSection { width: 1fr; height: auto; margin: 1 0 0 0; }
    CardSection#diagnosis { margin: 0 0 1 0; }
    """

    def loading_text(self, what: str) -> None:
        self.update(_muted(f"{what}: loading…"))
        self.display = True


def diagnosis_content(diagnosis: Diagnosis) -> Content:
    """The verdict, its evidence, secondary findings and notes, and the one next step."""
    style = "bold $warning" if diagnosis.headline is not None else "bold $text-muted"
    rule = f" ({diagnosis.rule})" if diagnosis.rule else ""
    lines = [
        Content.assemble(("Diagnosis", "bold"), (f"{rule}: ", "bold"), (diagnosis.line, style))
    ]
    if diagnosis.headline is not None:
        lines += [Content.assemble("  - ", e) for e in diagnosis.headline.evidence]
    if diagnosis.ticket:
        lines.append(
            Content.assemble(("  the ticket says ", "$text-muted"), "; ".join(diagnosis.ticket))
        )
    for finding in diagnosis.secondary:
        lines.append(
            Content.assemble(("  also ", "$text-muted"), f"({finding.rule}) ", finding.text)
        )
    for note in diagnosis.notes:
        lines.append(Content.assemble(("  note ", "$text-muted"), f"({note.rule}) ", note.text))
    if diagnosis.next_step:
        lines.append(Content.assemble(("Next step: ", "bold $accent"), diagnosis.next_step))
    return Content("\n").join(lines)


def timeline_content(section: Section[list[ConnectionEvent]], now: datetime) -> Content:
    """Daily bytes over 30 days as one bar line, then the newest sessions."""
    if section.value is None:
        return _failed("Connections", section)
    events = section.value
    bar = sparkline(daily_bytes(events, now))
    lines = [
        Content.assemble(
            ("Connections, 30 days ", "bold $primary"),
            ("│", "$text-muted"),
            (bar, "$success"),
            ("│ today", "$text-muted"),
        )
    ]
    rows = recent_sessions(events, CARD_SESSIONS)
    if not rows:
        lines.append(_muted("  no data session in the window"))
    else:
        lines.append(_muted(f"  {'start (UTC)':<17} {'length':>8} {'bytes':>10}"))
        for row in rows:
            start, length, size = row.cells()
            lines.append(Content(f"  {start:<17} {length:>8} {size:>10}"))
    if section.error is not None:
        lines.append(_failed("  (partial)", section))
    return Content("\n").join(lines)


def provisioning_content(section: Section[list[ProvisioningEvent]]) -> Content:
    """Who did what to the line, when, through what; newest first."""
    if section.value is None:
        return _failed("Provisioning history", section)
    lines = [_heading("Provisioning history, 365 days")]
    rows = provisioning_rows(section.value, CARD_EVENTS)
    if not rows:
        lines.append(_muted("  no provisioning event in the window"))
    for row in rows:
        via = f" via {row.through}" if row.through != "-" else ""
        lines.append(
            Content.assemble(
                f"  {row.when} ",
                (row.what, "bold"),
                f" by {row.by}{via} ",
                (row.status, "$success" if row.status.lower() == "success" else "$error"),
            )
        )
    if section.error is not None:
        lines.append(_failed("  (partial)", section))
    return Content("\n").join(lines)


def plan_content(picture: DevicePicture) -> Content:
    if picture.plans.error is not None:
        return _failed("Plan", picture.plans)
    return Content.assemble(("Plan ", "bold $primary"), plan_text(picture))
