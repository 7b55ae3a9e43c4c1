"""Helpers for the simulator tests: fast settings, a callback listener and a tiny M2M caller.

Everything runs over real loopback HTTP; the caller is deliberately not the project's API
client, so these tests pin the simulator to the documented wire contract on their own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
from aiohttp import web

from m2m_tui.sim import FaultConfig, RunningSimulator, SimConfig
from m2m_tui.sim.config import PRIMARY_ACCOUNT

FIXED_NOW = datetime(2024, 5, 30, 12, 0, 0, tzinfo=UTC)


def fast_config(**overrides: Any) -> SimConfig:
    """Defaults with clocks short enough for tests (and a fixed reference time)."""
    base = SimConfig(
        now=FIXED_NOW,
        processing_delay=0.05,
        callback_retry_interval=0.15,
        callback_timeout=2.0,
        faults=FaultConfig(),
    )
    return replace(base, **overrides)


class CallbackListener:
    """A test-side callback receiver; ``statuses`` scripts the answers (then 200)."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.statuses: list[int] = []
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._event = asyncio.Event()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def url(self, path: str = "/cb") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def _handle(self, request: web.Request) -> web.Response:
        self.received.append(await request.json())
        self.paths.append(request.path)
        self._event.set()
        status = self.statuses.pop(0) if self.statuses else 200
        return web.json_response({"ok": status < 300}, status=status)

    async def wait_for(self, count: int, within: float = 5.0) -> list[dict[str, Any]]:
        """Wait until ``count`` messages arrived; return them all."""
        async with asyncio.timeout(within):
            while len(self.received) < count:
                self._event.clear()
                await self._event.wait()
        return self.received


class M2M:
    """Just enough of a ThingSpace client for tests: tokens, login and raw calls."""

    def __init__(self, sim: RunningSimulator, http: httpx.AsyncClient) -> None:
        self.sim = sim
        self.http = http
        self.base = sim.base_url
        self.bearer: str | None = None
        self.session: str | None = None
        self.account = PRIMARY_ACCOUNT

    async def token(
        self, key: str | None = None, secret: str | None = None, **form: str
    ) -> httpx.Response:
        cfg = self.sim.config
        data = form or {"grant_type": "client_credentials"}
        return await self.http.post(
            f"{self.base}/api/ts/v1/oauth2/token",
            data=data,
            auth=(key or cfg.app_key, secret or cfg.app_secret),
        )

    async def login(self, password: str | None = None) -> httpx.Response:
        if self.bearer is None:
            self.bearer = (await self.token()).json()["access_token"]
        cfg = self.sim.config
        answer = await self.http.post(
            f"{self.base}/api/m2m/v1/session/login",
            json={"username": cfg.username, "password": password or cfg.password},
            headers={"Authorization": f"Bearer {self.bearer}"},
        )
        if answer.status_code == 200:
            self.session = answer.json()["sessionToken"]
        return answer

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        """An M2M call (``path`` after ``/api/m2m/v1``), logging in first if needed."""
        if self.session is None:
            await self.login()
        sent = {
            "Authorization": f"Bearer {self.bearer}",
            "VZ-M2M-Token": self.session or "",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        sent.update(headers or {})
        sent = {k: v for k, v in sent.items() if v != ""}
        return await self.http.request(
            method,
            f"{self.base}/api/m2m/v1{path}",
            json=body if content is None else None,
            content=content,
            headers=sent,
        )

    async def register(self, service: str, url: str, **extra: str) -> httpx.Response:
        return await self.call(
            "POST", f"/callbacks/{self.account}", {"name": service, "url": url, **extra}
        )

    async def lookup(self, id_: str, kind: str, account: str | None = None) -> httpx.Response:
        body: dict[str, Any] = {"deviceId": {"id": id_, "kind": kind}}
        body["accountName"] = account or self.account
        return await self.call("POST", "/devices/actions/list", body)

    async def state_of(self, id_: str, kind: str) -> str:
        answer = await self.lookup(id_, kind)
        return str(answer.json()["devices"][0]["carrierInformations"][0]["state"])

    async def action(self, action: str, body: dict[str, Any]) -> httpx.Response:
        body.setdefault("accountName", self.account)
        return await self.call("POST", f"/devices/actions/{action}", body)


SimFactory = Callable[..., Awaitable[RunningSimulator]]
