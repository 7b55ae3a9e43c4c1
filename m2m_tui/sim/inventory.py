"""The simulated device inventory: a seeded generator and the device-list wire shape.

A realistic mix (every identifier kind, all four states, several plans, groups, custom fields,
suspension history) lets the app and the tests meet the same variety production shows, and the
same seed and reference time always give the same inventory.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from m2m_tui.api.identifiers import DeviceKind, identifier_error
from m2m_tui.sim.config import SimConfig
from m2m_tui.sim.timeline import DataSession, ProvisioningEvent
from m2m_tui.sim.wellknown import DEMO_DEVICE_ID, WELL_KNOWN_DEVICES, WellKnownDevice

try:
    from zoneinfo import ZoneInfo

    EASTERN: tzinfo = ZoneInfo("America/New_York")
except Exception:  # no tz database (some Windows installs): a fixed offset is close enough
    from datetime import timezone

    EASTERN = timezone(timedelta(hours=-5))

CARRIER = "Verizon Wireless"
STATES = ("active", "suspend", "deactive", "pre-active")

SERVICE_PLANS: dict[str, str] = {
    "M2MPLAN4G": "M2M 4G LTE Shared 5MB",
    "M2MPLAN5G": "M2M 5G Nationwide 1GB",
    "M2M4G1GB": "M2M 4G LTE 1GB",
    "M2MLTEBASIC": "M2M LTE Basic 250KB",
    "M2MPLAN3G": "M2M 3G CDMA Legacy",
}
LTE_PLANS = ("M2MPLAN4G", "M2MPLAN4G", "M2MPLAN5G", "M2M4G1GB", "M2MLTEBASIC")

# Kinds in the order device-list responses show them, with the production casing (§3, §10).
WIRE_KIND_ORDER: tuple[DeviceKind, ...] = (
    DeviceKind.MDN,
    DeviceKind.IMEI,
    DeviceKind.ICCID,
    DeviceKind.MSISDN,
    DeviceKind.ESN,
    DeviceKind.MEID,
    DeviceKind.EID,
    DeviceKind.IMSI,
)
_WIRE_KIND = {DeviceKind.ICCID: "iccId"}

_AREA_CODES = ("201", "212", "305", "312", "415", "503", "512", "617", "702", "808", "901", "972")
_TACS = ("35987654", "35332510", "86723104", "35290611", "01326300")
_FIRST = ("Pat", "Sam", "Alex", "Jordan", "Casey", "Morgan", "Riley", "Taylor", "Jamie", "Drew")
_LAST = ("Rivera", "Nguyen", "Okafor", "Schmidt", "Kowalski", "Haddad", "Larsen", "Moreau")
_STREETS = ("Main St", "Oak Ave", "Industrial Pkwy", "Harbor Rd", "Mill Ln", "Ridge Dr")
_CITIES = (
    ("Wenatchee", "WA", "98801"),
    ("Austin", "TX", "78701"),
    ("Dayton", "OH", "45402"),
    ("Fresno", "CA", "93721"),
    ("Tampa", "FL", "33602"),
    ("Boise", "ID", "83702"),
)
_FIRMWARE = ("fw 2.4.1", "fw 2.5.0", "fw 3.0.2")


@dataclass
class Device:
    """One line, mutable: the provisioning actions change it in place."""

    device_id: int
    account: str
    state: str
    service_plan: str
    ids: dict[DeviceKind, str]
    created_at: datetime
    billing_cycle_end: datetime
    groups: list[str] = field(default_factory=list)
    custom_fields: dict[str, str] = field(default_factory=dict)
    ip_address: str | None = None
    connected: bool = False
    last_activation_date: datetime | None = None
    last_activation_by: str | None = None
    last_connection_date: datetime | None = None
    place_of_use: dict[str, str] = field(default_factory=dict)
    max_suspend_days: int = 180
    suspend_date: datetime | None = None
    prior_suspended_days: int = 0
    """Days suspended in the last 12 months, not counting the current suspension."""
    times_suspended: int = 0
    """Suspensions in the last 12 months, the current one included."""
    daily_actions: dict[str, int] = field(default_factory=dict)
    """Provisioning actions applied per local day (``YYYY-MM-DD`` -> count)."""
    sessions: list[DataSession] | None = None
    """Fixed data sessions (a story device); None: generated from the seed and the state."""
    events: list[ProvisioningEvent] = field(default_factory=list)
    """Provisioning events beyond the ones implied by the state (stories, simulator actions)."""

    def wire_ids(self) -> list[dict[str, str]]:
        """The ``deviceIds`` array as the device list shows it (``iccId`` casing)."""
        return [
            {"id": self.ids[kind], "kind": _WIRE_KIND.get(kind, kind.value)}
            for kind in WIRE_KIND_ORDER
            if kind in self.ids
        ]

    def main_ids(self) -> list[dict[str, str]]:
        """Lowercase identifiers used when a callback names a device not chosen by id."""
        preferred: tuple[DeviceKind, ...] = (DeviceKind.MDN, DeviceKind.ICCID, DeviceKind.IMEI)
        kinds = [k for k in preferred if k in self.ids]
        if not kinds:
            kinds = [k for k in WIRE_KIND_ORDER if k in self.ids][:1]
        return [{"id": self.ids[k], "kind": k.value} for k in kinds]

    def to_wire(self, extended: bool) -> dict[str, Any]:
        """The device object of a device-list response; extendedAttributes only if ``extended``."""
        out: dict[str, Any] = {
            "accountName": self.account,
            "billingCycleEndDate": iso(self.billing_cycle_end),
            "carrierInformations": [
                {"carrierName": CARRIER, "servicePlan": self.service_plan, "state": self.state}
            ],
            "connected": self.connected,
            "createdAt": iso(self.created_at),
            "deviceIds": self.wire_ids(),
            "groupNames": list(self.groups),
        }
        if self.ip_address:
            out["ipAddress"] = self.ip_address
        if self.last_activation_by:
            out["lastActivationBy"] = self.last_activation_by
        if self.last_activation_date:
            out["lastActivationDate"] = iso(self.last_activation_date)
        if self.last_connection_date:
            out["lastConnectionDate"] = iso(self.last_connection_date)
        out["customFields"] = [
            {"key": k, "value": v} for k, v in sorted(self.custom_fields.items())
        ]
        if extended:
            attrs = [{"key": "DeviceId", "value": str(self.device_id)}]
            attrs += [{"key": k, "value": v} for k, v in self.place_of_use.items()]
            out["extendedAttributes"] = attrs
        return out


def iso(moment: datetime) -> str:
    """ISO-8601 with the US Eastern offset, as device-list responses carry dates."""
    return moment.astimezone(EASTERN).isoformat(timespec="seconds")


def luhn_digit(digits: str) -> str:
    """The Luhn check digit that completes ``digits`` (IMEI and ICCID use it)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


