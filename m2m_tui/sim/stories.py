"""The scenario kit (``thingspace-diagnostics.md`` §10): devices that tell the classic stories.

Each story device has fixed identifiers (a ticket can name them), a state, provisioning events
and data sessions placed relative to the simulator's start time, so the device list, the
three histories and suspension status all agree. They take the last DeviceIds of the inventory
(replacing generated devices, so the inventory size stays what was asked for). Every other
device gets the provisioning events its state implies (its activation, the suspension or
deactivation that put it where it is), from its own seeded generator.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from m2m_tui.api.identifiers import DeviceKind
from m2m_tui.sim.config import SimConfig
from m2m_tui.sim.inventory import EASTERN, Device, billing_cycle_end, luhn_digit
from m2m_tui.sim.timeline import DataSession, ProvisioningEvent

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
PLAN = "M2MPLAN4G"


def _imei(n: int) -> str:
    body = f"35987654322{n:03d}"
    return body + luhn_digit(body)


def _iccid(n: int) -> str:
    body = f"89148000001234560{n:02d}"
    return body + luhn_digit(body)


@dataclass(frozen=True)
class Story:
    """One scenario device: its letter in §10, a label, its MDN/IMEI/ICCID and the rule expected."""

    letter: str
    label: str
    number: int
    expected_rule: str | None

    @property
    def mdn(self) -> str:
        return f"555123{self.number:04d}"

    @property
    def msisdn(self) -> str:
        return "1" + self.mdn

    @property
    def imei(self) -> str:
        return _imei(self.number)

    @property
    def iccid(self) -> str:
        return _iccid(self.number - 100)


STORIES: tuple[Story, ...] = (
    Story("A", "healthy", 101, None),
    Story("B", "suspended by another user", 102, "R2"),
    Story("C", "active, not attaching for days", 103, "R7"),
    Story("D", "attaches, passes no data", 104, "R7"),
    Story("E", "deactivated", 105, "R1"),
    Story("F", "SIM moved to another device", 106, "R6"),
    Story("G", "reconnect loop", 107, "R9"),
    Story("H", "session open, no traffic", 108, "R10"),
    Story("I", "stopped right after a plan change", 109, "R5"),
)
STORY_BY_LETTER = {s.letter: s for s in STORIES}
#: The IMEI the customer's ticket gives for story F (the device the SIM used to be in).
MOVED_FROM_IMEI = _imei(199)
MOVED_TO_IMEI = "359876543219999"


def _daily(
    first: datetime, last: datetime, rng: random.Random, ip: str, zero: bool = False
) -> list[DataSession]:
    """Daily sessions of ~15 minutes whose Starts run from ``first`` to ``last``."""
    out = []
    start = first
    while start <= last:
        length = timedelta(seconds=rng.randint(700, 1000))
        out.append(
            DataSession(start, start + length, 0 if zero else rng.randint(40_000, 56_000), ip)
        )
        start += DAY
    return out


def _event(when: datetime, kind: str, by: str, story: Story, plan: str = PLAN) -> ProvisioningEvent:
    return ProvisioningEvent(when, kind, by, "Success", plan, story.mdn, story.msisdn)


def _story_device(story: Story, device_id: int, account: str, now: datetime) -> Device:
    rng = random.Random(f"story:{story.letter}")
    local_now = now.astimezone(EASTERN)
    activated = (local_now - 300 * DAY).replace(hour=10, minute=45, second=1, microsecond=0)
    ip = f"10.77.{story.number - 100}.{20 + story.number % 50}"
    device = Device(
        device_id=device_id,
        account=account,
        state="active",
        service_plan=PLAN,
        ids={
            DeviceKind.MDN: story.mdn,
            DeviceKind.IMEI: story.imei,
            DeviceKind.ICCID: story.iccid,
            DeviceKind.MSISDN: story.msisdn,
        },
        created_at=activated - HOUR,
        billing_cycle_end=billing_cycle_end(now),
        groups=[f"Default: {account}", "Tank Monitors West"],
        custom_fields={"CustomField1": f"STORY-{story.letter}"},
        ip_address=ip,
        last_activation_date=activated,
        last_activation_by="UWS API",
        max_suspend_days=90,
    )
    device.events.append(_event(activated, "Activation Confirmed", "UWS API", story))
    month_ago = (local_now - 35 * DAY).replace(hour=6, minute=0, second=12, microsecond=0)
    _STORY_SETUP[story.letter](device, story, local_now, month_ago, rng, ip)
    starts = [s.start for s in device.sessions or []]
    device.last_connection_date = max(starts) if starts else None
    return device


def _healthy(
    d: Device, s: Story, now: datetime, first: datetime, r: random.Random, ip: str
) -> None:
    sessions = _daily(first, now - 2 * HOUR, r, ip)
    sessions.append(DataSession(now - 10 * 60 * timedelta(seconds=1), None, 0, ip))
    d.sessions, d.connected = sessions, True


def _suspended(
    d: Device, s: Story, now: datetime, first: datetime, r: random.Random, ip: str
) -> None:
    when = (now - 6 * DAY - 2 * HOUR).replace(second=44, microsecond=0)
    d.sessions = _daily(first, when - 4 * HOUR, r, ip)
    d.events.append(_event(when, "Suspend", "jdoe", s))
    d.state, d.suspend_date, d.times_suspended, d.connected = "suspend", when, 1, False


def _silent(d: Device, s: Story, now: datetime, first: datetime, r: random.Random, ip: str) -> None:
    d.sessions, d.connected = _daily(first, now - 12 * DAY, r, ip), False


def _no_data(
    d: Device, s: Story, now: datetime, first: datetime, r: random.Random, ip: str
) -> None:
    last = (now - 3 * DAY - 8 * HOUR).replace(second=37, microsecond=0)
    sessions = _daily(first, last - 2 * DAY, r, ip)
    sessions += [DataSession(last - DAY, last - DAY + 14 * 60 * timedelta(seconds=1), 0, ip)]
    sessions += [DataSession(last, last + timedelta(seconds=28), 0, ip)]
    d.sessions, d.connected = sessions, False


def _deactivated(
    d: Device, s: Story, now: datetime, first: datetime, r: random.Random, ip: str
) -> None:
    when = (now - 10 * DAY - 3 * HOUR).replace(second=9, microsecond=0)
    d.sessions = _daily(first, when - 3 * HOUR, r, ip)
    d.events.append(_event(when, "Deactivate", "UWS API", s))
    d.state, d.connected, d.ip_address = "deactive", False, "0.0.0.0"


def _moved(d: Device, s: Story, now: datetime, first: datetime, r: random.Random, ip: str) -> None:
    when = (now - 8 * DAY - HOUR).replace(second=0, microsecond=0)
    d.ids[DeviceKind.IMEI] = MOVED_TO_IMEI
    d.events.append(_event(when, "changeIMEI", "ThingSpace Portal", s))
    sessions = _daily(first, now - 3 * HOUR, r, ip)
    d.sessions, d.connected = sessions, False


def _reconnect(
    d: Device, s: Story, now: datetime, first: datetime, r: random.Random, ip: str
) -> None:
    loop_from = (now - 30 * HOUR).replace(minute=0, second=5, microsecond=0)
    sessions = _daily(first, loop_from - 8 * HOUR, r, ip)
    start = loop_from
    while start < now - 60 * timedelta(seconds=1):
        sessions.append(DataSession(start, start + timedelta(seconds=r.randint(20, 50)), 0, ip))
        start += timedelta(seconds=150)
    d.sessions, d.connected = sessions, True


def _open(d: Device, s: Story, now: datetime, first: datetime, r: random.Random, ip: str) -> None:
    opened = (now - 8 * DAY - 5 * HOUR).replace(second=3, microsecond=0)
    sessions = _daily(first, opened - DAY, r, ip)
    sessions.append(DataSession(opened, None, 0, ip))
    d.sessions, d.connected = sessions, True


def _plan_change(
    d: Device, s: Story, now: datetime, first: datetime, r: random.Random, ip: str
) -> None:
    when = (now - 5 * DAY - 4 * HOUR).replace(second=0, microsecond=0)
    sessions = _daily(first, when - DAY, r, ip)
    sessions.append(DataSession(when - 2 * HOUR, when + HOUR, 51_200, ip))
    d.service_plan = "M2MLTEBASIC"
    d.events.append(_event(when, "Change Service Plan", "mlee", s, plan="M2MLTEBASIC"))
    d.sessions, d.connected = sessions, False


_STORY_SETUP: dict[str, Callable[[Device, Story, datetime, datetime, random.Random, str], None]] = {
    "A": _healthy,
    "B": _suspended,
    "C": _silent,
    "D": _no_data,
    "E": _deactivated,
    "F": _moved,
    "G": _reconnect,
    "H": _open,
    "I": _plan_change,
}


def seed_events(device: Device, seed: int) -> None:
    """The provisioning events a generated device's state implies (activation, then the
    suspension or deactivation that put it in its state)."""
    rng = random.Random(f"{seed}:{device.device_id}:events")
    plan, mdn = device.service_plan, device.ids.get(DeviceKind.MDN, "")
    msisdn = device.ids.get(DeviceKind.MSISDN, "")

    def add(when: datetime, kind: str, by: str) -> None:
        device.events.append(ProvisioningEvent(when, kind, by, "Success", plan, mdn, msisdn))

    if device.last_activation_date is not None:
        add(
            device.last_activation_date,
            "Activation Confirmed",
            device.last_activation_by or "UWS API",
        )
    if device.state == "suspend" and device.suspend_date is not None:
        add(device.suspend_date, "Suspend", rng.choice(("UWS API", "jsmith", "ThingSpace Portal")))
    elif device.state == "deactive" and device.last_connection_date is not None:
        when = device.last_connection_date + timedelta(minutes=rng.randint(30, 600))
        add(when, "Deactivate", rng.choice(("UWS API", "ThingSpace Portal")))


def install(devices: list[Device], config: SimConfig, now: datetime, reserved: int) -> list[Device]:
    """Seed every device's events and, when enabled, put the story devices at the end.

    ``reserved`` is the number of fixed devices at the start that must never be replaced.
    """
    for device in devices:
        seed_events(device, config.seed)
    if not config.diagnostics.stories:
        return devices
    account = config.primary_account
    out = list(devices)
    room = len(out) - reserved
    first = len(out) - min(room, len(STORIES))
    next_id = (out[-1].device_id + 1) if out else 1
    for i, story in enumerate(STORIES):
        slot = first + i
        if slot < len(out):
            out[slot] = _story_device(story, out[slot].device_id, account, now)
        else:
            out.append(_story_device(story, next_id, account, now))
            next_id += 1
    return out


def story_of(device: Device) -> Story | None:
    """The story a device tells, by its MDN (None for every other device)."""
    mdn = device.ids.get(DeviceKind.MDN)
    for story in STORIES:
        if story.mdn == mdn:
            return story
    return None
