"""Each rule of ``can(action, target)``, as the engineer meets it."""

from __future__ import annotations

import pytest

from m2m_tui.desk.actions import DeviceTarget, FilterTarget, RequestAction
from m2m_tui.desk.policy import Allowed, CallbackReach, Refused, Warned, can

DEVICE = DeviceTarget("acct", "imei", "359876543210987")
FILTER = FilterTarget("acct", plan="M2MPLAN3G")
OURS = "https://tui.example.net/cb"
LISTENING = CallbackReach(listening=True, our_urls=frozenset({OURS}))
NOTHING = CallbackReach(why_not="the callback listener is off")
STATE_CHANGES = [a for a in RequestAction if a.changes_state]


@pytest.mark.parametrize("action", STATE_CHANGES)
def test_read_only_refuses_every_state_change_with_the_reason(action: RequestAction) -> None:
    for target in (DEVICE, FILTER):
        verdict = can(action, target, read_only=True, reach=LISTENING)
        assert isinstance(verdict, Refused) and "read-only mode" in verdict.reason
        # Every way it can be switched on is named, so the user finds which one to undo.
        for source in ("--read-only", "M2M_TUI_READ_ONLY", "read_only = true"):
            assert source in verdict.reason


def test_read_only_still_reads_the_suspension_status() -> None:
    verdict = can(RequestAction.SUSPENSION_STATUS, DEVICE, read_only=True, reach=LISTENING)
    assert isinstance(verdict, Allowed)


@pytest.mark.parametrize("action", STATE_CHANGES)
def test_single_device_provisioning_finishes_by_poll_without_callbacks(
    action: RequestAction,
) -> None:
    assert isinstance(can(action, DEVICE, read_only=False, reach=NOTHING), Allowed)


@pytest.mark.parametrize(
    ("action", "target"),
    [(RequestAction.SUSPENSION_STATUS, DEVICE), (RequestAction.SUSPENSION_STATUS, FILTER)]
    + [(a, FILTER) for a in STATE_CHANGES],
)
def test_callback_only_without_any_callback_path_is_warned(
    action: RequestAction, target: DeviceTarget | FilterTarget
) -> None:
    verdict = can(action, target, read_only=False, reach=NOTHING)
    assert isinstance(verdict, Warned)
    assert "no callback can reach this app: the callback listener is off" in verdict.reason
    assert "timed out" in verdict.reason  # what happens if sent anyway
    assert "--journal" in verdict.reason  # and what to do instead


def test_callback_only_while_following_a_journal_is_allowed() -> None:
    following = CallbackReach(following=True)
    verdict = can(RequestAction.SUSPENSION_STATUS, DEVICE, read_only=False, reach=following)
    assert isinstance(verdict, Allowed)


def test_callback_only_with_the_registration_unknown_is_allowed() -> None:
    verdict = can(RequestAction.SUSPEND, FILTER, read_only=False, reach=LISTENING)
    assert isinstance(verdict, Allowed)


@pytest.mark.parametrize("registered", [OURS, OURS + "/", OURS + "/carrierservice"])
def test_callback_only_registered_to_us_is_allowed(registered: str) -> None:
    reach = CallbackReach(
        listening=True, our_urls=frozenset({OURS}), registered={"CarrierService": registered}
    )
    assert isinstance(can(RequestAction.RESTORE, FILTER, read_only=False, reach=reach), Allowed)


@pytest.mark.parametrize(
    ("registered", "said"),
    [
        ("https://customer.example/hook", "go to https://customer.example/hook"),
        (None, "no DeviceSuspensionStatus callback URL is registered"),
    ],
)
def test_callback_only_registered_elsewhere_or_nowhere_is_warned(
    registered: str | None, said: str
) -> None:
    reach = CallbackReach(
        listening=True,
        our_urls=frozenset({OURS}),
        registered={"DeviceSuspensionStatus": registered, "CarrierService": OURS},
    )
    verdict = can(RequestAction.SUSPENSION_STATUS, DEVICE, read_only=False, reach=reach)
    assert isinstance(verdict, Warned) and said in verdict.reason
    # The other service is registered to us: its callback-only requests are fine.
    assert isinstance(can(RequestAction.SUSPEND, FILTER, read_only=False, reach=reach), Allowed)
