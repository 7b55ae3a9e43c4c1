"""The aiohttp application, its middlewares, and starting it inside the caller's event loop.

``start_simulator`` binds with ``AppRunner``/``TCPSite`` in the running loop (port 0 picks a
free port), so ``--demo``, ``m2m-tui sim`` and the tests all run the very same app. The
middlewares keep the simulator from ever crashing: every exception becomes a JSON body in one
of the documented envelopes.
"""

from __future__ import annotations

import asyncio
import logging
from types import TracebackType

from aiohttp import web

from m2m_tui.sim import actions, auth, callbacks_registry, devices, diagnostics, request_status
from m2m_tui.sim.auth import Handler
from m2m_tui.sim.config import SimConfig
from m2m_tui.sim.delivery import DELIVERY_KEY, Deliverer
from m2m_tui.sim.errors import SimError, gateway_fault, m2m_error
from m2m_tui.sim.state import STATE_KEY, SimState

log = logging.getLogger("m2m_tui.sim")

M2M = "/api/m2m/v1"
OAUTH = "/api/ts/v1/oauth2"


@web.middleware
async def guard_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count the call and turn every exception into a JSON error body."""
    request.app[STATE_KEY].calls[f"{request.method} {request.path}"] += 1
    try:
        return await handler(request)
    except SimError as error:
        return error.response()
    except web.HTTPMethodNotAllowed:
        return gateway_fault(
            405, "900906", "Method not allowed for given API resource", request.path
        ).response()
    except web.HTTPException as exc:
        if exc.status == 404:
            return gateway_fault(
                404,
                "900906",
                "No matching resource found for given API Request",
                f"No matching resource found for {request.method} {request.path}",
            ).response()
        raise
    except Exception as exc:
        log.exception("simulator handler failed for %s %s", request.method, request.path)
        return m2m_error(
            "REQUEST_FAILED.UnexpectedError",
            f"Unexpected simulator error: {type(exc).__name__}",
            status=500,
        ).response()


@web.middleware
async def fault_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Injected latency, 500s and 429 throttling, drawn before the call is processed."""
    state = request.app[STATE_KEY]
    faults = state.config.faults
    if faults.latency > 0:
        if request.can_read_body:
            # Read the body first: a client that times out and hangs up must not stop the
            # call being processed, as with the real ThingSpace ("the action may have been
            # accepted" is the case a provisioning timeout warns about).
            await request.read()
        await asyncio.sleep(faults.latency)
    if faults.rate_429 and state.rng.random() < faults.rate_429:
        raise gateway_fault(
            429,
            "900800",
            "Message throttled out",
            "You have exceeded your quota",
            headers={"Retry-After": str(max(0, int(faults.retry_after)))},
        )
    if faults.error_rate and state.rng.random() < faults.error_rate:
        raise m2m_error(
            "REQUEST_FAILED.UnexpectedError", "Internal error (injected fault).", status=500
        )
    return await handler(request)


async def _cleanup(app: web.Application) -> None:
    await app[STATE_KEY].cancel_tasks()
    await app[DELIVERY_KEY].close()


def create_app(config: SimConfig | None = None) -> web.Application:
    """The simulator as an aiohttp app; its state is ``app[STATE_KEY]``."""
    cfg = config or SimConfig()
    app = web.Application(
        middlewares=[guard_middleware, fault_middleware, auth.auth_middleware],
        client_max_size=16 * 1024 * 1024,
    )
    state = SimState(cfg)
    app[STATE_KEY] = state
    app[DELIVERY_KEY] = Deliverer(state)
    app.on_cleanup.append(_cleanup)
    app.router.add_post(f"{OAUTH}/token", auth.token)
    app.router.add_post(f"{OAUTH}/revoke", auth.revoke)
    app.router.add_post(f"{M2M}/session/login", auth.login)
    app.router.add_post(f"{M2M}/session/logout", auth.logout)
    app.router.add_get(f"{M2M}/callbacks/{{accountName}}", callbacks_registry.list_callbacks)
    app.router.add_post(f"{M2M}/callbacks/{{accountName}}", callbacks_registry.register_callback)
    app.router.add_delete(
        f"{M2M}/callbacks/{{accountName}}/name/{{serviceName}}",
        callbacks_registry.deregister_callback,
    )
    app.router.add_post(f"{M2M}/devices/actions/list", devices.list_devices)
    app.router.add_post(
        f"{M2M}/devices/actions/{{action:activate|deactivate|suspend|restore}}",
        actions.provisioning,
    )
    app.router.add_post(f"{M2M}/devices/suspension/status", actions.suspension_status)
    app.router.add_get(
        f"{M2M}/accounts/{{accountName}}/requests/{{requestId}}/status",
        request_status.request_status,
    )
    diagnostics.register(app, M2M)
    return app


class RunningSimulator:
    """A simulator listening on ``base_url``; close it (or use ``async with``) when done."""

    def __init__(self, runner: web.AppRunner, app: web.Application, host: str, port: int) -> None:
        self.runner = runner
        self.app = app
        self.host = host
        self.port = port
        self.state: SimState = app[STATE_KEY]
        self.config: SimConfig = self.state.config
        self._closed = False

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT``; the client appends ``/api/ts/v1/...`` and ``/api/m2m/v1/...``."""
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self.runner.cleanup()

    async def __aenter__(self) -> RunningSimulator:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


async def start_simulator(
    config: SimConfig | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    access_log: logging.Logger | None = None,
) -> RunningSimulator:
    """Start the simulator in the running event loop and return once it accepts connections."""
    app = create_app(config)
    runner = web.AppRunner(app, access_log=access_log, shutdown_timeout=2.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound = port
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            bound = int(address[1])
            break
    return RunningSimulator(runner, app, host, bound)
