"""``m2m-tui listen``: the callback listener as its own process, writing a journal.

Run it when the UI should not carry the listener (a burst of callbacks then costs the UI
nothing: it follows the journal), or on a host that ThingSpace can reach. It prints one line
per callback, never a password, and stops cleanly on SIGTERM or SIGINT: pending journal writes
are committed before it exits 0.

Also runnable before the CLI wires it: ``python -m m2m_tui.tracking.listen_command --journal F``
(a file, or a ``postgresql://`` URL: several listeners may then write one database).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import TextIO

from pydantic import SecretStr

from m2m_tui.tracking.events import CallbackAccepted
from m2m_tui.tracking.journal.callbacks import REJECTION_SAMPLES
from m2m_tui.tracking.journal.interface import Location, safe_location
from m2m_tui.tracking.journal.open import open_writer
from m2m_tui.tracking.listener import CallbackListener, ListenerError, ListenerEvent
from m2m_tui.tracking.listener_config import (
    MAX_CONNECTIONS,
    READ_TIMEOUT,
    THINGSPACE_SOURCE_ADDRESSES,
    ListenerConfig,
)
from m2m_tui.tracking.records import JournalError

PASSWORD_ENV = "M2M_TUI_CALLBACK_PASSWORD"
"""The old spelling: still read, never advertised (the README calls it deprecated)."""
#: The same variable as the profiles spell it (``M2M_TUI_<SECTION>__<FIELD>``).
PROFILE_PASSWORD_ENV = "M2M_TUI_CALLBACK__PASSWORD"
_FLUSH_EVERY = 0.2
_CONTROL = {c: "?" for c in (*range(32), *range(127, 160))}


def add_listen_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``listen`` flags to ``parser`` (the CLI's subcommand, or this module's own)."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=9001, help="port to bind; 0 picks a free one (default 9001)"
    )
    parser.add_argument(
        "--journal",
        type=str,
        required=True,
        metavar="PATH_OR_URL",
        help="journal file (sqlite), or a postgresql:// URL shared by a team's listeners",
    )
    parser.add_argument(
        "--callback-username", default=None, help="username registered with ThingSpace"
    )
    parser.add_argument(
        "--callback-password",
        default=None,
        help=f"password registered with ThingSpace (prefer ${PROFILE_PASSWORD_ENV}: "
        "command lines are visible to other users)",
    )
    parser.add_argument("--tls-cert", type=Path, default=None, help="TLS certificate (PEM)")
    parser.add_argument("--tls-key", type=Path, default=None, help="TLS private key (PEM)")
    parser.add_argument(
        "--allow-thingspace-only",
        action="store_true",
        help="refuse sources other than ThingSpace's published addresses (and loopback)",
    )
    parser.add_argument(
        "--no-credentials",
        action="store_true",
        help="accept callbacks without checking any username/password (a lab only)",
    )
    parser.add_argument(
        "--read-timeout",
        type=float,
        default=READ_TIMEOUT,
        metavar="SECONDS",
        help="close connections that take longer to send their headers, or their body "
        f"(default {READ_TIMEOUT:g})",
    )
    parser.add_argument(
        "--max-connections",
        type=int,
        default=MAX_CONNECTIONS,
        metavar="N",
        help=f"connections served at once (default {MAX_CONNECTIONS})",
    )
    parser.add_argument(
        "--keep-rejections",
        type=int,
        default=REJECTION_SAMPLES,
        metavar="N",
        help="refused bodies kept in the journal per reason; all are counted "
        f"(default {REJECTION_SAMPLES})",
    )
    parser.add_argument(
        "--group-readable",
        action="store_true",
        help="create the journal readable by the file's group (a team sharing one host); "
        "otherwise only its owner can read it",
    )
    parser.add_argument("--quiet", action="store_true", help="print only the start and stop lines")


def config_from_args(args: argparse.Namespace) -> ListenerConfig:
    """The ListenerConfig the flags describe; raises ValueError on a bad combination."""
    password = args.callback_password
    if password is None:
        password = os.environ.get(PASSWORD_ENV) or os.environ.get(PROFILE_PASSWORD_ENV)
    if password == "":
        raise ValueError("an empty callback password is refused: it would accept anyone")
    if getattr(args, "no_credentials", False):
        if password or args.callback_username:
            raise ValueError("--no-credentials contradicts a callback username or password")
    elif not password:
        raise ValueError(
            f"no callback password: set ${PROFILE_PASSWORD_ENV} to the password registered with "
            "ThingSpace (or pass --no-credentials to accept any callback, in a lab only)"
        )
    if args.keep_rejections < 0:
        raise ValueError("--keep-rejections cannot be negative")
    return ListenerConfig(
        host=args.host,
        port=args.port,
        username=args.callback_username or None,
        password=SecretStr(password) if password else None,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        allow_sources=THINGSPACE_SOURCE_ADDRESSES if args.allow_thingspace_only else None,
        read_timeout=args.read_timeout,
        max_connections=args.max_connections,
    )


def _printable(text: str | None) -> str:
    """Remote text with control characters neutralised (no terminal escapes from a POST)."""
    return "-" if not text else text.translate(_CONTROL)


def _clock(timestamp: float) -> str:
    local = time.localtime(timestamp)
    return time.strftime("%H:%M:%S", local) + f".{int(timestamp % 1 * 1000):03d}"


def format_event(event: ListenerEvent) -> str:
    """One line per callback or refusal, for a terminal or a log file."""
    when = _clock(event.received_at)
    if isinstance(event, CallbackAccepted):
        dup = "  dup" if event.duplicate else ""
        return (
            f"{when}  {_printable(event.request_id)}  {event.kind}  "
            f"{_printable(event.device_key)}{dup}"
        )
    return (
        f"{when}  REJECTED {event.reason}  {_printable(event.detail)}  "
        f"from {_printable(event.source)}"
    )


class _Printer:
    """Writes event lines, flushing at most every 0.2 s so a burst is not a syscall per line."""

    def __init__(self, stream: TextIO, loop: asyncio.AbstractEventLoop) -> None:
        self._stream = stream
        self._loop = loop
        self._flush_pending = False

    def __call__(self, event: ListenerEvent) -> None:
        self._stream.write(format_event(event) + "\n")
        if not self._flush_pending:
            self._flush_pending = True
            self._loop.call_later(_FLUSH_EVERY, self.flush)

    def flush(self) -> None:
        self._flush_pending = False
        with contextlib.suppress(OSError, ValueError):
            self._stream.flush()


def _log_to_stderr() -> None:
    """Warnings (journal deleted, client hung up) as one plain line each on stderr."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("m2m-tui listen: %(message)s"))
        root.addHandler(handler)
        root.setLevel(logging.WARNING)


