"""Everything the simulator remembers, plus the hooks tests use to bend time and inspect calls.

One object per running simulator: tokens, sessions, lockout, callback registrations, requests,
the inventory and its identifier index, the callback delivery log, counters, and the set of
background tasks that must all be cancelled on shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
import time
import uuid
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from m2m_tui.api.identifiers import DeviceKind
from m2m_tui.sim import stories
from m2m_tui.sim.config import SimConfig
from m2m_tui.sim.inventory import EASTERN, Device, IdFactory, generate_inventory
from m2m_tui.sim.wellknown import WELL_KNOWN_DEVICES

log = logging.getLogger("m2m_tui.sim")


@dataclass
class BearerToken:
    token: str
    app_key: str
    expires_at: float


@dataclass
class Session:
    token: str
    username: str
    last_used: float


@dataclass
class Registration:
    """One callback listener: the URL ThingSpace POSTs a service's messages to."""

    account: str
    service: str
    url: str
    username: str | None = None
    password: str | None = None

    def to_wire(self) -> dict[str, str]:
        out = {"accountName": self.account, "serviceName": self.service, "url": self.url}
        if self.username is not None:
            out["username"] = self.username
        if self.password is not None:
            out["password"] = self.password
        return out


@dataclass
class RequestRecord:
    """An accepted asynchronous request and what became of each of its devices."""

    request_id: str
    account: str | None
    action: str
    """activate, suspend, restore, deactivate or suspension_status."""
    single_device: bool
    """True only for a one-device ``devices`` request: the only kind request status answers."""
    device_count: int
    status: str = "Pending"
    results: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class DeliveryRecord:
    """One callback send (or non-send), for tests and for the standalone log."""

    request_id: str
    service: str
    account: str
    url: str | None
    body: dict[str, Any]
    attempt: int
    outcome: str
    """delivered, rejected (non-2xx), error (no answer), dropped (fault), unregistered."""
    status: int | None = None
    error: str | None = None
    duplicate: bool = False


