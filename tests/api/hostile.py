"""Small hostile ThingSpace stand-ins on loopback port 0, for the client's hardening tests.

The OAuth and login endpoints answer normally (with known tokens, so a test can look for
them); every other M2M path goes to the handler the test gives.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from m2m_tui.api.client import ThingSpaceClient
from m2m_tui.api.credentials import ClientSettings, Credentials
from m2m_tui.api.retry import RetryPolicy

APP_KEY = "hostile-app-key"
APP_SECRET = 'app/secret+é"quoted\\'
USERNAME = "hostile_user"
PASSWORD = 'Pa ss"w\\ord/ü&1'
BEARER = "bearer-TOKEN-0123456789abcdef"
SESSION = "session-TOKEN-fedcba9876543210"
BASIC = base64.b64encode(f"{APP_KEY}:{APP_SECRET}".encode()).decode()
SECRETS = (APP_SECRET, PASSWORD, BEARER, SESSION, BASIC)
M2M = "/api/m2m/v1"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def _token(request: web.Request) -> web.Response:
    return web.json_response({"access_token": BEARER, "token_type": "Bearer", "expires_in": 3600})


async def _revoke(request: web.Request) -> web.Response:
    return web.json_response({})


async def _login(request: web.Request) -> web.Response:
    return web.json_response({"sessionToken": SESSION})


@asynccontextmanager
async def hostile_server(
    m2m: Handler,
    *,
    token: Handler = _token,
    login: Handler = _login,
) -> AsyncIterator[str]:
    """Serve ``m2m`` for every M2M path; yields the base URL."""
    app = web.Application()
    app.router.add_post("/api/ts/v1/oauth2/token", token)
    app.router.add_post("/api/ts/v1/oauth2/revoke", _revoke)
    app.router.add_post(f"{M2M}/session/login", login)
    app.router.add_route("*", M2M + "/{tail:.*}", m2m)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def client_for(base_url: str, *, attempts: int = 1, **settings: Any) -> ThingSpaceClient:
    return ThingSpaceClient(
        Credentials.of(APP_KEY, APP_SECRET, USERNAME, PASSWORD),
        ClientSettings(base_url=base_url, **settings),
        retry=RetryPolicy(attempts=attempts, base_delay=0.01, max_delay=0.05),
    )


def json_answer(data: Any, status: int = 200, **headers: str) -> web.Response:
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={"Content-Type": "application/json", **headers},
    )


@asynccontextmanager
async def drip_server(byte_every: float, total: int = 1000) -> AsyncIterator[str]:
    """A raw server that answers every request one byte every ``byte_every`` seconds."""
    body = b'{"status": "Success"}'.ljust(total)
    answer = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )

    handlers: set[asyncio.Task[Any]] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            handlers.add(task)
        try:
            await reader.readuntil(b"\r\n\r\n")
            for index in range(len(answer)):
                writer.write(answer[index : index + 1])
                await writer.drain()
                await asyncio.sleep(byte_every)  # the slow peer under test, not a wait
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
