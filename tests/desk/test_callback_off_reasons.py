"""The reason and the advice the desk gives when no callback can reach the app fit the cause
(walk findings 7b and 8): no callback configured is not "free the address"; a port another
m2m-tui holds says how to follow that one, without Python's repr of the address."""

from __future__ import annotations

from pathlib import Path

from m2m_tui.desk.actions import DeviceTarget, RequestAction
from m2m_tui.desk.policy import Warned, can
from m2m_tui.desk.settings import CallbackSettings, Profile
from m2m_tui.desk.tracking import DeskTracking, checked_profile_settings
from m2m_tui.sim.wellknown import DEMO_MDN

from .desk_helpers import ACCOUNT, port_taken, settings

DEVICE = DeviceTarget(ACCOUNT, "mdn", DEMO_MDN)


async def _reason(tracking: DeskTracking) -> str:
    """The warning a suspension status request gets once ``tracking`` has started."""
    await tracking.start()
    try:
        return _warning(tracking)
    finally:
        await tracking.stop()


def _warning(tracking: DeskTracking) -> str:
    verdict = can(RequestAction.SUSPENSION_STATUS, DEVICE, read_only=False, reach=tracking.reach())
    assert isinstance(verdict, Warned), verdict
    return verdict.reason


async def test_no_callback_configured_says_add_one_not_free_the_address(tmp_path: Path) -> None:
    profile = Profile(account=ACCOUNT)  # no [callback] section at all
    tracked, problem = checked_profile_settings(profile, tmp_path / "journal.sqlite3")
    assert problem is None and tracked.listener is None
    reason = await _reason(DeskTracking(tracked, public_url=profile.callback.public_url))
    assert "no callback is configured" in reason, reason
    assert "Add callback.public_url" in reason, reason
    assert "Free or change" not in reason and "listen address" not in reason, reason


async def test_refused_callback_settings_are_not_called_unconfigured(tmp_path: Path) -> None:
    """A username without a password drops the listener: the profile HAS a callback."""
    callback = CallbackSettings(public_url="https://cb.example.com/m2m", username="tui")
    profile = Profile(account=ACCOUNT, callback=callback)
    tracked, problem = checked_profile_settings(profile, tmp_path / "journal.sqlite3")
    assert problem and tracked.listener is None
    reason = await _reason(DeskTracking(tracked, public_url=profile.callback.public_url))
    assert "callback settings were refused" in reason, reason
    assert "no callback is configured" not in reason and "Free or change" not in reason, reason


async def test_port_held_by_another_listener_says_follow_it(tmp_path: Path) -> None:
    with port_taken() as port:
        tracking = DeskTracking(settings(tmp_path / "journal.sqlite3", port))
        await tracking.start()
        try:
            notice = tracking.listener_error
            reason = _warning(tracking)
        finally:
            await tracking.stop()
    assert notice == (
        f"cannot listen on 127.0.0.1:{port}: another m2m-tui or `m2m-tui listen` holds this "
        "port; run one listener and start the UI with --journal PATH to follow it"
    )
    assert f"127.0.0.1:{port}: another m2m-tui or `m2m-tui listen` holds this port" in reason
    assert "--journal PATH" in reason and "Free or change" not in reason, reason
    assert "('127.0.0.1'" not in reason and "error while attempting" not in reason, reason