class SimState:
    """The simulator's memory; see the module docstring."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        salt = config.request_id_salt
        self._request_salt = secrets.randbits(128) if salt is None else salt % (1 << 128)
        self._offset = 0.0
        self._started = time.monotonic()
        start = config.now or datetime.now(EASTERN).replace(microsecond=0)
        self._wall_start = start if start.tzinfo else start.replace(tzinfo=EASTERN)
        self.devices: list[Device] = stories.install(
            generate_inventory(config, self.rng, self._wall_start),
            config,
            self._wall_start,
            reserved=len(WELL_KNOWN_DEVICES),
        )
        self._index: dict[tuple[DeviceKind, str], Device] = {}
        for device in self.devices:
            self.index_device(device)
        taken = {v for d in self.devices for v in d.ids.values()}
        taken.update(d.ip_address for d in self.devices if d.ip_address)
        self.id_factory = IdFactory(self.rng, taken)
        """Mints new unique identifiers (the MDN an activation assigns)."""
        self.tokens: dict[str, BearerToken] = {}
        self.sessions: dict[str, Session] = {}
        self.failed_logins: Counter[str] = Counter()
        self.locked_users: set[str] = set()
        self.registrations: dict[tuple[str, str], Registration] = {}
        self.requests: dict[str, RequestRecord] = {}
        self.delivery_log: list[DeliveryRecord] = []
        self.calls: Counter[str] = Counter()
        """HTTP calls per ``"METHOD /path"`` (injected faults included)."""
        self.token_requests = 0
        self.tokens_issued = 0
        """New bearer tokens minted (a reused still-valid token does not count)."""
        self.logins = 0
        """Successful session logins."""
        self.login_failures = 0
        self.tasks: set[asyncio.Task[Any]] = set()
        #: When set, accepted requests wait for it before processing (a test holds a request
        #: in flight for as long as it needs, instead of racing a processing delay).
        self.processing_gate: asyncio.Event | None = None

    # ---- clocks -------------------------------------------------------------------------
    def monotonic(self) -> float:
        """The clock token and session expiry use; ``advance_clock`` moves it forward."""
        return time.monotonic() + self._offset

    def wall_now(self) -> datetime:
        """Simulated wall time: the configured ``now`` plus elapsed (and advanced) time."""
        elapsed = time.monotonic() - self._started + self._offset
        return self._wall_start + timedelta(seconds=elapsed)

    def today(self) -> str:
        return self.wall_now().astimezone(EASTERN).date().isoformat()

    def new_id(self) -> str:
        """A UUID4-shaped id from the seeded generator, so runs repeat exactly."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def new_request_id(self) -> str:
        """A requestId: the seeded draw (so the rest of a run repeats) mixed with this start's
        salt, so a restart with the same seed never hands out an id an earlier run gave."""
        bits = self.rng.getrandbits(128) ^ self._request_salt
        return str(uuid.UUID(int=bits, version=4))

    # ---- inventory ----------------------------------------------------------------------
    def index_device(self, device: Device) -> None:
        for kind, value in device.ids.items():
            self._index[(kind, value.upper())] = device

    def find_device(self, kind: DeviceKind | str, value: str) -> Device | None:
        """The device with identifier ``value`` of ``kind`` (kind and hex case-insensitive)."""
        key = kind if isinstance(kind, DeviceKind) else DeviceKind.parse(kind)
        return self._index.get((key, value.strip().upper()))

    def account_devices(self, account: str | None) -> list[Device]:
        """Devices of ``account`` (all accounts when None), sorted by DeviceId."""
        return [d for d in self.devices if account is None or d.account == account]

    # ---- test hooks ---------------------------------------------------------------------
    def advance_clock(self, seconds: float) -> None:
        """Move token/session expiry and simulated wall time forward (sleeps are not shortened)."""
        self._offset += seconds

    def expire_bearer_tokens(self) -> None:
        """Make every issued OAuth token expired (the next M2M call gets fault 900901)."""
        for token in self.tokens.values():
            token.expires_at = self.monotonic() - 1

    def expire_sessions(self) -> None:
        """Make every session idle past its limit (the next call gets SessionToken.Expired)."""
        for session in self.sessions.values():
            session.last_used = self.monotonic() - self.config.session_idle - 1

    def unlock_user(self, username: str | None = None) -> None:
        """What Verizon support does: clear the lockout and the failed-attempt counter."""
        name = username or self.config.username
        self.locked_users.discard(name)
        self.failed_logins.pop(name, None)

    def reset_daily_counters(self) -> None:
        """Forget today's per-line provisioning action counts."""
        for device in self.devices:
            device.daily_actions.clear()

    def deliveries(self, request_id: str | None = None) -> list[DeliveryRecord]:
        return [r for r in self.delivery_log if request_id is None or r.request_id == request_id]

    # ---- background tasks ---------------------------------------------------------------
    def spawn(self, coro: Coroutine[Any, Any, Any], name: str | None = None) -> asyncio.Task[Any]:
        """Run ``coro`` in the background, tracked so shutdown can cancel it."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self.tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("simulator background task failed", exc_info=task.exception())

    async def drain(self, within: float = 10.0) -> None:
        """Wait until no background work (processing, deliveries, retries) is left."""
        deadline = time.monotonic() + within
        while self.tasks:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{len(self.tasks)} simulator task(s) still running")
            await asyncio.wait(set(self.tasks), timeout=remaining)

    async def cancel_tasks(self) -> None:
        """Cancel and await all background tasks (shutdown)."""
        while self.tasks:
            pending = set(self.tasks)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)


STATE_KEY: web.AppKey[SimState] = web.AppKey("m2m_sim_state", SimState)
"""Where ``create_app`` keeps the :class:`SimState` (``app[STATE_KEY]``)."""
