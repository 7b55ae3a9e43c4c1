"""Start the app: the normal one from the user's config, or the demo in a private folder."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from m2m_tui.desk.demo import DemoSetup
from m2m_tui.locate import ENV_PREFIX, env_overrides, user_themes_dir
from m2m_tui.tracking.journal_interface import is_postgres
from m2m_tui.ui.app import AppOptions, M2MApp
from m2m_tui.ui.preload import Preloaded, RawProfile, preload

if TYPE_CHECKING:
    from m2m_tui.config import LoadedConfig


def build_options(
    args: argparse.Namespace, loaded: LoadedConfig | Preloaded | None = None
) -> AppOptions:
    """The options the command line asks for (also used by tests and the benchmark).

    Without ``loaded`` the first frame is drawn from the raw files (no pydantic yet) and the
    app validates them right after painting.
    """
    config: Any = loaded or preload()
    extra: list[str] = []
    wanted = getattr(args, "profile", None) or os.environ.get(ENV_PREFIX + "PROFILE") or None
    if not config.config.profiles:
        overrides = env_overrides(os.environ)
        if overrides:
            if isinstance(config, Preloaded):
                config.config.profiles["env"] = RawProfile(overrides)
            else:
                from m2m_tui.config import profile_from_env

                from_env = profile_from_env()
                if from_env is not None:
                    config.config.profiles["env"] = from_env
            wanted = wanted or "env"
    if wanted and wanted not in config.config.profiles:
        known = ", ".join(config.config.profiles) or "none yet"
        extra.append(f"no profile called {wanted!r} in {config.path} (known: {known})")
        wanted = None
    given: str | None = getattr(args, "journal", None)
    if given is None:  # the profile's team journal (issue 11), when it names one
        found = config.profile(wanted)
        given = getattr(found[1], "journal", None) if found else None
    # a file stays a Path; a team's postgresql:// URL is handed on whole (libpq parses it)
    journal = None if given is None else given if is_postgres(given) else Path(given)
    return AppOptions(
        loaded=config,
        profile=wanted,
        read_only=bool(getattr(args, "read_only", False)),
        journal=journal,
        follow=journal is not None,
        user_themes=user_themes_dir(),
        extra_problems=extra,
    )


def demo_options(args: argparse.Namespace, folder: Path) -> AppOptions:
    """The demo never reads or writes the user's config, themes or journal."""
    from m2m_tui.config import AppConfig, LoadedConfig, Profile
    from m2m_tui.sim.config import PRIMARY_ACCOUNT

    demo_profile = Profile(base_url="http://127.0.0.1", environment="demo", account=PRIMARY_ACCOUNT)
    loaded = LoadedConfig(AppConfig(profiles={"demo": demo_profile}), folder / "config.toml")
    return AppOptions(
        loaded=loaded,
        profile="demo",
        read_only=bool(getattr(args, "read_only", False)),
        demo=DemoSetup(folder=folder),
        journal=folder / "journal.sqlite3",
        persist_settings=False,
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
