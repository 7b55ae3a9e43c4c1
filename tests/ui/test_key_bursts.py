"""Keys typed in one burst land where the user meant them (a walk finding).

A password manager's auto-type, or a fast typist pasting ``/5551230102``, sends a focus key and
the text after it in one read from the terminal. Textual forwards each key to the widget focused
*when the app reads it*, and a non-priority binding runs only after the focused widget let the
key bubble back: by then the keys after it were already forwarded to the old widget. So a Tab
between fields, or the ``/`` that leaves the card for the identifier, must be handled when the
app reads it (a priority binding) and move the focus at once (``Screen.set_focus``).

The keys are posted to the app exactly as the terminal driver posts them: all at once, before
the app handles the first. ``Pilot.press`` would wait between keys and hide the problem.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import events
from textual.widgets import Input

from m2m_tui.sim import RunningSimulator
from m2m_tui.sim import wellknown as wk

from .conftest import (
    SIZE,
    login,
    lookup,
    make_app,
    screen_name,
    sim_profile_toml,
    wait_for,
    write_config,
)


def burst(app: Any, keys: str | list[str]) -> None:
    """Post every key to the app at once, as the terminal driver does for one read."""
    for key in keys:
        character = {"tab": "\t", "slash": "/"}.get(key, key if len(key) == 1 else None)
        app.post_message(events.Key(key, character))


def acme_app(sim: RunningSimulator, home: Path) -> Any:
    """An app with a profile for the simulator, its secrets saved: login needs no typing."""
    write_config(home, sim_profile_toml(sim))
    secrets = home / "config" / "secrets.toml"
    secrets.write_text(
        f'[profiles.acme]\napp_secret = "{sim.config.app_secret}"\n'
        f'password = "{sim.config.password}"\n'
    )
    secrets.chmod(0o600)
    return make_app(home, profile="acme")


async def test_tabs_in_one_burst_move_between_the_login_fields(isolated_home: Path) -> None:
    app = make_app(isolated_home)
    async with app.run_test(size=SIZE) as pilot:
        base_url = app.screen.query_one("#f-base_url", Input)
        await wait_for(pilot, lambda: base_url.has_focus)
        burst(app, ["h", "t", "tab", "k", "1", "tab", "s", "2", "tab", "u"])
        fields = [app.screen.query_one(f"#f-{key}", Input) for key in ("app_key", "username")]
        await wait_for(pilot, lambda: fields[1].value == "u")
        assert base_url.value == "ht"
        assert fields[0].value == "k1"
        assert app.screen.query_one("#f-app_secret", Input).value == "s2"


async def test_slash_and_an_identifier_in_one_burst_go_to_the_identifier(
    sim: RunningSimulator, isolated_home: Path
) -> None:
    app = acme_app(sim, isolated_home)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, password=None)
        await lookup(pilot, wk.DEMO_MDN)
        await pilot.press("escape")  # keys act on the card: 1-9 would open recent devices
        identifier = app.screen.query_one("#identifier", Input)
        await wait_for(pilot, lambda: not identifier.has_focus)
        burst(app, ["slash", *"5551230102"])
        await wait_for(pilot, lambda: identifier.value == "5551230102")
        assert identifier.has_focus
        assert screen_name(app) == "DevicesScreen"  # no recent-devices dialog opened by "1"


async def test_an_identifier_typed_without_slash_on_a_card_is_typed_not_jumped(
    sim: RunningSimulator, isolated_home: Path
) -> None:
    """A walk finding: an ICCID typed on the card (no "/") opened recent devices 1-9."""
    app = acme_app(sim, isolated_home)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, password=None)
        await lookup(pilot, wk.SUSPENDED_MDN)
        await lookup(pilot, wk.DEMO_MDN)
        await pilot.press("escape")
        identifier = app.screen.query_one("#identifier", Input)
        await wait_for(pilot, lambda: not identifier.has_focus)
        burst(app, list(wk.PREACTIVE_ICCID))
        await wait_for(pilot, lambda: identifier.value == wk.PREACTIVE_ICCID)
        assert identifier.has_focus and app.screen.target.id == wk.DEMO_MDN


async def test_an_identifier_typed_on_a_short_recent_list_is_typed_not_opened(
    sim: RunningSimulator, isolated_home: Path
) -> None:
    """A walk finding: on a one-line recent list, '5551230101' typed without '/' dropped
    '555', opened recent device 1, and typed the rest beside it."""
    app = acme_app(sim, isolated_home)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, password=None)
        await lookup(pilot, wk.DEMO_MDN)
        # Logged out and in again: the card lists that one device, as line 1.
        await pilot.press("escape", "L")
        await wait_for(pilot, lambda: screen_name(app) == "LoginScreen")
        await login(pilot, password=None)
        await wait_for(pilot, lambda: app.screen.listing_recent)
        await pilot.press("escape")
        identifier = app.screen.query_one("#identifier", Input)
        await wait_for(pilot, lambda: not identifier.has_focus)
        burst(app, list("5551230101"))
        await wait_for(pilot, lambda: identifier.value == "5551230101")
        assert app.screen.device is None  # recent device 1 was not opened
