"""Validation of what every M2M body shares: account names, device identifiers and filters.

Device list, the four provisioning actions and suspension status all pick devices either by
identifier or by group/plan/custom-field filters; keeping the rules in one place keeps their
error codes identical across endpoints, as they are in production (``thingspace-api.md`` §8.2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from m2m_tui.api.identifiers import SELECTABLE_KINDS, DeviceKind, identifier_error
from m2m_tui.sim.errors import account_not_found, m2m_error, optional_str
from m2m_tui.sim.inventory import Device
from m2m_tui.sim.state import SimState

CUSTOM_FIELD_NAMES = tuple(f"CustomField{i}" for i in range(1, 6))
CUSTOM_FIELD_MAX = 50


def check_account(state: SimState, value: Any, required: bool = False) -> str | None:
    """The account name if the user has it (exact string, leading zeros kept), else an error."""
    if value is None or value == "":
        if required:
            raise m2m_error("INPUT_INVALID.Account.NotDefined", "The accountName is required.")
        return None
    if not isinstance(value, str) or state.config.account(value) is None:
        raise account_not_found(value)
    return value


def parse_identifier(obj: Any) -> tuple[DeviceKind, str]:
    """A ``{id, kind}`` object validated by kind (kind case-insensitive)."""
    if not isinstance(obj, dict):
        raise m2m_error(
            "INPUT_INVALID.Device.Identifier.Invalid", "A device identifier needs an id and a kind."
        )
    raw_kind = obj.get("kind")
    try:
        kind = DeviceKind.parse(raw_kind) if isinstance(raw_kind, str) else None
    except ValueError:
        kind = None
    if kind is None or kind not in SELECTABLE_KINDS:
        raise m2m_error(
            "INPUT_INVALID.Device.Kind.Invalid",
            f"The device identifier kind {raw_kind} is invalid.",
        )
    value = obj.get("id")
    problem = identifier_error(kind, value.strip()) if isinstance(value, str) else "id missing"
    if problem or not isinstance(value, str):
        raise m2m_error(
            "INPUT_INVALID.Device.Identifier.Invalid",
            f"The device identifier is invalid: {problem}.",
        )
    return kind, value.strip()


def not_found(kind: DeviceKind, value: str) -> Exception:
    return m2m_error(
        "REQUEST_FAILED.DeviceNotFound", f"Device {kind.value.upper()} {value} was not found."
    )


def parse_custom_fields(value: Any) -> dict[str, str]:
    """``[{key, value}]`` with keys CustomField1..5 and values of at most 50 characters."""
    if value is None:
        return {}
    if not isinstance(value, list):
        raise m2m_error("INPUT_INVALID.CustomField.InvalidName", "customFields must be a list.")
    out: dict[str, str] = {}
    for item in value:
        key = item.get("key") if isinstance(item, dict) else None
        if key not in CUSTOM_FIELD_NAMES:
            raise m2m_error(
                "INPUT_INVALID.CustomField.InvalidName",
                f"Custom field name {key} is invalid; use CustomField1 to CustomField5.",
            )
        text = item.get("value")
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        if len(text) > CUSTOM_FIELD_MAX:
            raise m2m_error(
                "INPUT_INVALID.CustomField.TooLong",
                f"The value of {key} is longer than {CUSTOM_FIELD_MAX} characters.",
            )
        out[str(key)] = text
    return out


@dataclass
class DeviceFilter:
    """ANDed metadata filters; an empty filter matches every device."""

    group: str | None = None
    plan: str | None = None
    state: str | None = None
    custom: dict[str, str] = field(default_factory=dict)
    identifiers: list[dict[str, Any]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.group or self.plan or self.state or self.custom or self.identifiers)

    def matches(self, device: Device) -> bool:
        if self.group is not None and self.group not in device.groups:
            return False
        if self.plan is not None and self.plan != device.service_plan:
            return False
        if self.state is not None and self.state.lower() != device.state:
            return False
        if any(device.custom_fields.get(k) != v for k, v in self.custom.items()):
            return False
        return all(_identifier_filter_matches(f, device) for f in self.identifiers)


def _identifier_filter_matches(spec: dict[str, Any], device: Device) -> bool:
    kind = DeviceKind.parse(spec["kind"])
    value = device.ids.get(kind)
    if value is None:
        return False
    upper = value.upper()
    checks = (
        ("contains", upper.__contains__),
        ("startswith", upper.startswith),
        ("endswith", upper.endswith),
    )
    return all(
        test(str(spec[name]).upper()) for name, test in checks if spec.get(name) not in (None, "")
    )


def parse_filter(body: dict[str, Any], with_state: bool = False) -> DeviceFilter:
    """groupName / servicePlan / customFields (and currentState for device list) of ``body``."""
    result = DeviceFilter(
        group=optional_str(body, "groupName"),
        plan=optional_str(body, "servicePlan"),
        custom=parse_custom_fields(body.get("customFields")),
    )
    if with_state:
        result.state = optional_str(body, "currentState")
    return result


def parse_identifier_filters(body: dict[str, Any]) -> list[dict[str, Any]]:
    """``filter.deviceIdentifierFilters``: each needs a valid kind and a ``contains`` value."""
    outer = body.get("filter")
    if outer is None:
        return []
    specs = outer.get("deviceIdentifierFilters") if isinstance(outer, dict) else None
    if specs is None:
        return []
    if not isinstance(specs, list):
        raise m2m_error(
            "INPUT_INVALID.Device.Identifier.Invalid", "deviceIdentifierFilters must be a list."
        )
    for spec in specs:
        kind = spec.get("kind") if isinstance(spec, dict) else None
        try:
            DeviceKind.parse(kind if isinstance(kind, str) else "")
        except ValueError:
            raise m2m_error(
                "INPUT_INVALID.Device.Kind.Invalid",
                f"The device identifier kind {kind} is invalid.",
            ) from None
        if isinstance(spec, dict) and spec.get("contains") in (None, ""):
            raise m2m_error(
                "INPUT_INVALID.Device.Identifier.Invalid",
                "A device identifier filter needs a contains value.",
            )
    return [s for s in specs if isinstance(s, dict)]


@dataclass
class Target:
    """A device picked by a request and the identifiers the request named it by."""

    device: Device
    requested: list[dict[str, str]]


def resolve_identifiers(state: SimState, raw: Any) -> Target:
    """One device from several identifiers, all of which must name that same device."""
    if not isinstance(raw, list) or not raw:
        raise m2m_error(
            "INPUT_INVALID.Device.Identifier.Invalid", "Each device needs at least one identifier."
        )
    parsed = [parse_identifier(obj) for obj in raw]
    found: Device | None = None
    for kind, value in parsed:
        device = state.find_device(kind, value)
        if device is None:
            continue
        if found is not None and device is not found:
            raise m2m_error(
                "INPUT_INVALID.Device.Identifier.Invalid",
                "The identifiers given for one device belong to different devices.",
            )
        found = device
    if found is None:
        raise not_found(*parsed[0])
    return Target(found, [{"id": value, "kind": kind.value} for kind, value in parsed])
