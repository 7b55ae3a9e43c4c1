"""Start the app: the normal one from the user's config, or the demo in a private folder."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from m2m_tui.desk.settings_files import SettingsFiles, read_files
from m2m_tui.desk.settings_state import ENV_PROFILE, SettingsState, team_journal
from m2m_tui.locate import ENV_PREFIX, user_themes_dir
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
    journal: str | Path | None = None
    if given is not None:  # the journal's modules only when one is named (not for 1st frame)
        from m2m_tui.tracking.journal.interface import is_postgres

        # a file stays a Path; a team's postgresql:// URL is handed on whole (libpq parses it)
        journal = given if is_postgres(given) else Path(given)
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
    from m2m_tui.desk.demo import DemoSetup, demo_account
    from m2m_tui.desk.settings import LoadedSettings, Profile, Settings

    demo_profile = Profile(base_url="http://127.0.0.1", environment="demo", account=demo_account())
    loaded = LoadedSettings(Settings(profiles={"demo": demo_profile}), folder / "config.toml")
    return AppOptions(
        loaded=loaded,
        profile="demo",
        # The demo reads no config file, but the safety switch in the environment holds there
        # too: a walk suspended a line in the demo with M2M_TUI_READ_ONLY=on.
        read_only=bool(getattr(args, "read_only", False)) or env_read_only(),
        demo=DemoSetup(folder=folder),
        journal=folder / "journal.sqlite3",
        persist_settings=False,
        data_dir=folder,
    )


def env_read_only(environ: Mapping[str, str] | None = None) -> bool:
    """``M2M_TUI_READ_ONLY`` as the settings read it (on, y, yes, 1, true ...).

    A value pydantic cannot read as a yes or a no counts as yes: it is a safety switch.
    """
    from pydantic import TypeAdapter, ValidationError

    value = (os.environ if environ is None else environ).get(ENV_PREFIX + "READ_ONLY")
    if value is None or not value.strip():
        return False
    try:
        return TypeAdapter(bool).validate_python(value.strip())
    except ValidationError:
        return True


def unknown_profile(options: AppOptions) -> str | None:
    """Why ``--profile``/``M2M_TUI_PROFILE`` cannot be used (None: it can).

    A name the config does not hold used to open the default profile without a word: a typo
    between a test and a production profile put the engineer on the wrong account. With no
    profile at all (a first run) the name is the new profile's, as before.
    """
    wanted = options.profile
    if not wanted or wanted == ENV_PROFILE:
        return None
    state = SettingsState(options.loaded)
    names = state.profile_names()
    if not names or wanted in names:
        return None
    return (
        f"m2m-tui: no profile {wanted!r} in {state.path} (profiles: {', '.join(names)}). "
        "Start without --profile and press ctrl+n to make a new one."
    )


def _run(app: M2MApp, args: argparse.Namespace) -> int:
    # What is imported and built by now lives as long as the app: the collector need not walk
    # it again. Before the first frame it did once, a full collection of ~35 ms (issue 8).
    gc.freeze()
    app.run(mouse=not getattr(args, "no_mouse", False))
    code = app.return_code
    return int(code) if code is not None else 0


def run_tui(args: argparse.Namespace) -> int:
    """``m2m-tui`` without a subcommand."""
    options = build_options(args)
    problem = unknown_profile(options)
    if problem is not None:
        print(problem, file=sys.stderr)
        return 2
    return _run(M2MApp(options), args)


def run_demo_app(args: argparse.Namespace, folder: Path) -> int:
    return _run(M2MApp(demo_options(args, folder)), args)
