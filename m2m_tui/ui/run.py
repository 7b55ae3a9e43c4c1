"""Start the app: the normal one from the user's config, or the demo in a private folder."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from m2m_tui.desk.demo import DemoSetup
from m2m_tui.desk.settings_files import SettingsFiles, read_files
from m2m_tui.desk.settings_state import team_journal
from m2m_tui.locate import ENV_PREFIX, user_themes_dir
from m2m_tui.tracking.journal.interface import is_postgres
from m2m_tui.ui.app import AppOptions, M2MApp

if TYPE_CHECKING:
    from m2m_tui.desk.settings import LoadedSettings


def build_options(
    args: argparse.Namespace, loaded: LoadedSettings | SettingsFiles | None = None
) -> AppOptions:
    """The options the command line asks for (also used by tests and the benchmark).

    Without ``loaded`` the files are read here, once, without pydantic: the first frame shows
    their profile names, and the app validates that same reading right after painting (a
    profile naming a team journal is validated here: :func:`.settings_state.team_journal`).
    """
    wanted = getattr(args, "profile", None) or os.environ.get(ENV_PREFIX + "PROFILE") or None
    settings = loaded or read_files()
    given: str | None = getattr(args, "journal", None)
    if given is None:  # the profile's team journal (issue 11), when it names one
        given, settings = team_journal(settings, wanted)
    # a file stays a Path; a team's postgresql:// URL is handed on whole (libpq parses it)
    journal = None if given is None else given if is_postgres(given) else Path(given)
    return AppOptions(
        loaded=settings,
        profile=wanted,
        read_only=bool(getattr(args, "read_only", False)),
        journal=journal,
        follow=journal is not None,
        user_themes=user_themes_dir(),
    )


def demo_options(args: argparse.Namespace, folder: Path) -> AppOptions:
    """The demo never reads or writes the user's config, themes, journal or login guard."""
    from m2m_tui.desk.demo import demo_account
    from m2m_tui.desk.settings import LoadedSettings, Profile, Settings

    demo_profile = Profile(base_url="http://127.0.0.1", environment="demo", account=demo_account())
    loaded = LoadedSettings(Settings(profiles={"demo": demo_profile}), folder / "config.toml")
    return AppOptions(
        loaded=loaded,
        profile="demo",
        read_only=bool(getattr(args, "read_only", False)),
        demo=DemoSetup(folder=folder),
        journal=folder / "journal.sqlite3",
        persist_settings=False,
        data_dir=folder,
    )


def _run(app: M2MApp, args: argparse.Namespace) -> int:
    app.run(mouse=not getattr(args, "no_mouse", False))
    code = app.return_code
    return int(code) if code is not None else 0


def run_tui(args: argparse.Namespace) -> int:
    """``m2m-tui`` without a subcommand."""
    return _run(M2MApp(build_options(args)), args)


def run_demo_app(args: argparse.Namespace, folder: Path) -> int:
    return _run(M2MApp(demo_options(args, folder)), args)
