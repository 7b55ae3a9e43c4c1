"""``m2m-tui export [--journal PATH|URL] --format json|csv|md [--request ID] [--output FILE]``.

Without ``--journal`` it reads the default journal (the one the UI and ``m2m-tui locate`` use)
and says so on stderr; a team's ``postgresql://`` URL reads its PostgreSQL journal (its
password is never printed). ``--request`` takes a full requestId or the start of one (at least
:data:`MIN_PREFIX` characters: the screens show eight), matched against the requests and the
callbacks of the journal; a start that fits several ids names them and exits non-zero, unless
one of them is the id itself, or they are one request's attempts (``<id>`` and the earlier
``<id>~1``, issue 8): then the id, or its current attempt, is exported and the others named.

A whole-journal export shows its progress on stderr when stderr is a terminal, one line
redrawn at most :data:`ProgressLine.interval` apart and cleared at the end; on a pipe or a
file nothing extra is printed, so scripts keep a clean stderr.

The configured callback password (the variables ``m2m-tui listen`` reads) is redacted from the
export wherever it appears, also in journals written before the listener redacted free text.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from m2m_tui.tracking.journal.interface import JournalReader

#: Where ``m2m-tui listen`` takes the callback password from (see listen_command).
PASSWORD_ENVS = ("M2M_TUI_CALLBACK_PASSWORD", "M2M_TUI_CALLBACK__PASSWORD")
#: The shortest start of a requestId ``--request`` accepts (shorter ones match too much).
MIN_PREFIX = 4
#: How many matching ids an ambiguous ``--request`` names.
SHOWN_MATCHES = 5
_PAGE = 5000


def configured_passwords() -> tuple[str, ...]:
    """The callback password ``m2m-tui listen`` would use, to redact it from exports."""
    return tuple(secret for name in PASSWORD_ENVS if (secret := os.environ.get(name)))


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--journal",
        type=str,
        default=None,
        metavar="PATH_OR_URL",
        help="journal to read: a file, or a team's postgresql:// URL (default: the default "
        "journal, see `m2m-tui locate journal`)",
    )
    parser.add_argument(
        "--format", choices=("json", "csv", "md"), default="md", help="output format (default md)"
    )
    parser.add_argument(
        "--request",
        metavar="ID",
        help=f"only this requestId, or a unique start of one (at least {MIN_PREFIX} characters, "
        "e.g. the 8 the screens show)",
    )
    parser.add_argument(
        "--output", "-o", type=Path, help="write to this file instead of standard output"
    )


class ProgressLine:
    """``done of total`` on one terminal line, redrawn at most every ``interval`` seconds
    (and once more when done, so the line does not sit below 100% while the file is written).

    Each call is cheap (a clock read) so an export can report every row; only a redraw
    writes. :meth:`clear` erases the line so the output, or the shell prompt, starts clean.
    """

    interval = 0.25

    def __init__(
        self,
        stream: TextIO,
        unit: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self._unit = unit
        self._clock = clock
        self._last: float | None = None
        self._finished = False
        self.draws = 0

    def __call__(self, done: int, total: int) -> None:
        now = self._clock()
        finished = done >= total and not self._finished  # once, whatever the clock
        if self._last is not None and now - self._last < self.interval and not finished:
            return
        self._finished = self._finished or finished
        self._last = now
        percent = f" ({done * 100 // total}%)" if total else ""
        self._stream.write(f"\r\x1b[Km2m-tui export: {done:,} of {total:,} {self._unit}{percent}")
        self._stream.flush()
        self.draws += 1

    def clear(self) -> None:
        if self.draws:
            self._stream.write("\r\x1b[K")
            self._stream.flush()


def matching_request_ids(journal: JournalReader, prefix: str) -> list[str]:
    """Every requestId in the journal (requests, and callbacks nobody tracked) starting with
    ``prefix``, case aside, sorted. Reads the callbacks' ids page by page: about a second for
    100,000 callbacks, paid only when ``--request`` is not a full id."""
    wanted = prefix.casefold()
    found: set[str] = set()
    offset = 0
    while True:  # text= narrows by substring (id, account, target...): keep the true prefixes
        page = journal.list_requests(limit=_PAGE, offset=offset, text=prefix)
        found.update(r.request_id for r in page if r.request_id.casefold().startswith(wanted))
        if len(page) < _PAGE:
            break
        offset += _PAGE
    after = 0
    while True:
        callbacks = journal.recent_callbacks(limit=_PAGE, after_id=after)
        found.update(c.request_id for c in callbacks if c.request_id.casefold().startswith(wanted))
        if len(callbacks) < _PAGE:
            break
        after = callbacks[-1].id
    return sorted(found)


def _resolve_request(journal: JournalReader, given: str, where: str) -> str | int:
    """The full requestId ``given`` names, or the exit code after saying why there is none."""
    if journal.get_request(given) or journal.callbacks_for(given):
        return given
    prefix = given.rstrip("…").removesuffix("...")  # copied from a column that cut the id
    if len(prefix) < MIN_PREFIX:
        _say(
            f"no request {given} in {where}; give the full requestId or at least "
            f"{MIN_PREFIX} characters of it"
        )
        return 2
    from m2m_tui.tracking.journal.attempts import current_attempt

    matches = matching_request_ids(journal, prefix)
    if len(matches) == 1:
        return matches[0]
    chosen = current_attempt(prefix, matches)
    if chosen is not None:  # the id itself, or its current attempt over earlier ones
        others = ", ".join(m for m in matches if m != chosen)
        _say(f"exporting {chosen}; {prefix} also starts {others} (give that full id for it)")
        return chosen
    if not matches:
        _say(f"no request {given} in {where} (no requestId starts with {prefix})")
        return 1
    shown = ", ".join(matches[:SHOWN_MATCHES])
    more = f" and {len(matches) - SHOWN_MATCHES} more" if len(matches) > SHOWN_MATCHES else ""
    _say(f"{prefix} is the start of {len(matches)} requestIds: {shown}{more}; give more characters")
    return 1


def _say(line: str) -> None:
    print(f"m2m-tui export: {line}", file=sys.stderr)


def _journal_to_read(given: str | None) -> str | Path:
    """``--journal`` as given (a path or a URL), or the default journal's path."""
    if given is not None:
        return given
    from m2m_tui.locate import journal_path

    path = journal_path()
    _say(f"reading the default journal {path} (--journal PATH reads another)")
    return path