async def serve(
    config: ListenerConfig,
    journal: Location,
    *,
    quiet: bool = False,
    keep_rejections: int | None = REJECTION_SAMPLES,
    group_readable: bool = False,
) -> int:
    """Run until SIGTERM/SIGINT; returns the exit status."""
    _log_to_stderr()
    loop = asyncio.get_running_loop()
    where = safe_location(journal)  # a URL's password is never printed
    try:
        writer = open_writer(
            journal, keep_rejections=keep_rejections, group_readable=group_readable
        )
        await asyncio.to_thread(writer.start)
    except JournalError as exc:
        print(f"m2m-tui listen: cannot open the journal {where}: {exc}", file=sys.stderr)
        return 2
    printer = None if quiet else _Printer(sys.stdout, loop)
    listener = CallbackListener(config, writer, on_event=printer)
    try:
        await listener.start()
    except ListenerError as exc:
        await writer.aclose()
        print(f"m2m-tui listen: {exc}", file=sys.stderr)
        return 2
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    checks = "credentials checked" if config.credentials_expected else "NO credentials checked"
    sources = "ThingSpace sources only" if config.allow_sources is not None else "any source"
    print(
        f"listening on {listener.url}  journal {writer.location}  ({checks}, {sources})",
        flush=True,
    )
    try:
        await stop.wait()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        await listener.stop()
        await writer.aclose()
        if printer is not None:
            printer.flush()
    status = listener.status()
    stats = writer.stats()
    print(
        f"stopped: {status.accepted} accepted, {status.duplicates} duplicates, "
        f"{status.rejected} rejected; journal: {stats.items} rows in {stats.batches} commits "
        f"(largest {stats.largest_batch})",
        flush=True,
    )
    return 0


def run_listen_command(args: argparse.Namespace) -> int:
    """Entry point for ``m2m-tui listen`` once argparse has run."""
    try:
        config = config_from_args(args)
    except ValueError as exc:
        print(f"m2m-tui listen: {exc}", file=sys.stderr)
        return 2
    return asyncio.run(
        serve(
            config,
            args.journal,
            quiet=args.quiet,
            keep_rejections=args.keep_rejections,
            group_readable=args.group_readable,
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="m2m-tui listen", description="Receive ThingSpace callbacks into a journal."
    )
    add_listen_arguments(parser)
    return run_listen_command(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
