"""A diagnosis the card computes is journaled beside the device's lookup, so ``m2m-tui
export`` (another process, the journal only) can add it to the requests about the device."""

from __future__ import annotations

from pathlib import Path

from m2m_tui.api.client import ThingSpaceClient
from m2m_tui.api.history import DiagnosticsReads
from m2m_tui.api.models import DeviceId
from m2m_tui.desk.device_picture import fetch_picture
from m2m_tui.desk.queries.devices import RecentDevices
from m2m_tui.desk.requests import RequestDesk
from m2m_tui.sim.stories import STORY_BY_LETTER
from m2m_tui.tracking.export import export
from m2m_tui.tracking.journal.diagnoses import journaled_diagnoses
from m2m_tui.tracking.journal.sqlite import Journal

PRIMARY = "0000123456-00001"


async def test_a_story_diagnosis_is_journaled_and_exported(
    client: ThingSpaceClient, tmp_path: Path
) -> None:
    path = tmp_path / "journal.db"
    recent = RecentDevices(path)
    desk = RequestDesk(path, client=client, account=PRIMARY, recent=recent)
    story = STORY_BY_LETTER["B"]  # suspended by another user last week
    typed = DeviceId(id=story.mdn, kind="mdn")
    picture = await fetch_picture(DiagnosticsReads(client), PRIMARY, typed)
    diagnosis = picture.diagnosis()
    assert diagnosis.rule == "R2"

    desk.pictures.keep(picture, diagnosis)  # what the card does once every section landed
    assert desk.diagnoses is not None
    await desk.diagnoses.flush()
    # the devices screen remembers the lookup afterwards: the diagnosis must survive it
    await recent.remember(PRIMARY, "mdn", story.mdn, f"MDN {story.mdn}", {"state": "x"})
    # a later diagnosis (a suspension status arrived) is written to the row straight away
    with Journal.open(path) as other:  # another writer's summary, without the diagnosis
        other.add_device_lookup(PRIMARY, "mdn", story.mdn, summary={"state": "x"})
        assert journaled_diagnoses(other) == []
    desk.pictures.keep(picture, diagnosis)
    await desk.close()  # waits for the write
    recent.close()

    with Journal.open(path) as journal:
        (found,) = journaled_diagnoses(journal)
        assert found.rule == "R2"
        assert found.markdown == diagnosis.markdown()
        assert found.at == picture.now.timestamp()
        assert {f"mdn:{story.mdn}", f"imei:{story.imei}"} <= found.identifiers
        (row,) = journal.recent_devices()
        assert (row.lookups, row.summary["state"]) == (2, "x")
        journal.add_request(
            "req-1",
            action="restore",
            account=PRIMARY,
            target={"devices": [{"id": story.imei, "kind": "imei"}]},
            pollable=True,
            deadline=found.at + 2000,
            submitted_at=found.at + 60,
        )
        text = export(journal, "md")
    assert f"IMEI {story.imei}: diagnosis at " in text
    assert "before this request (rule R2)" in text
    assert diagnosis.line.splitlines()[0] in text
