"""Who is at the keyboard: the ``user@host`` the journal records as a request's submitter.

A team shares one journal, so the requests view needs to say whose each request is and to
narrow to "mine". The OS user and the host name say it without any setting to get wrong;
the profile (a name in each engineer's own config) is recorded beside it, see
:mod:`m2m_tui.desk.queries.requests` for why "mine" does not use it.
"""

from __future__ import annotations

import os
import socket
from functools import cache


@cache
def local_submitter() -> str:
    """``user@host`` of this process (read once: neither changes while the app runs)."""
    import getpass  # only when a request is recorded or the view narrows: not at start-up

    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name in the environment nor in the password file
        user = f"uid{os.getuid()}"
    return f"{user}@{socket.gethostname() or 'localhost'}"


def user_of(submitted_by: str | None) -> str:
    """The user part of ``user@host`` (what a narrow table has room for); '' when unknown."""
    if not submitted_by:
        return ""
    user, _, _ = submitted_by.rpartition("@")
    return user or submitted_by
