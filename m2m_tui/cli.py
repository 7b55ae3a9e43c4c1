"""The ``m2m-tui`` command: the TUI by default, plus ``sim``, ``listen``, ``export``, ``locate``.

Only argparse is imported up front; each subcommand imports its own module when it runs, so
``m2m-tui --help`` and the TUI's start-up do not pay for the simulator or aiohttp.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import Any

from m2m_tui import __version__

# name -> (module with add_arguments/run, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "sim": (
        "m2m_tui.sim.standalone",
        "run the ThingSpace simulator on its own (for curl or tests)",
    ),
    "listen": (
        "m2m_tui.tracking.listen_command",
        "run the callback listener and journal without the UI",
    ),
    "export": ("m2m_tui.tracking.export_command", "export tracked requests and callbacks"),
    "locate": ("m2m_tui.locate", "print where the config, secrets, themes and journal live"),
}


def _load(module: str, name: str) -> Callable[..., Any]:
    attr: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return attr


def build_parser(for_subcommand: str | None = None) -> argparse.ArgumentParser:
    """The full parser; only the named subcommand's module is imported to fill its flags."""
    parser = argparse.ArgumentParser(
        prog="m2m-tui",
        description=(
            "Troubleshoot cellular IoT devices on Verizon ThingSpace (M2M) from the terminal: "
            "look devices up, suspend/restore/activate/deactivate, and track requests live "
            "by polling and callbacks."
        ),
    )
    parser.add_argument("--version", action="version", version=f"m2m-tui {__version__}")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="run against the built-in ThingSpace simulator (no account needed)",
    )
    parser.add_argument("--profile", help="profile name from config.toml")
    parser.add_argument(
        "--read-only", action="store_true", help="block every state-changing action"
    )
    parser.add_argument("--no-mouse", action="store_true", help="ignore the mouse")
    parser.add_argument(
        "--journal",
        type=str,
        default=None,
        metavar="PATH_OR_URL",
        help="follow a journal written by `m2m-tui listen` instead of listening here "
        "(a file, or a team's postgresql:// URL)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in SUBCOMMANDS.items():
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        if name == for_subcommand:
            _load(module, f"add_{name}_arguments")(sub)
    return parser


def _subcommand_in(argv: Sequence[str]) -> str | None:
    for arg in argv:
        if arg in SUBCOMMANDS:
            return arg
        if not arg.startswith("-"):
            return None
    return None


def listen_password(args: argparse.Namespace) -> str | None:
    """The callback password for ``listen``: the flag, else the one environment spelling
    the UI reads too (``M2M_TUI_CALLBACK__PASSWORD``; the old one with a deprecation note)."""
    from m2m_tui.desk.settings_files import callback_password_from_env

    flag: str | None = getattr(args, "callback_password", None)
    return flag if flag is not None else callback_password_from_env()


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    command = _subcommand_in(args_list)
    parser = build_parser(command)
    args = parser.parse_args(args_list)
    if command == "listen":
        args.callback_password = listen_password(args)
    if command is not None:
        module, _ = SUBCOMMANDS[command]
        return int(_load(module, f"run_{command}_command")(args))
    if args.demo:
        from m2m_tui.demo import run_demo

        return run_demo(args)
    from m2m_tui.ui.run import run_tui

    return run_tui(args)


if __name__ == "__main__":
    raise SystemExit(main())
