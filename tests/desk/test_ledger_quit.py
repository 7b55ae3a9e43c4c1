"""What quitting leaves unfinished, said before the app quits."""

from __future__ import annotations

from m2m_tui.desk.actions import SubmittedRequest
from m2m_tui.desk.ledger import Ledger
from m2m_tui.tracking.records import RequestAction


def record(request_id: str) -> SubmittedRequest:
    return SubmittedRequest(
        RequestAction.SUSPEND,
        "0000123456-00001",
        [{"kind": "mdn", "id": "5551234567"}],
        "MDN 5551234567",
        request_id,
        True,
        0.0,
        frozenset(),
    )


def test_nothing_awaited_says_nothing() -> None:
    assert Ledger(lambda: 0.0).quit_warning(forgets=False) == []


def test_awaited_requests_are_named_and_where_they_go() -> None:
    ledger = Ledger(lambda: 0.0)
    for n in range(5):
        ledger.add(record(f"req-{n}"))
    kept = " ".join(ledger.quit_warning(forgets=False))
    assert "5 request(s)" in kept and "req-0, req-1, req-2 and 2 more" in kept
    assert "next start tracks them again" in kept
    assert "forgets them" in " ".join(ledger.quit_warning(forgets=True))
