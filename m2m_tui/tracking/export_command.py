"""``m2m-tui export --journal PATH|URL --format json|csv|md [--request ID] [--output FILE]``.

The configured callback password (the variables ``m2m-tui listen`` reads) is redacted from the
export wherever it appears, also in journals written before the listener redacted free text.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

#: Where ``m2m-tui listen`` takes the callback password from (see listen_command).
PASSWORD_ENVS = ("M2M_TUI_CALLBACK_PASSWORD", "M2M_TUI_CALLBACK__PASSWORD")


def configured_passwords() -> tuple[str, ...]:
    """The callback password ``m2m-tui listen`` would use, to redact it from exports."""
    return tuple(secret for name in PASSWORD_ENVS if (secret := os.environ.get(name)))


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--journal",
        required=True,
        type=str,
        metavar="PATH_OR_URL",
        help="journal to read: a file, or a team's postgresql:// URL",
    )
    parser.add_argument(
        "--format", choices=("json", "csv", "md"), default="md", help="output format (default md)"
    )
    parser.add_argument("--request", metavar="ID", help="only this requestId")
    parser.add_argument(
        "--output", "-o", type=Path, help="write to this file instead of standard output"
    )


def run_export_command(args: argparse.Namespace) -> int:
    from m2m_tui.tracking.export import ExportError, export, write_export
    from m2m_tui.tracking.journal_interface import safe_location
    from m2m_tui.tracking.journal_open import journal_missing, open_journal
    from m2m_tui.tracking.records import JournalError

    where = safe_location(args.journal)  # a URL's password is never printed
    if journal_missing(args.journal):
        print(f"m2m-tui export: no journal at {where}", file=sys.stderr)
        return 2
    try:
        with open_journal(args.journal, readonly=True) as journal:
            if args.request is not None and not (
                journal.get_request(args.request) or journal.callbacks_for(args.request)
            ):
                print(f"m2m-tui export: no request {args.request} in {where}", file=sys.stderr)
                return 1
            text = export(journal, args.format, args.request, configured_passwords())
    except JournalError as exc:
        print(f"m2m-tui export: {exc}", file=sys.stderr)
        return 2
    if args.output is not None:
        try:
            write_export(args.output, text)
        except ExportError as exc:
            print(f"m2m-tui export: {exc}", file=sys.stderr)
            return 2
    else:
        sys.stdout.write(text)
    return 0
