"""One device's suspension status, and one device's failure, as small bordered panels.

Every value comes from a callback (outside text): it is put into ``Content`` as plain text,
never parsed as markup.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

from m2m_tui.desk.times import UTC_TIMES, Times, thingspace_time

if TYPE_CHECKING:
    from m2m_tui.ui.widgets.timeline import DeviceOutcome

GAUGE_WIDTH = 24


def _shown(value: Any, times: Times = UTC_TIMES) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, datetime):
        return times.minute(thingspace_time(value))
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def gauge_parts(used: int | None, allowed_left: int | None, maximum: int | None) -> tuple[int, int]:
    """(days used, days in the window) for the gauge, or (0, 0) when it cannot be drawn.

    The window is ``numDaysSuspendedLast12Months + numDaysSuspendAllowedCurrent12Months``:
    the days used plus the days this rolling 12-month window still allows, i.e. this line's
    real allowance now. ``maxSuspendDaysAllowed`` is the contract's figure and is what the
    sum should equal; we fall back to it only when the "still allowed" field is missing, and
    the panel prints it beside the gauge so a disagreement between the two is visible.
    """
    if used is None:
        return 0, 0
    if allowed_left is not None:
        return used, used + allowed_left
    if maximum:
        return used, maximum
    return 0, 0


def gauge(used: int, total: int, width: int = GAUGE_WIDTH) -> Content:
    if total <= 0:
        return Content.styled("░" * width, "$text-muted")
    share = min(1.0, used / total)
    filled = round(share * width)
    style = "$success" if share < 0.5 else ("$warning" if share < 0.85 else "$error")
    return Content.assemble(("█" * filled, style), ("░" * (width - filled), "$text-muted"))


class SuspensionPanel(Static):
    """State, dates, days left before auto-resume, and days suspended against days allowed."""

    DEFAULT_CSS = """
    SuspensionPanel {
        height: auto;
        border: round $primary 60%;
        border-title-color: $primary;
        padding: 0 1;
    }
    """

    def __init__(self, device: str, item: dict[str, Any], times: Times = UTC_TIMES) -> None:
        from m2m_tui.api.models.callbacks import SuspensionStatus

        self.device = device
        self.times = times
        self.status = SuspensionStatus.model_validate(item)
        super().__init__(self._content())
        self.border_title = f"Suspension · {device}"

    def _content(self) -> Content:
        s = self.status
        used, total = gauge_parts(
            s.numDaysSuspendedLast12Months,
            s.numDaysSuspendAllowedCurrent12Months,
            s.maxSuspendDaysAllowed,
        )
        days_left = s.daysRemainingAutoResume
        resume = _shown(s.expectedResumeDate, self.times)
        if days_left is not None and s.expectedResumeDate:
            # An active line has no resume date: "- (0 days left)" would read as a countdown.
            resume += f" ({days_left} days left)"
        if total:
            figures = f" {used} of {total} days"
            if s.maxSuspendDaysAllowed is not None and s.maxSuspendDaysAllowed != total:
                figures += f" (max {s.maxSuspendDaysAllowed})"
        else:
            figures = " days allowed unknown"
        times = _shown(s.timesSuspendedLast12Months)
        lines = [
            Content.assemble(
                ("State ", "$text-muted"),
                (_shown(s.state), "bold"),
                ("   times suspended (12 mo) ", "$text-muted"),
                times,
            ),
            Content.assemble(("Suspended ", "$text-muted"), _shown(s.suspendDate, self.times)),
            Content.assemble(("Resumes   ", "$text-muted"), resume),
            Content.assemble(("12 months ", "$text-muted"), gauge(used, total), figures),
        ]
        return Content("\n").join(lines)


class FailurePanel(Static):
    """A device's fault: the code's meaningful part, ThingSpace's text, and what to do next."""

    DEFAULT_CSS = """
    FailurePanel {
        height: auto;
        border: round $error 70%;
        border-title-color: $error;
        padding: 0 1;
    }
    """

    def __init__(self, device: str, code: str | None, text: str | None) -> None:
        from m2m_tui.api.errors import hint_for_code

        self.device = device
        self.code = code
        suffix = code.split(".", 2)[-1] if code and code.count(".") >= 2 else (code or "-")
        hint = hint_for_code(code) or "check the device's state and the request, then retry once"
        lines = [
            Content.assemble(("Fault ", "$text-muted"), (suffix, "bold")),
            Content.assemble(("Said  ", "$text-muted"), text or "-"),
            Content.assemble(("Next  ", "$text-muted"), (hint, "$accent")),
        ]
        super().__init__(Content("\n").join(lines))
        self.border_title = f"Failed · {device}"


def outcome_panels(found: Iterable[DeviceOutcome], times: Times = UTC_TIMES) -> list[Widget]:
    """A failure panel, or a suspension panel per status item, for each device's outcome."""
    panels: list[Widget] = []
    for outcome in found:
        if not outcome.ok:
            code, text = outcome.fault
            panels.append(FailurePanel(outcome.device, code, text))
            continue
        for item in outcome.suspension_items():
            try:
                panels.append(SuspensionPanel(outcome.device, item, times))
            except ValueError:  # a malformed entry: its raw JSON is in the request's timeline
                continue
    return panels