class IdFactory:
    """Unique, kind-valid identifiers drawn from the shared random generator."""

    def __init__(self, rng: random.Random, taken: set[str]) -> None:
        self.rng = rng
        self.taken = taken

    def _digits(self, n: int) -> str:
        return f"{self.rng.randrange(10**n):0{n}d}"

    def _unique(self, make: Any) -> str:
        while True:
            value: str = make()
            if value not in self.taken:
                self.taken.add(value)
                return value

    def mdn(self) -> str:
        return self._unique(
            lambda: self.rng.choice(_AREA_CODES) + str(self.rng.randint(2, 9)) + self._digits(6)
        )

    def imei(self) -> str:
        return self._unique(lambda: _with_luhn(self.rng.choice(_TACS) + self._digits(6)))

    def iccid(self) -> str:
        return self._unique(lambda: _with_luhn("891480" + self._digits(13)))

    def imsi(self) -> str:
        return self._unique(lambda: "311480" + self._digits(9))

    def esn(self) -> str:
        return self._unique(lambda: "270" + self._digits(8))

    def meid(self) -> str:
        return self._unique(lambda: f"A1000{self.rng.getrandbits(36):09X}")

    def eid(self) -> str:
        return self._unique(lambda: "89049032" + self._digits(24))

    def ip(self) -> str:
        r = self.rng
        return self._unique(
            lambda: f"10.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"
        )


