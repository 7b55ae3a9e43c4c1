"""Every shipped theme starts the app and can be switched to; a broken theme never stops it.

Checked with Textual's own parser: a theme Textual would refuse at paint time (e.g. the old
``boost = "#FFFFFF 10%"``) is reported and skipped when the files are read.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from textual.color import Color
from textual.theme import Theme

from m2m_tui.ui.themes import (
    app_variable_defaults,
    builtin_theme_dirs,
    load_theme_file,
    load_themes,
)

from .conftest import SIZE, make_app, wait_for
from .toasts import toasts_so_far


def shipped_theme_names() -> list[str]:
    (directory,) = builtin_theme_dirs()
    return sorted(
        tomllib.loads(path.read_text(encoding="utf-8")).get("name", path.stem)
        for path in directory.glob("*.toml")
    )


SHIPPED = shipped_theme_names()


def test_every_shipped_theme_file_passes_textuals_parser() -> None:
    (directory,) = builtin_theme_dirs()
    for path in sorted(directory.glob("*.toml")):
        theme = load_theme_file(path)
        theme.to_color_system().generate()  # what Textual does when the theme is applied
    loaded = load_themes(user_dir=None)
    assert loaded.problems == []
    assert {"m2m-dark", "m2m-light", "m2m-high-contrast"} <= {t.name for t in loaded.themes}


@pytest.mark.parametrize("name", SHIPPED)
async def test_app_starts_with_each_shipped_theme(
    name: str, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("M2M_TUI_THEME", name)
    app = make_app(isolated_home)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        shown = await toasts_so_far(pilot)
        assert app.theme == name
        assert app.is_running
        assert not [t for t in shown if t.title == "Theme files skipped"]


@pytest.mark.parametrize("name", SHIPPED)
async def test_switching_to_each_shipped_theme(name: str, isolated_home: Path) -> None:
    app = make_app(isolated_home)
    async with app.run_test(size=SIZE) as pilot:
        first = "m2m-light" if name != "m2m-light" else "m2m-dark"
        app.theme = first
        await pilot.pause()
        app.theme = name
        await pilot.pause()
        await pilot.press("tab")  # a repaint in the new theme
        await pilot.pause()
        assert app.theme == name
        assert app.is_running
        await wait_for(pilot, lambda: app.screen.styles.background is not None)


@pytest.mark.parametrize(
    "line",
    [
        'boost = "#FFFFFF 10%"',  # the shipped file's old mistake: Textual has no "colour N%"
        'surface = "#12345"',
        'panel = "rgb(1, 2)"',
    ],
)
async def test_a_theme_textual_rejects_is_reported_and_skipped(
    line: str, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    themes = isolated_home / "config" / "themes"
    themes.mkdir(parents=True)
    (themes / "odd.toml").write_text(f'name = "odd"\nprimary = "#00D7FF"\n{line}\n')
    monkeypatch.setenv("M2M_TUI_THEME", "odd")
    app = make_app(isolated_home)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        shown = await toasts_so_far(pilot)
        assert app.is_running
        assert "odd" not in app.available_themes
        assert app.theme == "m2m-dark"
        warnings = [t for t in shown if t.title == "Theme files skipped"]
        assert len(warnings) == 1 and "odd.toml" in warnings[0].message
        assert warnings[0].severity == "warning"


async def test_a_theme_variable_textual_rejects_is_reported_and_skipped(
    isolated_home: Path,
) -> None:
    themes = isolated_home / "config" / "themes"
    themes.mkdir(parents=True)
    (themes / "odd.toml").write_text(
        'name = "odd"\nprimary = "#00D7FF"\n[variables]\n"footer-key-foreground" = "yelow 5"\n'
    )
    app = make_app(isolated_home)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        shown = await toasts_so_far(pilot)
        assert "odd" not in app.available_themes
        warnings = [t for t in shown if t.title == "Theme files skipped"]
        assert len(warnings) == 1 and "footer-key-foreground" in warnings[0].message


async def test_switching_to_a_theme_textual_cannot_apply_keeps_the_app_running(
    isolated_home: Path,
) -> None:
    """A theme registered some other way than our files (a plugin, a later Textual) too."""
    app = make_app(isolated_home)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        app.register_theme(Theme(name="odd", primary="#00D7FF", boost="#FFFFFF 10%"))
        app.theme = "odd"
        await pilot.pause()
        await pilot.press("tab")
        shown = await toasts_so_far(pilot)
        assert app.is_running
        assert app.theme == "m2m-dark"
        assert "odd" not in app.available_themes
        skipped = [t for t in shown if t.title == "Theme skipped"]
        assert len(skipped) == 1 and "#FFFFFF 10%" in skipped[0].message


def _contrast(a: Color, b: Color) -> float:
    """WCAG contrast ratio of two opaque colours."""

    def luminance(c: Color) -> float:
        def channel(v: int) -> float:
            s = v / 255
            return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

        return 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b)

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


async def test_high_contrast_borders_without_focus_are_plainly_visible(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The walk found unfocused panels drawn dark teal on black (primary at 50%)."""
    monkeypatch.setenv("M2M_TUI_THEME", "m2m-high-contrast")
    app = make_app(isolated_home)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        panels = [app.screen.query_one(sel) for sel in ("#profiles", "#login-form")]
        idle = [panel for panel in panels if not panel.has_focus_within]
        assert idle, "one of the login panels is without focus"
        for panel in idle:
            background = panel.background_colors[0]
            _kind, colour = panel.styles.border_top
            shown = background + colour  # the border as painted over what is behind it
            assert _contrast(shown, background) >= 4.5, (panel.id, shown.hex)


def test_a_theme_sets_the_idle_border_or_gets_its_primary_at_half(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text('name = "mine"\nprimary = "#112233"\n[variables]\n"m2m-border-idle" = "no"\n')
    loaded = load_themes(user_dir=tmp_path, builtin_dirs=[])
    assert [p for p in loaded.problems if "m2m-border-idle" in p], loaded.problems
    assert app_variable_defaults(Theme(name="x", primary="#112233")) == {
        "m2m-border-idle": "#112233 50%"
    }
