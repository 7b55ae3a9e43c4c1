"""What the ticket says (``desk.ticket``): checked as typed, kept per device, given to the rules.

Story F (MDN 5551230106, SIM moved to another IMEI) reaches R6 only with the IMEI on the
ticket; story A reaches R11 only with the ticket's last-report time. Pictures come from the
simulator over loopback HTTP, as in ``test_diagnosis_stories.py``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from m2m_tui.api.history import DiagnosticsReads
from m2m_tui.desk.diagnosis_journal import diagnosis_entry
from m2m_tui.desk.picture_shelf import PictureShelf, ShelvedPicture, picture_identity
from m2m_tui.desk.picture_text import picture_markdown
from m2m_tui.desk.ticket import TicketBook, TicketFacts, check_imei, check_last_report, luhn_ok
from m2m_tui.desk.times import UTC_TIMES, Times
from m2m_tui.sim.stories import MOVED_FROM_IMEI, MOVED_TO_IMEI, STORY_BY_LETTER
from m2m_tui.tracking.records import device_key

from .test_diagnosis_stories import picture_of, reads  # noqa: F401  (the fixture)

NOW = datetime(2026, 1, 15, 14, 30, tzinfo=UTC)


async def test_story_f_reaches_r6_with_the_imei_stated_on_its_ticket(
    reads: DiagnosticsReads,  # noqa: F811
) -> None:
    picture = await picture_of(reads, "F")
    shelf = PictureShelf()
    mdn_only = [device_key("mdn", STORY_BY_LETTER["F"].mdn)]
    assert shelf.tickets.find(mdn_only).empty
    assert picture.diagnosis(**shelf.tickets.find(mdn_only).diagnosis_args()).rule is None

    spaced = f"{MOVED_FROM_IMEI[:8]} {MOVED_FROM_IMEI[8:]}"  # as copied from a ticket
    imei, problem = check_imei(spaced)
    assert problem is None and imei == MOVED_FROM_IMEI
    shelf.tickets.state(picture_identity(picture), TicketFacts(imei=imei))

    # Found again by any identifier of the device (here the MDN alone).
    ticket = shelf.tickets.find(mdn_only)
    diagnosis = picture.diagnosis(**ticket.diagnosis_args())
    assert diagnosis.rule == "R6"
    assert diagnosis.line == f"The SIM is now in another device (IMEI {MOVED_TO_IMEI})"
    assert f"ticket: IMEI {MOVED_FROM_IMEI}" in diagnosis.headline.evidence  # type: ignore[union-attr]
    assert diagnosis.ticket == (f"IMEI {MOVED_FROM_IMEI}",)
    # Named in the Markdown ticket (m) and in what the journal keeps for `m2m-tui export`.
    markdown = picture_markdown(picture, diagnosis)
    assert f"- the ticket says: IMEI {MOVED_FROM_IMEI}" in markdown
    entry = diagnosis_entry(ShelvedPicture(picture, diagnosis))
    assert entry["rule"] == "R6"
    assert f"the ticket says: IMEI {MOVED_FROM_IMEI}" in entry["markdown"]

    # The line's own IMEI on the ticket: no move, and forgetting the IMEI forgets the verdict.
    shelf.tickets.state(mdn_only, TicketFacts(imei=MOVED_TO_IMEI))
    assert picture.diagnosis(**shelf.tickets.find(mdn_only).diagnosis_args()).rule is None
    shelf.tickets.state(mdn_only, TicketFacts())
    assert shelf.tickets.find(picture_identity(picture)).empty


async def test_story_a_reaches_r11_with_the_last_report_on_its_ticket(
    reads: DiagnosticsReads,  # noqa: F811
) -> None:
    picture = await picture_of(reads, "A")
    assert picture.diagnosis().rule is None
    report, problem = check_last_report("4 days ago", picture.now)
    assert problem is None and report == picture.now - timedelta(days=4)
    diagnosis = picture.diagnosis(**TicketFacts(last_report=report).diagnosis_args())
    assert diagnosis.rule == "R11"
    assert diagnosis.ticket[0].startswith("last report ")
    assert "(4 days ago)" in diagnosis.ticket[0]
    assert "- the ticket says: last report" in diagnosis.markdown()


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (MOVED_FROM_IMEI[:14], "14 digits: add the check digit"),
        (MOVED_FROM_IMEI + "1", "16 digits is an IMEISV"),
        ("35987", "an IMEI is 15 digits, this is 5"),
        ("35987654322I99O", "an IMEI is digits only"),
        (
            MOVED_FROM_IMEI[:14] + str((int(MOVED_FROM_IMEI[14]) + 1) % 10),
            "the last digit is not this IMEI's check digit: a typo?",
        ),
    ],
)
def test_a_wrong_imei_is_refused_with_a_clear_message(typed: str, message: str) -> None:
    value, problem = check_imei(typed)
    assert value is None
    assert problem is not None and problem.startswith(message)


def test_an_imei_is_checked_like_the_label_says() -> None:
    assert luhn_ok(MOVED_FROM_IMEI) and luhn_ok("490154203237518")  # a GSMA example
    assert not luhn_ok("490154203237517")
    assert check_imei("") == (None, None)  # nothing stated
    dashed = f" {MOVED_FROM_IMEI[:2]}-{MOVED_FROM_IMEI[2:]} "
    assert check_imei(dashed) == (MOVED_FROM_IMEI, None)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2026-01-10 08:00", datetime(2026, 1, 10, 8, 0, tzinfo=UTC)),
        ("2026-01-10 08:00 UTC", datetime(2026, 1, 10, 8, 0, tzinfo=UTC)),
        ("2026-01-10 08:00:30", datetime(2026, 1, 10, 8, 0, 30, tzinfo=UTC)),
        ("2026-01-10T08:00+02:00", datetime(2026, 1, 10, 6, 0, tzinfo=UTC)),
        ("2026-01-10T08:00Z", datetime(2026, 1, 10, 8, 0, tzinfo=UTC)),
        ("3 days ago", NOW - timedelta(days=3)),
        ("5 h ago", NOW - timedelta(hours=5)),
        ("90 min ago", NOW - timedelta(minutes=90)),
    ],
)
def test_the_last_report_is_read_in_the_app_time_convention(typed: str, expected: datetime) -> None:
    assert check_last_report(typed, NOW, UTC_TIMES) == (expected, None)


def test_a_last_report_in_local_time_when_the_app_shows_local(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        local = Times("local")
        expected = datetime(2026, 1, 10, 13, 0, tzinfo=UTC)
        assert check_last_report("2026-01-10 08:00", NOW, local) == (expected, None)
        assert check_last_report("2026-01-10 08:00 EST", NOW, local) == (expected, None)
        assert check_last_report("2026-01-10 08:00 UTC", NOW, local) == (
            datetime(2026, 1, 10, 8, 0, tzinfo=UTC),
            None,
        )
        _, problem = check_last_report("2026-01-10 08:00 PST", NOW, local)
        assert problem == "zone PST is not the app's (EST): write UTC or an offset"
        summer = datetime(2026, 7, 10, 12, 0, tzinfo=UTC)  # the label of that date, not today's
        assert check_last_report("2026-07-10 08:00 EDT", NOW + timedelta(days=200), local) == (
            summer,
            None,
        )
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("2026-01-16 08:00", "that is in the future"),
        ("last tuesday", "not a time: write it as 2026-01-15 14:30 UTC or as '3 days ago'"),
        ("2026-01-10T08:00+02:00 UTC", "two zones given: keep one"),
    ],
)
def test_a_wrong_last_report_is_refused_with_a_clear_message(typed: str, message: str) -> None:
    assert check_last_report(typed, NOW, UTC_TIMES) == (None, message)


def test_the_book_keeps_one_entry_per_device_whatever_identifier_states_it() -> None:
    book = TicketBook()
    book.state({"mdn:5551230106"}, TicketFacts(imei=MOVED_FROM_IMEI))
    book.state({"mdn:5551230106", "imei:" + MOVED_TO_IMEI}, TicketFacts(imei=MOVED_TO_IMEI))
    assert book.find({"imei:" + MOVED_TO_IMEI}).imei == MOVED_TO_IMEI
    assert book.find({"mdn:5551230106"}).imei == MOVED_TO_IMEI
    assert book.find({"mdn:5550000000"}).empty
