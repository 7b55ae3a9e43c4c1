"""Theme files: ``themes/*.toml``, each one Textual ``Theme``, shipped ones and the user's.

Shipped themes come from ``m2m_tui/themes`` inside the wheel (hatch force-includes the
repository's top-level ``themes/`` there) or, in a source checkout, from ``themes/`` beside the
package. User themes come from ``<config dir>/themes`` and may replace a shipped one by name.
A broken file is skipped; all problems are returned together so the app shows one warning.

Every value is checked with Textual's own parsers (``Color.parse`` for the colour fields, the
CSS declaration parser for ``[variables]``), never with a looser rule of ours: a theme that
passed a looser check once reached Textual at paint time and killed the app (issue 12).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.color import Color, ColorParseError
from textual.css.parse import parse_declarations
from textual.css.tokenize import tokenize_values
from textual.theme import Theme

import m2m_tui

if TYPE_CHECKING:
    from textual.app import App

DEFAULT_THEME = "m2m-dark"
_COLOR_FIELDS = (
    "primary",
    "secondary",
    "warning",
    "error",
    "success",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
)
_OTHER_FIELDS = {"name", "dark", "luminosity_spread", "text_alpha", "variables", "ansi"}

#: Our own theme variables, beyond Textual's: name -> the CSS property its value must fit.
#: ``m2m-border-idle`` draws the border of a panel without focus; it defaults to the theme's
#: primary at 50%, which on a black background is too dark to see (the high-contrast theme
#: sets its own).
APP_VARIABLES = {"m2m-border-idle": "color"}


def app_variable_defaults(theme: Theme) -> dict[str, str]:
    """Our variables' values for a theme that does not set them, derived from its colours."""
    return {"m2m-border-idle": f"{theme.primary} 50%"}


@dataclass
class ThemeLoad:
    themes: list[Theme] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def builtin_theme_dirs() -> list[Path]:
    """The wheel's ``m2m_tui/themes`` first, then the checkout's top-level ``themes/``."""
    package = Path(m2m_tui.__file__).parent
    candidates = [package / "themes", package.parent / "themes"]
    return [d for d in candidates if d.is_dir()][:1]


def _check_color(value: Any, where: str) -> str:
    """Textual's ``Color.parse``, as ``Theme`` uses it: "#FFFFFF 10%" is CSS, not a colour."""
    if not isinstance(value, str):
        raise ValueError(f"{where}: expected a colour string")
    text = value.strip()
    try:
        Color.parse(text)
    except ColorParseError as exc:
        raise ValueError(f"{where}: {value!r} is not a colour Textual can parse ({exc})") from None
    return text


#: The CSS properties a variable's value is checked against, by what Textual's own value of
#: that variable parses as (``$text`` is "auto 87%", a colour; ``$link-style`` a text style).
_PROBE_PROPERTIES = ("color", "text-style")


def _plain(message: object) -> str:
    """Textual's CSS errors carry Rich markup ("[i]color[/]"): shown as plain text."""
    try:
        return Text.from_markup(str(message)).plain
    except Exception:  # not markup after all
        return str(message)


def _declaration_error(prop: str, value: str, why: bool = True) -> str | None:
    """Why Textual refuses ``prop: value`` (None: it does not). ``why=False`` skips rendering
    the reason (Rich markup: its emoji table alone costs milliseconds before the first frame)."""
    try:
        parse_declarations(f"{prop}: {value};", ("theme", ""))
    except Exception as exc:  # DeclarationError, TokenError, ...: any refusal counts
        return (_plain(exc) or type(exc).__name__) if why else type(exc).__name__
    return None


@cache
def _default_variables() -> dict[str, str]:
    """Textual's own theme variables and their values (one theme's, the names are fixed)."""
    return Theme(name="probe", primary="#0178D4").to_color_system().generate()


@cache
def _variable_property(name: str) -> str | None:
    """The CSS property Textual's default value of variable ``name`` fits (None: unknown).

    Probed per name, only for the variables theme files set: probing all 170 would cost
    tens of milliseconds before the first frame.
    """
    if name in APP_VARIABLES:
        return APP_VARIABLES[name]
    default = _default_variables().get(name)
    if default is None:
        return None
    for prop in _PROBE_PROPERTIES:
        if _declaration_error(prop, default, why=False) is None:
            return prop
    return None


