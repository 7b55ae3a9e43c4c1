"""The callback listener: an aiohttp server run inside the caller's event loop.

For every POST, in order: source allow-list (403), body size (413), JSON (400), object (400),
envelope (422), credentials (401), then the journal write is awaited until COMMITTED and only
then is 200 sent: ThingSpace does not resend after a 2xx, so a 200 must mean "durable".

No input produces a 5xx: unexpected errors are answered 400 and counted. The one exception is
503 when the journal itself cannot be written (disk full, file gone): ThingSpace then resends
the message 3 more times at 5-minute intervals, which is exactly what we want. ``/healthz``
then answers 503 too, saying why.

Connections are capped and timed (:mod:`~m2m_tui.tracking.listener_connections`); every
refusal is counted, and the journal keeps a bounded sample of refused bodies. A client that
hangs up mid-body is one counted line in the log, not a traceback. ``/healthz`` obeys the
source allow-list like the callbacks do.
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import os
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Self

from aiohttp import web

from m2m_tui.tracking.events import CallbackAccepted, CallbackRejected, ListenerStatus
from m2m_tui.tracking.intake import Credentials, Refusal, examine
from m2m_tui.tracking.journal.interface import CallbackWriter
from m2m_tui.tracking.listener_config import ListenerConfig, source_allowed
from m2m_tui.tracking.listener_connections import BodyTimeout, ConnectionPool, guarded_factory
from m2m_tui.tracking.records import (
    JournalError,
    JournalRecordError,
    RejectionReason,
    RejectionRecord,
)

log = logging.getLogger(__name__)

#: The reason counted (not journaled: the journal is what failed) when we answer 503.
JOURNAL_UNAVAILABLE = "journal_unavailable"
#: Counted (not journaled: there is no body) when a client hangs up before its body is in.
HUNG_UP = "hung_up"
ListenerEvent = CallbackAccepted | CallbackRejected
EventSink = Callable[[ListenerEvent], None]

_JSON = "application/json"
_OK = b'{"status":"ok"}'
_OK_DUPLICATE = b'{"status":"ok","duplicate":true}'
_UNAVAILABLE = b'{"status":"error","reason":"journal_unavailable"}'


class ListenerError(Exception):
    """The listener cannot start (address in use, bad TLS files)."""

    def __init__(self, message: str, *, address_in_use: bool = False) -> None:
        super().__init__(message)
        self.address_in_use = address_in_use
        """Another process holds the port (often another m2m-tui or ``m2m-tui listen``)."""


def bind_reason(exc: OSError) -> str:
    """The OS's words for a failed bind, without asyncio's Python repr of the address."""
    if exc.errno == errno.EADDRINUSE:
        return "the port is already in use"
    if exc.errno:
        return os.strerror(exc.errno).lower()
    return exc.strerror or str(exc)


class CallbackListener:
    """Receives ThingSpace callbacks and journals them through a running writer (either
    backend's: :func:`~m2m_tui.tracking.journal.open.open_writer`).

    The writer is the caller's: start it before :meth:`start` and close it after :meth:`stop`.
    ``on_event`` is called on the event loop with a CallbackAccepted or CallbackRejected for
    every POST; keep it cheap (append to a list for a timer to drain, not a repaint).
    """

    def __init__(
        self,
        config: ListenerConfig,
        journal_writer: CallbackWriter,
        on_event: EventSink | None = None,
    ) -> None:
        self._config = config
        self._writer = journal_writer
        self._on_event = on_event
        self._networks = config.networks()
        self._credentials = (
            Credentials.of(config.expected_username, config.expected_password)
            if config.credentials_expected
            else None
        )
        self._secrets = (config.expected_password,) if config.expected_password else ()
        journal_writer.redact_also(self._secrets)
        self._pool = ConnectionPool(config.max_connections, config.read_timeout)
        self._server: asyncio.AbstractServer | None = None
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._started_at: float | None = None
        self._accepted = 0
        self._duplicates = 0
        self._rejected: Counter[str] = Counter()

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Bind and serve; raises ListenerError when the address or TLS files are unusable."""
        if self._runner is not None:
            raise RuntimeError("listener already started")
        try:
            ssl_context = self._config.ssl_context()
        except ValueError as exc:
            raise ListenerError(str(exc)) from exc
        app = web.Application(client_max_size=self._config.max_body)
        app.router.add_get("/healthz", self._healthz)
        prefix = self._config.path_prefix.rstrip("/")
        if prefix:
            app.router.add_post(prefix, self._callback)
        app.router.add_post(prefix + "/{tail:.*}", self._callback)
        timeout = self._config.read_timeout
        runner = web.AppRunner(
            app, access_log=None, handle_signals=False, keepalive_timeout=2 * timeout
        )
        await runner.setup()
        assert runner.server is not None
        loop = asyncio.get_running_loop()
        try:
            server = await loop.create_server(
                guarded_factory(runner.server, self._pool),
                self._config.host,
                self._config.port,
                ssl=ssl_context,
                backlog=128,
            )
        except OSError as exc:
            await runner.cleanup()
            raise ListenerError(
                f"cannot listen on {self._config.host}:{self._config.port}: {bind_reason(exc)}",
                address_in_use=exc.errno == errno.EADDRINUSE,
            ) from exc
        self._pool.start()
        self._server = server
        self._runner = runner
        self._port = int(server.sockets[0].getsockname()[1])
        self._started_at = time.time()

    async def stop(self) -> None:
        """Stop accepting; requests in flight finish first (their journal writes included)."""
        runner, self._runner = self._runner, None
        server, self._server = self._server, None
        if server is not None:
            server.close()
        if runner is not None:
            await runner.cleanup()  # closes the connections once their requests are answered
        if server is not None:
            await server.wait_closed()
        await self._pool.stop()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def running(self) -> bool:
        return self._runner is not None

    @property
    def port(self) -> int:
        """The bound port (the real one when the config asked for port 0)."""
        return self._port if self._port is not None else self._config.port

    @property
    def url(self) -> str:
        host = self._config.host
        if ":" in host:
            host = f"[{host}]"
        scheme = "https" if self._config.tls else "http"
        return f"{scheme}://{host}:{self.port}{self._config.path_prefix}"

    def status(self) -> ListenerStatus:
        return ListenerStatus(
            url=self.url,
            running=self.running,
            accepted=self._accepted,
            rejected=sum(self._rejected.values()),
            duplicates=self._duplicates,
            rejected_by_reason=dict(self._rejected),
        )

    # --- handlers ------------------------------------------------------------------------

    async def _healthz(self, request: web.Request) -> web.Response:
        transport = request.transport
        self._pool.request_read(transport, request.content)
        try:
            return self._health(request.remote)
        finally:
            self._pool.answered(transport)

    def _health(self, source: str | None) -> web.Response:
        if self._networks is not None and not source_allowed(source, self._networks):
            self._rejected[RejectionReason.FORBIDDEN_SOURCE.value] += 1
            body = b'{"status":"rejected","reason":"forbidden_source"}'
            return web.Response(status=403, body=body, content_type=_JSON)
        started = self._started_at or time.time()
        problem = self._writer.problem
        payload = {
            "status": "ok" if problem is None else JOURNAL_UNAVAILABLE,
            "journal_problem": problem,
            "connections": self._pool.counters(),
            "accepted": self._accepted,
            "duplicates": self._duplicates,
            "rejected": dict(self._rejected),
            "rejected_total": sum(self._rejected.values()),
            "started_at": datetime.fromtimestamp(started, UTC).isoformat(),
            "journal": self._writer.location,  # never a database password
            "journal_writer_running": self._writer.running,
        }
        return web.json_response(payload, status=200 if problem is None else 503)

    async def _callback(self, request: web.Request) -> web.Response:
        received_at = time.time()
        source = request.remote
        transport = request.transport
        # The headers are in; the pool's sweep holds the body to the read timeout.
        self._pool.request_read(transport, request.content)
        try:
            return await self._handle(request, received_at, source)
        except asyncio.CancelledError:
            raise
        except ConnectionError as exc:  # hung up mid-body: nobody to answer, nothing to store
            self._rejected[HUNG_UP] += 1
            log.warning("callback from %s: the client hung up before its body was in", source)
            detail = f"the client hung up before its body was in ({type(exc).__name__})"
            self._emit(CallbackRejected(HUNG_UP, detail, source, received_at))
            return web.Response(status=400)
        except Exception as exc:  # never a 5xx, never a dead server
            log.exception("callback from %s could not be processed", source)
            detail = f"could not process the callback ({type(exc).__name__})"
            return await self._refuse(
                400, RejectionReason.INVALID_ENVELOPE, detail, source, received_at
            )
        finally:
            self._pool.answered(transport)

    async def _handle(
        self, request: web.Request, received_at: float, source: str | None
    ) -> web.Response:
        if self._networks is not None and not source_allowed(source, self._networks):
            return await self._refuse(
                403,
                RejectionReason.FORBIDDEN_SOURCE,
                f"source {source} is not in the allow-list",
                source,
                received_at,
            )
        limit = self._config.max_body
        length = request.content_length
        if length is not None and length > limit:
            detail = f"Content-Length {length} exceeds {limit} bytes"
            return await self._refuse(413, RejectionReason.TOO_LARGE, detail, source, received_at)
        try:
            raw = await request.read()
        except BodyTimeout:  # raised by the pool's sweep, which counted it
            return web.Response(status=408, headers={"Connection": "close"})
        except web.HTTPRequestEntityTooLarge:
            detail = f"body exceeds {limit} bytes"
            return await self._refuse(413, RejectionReason.TOO_LARGE, detail, source, received_at)
        outcome = examine(
            raw,
            received_at=received_at,
            source=source,
            credentials=self._credentials,
            secrets=self._secrets,
        )
        if isinstance(outcome, Refusal):
            return await self._refuse(
                outcome.status, outcome.reason, outcome.detail, source, received_at, outcome.excerpt
            )
        try:
            stored = await self._writer.append_callback(outcome)
        except JournalRecordError as exc:
            return await self._refuse(
                422, RejectionReason.INVALID_ENVELOPE, str(exc), source, received_at
            )
        except JournalError as exc:
            log.error("callback %s not journaled: %s", outcome.request_id, exc)
            self._rejected[JOURNAL_UNAVAILABLE] += 1
            self._emit(CallbackRejected(JOURNAL_UNAVAILABLE, str(exc), source, received_at))
            return web.Response(status=503, body=_UNAVAILABLE, content_type=_JSON)
        if stored.duplicate:
            self._duplicates += 1
        else:
            self._accepted += 1
        if self._on_event is not None:
            self._emit(
                CallbackAccepted(
                    stored.id,
                    outcome.request_id,
                    outcome.kind,
                    outcome.device_key,
                    stored.duplicate,
                    received_at,
                )
            )
        body = _OK_DUPLICATE if stored.duplicate else _OK
        return web.Response(body=body, content_type=_JSON)

    async def _refuse(
        self,
        status: int,
        reason: RejectionReason,
        detail: str,
        source: str | None,
        received_at: float,
        excerpt: str = "",
    ) -> web.Response:
        """Count, journal (committed, password redacted) and announce a refusal; never raises."""
        self._rejected[reason.value] += 1
        record = RejectionRecord(reason.value, detail, excerpt, source, received_at)
        try:
            await self._writer.append_rejection(record)
        except JournalError as exc:
            log.error("rejection not journaled: %s", exc)
        self._emit(CallbackRejected(reason.value, detail, source, received_at))
        payload = {"status": "rejected", "reason": reason.value, "detail": detail}
        return web.Response(status=status, body=json.dumps(payload).encode(), content_type=_JSON)

    def _emit(self, event: ListenerEvent) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception:
            log.exception("on_event handler failed for %s", type(event).__name__)
