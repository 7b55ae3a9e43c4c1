"""``t`` on the device screen: what the customer's ticket says, for the diagnosis.

Two facts only the ticket has: the IMEI written on it (R6: the SIM is now in another
device) and when the device last reported to the customer (R8, R11). Each field is checked
as it is typed (:mod:`m2m_tui.desk.ticket`); Enter keeps them for this device for the
session and the diagnosis is recomputed at once; an empty field forgets that fact.
"""

from __future__ import annotations

from datetime import datetime

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Input, Static

from m2m_tui.desk.ticket import TicketFacts, check_imei, check_last_report
from m2m_tui.desk.times import UTC_TIMES, Times
from m2m_tui.ui.screens.base import AppModal
from m2m_tui.ui.screens.dialogs import DIALOG_CSS


class TicketDialog(AppModal):
    """The IMEI on the ticket and the device's last report; dismisses with the facts or None."""

    DEFAULT_CSS = (
        DIALOG_CSS
        + """
    TicketDialog .dialog .row > .label { width: 22; }
    TicketDialog .dialog .hint { color: $text-muted; height: auto; }
    """
    )
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self, device: str, facts: TicketFacts, now: datetime, times: Times = UTC_TIMES
    ) -> None:
        super().__init__()
        self.device = device
        self.facts = facts
        self.now = now
        self.times = times

    def compose(self) -> ComposeResult:
        report = self.times.minute(self.facts.last_report) if self.facts.last_report else ""
        with Vertical(classes="dialog"):
            yield Static(Content(f"What the ticket says about {self.device}"), classes="title")
            with Horizontal(classes="row"):
                yield Static("IMEI on the ticket", classes="label")
                yield Input(
                    self.facts.imei or "",
                    id="ticket-imei",
                    compact=True,
                    placeholder="15 digits, as on the device's label",
                )
            with Horizontal(classes="row"):
                yield Static("Last report received", classes="label")
                yield Input(
                    report,
                    id="ticket-report",
                    compact=True,
                    placeholder=f"{self.times.minute(self.now)} or 3 days ago",
                )
            yield Static("", id="problem", classes="error")
            yield Static(
                Content(
                    f"Times are {self.times.name} unless written with UTC or an offset. "
                    "An empty field says nothing. Enter keeps both for this device and "
                    "diagnoses again; Esc cancels."
                ),
                classes="hint",
            )

    def on_mount(self) -> None:
        self.query_one("#ticket-imei", Input).focus()

    def _problems(self) -> list[tuple[str, str]]:
        """(field id, problem) for each field whose text is refused."""
        found = []
        _imei, problem = check_imei(self.query_one("#ticket-imei", Input).value)
        if problem:
            found.append(("ticket-imei", f"IMEI: {problem}"))
        text = self.query_one("#ticket-report", Input).value
        _report, problem = check_last_report(text, self.now, self.times)
        if problem:
            found.append(("ticket-report", f"Last report: {problem}"))
        return found

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        """Checked as typed: the message says what is wrong before Enter is pressed."""
        problems = self._problems()
        for field in self.query(Input):
            field.set_class(any(name == field.id for name, _ in problems), "-invalid")
        self.query_one("#problem", Static).update(
            Content("\n".join(text for _name, text in problems))
        )

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        problems = self._problems()
        if problems:
            self.query_one(f"#{problems[0][0]}", Input).focus()
            self.app.bell()
            return
        imei, _ = check_imei(self.query_one("#ticket-imei", Input).value)
        text = self.query_one("#ticket-report", Input).value
        report, _ = check_last_report(text, self.now, self.times)
        self.dismiss(TicketFacts(imei=imei, last_report=report))

    def action_cancel(self) -> None:
        self.dismiss(None)
