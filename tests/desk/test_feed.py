"""The feed: a burst of tracker events costs one batch, coalesced per request."""

from __future__ import annotations

from m2m_tui.desk.feed import MAX_CALLBACKS_PER_BATCH, Feed, FeedBatch
from m2m_tui.tracking.tracker_events import CallbackReceived, PollerStatus, RequestChanged


def changed(request_id: str, received: int) -> RequestChanged:
    return RequestChanged(request_id, "suspend", "partial", None, received, 10, 0, False)


def test_a_burst_becomes_one_batch_with_the_latest_state_of_each_request() -> None:
    batches: list[FeedBatch] = []
    feed = Feed(batches.append)
    for n in range(1000):
        feed.push(changed(f"r{n % 3}", n))
    for n in range(MAX_CALLBACKS_PER_BATCH + 100):
        feed.push(CallbackReceived(n, "r0", "carrier", f"mdn:{n}", False, True))
    feed.push(PollerStatus(running=True, tracked=2))

    batch = feed.flush()
    assert batches == [batch] and batch is not None
    assert {rid: c.received for rid, c in batch.changed.items()} == {
        "r0": 999,
        "r1": 997,
        "r2": 998,
    }
    assert len(batch.callbacks) == MAX_CALLBACKS_PER_BATCH  # the newest; the rest are journaled
    assert batch.callbacks[-1].record_id == MAX_CALLBACKS_PER_BATCH + 99
    assert batch.callbacks_total == MAX_CALLBACKS_PER_BATCH + 100
    assert feed.poller_status == batch.poller == PollerStatus(running=True, tracked=2)
    assert feed.flush() is None and batches == [batch]  # nothing new: no batch
