"""A TCP proxy in front of a real server (PostgreSQL in the team tests), to make it hang or go
away without touching the server: :meth:`TcpProxy.pause` holds every byte where it is (a
query in flight never gets its answer), :meth:`TcpProxy.close` cuts every connection and
refuses new ones (the database is down), :meth:`TcpProxy.open` lets traffic through again.

It runs in a thread of its own, so a test's event loop that is stuck (the bug under test) does
not stop it, and ``pause(until=...)`` lets traffic through again by itself after a while, so a
regression fails on a measurement rather than hanging the test run.
"""

from __future__ import annotations

import re
import select
import socket
import threading
import time
from types import TracebackType


class TcpProxy:
    """Forwards 127.0.0.1:``port`` to ``target``; see the module docstring."""

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.setblocking(False)
        self.port: int = self._listener.getsockname()[1]
        self._mode = "open"
        self._resume_at: float | None = None
        self._peer: dict[socket.socket, socket.socket] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tcp-proxy", daemon=True)
        self._thread.start()

    @classmethod
    def to(cls, url: str) -> TcpProxy:
        """A proxy to the host and port of a ``postgresql://`` URL."""
        found = re.search(r"@([^/:?]+):(\d+)", url)
        assert found, url
        return cls(found[1], int(found[2]))

    def url(self, url: str) -> str:
        """``url`` with its host and port replaced by the proxy's."""
        return re.sub(r"@([^/:?]+):(\d+)", f"@127.0.0.1:{self.port}", url, count=1)

    # ------------------------------------------------------------------ modes

    def pause(self, *, until: float | None = None) -> None:
        """Hold all traffic (for at most ``until`` seconds, then let it through again)."""
        with self._lock:
            self._mode = "paused"
            self._resume_at = None if until is None else time.monotonic() + until

    def open(self) -> None:
        """Let traffic through (after a pause or a close)."""
        with self._lock:
            self._mode, self._resume_at = "open", None

    def close(self) -> None:
        """Cut every connection and refuse new ones (as a server that went down)."""
        with self._lock:
            self._mode, self._resume_at = "closed", None
            for sock in list(self._peer):
                self._drop(sock)

    @property
    def paused(self) -> bool:
        return self._mode == "paused"

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        with self._lock:
            for sock in list(self._peer):
                self._drop(sock)
        self._listener.close()

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ the thread

    def _drop(self, sock: socket.socket) -> None:
        other = self._peer.pop(sock, None)
        sock.close()
        if other is not None:
            self._peer.pop(other, None)
            other.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                if self._resume_at is not None and time.monotonic() >= self._resume_at:
                    self._mode, self._resume_at = "open", None
                watched = [self._listener]
                if self._mode == "open":
                    watched += list(self._peer)
            try:
                ready, _, _ = select.select(watched, [], [], 0.02)
            except (OSError, ValueError):  # a socket closed meanwhile: look again
                continue
            with self._lock:
                for sock in ready:
                    if sock is self._listener:
                        self._accept()
                    elif sock in self._peer and self._mode == "open":
                        self._forward(sock)

    def _accept(self) -> None:
        try:
            client, _ = self._listener.accept()
        except BlockingIOError:
            return
        if self._mode == "closed":
            client.close()
            return
        try:
            upstream = socket.create_connection(self._target, timeout=5)
        except OSError:
            client.close()
            return
        client.setblocking(True)
        upstream.setblocking(True)
        self._peer[client], self._peer[upstream] = upstream, client

    def _forward(self, sock: socket.socket) -> None:
        try:
            data = sock.recv(65536)
            if data:
                self._peer[sock].sendall(data)
                return
        except OSError:
            pass
        self._drop(sock)
