"""The picture as text: provisioning rows, the ticket summary with a failed section, raw JSON."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from m2m_tui.api.errors import ApiError
from m2m_tui.api.models.devices import DeviceId
from m2m_tui.api.models.history import ConnectionHistoryResponse, ProvisioningEvent
from m2m_tui.desk.device_picture import DevicePicture
from m2m_tui.desk.picture_text import (
    picture_json,
    picture_markdown,
    provisioning_rows,
    section_state,
    through_of,
)

from .test_diagnosis_rules import SECTION_2_5

NOW = datetime(2024, 6, 2, 12, 0, tzinfo=UTC)


def event(when: str, kind: str, by: str, **extra: object) -> ProvisioningEvent:
    return ProvisioningEvent.model_validate(
        {"occurredAt": when, "eventType": kind, "eventBy": by, "status": "Success", **extra}
    )


def test_provisioning_rows_newest_first_with_who_and_through_what() -> None:
    events = [
        event("2024-01-05T10:00:00Z", "Activation Confirmed", "UWS API"),
        event(
            "2024-05-28T09:00:00Z",
            "Suspend",
            "jdoe",
            extendedAttributes=[{"key": "Channel", "value": "ThingSpace Portal"}],
        ),
        event("2024-03-01T08:00:00Z", "Service Plan Change", "ThingSpace Portal"),
    ]
    rows = provisioning_rows(events)
    assert [r.what for r in rows] == ["Suspend", "Service Plan Change", "Activation Confirmed"]
    assert rows[0].cells() == (
        "2024-05-28 09:00",
        "Suspend",
        "jdoe",
        "ThingSpace Portal",
        "Success",
    )
    assert [r.through for r in rows[1:]] == ["portal", "API"]
    assert through_of(event("2024-01-01T00:00:00Z", "Restore", "jdoe")) == "-"
    assert len(provisioning_rows(events, limit=2)) == 2


def test_ticket_summary_says_what_failed_instead_of_guessing() -> None:
    picture = DevicePicture(
        account="0000123456-00001",
        identifier=DeviceId(id="5551234567", kind="mdn"),
        now=NOW,
        connections_since=NOW - timedelta(days=30),
    )
    picture.device.error = ApiError("no device", status=400, code="DeviceNotFound")
    picture.device.done = True
    picture.connections.value = ConnectionHistoryResponse.model_validate(
        SECTION_2_5
    ).connectionHistory
    picture.connections.done = True
    picture.provisioning.error = ApiError("timed out", status=500, code="UnexpectedError")
    picture.provisioning.done = True
    assert section_state(picture.provisioning) == "failed"
    assert section_state(picture.connections) == "ok"
    assert section_state(picture.usage) == "loading"
    text = picture_markdown(picture, picture.diagnosis())
    assert text.startswith("### Device MDN 5551234567\n- Lookup failed: no device")
    assert "**Diagnosis:** No such device" in text
    assert "- 2024-05-29 10:00 UTC, 13m49s, 47.7 kB" in text
    assert "- could not be read fully: timed out" in text
    raw = picture_json(picture)
    assert raw["identifier"] == {"id": "5551234567", "kind": "mdn"}
    assert raw["device"] is None and "no device" in raw["deviceError"]
    assert raw["connections"][0]["occurredAt"].startswith("2024-05-")
    assert raw["provisioning"] is None and raw["provisioningError"]


def test_picture_shelf_finds_a_device_by_any_identifier_and_keeps_the_newest() -> None:
    from m2m_tui.api.models.devices import Device
    from m2m_tui.desk.picture_shelf import PictureShelf

    def picture(typed: str, ids: list[dict[str, str]], at: datetime) -> DevicePicture:
        shown = DevicePicture(
            account="a",
            identifier=DeviceId(id=typed, kind="mdn"),
            now=at,
            connections_since=at - timedelta(days=30),
        )
        shown.device.value = Device.model_validate({"deviceIds": ids})
        shown.device.done = True
        return shown

    ids = [{"id": "5551234567", "kind": "mdn"}, {"id": "359876543210987", "kind": "imei"}]
    shelf = PictureShelf(size=2)
    first = picture("5551234567", ids, NOW)
    shelf.keep(first, first.diagnosis())
    newer = picture("5551234567", ids, NOW + timedelta(hours=1))
    shelf.keep(newer, newer.diagnosis())
    found = shelf.for_target({"devices": [{"id": "359876543210987", "kind": "IMEI"}]})
    assert found is not None and found.picture is newer  # by its IMEI, the newest
    assert shelf.for_target([{"id": "5551234567", "kind": "mdn"}]) is not None
    assert shelf.for_target({"groupName": "x"}) is None
    assert shelf.for_target({"devices": [{"id": "1", "kind": "mdn"}] * 2}) is None
    for n in range(2):
        other = picture(f"555000000{n}", [{"id": f"555000000{n}", "kind": "mdn"}], NOW)
        shelf.keep(other, other.diagnosis())
    assert shelf.find(["mdn:5551234567"]) is None  # the oldest fell off
