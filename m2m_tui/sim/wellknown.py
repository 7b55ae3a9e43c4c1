"""Fixed demo devices that always sit at the top of the inventory, whatever the seed.

Demos, docs and tests name these devices directly (a support engineer's ticket says
"device 359876543210987 stopped reporting"), so they never change. The active one matches the
example in ``thingspace-api.md`` §10 field for field, including ``DeviceId`` 1234567.
"""

from __future__ import annotations

from dataclasses import dataclass

from m2m_tui.api.identifiers import DeviceKind

# The ticket device: active, connected, every common identifier (thingspace-api.md §10).
DEMO_IMEI = "359876543210987"
DEMO_MDN = "5551234567"
DEMO_ICCID = "89148000001234567890"
DEMO_MSISDN = "15551234567"
DEMO_DEVICE_ID = 1234567

# Suspended 29 days ago (suspension status has something to say).
SUSPENDED_MDN = "5551234568"
SUSPENDED_IMEI = "359876543210995"
SUSPENDED_ICCID = "89148000001234567891"
SUSPENDED_MSISDN = "15551234568"

# Pre-active: no MDN yet; activation assigns one.
PREACTIVE_IMEI = "359876543211001"
PREACTIVE_ICCID = "89148000001234567892"

# A legacy CDMA line known by its 11-digit decimal ESN.
ESN_DEVICE_ESN = "27012345678"
ESN_DEVICE_MDN = "5551234569"
ESN_DEVICE_MSISDN = "15551234569"

# Deactivated line (activate brings it back).
DEACTIVE_IMEI = "359876543211019"
DEACTIVE_ICCID = "89148000001234567893"
DEACTIVE_MDN = "5551234570"

# A line known by its MEID (14 hex characters).
MEID_DEVICE_MEID = "A1000012345678"
MEID_DEVICE_MDN = "5551234571"

# An eUICC device with a 32-digit EID and an IMSI.
EUICC_EID = "89049032000000000000000000012345"
EUICC_IMEI = "359876543211027"
EUICC_ICCID = "89148000001234567894"
EUICC_MDN = "5551234572"
EUICC_IMSI = "311480123456790"

# The secondary account's own active device (suspension status is disabled there).
SECONDARY_MDN = "5559876543"
SECONDARY_IMEI = "359876543211035"
SECONDARY_ICCID = "89148000009876543210"


@dataclass(frozen=True)
class WellKnownDevice:
    """A fixed device: which account (``primary``/``secondary``), state, plan and identifiers."""

    label: str
    account_role: str
    state: str
    service_plan: str
    ids: tuple[tuple[DeviceKind, str], ...]
    groups: tuple[str, ...] = ()


WELL_KNOWN_DEVICES: tuple[WellKnownDevice, ...] = (
    WellKnownDevice(
        "demo-active",
        "primary",
        "active",
        "M2MPLAN4G",
        (
            (DeviceKind.MDN, DEMO_MDN),
            (DeviceKind.IMEI, DEMO_IMEI),
            (DeviceKind.ICCID, DEMO_ICCID),
            (DeviceKind.MSISDN, DEMO_MSISDN),
        ),
    ),
    WellKnownDevice(
        "demo-suspended",
        "primary",
        "suspend",
        "M2MPLAN4G",
        (
            (DeviceKind.MDN, SUSPENDED_MDN),
            (DeviceKind.IMEI, SUSPENDED_IMEI),
            (DeviceKind.ICCID, SUSPENDED_ICCID),
            (DeviceKind.MSISDN, SUSPENDED_MSISDN),
        ),
        ("suspended devices",),
    ),
    WellKnownDevice(
        "demo-preactive",
        "primary",
        "pre-active",
        "M2MPLAN4G",
        ((DeviceKind.IMEI, PREACTIVE_IMEI), (DeviceKind.ICCID, PREACTIVE_ICCID)),
        ("Warehouse",),
    ),
    WellKnownDevice(
        "demo-esn",
        "primary",
        "active",
        "M2MPLAN3G",
        (
            (DeviceKind.MDN, ESN_DEVICE_MDN),
            (DeviceKind.ESN, ESN_DEVICE_ESN),
            (DeviceKind.MSISDN, ESN_DEVICE_MSISDN),
        ),
        ("Field units",),
    ),
    WellKnownDevice(
        "demo-deactive",
        "primary",
        "deactive",
        "M2MPLAN4G",
        (
            (DeviceKind.MDN, DEACTIVE_MDN),
            (DeviceKind.IMEI, DEACTIVE_IMEI),
            (DeviceKind.ICCID, DEACTIVE_ICCID),
        ),
    ),
    WellKnownDevice(
        "demo-meid",
        "primary",
        "active",
        "M2MPLAN3G",
        ((DeviceKind.MDN, MEID_DEVICE_MDN), (DeviceKind.MEID, MEID_DEVICE_MEID)),
        ("Field units",),
    ),
    WellKnownDevice(
        "demo-euicc",
        "primary",
        "active",
        "M2MPLAN5G",
        (
            (DeviceKind.MDN, EUICC_MDN),
            (DeviceKind.IMEI, EUICC_IMEI),
            (DeviceKind.ICCID, EUICC_ICCID),
            (DeviceKind.EID, EUICC_EID),
            (DeviceKind.IMSI, EUICC_IMSI),
        ),
    ),
    WellKnownDevice(
        "secondary-active",
        "secondary",
        "active",
        "M2MPLAN4G",
        (
            (DeviceKind.MDN, SECONDARY_MDN),
            (DeviceKind.IMEI, SECONDARY_IMEI),
            (DeviceKind.ICCID, SECONDARY_ICCID),
        ),
    ),
)