def _with_luhn(digits: str) -> str:
    return digits + luhn_digit(digits)


def billing_cycle_end(now: datetime) -> datetime:
    """The next 9th of a month at 20:00 Eastern, the bill-cycle boundary in the §10 example."""
    local = now.astimezone(EASTERN)
    year, month = local.year, local.month
    if local.day >= 9:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return datetime(year, month, 9, 20, 0, 0, tzinfo=EASTERN)


def generate_inventory(config: SimConfig, rng: random.Random, now: datetime) -> list[Device]:
    """All devices sorted by DeviceId: the well-known ones first, then ``inventory_size`` minus
    those generated from ``rng`` and split over the accounts (the first one gets a double share)."""
    accounts = [spec.name for spec in config.accounts]
    taken: set[str] = set()
    for known in WELL_KNOWN_DEVICES:
        taken.update(value for _, value in known.ids)
    ids = IdFactory(rng, taken)
    total = max(config.inventory_size, len(WELL_KNOWN_DEVICES))
    span = timedelta(days=3 * 365)
    step = span / total
    start = now - span
    cycle_end = billing_cycle_end(now)
    devices: list[Device] = []
    for index in range(total):
        created = start + step * index + timedelta(seconds=rng.randint(0, 3600))
        device_id = DEMO_DEVICE_ID + index
        if index < len(WELL_KNOWN_DEVICES):
            known = WELL_KNOWN_DEVICES[index]
            account = (
                accounts[1]
                if known.account_role == "secondary" and len(accounts) > 1
                else accounts[0]
            )
            device = _known_device(known, device_id, account, created, cycle_end, now, rng, ids)
        else:
            weights = [2] + [1] * (len(accounts) - 1)
            account = rng.choices(accounts, weights=weights)[0]
            device = _random_device(device_id, account, created, cycle_end, now, rng, ids)
        for kind, value in device.ids.items():
            problem = identifier_error(kind, value)
            if problem:  # pragma: no cover - a generator bug, not a runtime condition
                raise AssertionError(problem)
        devices.append(device)
    return devices


def _place_of_use(rng: random.Random) -> dict[str, str]:
    city, state, zip_code = rng.choice(_CITIES)
    return {
        "PrimaryPlaceOfUseFirstName": rng.choice(_FIRST),
        "PrimaryPlaceOfUseLastName": rng.choice(_LAST),
        "PrimaryPlaceOfUseAddressLine1": f"{rng.randint(10, 9999)} {rng.choice(_STREETS)}",
        "PrimaryPlaceOfUseCity": city,
        "PrimaryPlaceOfUseState": state,
        "PrimaryPlaceOfUseZipCode": zip_code,
        "PrimaryPlaceOfUseCountry": "USA",
    }


def _apply_state_history(device: Device, rng: random.Random, now: datetime, ids: IdFactory) -> None:
    """Fill dates, addresses and suspension history consistent with the device's state."""
    state = device.state
    if state != "pre-active":
        device.last_activation_date = device.created_at + timedelta(minutes=rng.randint(2, 90))
        device.last_activation_by = rng.choice(("UWS API", "UWS API", "ThingSpace Portal"))
    device.max_suspend_days = rng.choice((90, 180))
    if state == "active":
        device.ip_address = ids.ip()
        device.connected = rng.random() < 0.8
        back = (
            timedelta(minutes=rng.randint(0, 50))
            if device.connected
            else timedelta(hours=rng.randint(1, 96))
        )
        device.last_connection_date = now - back
        device.times_suspended = rng.choice((0, 0, 0, 1, 2))
        device.prior_suspended_days = rng.randint(1, 40) if device.times_suspended else 0
    elif state == "suspend":
        device.ip_address = ids.ip()
        days = rng.randint(1, min(80, device.max_suspend_days - 10))
        device.suspend_date = (
            (now - timedelta(days=days))
            .astimezone(EASTERN)
            .replace(hour=0, minute=0, second=0, microsecond=0)
        )
        device.last_connection_date = device.suspend_date - timedelta(hours=rng.randint(1, 30))
        device.times_suspended = rng.randint(1, 3)
        room = device.max_suspend_days - days - 1
        device.prior_suspended_days = (
            rng.randint(0, min(room, 30)) if device.times_suspended > 1 else 0
        )
    elif state == "deactive":
        device.last_connection_date = now - timedelta(days=rng.randint(20, 300))
    if not device.place_of_use and state != "pre-active":
        device.place_of_use = _place_of_use(rng)


