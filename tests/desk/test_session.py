"""The session, headless against the simulator: the login guard that survives a restart
(issue 8, case 5), read-only from the settings (case 6), logout."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from m2m_tui.api.errors import LoginRejected
from m2m_tui.api.retry import RetryPolicy
from m2m_tui.desk.session import (
    ConfirmationNeeded,
    LoginGuard,
    LoginStep,
    PasswordAlreadyRejected,
    Session,
    guard_path,
)
from m2m_tui.desk.settings import Profile, load_settings
from m2m_tui.desk.times import Times
from m2m_tui.sim import RunningSimulator

FAST = RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02)


def profile_for(sim: RunningSimulator, password: str, **extra: object) -> Profile:
    cfg = sim.config
    return Profile(
        base_url=sim.base_url,
        account=cfg.primary_account,
        app_key=cfg.app_key,
        app_secret=SecretStr(cfg.app_secret),
        username=cfg.username,
        password=SecretStr(password),
        **extra,  # type: ignore[arg-type]
    )


def new_session(data: Path) -> Session:
    """What a restart gives: a new Session on the same data dir."""
    return Session(guard=LoginGuard(guard_path(data)), retry=FAST)


async def test_two_wrong_passwords_restart_third_is_refused_until_confirmed(
    sim: RunningSimulator, tmp_path: Path
) -> None:
    wrong = profile_for(sim, "wrong")
    first = new_session(tmp_path)
    for attempt in (1, 2):
        with pytest.raises(LoginRejected) as rejected:
            await first.login("acme", profile_for(sim, f"wrong-{attempt}"))
        assert f"attempt {attempt};" in rejected.value.hint
    await first.aclose()

    second = new_session(tmp_path)  # the app was restarted
    with pytest.raises(ConfirmationNeeded) as asked:
        await second.login("acme", wrong)
    assert sim.state.login_failures == 2  # nothing was sent
    text = asked.value.text
    assert "2 login(s)" in text and sim.config.username in text
    assert "locks the user after 5 failed attempts (3 left)" in text
    assert "ONE more attempt" in text

    # Confirmed: exactly one more attempt goes out, and the next needs a yes again.
    with pytest.raises(LoginRejected) as rejected:
        await second.login("acme", wrong, confirmed=True)
    assert sim.state.login_failures == 3 and "attempt 3;" in rejected.value.hint
    with pytest.raises(ConfirmationNeeded) as asked:
        await second.login("acme", profile_for(sim, "wrong-4"))
    assert "3 login(s)" in asked.value.text and "(2 left)" in asked.value.text
    assert sim.state.login_failures == 3
    await second.aclose()


async def test_a_successful_login_clears_the_count(sim: RunningSimulator, tmp_path: Path) -> None:
    first = new_session(tmp_path)
    for attempt in range(2):
        with pytest.raises(LoginRejected):
            await first.login("acme", profile_for(sim, f"wrong-{attempt}"))
    right = profile_for(sim, sim.config.password)
    steps: list[LoginStep] = []
    await first.login("acme", right, confirmed=True, on_step=steps.append)
    assert first.logged_in and first.profile is right and first.account == right.account
    assert [(s.index, s.state) for s in steps] == [(0, "running"), (0, "ok"), (1, "running"),
                                                   (1, "ok")]  # fmt: skip
    await first.logout()
    assert not first.logged_in
    await first.aclose()

    again = new_session(tmp_path)
    again.check_guard(right)  # no question after a restart either
    assert again.failed_logins(right) == 0


async def test_the_guard_is_per_base_url_and_user_private_and_holds_no_secret(
    sim: RunningSimulator, tmp_path: Path
) -> None:
    session = new_session(tmp_path)
    for attempt in range(2):
        with pytest.raises(LoginRejected):
            await session.login("acme", profile_for(sim, f"wrong-pass-12{attempt}"))
    await session.aclose()
    other_user = profile_for(sim, "x").model_copy(update={"username": "someone_else"})
    other_host = profile_for(sim, "x").model_copy(update={"base_url": "http://127.0.0.1:1"})
    new_session(tmp_path).check_guard(other_user)
    new_session(tmp_path).check_guard(other_host)
    with pytest.raises(ConfirmationNeeded):
        new_session(tmp_path).check_guard(profile_for(sim, "x"))
    file = guard_path(tmp_path)
    assert stat.S_IMODE(os.stat(file).st_mode) == 0o600
    text = file.read_text()
    for secret in ("wrong-pass-120", "wrong-pass-121", sim.config.app_secret, sim.config.app_key):
        assert secret not in text


def test_the_guard_lives_in_the_app_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("M2M_TUI_DATA_DIR", str(tmp_path / "data"))
    assert Session().guard.path == tmp_path / "data" / "login-guard.json"


def test_a_broken_guard_file_never_blocks_a_login(tmp_path: Path) -> None:
    guard = LoginGuard(guard_path(tmp_path))
    guard.path.write_text("{not json")
    assert guard.failures("https://x", "u") == []
    assert guard.record_failure("https://x", "u", 1.0) == 1


async def test_read_only_from_env_reaches_the_session(
    sim: RunningSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[profiles.acme]\nbase_url = "{sim.base_url}"\napp_key = "{sim.config.app_key}"\n'
        f'username = "{sim.config.username}"\naccount = "{sim.config.primary_account}"\n'
    )
    monkeypatch.setenv("M2M_TUI_READ_ONLY", "on")
    monkeypatch.setenv("M2M_TUI_APP_SECRET", sim.config.app_secret)
    monkeypatch.setenv("M2M_TUI_PASSWORD", sim.config.password)
    name, profile = load_settings(config).profile(None)  # type: ignore[misc]
    session = new_session(tmp_path)
    assert session.read_only_for(profile) and not session.read_only
    await session.login(name, profile)
    assert session.read_only and session.profile_name == "acme"
    await session.aclose()


def test_an_unwritable_data_dir_still_guards_this_run(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    guard = LoginGuard(blocker / "login-guard.json")
    for when in (1.0, 2.0):
        guard.record_failure("https://x", "u", when)
    assert guard.failures("https://x", "u") == [1.0, 2.0]
    guard.clear("https://x", "u")
    assert guard.failures("https://x", "u") == []


def test_the_limit_named_is_the_api_layers() -> None:
    from m2m_tui.api.errors import LOCKOUT_LIMIT
    from m2m_tui.desk import session

    assert session.LOCKOUT_LIMIT == LOCKOUT_LIMIT == 5


async def test_an_unchanged_rejected_password_is_not_sent_again(
    sim: RunningSimulator, tmp_path: Path
) -> None:
    """Walk finding 5: the same rejected password, submitted again, never reaches ThingSpace
    (nor the guard's count) until the password or the user changes."""
    session = new_session(tmp_path)
    with pytest.raises(LoginRejected):
        await session.login("acme", profile_for(sim, "wrongpass1"))
    for _ in range(3):
        with pytest.raises(PasswordAlreadyRejected) as refused:
            await session.login("acme", profile_for(sim, "wrongpass1"))
    assert sim.state.login_failures == 1 and session.failed_logins(profile_for(sim, "x")) == 1
    assert "already rejected" in str(refused.value) and "change the password" in str(refused.value)
    assert "wrongpass1" not in str(refused.value)
    with pytest.raises(LoginRejected):  # a changed password is sent
        await session.login("acme", profile_for(sim, "wrongpass2"))
    assert sim.state.login_failures == 2
    other_user = profile_for(sim, "wrongpass2").model_copy(update={"username": "someone_else"})
    with pytest.raises(LoginRejected):  # so is the same password for another user
        await session.login("acme", other_user)
    await session.login("acme", profile_for(sim, sim.config.password), confirmed=True)
    assert session.logged_in
    await session.aclose()


def test_the_guard_question_labels_the_time_of_the_last_failure(tmp_path: Path) -> None:
    """Walk finding 14: ``(last at 2026-12-01 16:29)`` had no zone (and was local time)."""
    failed_at = 1_795_000_000.0  # 2026-11-18 11:06:40 UTC
    question = ConfirmationNeeded("https://ts", "u", [failed_at - 60, failed_at], Times("utc"))
    assert "(last at 2026-11-18 11:06 UTC)" in question.text
    guard = LoginGuard(guard_path(tmp_path))
    for when in (failed_at - 60, failed_at):
        guard.record_failure("https://ts", "u", when)
    session = Session(guard=guard)
    with pytest.raises(ConfirmationNeeded) as asked:
        session.check_guard(Profile(base_url="https://ts", username="u"))
    assert "(last at 2026-11-18 11:06 UTC)" in asked.value.text
