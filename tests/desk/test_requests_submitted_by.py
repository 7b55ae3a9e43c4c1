"""Two engineers on one journal (issue 11): each sees every request, "mine" narrows to theirs.

Two desks, as two users on two jump hosts would run them, with the same profile name, share
one journal (an sqlite file, or a team's PostgreSQL) and one simulated ThingSpace. Each
records its requests with its own ``user@host``; the requests page reads them through
:class:`JournalQueries`, as the requests view does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from m2m_tui.api.client import ThingSpaceClient
from m2m_tui.desk.actions import DeviceTarget, RequestAction, Submitted
from m2m_tui.desk.identity import local_submitter, user_of
from m2m_tui.desk.queries import JournalQueries, RequestsQuery, request_matches
from m2m_tui.desk.requests import RequestDesk
from m2m_tui.sim import RunningSimulator
from m2m_tui.sim.wellknown import DEMO_MDN, SUSPENDED_MDN

from .desk_helpers import ACCOUNT, settings

ALICE = "alice@jump1"
BOB = "bob@jump2"


@asynccontextmanager
async def desk_of(who: str, journal: str, client: ThingSpaceClient) -> AsyncIterator[RequestDesk]:
    desk = RequestDesk(journal, client=client, account=ACCOUNT, submitted_by=who)
    await desk.start_tracking(dataclasses.replace(settings(journal, None), profile="prod"))
    try:
        yield desk
    finally:
        await desk.close()


async def test_each_sees_all_and_mine_narrows(
    client: ThingSpaceClient, sim: RunningSimulator, journal_location: str
) -> None:
    journal = journal_location
    async with desk_of(ALICE, journal, client) as alice, desk_of(BOB, journal, client) as bob:
        mine = await alice.submit(RequestAction.SUSPEND, DeviceTarget(ACCOUNT, "MDN", DEMO_MDN))
        theirs = await bob.submit(
            RequestAction.RESTORE, DeviceTarget(ACCOUNT, "MDN", SUSPENDED_MDN)
        )
        assert isinstance(mine, Submitted) and isinstance(theirs, Submitted)
        queries = JournalQueries(journal)
        try:
            everyone = await queries.requests_page(RequestsQuery())
            alices = await queries.requests_page(RequestsQuery(submitted_by=alice.submitted_by))
            bobs = await queries.requests_page(RequestsQuery(submitted_by=bob.submitted_by))
        finally:
            queries.close()
    who = {row.request_id: (row.submitted_by, row.profile) for row in everyone.rows}
    assert who == {
        mine.request.request_id: (ALICE, "prod"),
        theirs.request.request_id: (BOB, "prod"),
    }
    assert everyone.total == 2
    assert [row.request_id for row in alices.rows] == [mine.request.request_id]
    assert alices.total == 1
    assert [row.request_id for row in bobs.rows] == [theirs.request.request_id]


def test_mine_is_this_user_at_this_host() -> None:
    """By default a desk records the OS user and the host name, and the live filter agrees."""
    desk = RequestDesk("unused.sqlite3")
    assert desk.submitted_by == local_submitter()
    user, _, host = desk.submitted_by.rpartition("@")
    assert user and host and user_of(desk.submitted_by) == user
    row = {"request_id": "r1", "account": "A", "action": "restore", "state": "pending"}
    assert request_matches(None, None, **row, target={}, mine=ALICE, submitted_by=ALICE)
    assert not request_matches(None, None, **row, target={}, mine=ALICE, submitted_by=BOB)
    assert not request_matches(None, None, **row, target={}, mine=ALICE, submitted_by=None)
    assert request_matches(None, None, **row, target={}, mine=None, submitted_by=BOB)