def _check_variable(name: str, value: str) -> None:
    """A variable Textual defines must parse where its default does; others must tokenize."""
    prop = _variable_property(name)
    if prop is not None:
        problem = _declaration_error(prop, value)
    else:
        try:
            tokenize_values({name: value})
            problem = None
        except Exception as exc:
            problem = _plain(exc) or type(exc).__name__
    if problem is not None:
        raise ValueError(f"variables.{name}: {value!r} is refused by Textual: {problem}")


def theme_problem(theme: Theme) -> str | None:
    """Why Textual could not apply ``theme``, or None: what the app checks before switching."""
    try:
        theme.to_color_system().generate()
        for name, value in theme.variables.items():
            _check_variable(name, value)
    except Exception as exc:  # a theme must never stop the app, whatever Textual raises
        return _plain(exc) or type(exc).__name__
    return None


def checked_theme(app: App[Any], theme_name: str) -> str:
    """``App.validate_theme``: the theme, or the default one (with a warning) when Textual
    could not apply it, so switching to a broken theme never stops the app."""
    theme = app.get_theme(theme_name)
    problem = theme_problem(theme) if theme is not None else None
    if problem is None or theme_name == DEFAULT_THEME:
        return theme_name
    app.unregister_theme(theme_name)
    app.notify(
        f"{theme_name}: {problem}; using {DEFAULT_THEME}",
        title="Theme skipped",
        severity="warning",
        timeout=10,
        markup=False,
    )
    return DEFAULT_THEME


def theme_from_mapping(data: dict[str, Any], fallback_name: str) -> Theme:
    """Validate one theme table and build the Textual ``Theme``; ValueError says what is wrong."""
    unknown = set(data) - set(_COLOR_FIELDS) - _OTHER_FIELDS
    if unknown:
        raise ValueError(f"unknown field(s): {', '.join(sorted(unknown))}")
    name = data.get("name", fallback_name)
    if not isinstance(name, str) or not name.strip():
        raise ValueError("name: expected a non-empty string")
    if "primary" not in data:
        raise ValueError("primary: required")
    colors = {key: _check_color(data[key], key) for key in _COLOR_FIELDS if key in data}
    variables = data.get("variables", {})
    if not isinstance(variables, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in variables.items()
    ):
        raise ValueError("variables: expected a table of strings")
    dark = data.get("dark", True)
    if not isinstance(dark, bool):
        raise ValueError("dark: expected true or false")
    extra: dict[str, Any] = {}
    for key in ("luminosity_spread", "text_alpha"):
        if key in data:
            if not isinstance(data[key], int | float):
                raise ValueError(f"{key}: expected a number")
            extra[key] = float(data[key])
    if "ansi" in data:
        extra["ansi"] = bool(data["ansi"])
    for key, value in variables.items():
        _check_variable(key, value)
    # Every colour went through Color.parse and every variable through the CSS parser: what
    # theme_problem() checks, without generating the whole colour system before first paint.
    fields: dict[str, Any] = {**colors, **extra}
    return Theme(name=name.strip(), dark=dark, variables=dict(variables), **fields)


def load_theme_file(path: Path) -> Theme:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"not valid TOML: {exc}") from None
    except OSError as exc:
        raise ValueError(f"cannot read: {exc.strerror or exc}") from None
    return theme_from_mapping(data, path.stem)


def load_themes(user_dir: Path | None = None, builtin_dirs: list[Path] | None = None) -> ThemeLoad:
    """Every theme file, shipped then user; later files replace earlier ones of the same name."""
    result = ThemeLoad()
    by_name: dict[str, Theme] = {}
    dirs = list(builtin_theme_dirs() if builtin_dirs is None else builtin_dirs)
    if user_dir is not None:
        dirs.append(user_dir)
    for directory in dirs:
        try:
            files = sorted(directory.glob("*.toml"))
        except OSError:
            continue
        for path in files:
            try:
                theme = load_theme_file(path)
            except ValueError as exc:
                result.problems.append(f"{path}: {exc}")
                continue
            by_name[theme.name] = theme
    result.themes = list(by_name.values())
    return result


def fallback_theme() -> Theme:
    """Used when no shipped theme file can be read at all (a broken install)."""
    return Theme(
        name=DEFAULT_THEME,
        primary="#4FA3E0",
        secondary="#7E9CD8",
        accent="#E5A04B",
        warning="#E5C07B",
        error="#E06C75",
        success="#7FC77F",
        foreground="#D8DEE9",
        background="#16191F",
        surface="#1E232B",
        panel="#262C36",
        dark=True,
    )
