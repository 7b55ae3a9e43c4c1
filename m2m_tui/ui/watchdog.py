"""Leave cleanly when the terminal goes away (a dropped SSH session).

Textual's input thread busy-loops when stdin hits EOF without a SIGHUP (textual-notes.md §6),
so a dropped session could leave a process spinning at 100% CPU. The watchdog checks every
couple of seconds that the parent is the same and the tty still answers, also acts on SIGHUP,
and exits the app; a hard exit follows in case the input thread keeps the process alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading

from textual.app import App

log = logging.getLogger("m2m_tui.ui")

INTERVAL = 2.0
HARD_EXIT_AFTER = 5.0
EXIT_CODE = 129


def terminal_alive(parent_pid: int) -> bool:
    """Same parent, and stdin is still a tty that answers."""
    if os.getppid() != parent_pid:
        return False
    stream = sys.__stdin__
    if stream is None:
        return False
    try:
        fd = stream.fileno()
        if not os.isatty(fd):
            return False
        import termios

        termios.tcgetattr(fd)
        os.stat(os.ttyname(fd))
    except Exception:
        return False
    return True


class TerminalWatchdog:
    """Started from the app's ``on_mount``; does nothing for headless (test) apps."""

    def __init__(self, app: App[int]) -> None:
        self._app = app
        self._parent_pid = os.getppid()
        self._exiting = False

    def start(self) -> None:
        if self._app.is_headless:
            return
        self._app.set_interval(INTERVAL, self.check, name="tty-watchdog")
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self.terminal_gone)

    def check(self) -> None:
        if not terminal_alive(self._parent_pid):
            self.terminal_gone()

    def terminal_gone(self) -> None:
        """Leave now, and for sure (the input thread may spin)."""
        if self._exiting:
            return
        self._exiting = True
        log.warning("terminal went away; exiting")
        timer = threading.Timer(HARD_EXIT_AFTER, os._exit, args=(EXIT_CODE,))
        timer.daemon = True
        timer.start()
        self._app.exit(return_code=EXIT_CODE)
