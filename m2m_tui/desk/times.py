"""One time convention for every screen and every text copied from one: always labelled.

Support engineers compare our times with ThingSpace's portal, a customer's ticket and the
journal; an unlabelled ``10:02:03`` (or a card at ``-05:00`` beside requests in ``Z``) makes
them guess. Every time shown goes through :class:`Times`, in UTC or in the machine's local
zone (``time_zone = "utc" | "local"`` in config.toml), with the zone written after it:
``2026-12-01 10:02:03 UTC`` or ``05:02:03 EST``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import cache
from typing import Literal

TimeZoneSetting = Literal["utc", "local"]
ZONES: tuple[TimeZoneSetting, ...] = ("utc", "local")
DEFAULT_ZONE: TimeZoneSetting = "utc"

Moment = float | int | datetime


def zone_setting(value: object) -> TimeZoneSetting:
    """The setting from config text (case and spaces forgiven); anything else is an error."""
    text = str(value).strip().lower()
    if text not in ZONES:
        raise ValueError(f'time_zone must be "utc" or "local", not {value!r}')
    return text


def _offset_label(offset: timedelta | None) -> str:
    minutes = int((offset or timedelta()).total_seconds() // 60)
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"


@cache
def thingspace_zone() -> tzinfo:
    """US Eastern, loaded when first needed: reading the tz database is not for the first frame."""
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("America/New_York")
    except Exception:  # no tz database (some Windows installs): EST is closer than UTC
        return timezone(timedelta(hours=-5))


def thingspace_time(value: datetime) -> datetime:
    """An offset-less ThingSpace time (``2026-12-01 11:36:11`` in a suspension-status
    callback) made aware: ThingSpace writes those in US Eastern, so reading them as UTC
    would put the moment hours off while still labelled UTC. Aware times pass unchanged."""
    return value if value.tzinfo is not None else value.replace(tzinfo=thingspace_zone())


@dataclass(frozen=True, slots=True)
class Times:
    """How times are written: the zone chosen, and the formats every screen shares."""

    zone: TimeZoneSetting = DEFAULT_ZONE

    def moment(self, value: Moment) -> datetime:
        """``value`` (epoch seconds, or a datetime; naive means UTC) in the chosen zone."""
        if isinstance(value, datetime):
            aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        else:
            aware = datetime.fromtimestamp(float(value), UTC)
        return aware.astimezone(UTC) if self.zone == "utc" else aware.astimezone()

    def label(self, moment: datetime) -> str:
        """``UTC``, the local abbreviation (``EST``), or ``UTC+05:30`` when there is none."""
        if self.zone == "utc":
            return "UTC"
        name = moment.tzname() or ""
        if not name or name[0] in "+-" or name[0].isdigit():
            return _offset_label(moment.utcoffset())
        return name

    def _format(self, value: Moment | str | None, pattern: str) -> str:
        if value is None:
            return "-"
        if isinstance(value, str):
            return value  # ThingSpace sent something that is not a date: shown as it came
        moment = self.moment(value)
        return f"{moment.strftime(pattern)} {self.label(moment)}"

    def stamp(self, value: Moment | str | None) -> str:
        """``2026-12-01 10:02:03 UTC``: a full moment, for summaries, titles and copied text."""
        return self._format(value, "%Y-%m-%d %H:%M:%S")

    def minute(self, value: Moment | str | None) -> str:
        """``2026-12-01 10:02 UTC``: device dates, where seconds say nothing."""
        return self._format(value, "%Y-%m-%d %H:%M")

    def clock(self, value: Moment | str | None) -> str:
        """``10:02:03 UTC``: a time of today, for table cells."""
        return self._format(value, "%H:%M:%S")

    @property
    def name(self) -> str:
        """What the status line and help say: ``UTC`` or ``local (EST)``."""
        if self.zone == "utc":
            return "UTC"
        return f"local ({self.label(datetime.now(UTC).astimezone())})"


UTC_TIMES = Times("utc")
