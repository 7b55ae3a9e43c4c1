"""Tracking that follows a team's PostgreSQL journal starts while the database is down, says
why, and takes up the journal by itself when it answers (issue 11): unfinished requests are
reloaded, the follower started, and the requests' callbacks reach the tracker.

The database goes away for the follower only (a TCP proxy the test closes); another process's
writes (here, a journal opened directly) go on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from m2m_tui.tracking.journal.pg import PgJournal
from m2m_tui.tracking.records import CallbackRecord, JournalError, RequestState
from m2m_tui.tracking.service import TrackingService, TrackingSettings
from tests.tcp_proxy import TcpProxy
from tests.tracking.journal_backends import (  # noqa: F401  (fixtures)
    postgres_server,
    postgres_url,
)
from tests.waiting import eventually

ACCOUNT = "0000123456-00001"
MDN = {"kind": "mdn", "id": "5551234567"}


@pytest.fixture
def proxy(postgres_url: str) -> Iterator[TcpProxy]:  # noqa: F811
    with TcpProxy.to(postgres_url) as made:
        yield made


def _settings(url: str) -> TrackingSettings:
    return TrackingSettings(journal_path=url, listener=None, follow=True, reconnect_interval=0.2)


async def test_following_starts_while_the_database_is_down_and_takes_it_up_when_back(
    postgres_url: str,  # noqa: F811
    proxy: TcpProxy,
) -> None:
    with PgJournal(postgres_url) as team:  # another engineer's request, still open
        team.add_request(
            "rq-open", action="suspend", account=ACCOUNT, target=[MDN], pollable=False,
            deadline=9e9,
        )  # fmt: skip
    proxy.close()
    async with TrackingService(_settings(proxy.url(postgres_url))) as service:
        assert service.journal_problem is not None
        assert "cannot connect" in service.journal_problem
        assert service.follower is None and service.tracker.get("rq-open") is None
        # Recording a request needs the journal: it says so rather than pretending.
        with pytest.raises(JournalError):
            await service.tracker.asubmitted("restore", ACCOUNT, "rq-mine", devices=[MDN])

        with PgJournal(postgres_url) as team:  # its callback, journaled while we were away
            team.append_callbacks(
                [CallbackRecord("rq-open", "success", {"requestId": "rq-open"}, "mdn:1")]
            )
        proxy.open()
        await eventually(lambda: service.follower is not None and service.follower.connected)
        assert service.journal_problem is None
        request = service.tracker.get("rq-open")
        assert request is not None and request.received == 1  # reloaded with its callback

        with PgJournal(postgres_url) as team:  # and what comes next arrives live
            team.append_callbacks(
                [CallbackRecord("rq-open", "completion", {"requestId": "rq-open"})]
            )
        await eventually(lambda: request.finished)
        assert request.state is RequestState.COMPLETED


async def test_a_database_that_refuses_us_still_stops_the_start(postgres_url: str) -> None:  # noqa: F811
    """Unreachable is worth waiting for; "no such database" is not: it is said at once."""
    wrong = postgres_url.replace("/m2m_test", "/no_such_database_here")
    service = TrackingService(_settings(wrong))
    with pytest.raises(JournalError, match="no_such_database_here"):
        async with asyncio.timeout(20):
            await service.start()
    await service.stop()