def _known_device(
    known: WellKnownDevice,
    device_id: int,
    account: str,
    created: datetime,
    cycle_end: datetime,
    now: datetime,
    rng: random.Random,
    ids: IdFactory,
) -> Device:
    device = Device(
        device_id=device_id,
        account=account,
        state=known.state,
        service_plan=known.service_plan,
        ids=dict(known.ids),
        created_at=created,
        billing_cycle_end=cycle_end,
        groups=[f"Default: {account}", *known.groups],
    )
    _apply_state_history(device, rng, now, ids)
    if known.label == "demo-active":
        device.ip_address = "10.12.34.56"
        device.connected = True
        device.last_connection_date = now - timedelta(minutes=3)
        device.place_of_use["PrimaryPlaceOfUseFirstName"] = "Pat"
        device.times_suspended = 0
        device.prior_suspended_days = 0
    elif known.label == "demo-suspended":
        device.max_suspend_days = 90
        device.suspend_date = (
            (now - timedelta(days=29))
            .astimezone(EASTERN)
            .replace(hour=0, minute=0, second=0, microsecond=0)
        )
        device.times_suspended = 1
        device.prior_suspended_days = 0
    return device


def _random_device(
    device_id: int,
    account: str,
    created: datetime,
    cycle_end: datetime,
    now: datetime,
    rng: random.Random,
    ids: IdFactory,
) -> Device:
    legacy = rng.random() < 0.08
    if legacy:
        state = rng.choices(("active", "suspend", "deactive"), weights=(75, 10, 15))[0]
        first = (DeviceKind.ESN, ids.esn()) if rng.random() < 0.5 else (DeviceKind.MEID, ids.meid())
        mdn = ids.mdn()
        kinds = {DeviceKind.MDN: mdn, first[0]: first[1], DeviceKind.MSISDN: "1" + mdn}
        plan = "M2MPLAN3G"
    else:
        state = rng.choices(STATES, weights=(68, 12, 8, 12))[0]
        kinds = {}
        if state != "pre-active":
            kinds[DeviceKind.MDN] = ids.mdn()
        kinds[DeviceKind.IMEI] = ids.imei()
        kinds[DeviceKind.ICCID] = ids.iccid()
        if DeviceKind.MDN in kinds:
            kinds[DeviceKind.MSISDN] = "1" + kinds[DeviceKind.MDN]
        if rng.random() < 0.15:
            kinds[DeviceKind.EID] = ids.eid()
        kinds[DeviceKind.IMSI] = ids.imsi()
        plan = rng.choice(LTE_PLANS)
    groups = [f"Default: {account}"]
    if state == "pre-active":
        groups.append("Warehouse")
    elif rng.random() < 0.35:
        groups.append("Field units")
    if state == "suspend" and rng.random() < 0.7:
        groups.append("suspended devices")
    custom = {"CustomField1": f"SITE-{rng.randint(1, 40):03d}"}
    if rng.random() < 0.6:
        custom["CustomField2"] = f"ASSET-{device_id % 100000:05d}"
    if rng.random() < 0.4:
        custom["CustomField3"] = rng.choice(_FIRMWARE)
    device = Device(
        device_id=device_id,
        account=account,
        state=state,
        service_plan=plan,
        ids=kinds,
        created_at=created,
        billing_cycle_end=cycle_end,
        groups=groups,
        custom_fields=custom,
    )
    _apply_state_history(device, rng, now, ids)
    return device
