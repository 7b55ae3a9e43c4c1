"""An action the line's state makes pointless is refused before it is sent (a walk finding)."""

from __future__ import annotations

import pytest

from m2m_tui.desk.actions import state_conflict
from m2m_tui.tracking.records import RequestAction as A

POINTLESS = [
    (A.ACTIVATE, "active", "already active"),
    (A.ACTIVATE, "suspend", "restore it"),
    (A.RESTORE, "active", "nothing to restore"),
    (A.RESTORE, "deactive", "activate it"),
    (A.SUSPEND, "suspend", "already suspended"),
    (A.SUSPEND, "Suspended", "already suspended"),
    (A.SUSPEND, "deactive", "nothing to suspend"),
    (A.DEACTIVATE, "deactive", "already deactivated"),
]


@pytest.mark.parametrize(("action", "state", "said"), POINTLESS)
def test_pointless_actions_say_why(action: A, state: str, said: str) -> None:
    reason = state_conflict(action, state)
    assert reason is not None and said in reason


SENSIBLE = [
    (A.SUSPEND, "active"),
    (A.DEACTIVATE, "active"),
    (A.RESTORE, "suspend"),
    (A.DEACTIVATE, "suspend"),
    (A.ACTIVATE, "deactive"),
    (A.ACTIVATE, "pre-active"),
    (A.DEACTIVATE, "pre-active"),
    (A.SUSPEND, None),  # unknown state: ThingSpace decides
    (A.ACTIVATE, "pending resume"),
    (A.SUSPENSION_STATUS, "deactive"),
]


@pytest.mark.parametrize(("action", "state"), SENSIBLE)
def test_sensible_or_unknown_cases_are_left_to_thingspace(action: A, state: str | None) -> None:
    assert state_conflict(action, state) is None


def test_a_filter_whose_listed_lines_are_all_suspended_warns_that_each_will_fail() -> None:
    from m2m_tui.desk.actions import listed_conflicts

    note = listed_conflicts(A.SUSPEND, {"suspend": 11})
    assert note is not None and "all 11" in note and "already suspended" in note


def test_a_mixed_listing_counts_those_that_will_fail() -> None:
    from m2m_tui.desk.actions import listed_conflicts

    note = listed_conflicts(A.SUSPEND, {"active": 8, "suspend": 2, "deactive": 1})
    assert note is not None and "3 of the 11" in note
    assert "2 already suspended" in note and "1 deactivated" in note
    assert listed_conflicts(A.SUSPEND, {"active": 8}) is None
    assert listed_conflicts(A.RESTORE, {"suspend": 8}) is None
