"""What the customer's ticket says about a device, as the engineer states it, kept per device.

Two rules of ``thingspace-diagnostics.md`` §12 need a fact only the ticket has: R6 (the SIM
is in another device) compares the IMEI on the ticket with the line's, and R11 (the network
still carries the data) and R8 look at sessions after the customer's last received report.
The engineer types them on the device screen (``t``); they are checked here, kept for the
session by device (found again by any of its identifiers), given to the diagnosis, and
named with it on the card, in the Markdown ticket and in the journal.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from m2m_tui.api.identifiers import normalise_identifier
from m2m_tui.desk.times import UTC_TIMES, Times

IMEI_DIGITS = 15
_RELATIVE = re.compile(
    r"(?P<n>\d+)\s*(?P<unit>d|days?|h|hours?|m|min|mins|minutes?)\s+ago", re.IGNORECASE
)
_UNITS = {"d": timedelta(days=1), "h": timedelta(hours=1), "m": timedelta(minutes=1)}
_ZONE_SUFFIX = re.compile(r"^(?P<time>.*?)\s*(?P<zone>[A-Za-z]{1,5})$")


def luhn_ok(digits: str) -> bool:
    """The Luhn check every 15-digit IMEI ends with (its last digit)."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def check_imei(text: str) -> tuple[str | None, str | None]:
    """(the IMEI, None), or (None, why not). Empty text is (None, None): no IMEI stated.

    Spaces, dashes and dots people paste are dropped. An IMEI is 15 digits whose last is a
    Luhn check digit; a 16-digit IMEISV or a 14-digit IMEI without its check digit is refused
    with what to type, since comparing it with the line's 15 digits would always differ (and
    wrongly say the SIM moved).
    """
    value = normalise_identifier(text.strip())
    if not value:
        return None, None
    if not value.isdigit():
        return None, "an IMEI is digits only"
    if len(value) == IMEI_DIGITS - 1:
        return None, "14 digits: add the check digit (the 15th, printed on the label)"
    if len(value) == IMEI_DIGITS + 1:
        return None, "16 digits is an IMEISV: type the 15-digit IMEI from the label"
    if len(value) != IMEI_DIGITS:
        return None, f"an IMEI is 15 digits, this is {len(value)}"
    if not luhn_ok(value):
        return None, "the last digit is not this IMEI's check digit: a typo?"
    return value, None


def check_last_report(
    text: str, now: datetime, times: Times = UTC_TIMES
) -> tuple[datetime | None, str | None]:
    """(the moment, None), or (None, why not). Empty text is (None, None): not stated.

    Written in the app's time convention (``desk.times``): ``2026-12-01 10:02`` is in the
    zone the screens show (UTC or local); a ``UTC``/``Z`` suffix or a ``+02:00`` offset says
    otherwise, and ``3 days ago`` / ``5 h ago`` counts back from ``now``. A moment in the
    future is refused.
    """
    raw = " ".join(text.split())
    if not raw:
        return None, None
    relative = _RELATIVE.fullmatch(raw)
    if relative is not None:
        unit = _UNITS[relative["unit"][0].lower()]
        return now - int(relative["n"]) * unit, None
    moment = _absolute(raw, now, times)
    if isinstance(moment, str):
        return None, moment
    if moment > now + timedelta(minutes=1):
        return None, "that is in the future"
    return moment, None


def _absolute(raw: str, now: datetime, times: Times) -> datetime | str:
    zone: str | None = None
    body = raw
    suffix = _ZONE_SUFFIX.match(raw)
    if suffix is not None and not suffix["time"].endswith(("-", ":")) and suffix["time"]:
        body, zone = suffix["time"], suffix["zone"]
    try:
        parsed = datetime.fromisoformat(body.replace(" ", "T", 1))
    except ValueError:
        return f"not a time: write it as {times.minute(now)} or as '3 days ago'"
    if zone is not None and zone.upper() in ("UTC", "Z", "GMT"):
        if parsed.tzinfo is not None:
            return "two zones given: keep one"
        return parsed.replace(tzinfo=UTC)
    if parsed.tzinfo is not None:
        return parsed.astimezone(UTC) if zone is None else "two zones given: keep one"
    # In the zone the screens show: UTC, or the machine's local zone (its label at that date).
    moment = parsed.replace(tzinfo=UTC) if times.zone == "utc" else parsed.astimezone()
    label = times.label(moment)
    if zone is not None and zone.upper() != label.upper():
        return f"zone {zone} is not the app's ({label}): write UTC or an offset"
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class TicketFacts:
    """What the ticket says: the IMEI on it and when the device last reported (None: not said)."""

    imei: str | None = None
    last_report: datetime | None = None

    @property
    def empty(self) -> bool:
        return self.imei is None and self.last_report is None

    def diagnosis_args(self) -> dict[str, Any]:
        """The keyword arguments :meth:`DevicePicture.diagnosis` takes for them."""
        return {"ticket_imei": self.imei, "ticket_last_report": self.last_report}


class TicketBook:
    """Ticket facts of the devices of this session, found again by any of their identifiers
    (``kind:id`` keys, as :class:`~m2m_tui.desk.picture_shelf.PictureShelf` keeps them)."""

    def __init__(self) -> None:
        self._items: dict[frozenset[str], TicketFacts] = {}

    def state(self, identity: Iterable[str], facts: TicketFacts) -> None:
        """The engineer stated ``facts`` for the device with these keys (empty: forget them)."""
        keys = frozenset(identity)
        for known in [k for k in self._items if not k.isdisjoint(keys)]:
            keys |= known
            del self._items[known]
        if not facts.empty:
            self._items[keys] = facts

    def find(self, identity: Iterable[str]) -> TicketFacts:
        wanted = frozenset(identity)
        for keys, facts in self._items.items():
            if not keys.isdisjoint(wanted):
                return facts
        return TicketFacts()


__all__ = ["TicketBook", "TicketFacts", "check_imei", "check_last_report", "luhn_ok"]
