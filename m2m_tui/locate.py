"""Where the config, secrets, themes and journal live, and ``m2m-tui locate`` to print it.

Support staff use the command to find the file to edit or attach to a ticket. The path
functions live here (not in ``desk.settings``) because start-up needs them before it can
afford pydantic. Imports nothing heavy.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

APP_NAME = "m2m-tui"
ENV_PREFIX = "M2M_TUI_"
CONFIG_FILE = "config.toml"
SECRETS_FILE = "secrets.toml"
JOURNAL_FILE = "journal.sqlite3"
WHAT = ("config", "secrets", "themes", "journal", "data")


def config_dir() -> Path:
    """Where ``config.toml``, ``secrets.toml`` and user themes live (``M2M_TUI_CONFIG_DIR`` wins)."""
    override = os.environ.get(ENV_PREFIX + "CONFIG_DIR")
    if override:
        return Path(override).expanduser()
    from platformdirs import user_config_path

    return user_config_path(APP_NAME)


def data_dir() -> Path:
    """Where the journal lives (``M2M_TUI_DATA_DIR`` wins)."""
    override = os.environ.get(ENV_PREFIX + "DATA_DIR")
    if override:
        return Path(override).expanduser()
    from platformdirs import user_data_path

    return user_data_path(APP_NAME)


def config_path() -> Path:
    """``config.toml`` (``M2M_TUI_CONFIG`` names another file)."""
    override = os.environ.get(ENV_PREFIX + "CONFIG")
    return Path(override).expanduser() if override else config_dir() / CONFIG_FILE


def secrets_path(config_file: Path | None = None) -> Path:
    return (config_file or config_path()).with_name(SECRETS_FILE)


def user_themes_dir() -> Path:
    return config_dir() / "themes"


def journal_path() -> Path:
    return data_dir() / JOURNAL_FILE


def add_locate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "what",
        nargs="?",
        choices=(*WHAT, "all"),
        default="all",
        help="print only this path (default: all of them, one per line with a label)",
    )


def locations() -> dict[str, Path]:
    return {
        "config": config_path(),
        "secrets": secrets_path(),
        "themes": user_themes_dir(),
        "journal": journal_path(),
        "data": data_dir(),
    }


def run_locate_command(args: argparse.Namespace) -> int:
    found = locations()
    what = getattr(args, "what", "all") or "all"
    if what != "all":
        print(found[what])
        return 0
    for name, path in found.items():
        state = "" if path.exists() else "  (not created yet)"
        print(f"{name:<8} {path}{state}")
    return 0
