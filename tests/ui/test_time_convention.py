"""Issue 12 point 9: one time convention on every screen, always labelled, UTC or local.

The same demo (fixed clock, seeded journal) is walked with ``time_zone = "utc"`` and with
``"local"`` (TZ=America/New_York): the card, the filter's rows, the request detail and the
inbox must all write every time with the same zone label, and the label follows the setting.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Input, Static

import m2m_tui.sim.wellknown as wk
from m2m_tui.sim.config import PRIMARY_ACCOUNT
from m2m_tui.ui.screens.filter import FilterScreen

from .conftest import lookup, make_demo_app, screen_name, wait_for
from .test_requests import STATUS_ID, open_requests, seed_journal

#: A time of day, and the word written after it.
TIME = re.compile(r"\b\d{2}:\d{2}(?::\d{2})?(?P<after>\S*)(?: (?P<label>[A-Z][A-Za-z+:0-9]*))?")


@pytest.fixture
def new_york(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def labels(text: str) -> list[str]:
    """The label after every time in ``text`` (``-05:00``/``Z`` suffixes count as wrong)."""
    found = []
    for match in TIME.finditer(text):
        found.append(match["after"] or match["label"] or "(none)")
    return found


def table_text(table: DataTable[Any]) -> str:
    return "\n".join(" | ".join(str(c) for c in table.get_row(key)) for key in table.rows)


async def walk_every_screen(pilot: Any) -> dict[str, str]:
    """The texts with times of each screen, as shown."""
    app = pilot.app
    shown: dict[str, str] = {}
    detail = await open_requests(pilot)  # logs in on the way
    detail.table.move_cursor(row=detail.table.get_row_index(STATUS_ID))
    await pilot.press("enter")
    await wait_for(pilot, lambda: screen_name(app) == "RequestDetailScreen")
    await wait_for(pilot, lambda: app.screen.data is not None)
    await wait_for(pilot, lambda: app.screen.query_one("#results", DataTable).row_count > 0)
    screen = app.screen
    shown["detail"] = "\n".join(
        [
            str(screen.query_one("#detail-summary", Static).render()),
            table_text(screen.query_one("#results", DataTable)),
            table_text(screen.query_one("#timeline", DataTable)),
        ]
    )
    await pilot.press("m")  # the Markdown ticket summary, copied
    await wait_for(pilot, lambda: app.clipboard.startswith("###"))
    # Our own times: submitted, updated, and each callback's arrival (the result column
    # quotes ThingSpace's values as sent).
    shown["ticket"] = "\n".join(
        line.split(" | ")[0] if line.startswith("| 2") else line
        for line in app.clipboard.splitlines()
        if line.startswith(("- Submitted", "- State", "| 2"))
    )
    await pilot.press("escape", "escape")
    await wait_for(pilot, lambda: screen_name(app) == "DevicesScreen")
    await lookup(pilot, wk.SUSPENDED_MDN)
    await wait_for(pilot, lambda: app.screen.device is not None)
    shown["card"] = str(app.screen.query_one("#card-body").render())
    await pilot.press("escape", "i")
    await wait_for(pilot, lambda: screen_name(app) == "CallbacksInboxScreen")
    inbox = app.screen.query_one("#inbox", DataTable)
    await wait_for(pilot, lambda: inbox.row_count > 0)
    shown["inbox"] = table_text(inbox)
    await pilot.press("escape", "escape", "f")
    await wait_for(pilot, lambda: isinstance(app.screen, FilterScreen))
    app.screen.query_one("#q-group", Input).value = f"Default: {PRIMARY_ACCOUNT}"
    await pilot.press("enter")
    rows = app.screen.query_one("#results", DataTable)
    await wait_for(pilot, lambda: rows.row_count > 0)
    shown["filter"] = table_text(rows)
    return shown


@pytest.mark.parametrize(
    ("zone", "allowed"),
    [("utc", {"UTC"}), ("local", {"EST", "EDT"})],  # summer dates: EDT
)
async def test_every_screen_writes_times_one_labelled_way(
    tmp_path: Path, new_york: None, zone: str, allowed: set[str]
) -> None:
    seed_journal(tmp_path / "d" / "journal.sqlite3")
    app = make_demo_app(tmp_path / "d")
    validated = app.settings.validated  # the demo's settings come validated
    assert validated is not None
    validated.config.time_zone = zone  # type: ignore[assignment]  # as config.toml gives it
    async with app.run_test(size=(120, 40)) as pilot:
        shown = await walk_every_screen(pilot)
    for name, text in shown.items():
        found = labels(text)
        assert found, f"{name} shows no time: {text!r}"
        assert set(found) <= allowed, f"{name}: {found} in {text!r}"
    # The same moments, written in the zone asked for (14:27 UTC is 09:27 EST).
    submitted = "2026-01-15 14:27:00 UTC" if zone == "utc" else "2026-01-15 09:27:00 EST"
    assert f"submitted {submitted}" in shown["detail"]


def test_time_zone_is_read_from_config_top_level_and_profile(tmp_path: Path) -> None:
    from m2m_tui.desk.settings import load_settings as load_config

    path = tmp_path / "config.toml"
    path.write_text(
        'time_zone = "local"\n'
        '[profiles.a]\nbase_url = "https://thingspace.verizon.com"\ntime_zone = "utc"\n'
        '[profiles.b]\nbase_url = "https://thingspace.verizon.com"\n'
    )
    loaded = load_config(path, environ={})
    assert loaded.config.time_zone == "local"
    assert loaded.config.profiles["a"].time_zone == "utc"
    assert loaded.config.profiles["b"].time_zone is None  # the top level's applies
    path.write_text('[profiles.c]\nbase_url = "https://x.example"\ntime_zone = "EST"\n')
    problems = load_config(path, environ={}).problems
    assert any("time_zone" in str(p) for p in problems)