def run_export_command(args: argparse.Namespace) -> int:
    from m2m_tui.tracking.export import PROGRESS_UNITS, ExportError, export, write_export
    from m2m_tui.tracking.journal.interface import safe_location
    from m2m_tui.tracking.journal.open import journal_missing, open_journal
    from m2m_tui.tracking.records import JournalError

    location = _journal_to_read(args.journal)
    where = safe_location(location)  # a URL's password is never printed
    if journal_missing(location):
        _say(f"no journal at {where}")
        return 2
    progress = ProgressLine(sys.stderr, PROGRESS_UNITS[args.format])
    request_id: str | None = None
    try:
        with open_journal(location, readonly=True) as journal:
            if args.request is not None:
                resolved = _resolve_request(journal, args.request, where)
                if isinstance(resolved, int):
                    return resolved
                request_id = resolved
            shown = progress if sys.stderr.isatty() else None
            text = export(journal, args.format, request_id, configured_passwords(), progress=shown)
    except JournalError as exc:
        _say(str(exc))
        return 2
    except KeyboardInterrupt:
        return 130
    finally:
        progress.clear()
    if args.output is not None:
        try:
            write_export(args.output, text)
        except ExportError as exc:
            _say(str(exc))
            return 2
    else:
        sys.stdout.write(text)
    return 0
