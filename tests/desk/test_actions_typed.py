"""A change of many devices is confirmed by typing their number, never by one key."""

from __future__ import annotations

from m2m_tui.desk.actions import DeviceTarget, FilterTarget, typed_confirmation
from m2m_tui.tracking.records import RequestAction

ACCOUNT = "0000123456-00001"


def test_a_filter_state_change_is_confirmed_by_its_device_count() -> None:
    fifty_nine = FilterTarget(ACCOUNT, plan="M2MPLAN3G", loaded=59)
    for action in (RequestAction.SUSPEND, RequestAction.RESTORE, RequestAction.DEACTIVATE):
        assert typed_confirmation(action, fifty_nine) == "59"


def test_a_listing_stopped_before_its_end_is_confirmed_with_all() -> None:
    partial = FilterTarget(ACCOUNT, group="g", loaded=50, more=True)
    assert typed_confirmation(RequestAction.SUSPEND, partial) == "all"
    assert typed_confirmation(RequestAction.SUSPEND, FilterTarget(ACCOUNT, group="g")) == "all"


def test_one_device_and_reads_keep_the_single_key() -> None:
    one = FilterTarget(ACCOUNT, group="g", loaded=1)
    assert typed_confirmation(RequestAction.SUSPEND, one) is None
    many = FilterTarget(ACCOUNT, group="g", loaded=59)
    assert typed_confirmation(RequestAction.SUSPENSION_STATUS, many) is None
    device = DeviceTarget(ACCOUNT, "mdn", "5551234567")
    assert typed_confirmation(RequestAction.SUSPEND, device) is None
