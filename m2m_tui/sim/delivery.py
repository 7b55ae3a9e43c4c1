"""Callback delivery the way ThingSpace does it (``thingspace-api.md`` §4.3, §7).

Each message is POSTed as JSON to the URL registered for its service and account, with
``callbackCount`` starting at 1; a non-2xx answer or no answer is retried after
``callback_retry_interval`` until ``max_callback_sends`` sends were made. The fault knobs
(drop, duplicate, reorder, early) reproduce what listeners must survive: missing, repeated and
out-of-order messages, and messages that beat the synchronous response.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
from aiohttp import web

from m2m_tui.sim.state import DeliveryRecord, SimState

log = logging.getLogger("m2m_tui.sim.delivery")


class Deliverer:
    """Sends callback messages and keeps ``state.delivery_log``; one per simulator."""

    def __init__(self, state: SimState) -> None:
        self.state = state
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            timeout = aiohttp.ClientTimeout(total=self.state.config.callback_timeout)
            self._session = aiohttp.ClientSession(timeout=timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def deliver(
        self,
        account: str,
        service: str,
        request_id: str,
        messages: list[dict[str, Any]],
        completion: dict[str, Any] | None = None,
    ) -> None:
        """First sends of a request's messages in order (per-device first, completion last);
        retries continue in the background."""
        faults = self.state.config.faults
        ordered = list(messages)
        if faults.reorder:
            self.state.rng.shuffle(ordered)
        if completion is not None:
            ordered.append(completion)
        for payload in ordered:
            await self._first_send(account, service, request_id, payload)

    async def _first_send(
        self, account: str, service: str, request_id: str, payload: dict[str, Any]
    ) -> None:
        faults = self.state.config.faults
        rng = self.state.rng
        if faults.drop_rate and rng.random() < faults.drop_rate:
            self._record(request_id, service, account, None, payload, 1, "dropped")
            return
        ok = await self._send(account, service, request_id, payload, 1)
        if ok is None:
            return
        if faults.duplicate_rate and rng.random() < faults.duplicate_rate:
            await self._send(account, service, request_id, payload, 1, duplicate=True)
        if not ok and self.state.config.max_callback_sends > 1:
            self.state.spawn(
                self._retry(account, service, request_id, payload), name=f"retry {request_id}"
            )

    async def _retry(
        self, account: str, service: str, request_id: str, payload: dict[str, Any]
    ) -> None:
        cfg = self.state.config
        for attempt in range(2, cfg.max_callback_sends + 1):
            await asyncio.sleep(cfg.callback_retry_interval)
            ok = await self._send(account, service, request_id, payload, attempt)
            if ok is None or ok:
                return

    async def _send(
        self,
        account: str,
        service: str,
        request_id: str,
        payload: dict[str, Any],
        attempt: int,
        duplicate: bool = False,
    ) -> bool | None:
        """One POST; True on 2xx, False to retry, None when nobody is registered."""
        registration = self.state.registrations.get((account, service))
        if registration is None:
            self._record(request_id, service, account, None, payload, attempt, "unregistered")
            return None
        body: dict[str, Any] = {
            "username": registration.username or "",
            "password": registration.password or "",
            **payload,
            "callbackCount": attempt,
            "maxCallbackThreshold": self.state.config.max_callback_sends,
        }
        url = registration.url
        try:
            async with self._client().post(url, json=body) as answer:
                await answer.read()
                status = answer.status
        except Exception as exc:  # any transport failure counts as "no answer"
            record = self._record(request_id, service, account, url, body, attempt, "error")
            record.error = f"{type(exc).__name__}: {exc}"
            record.duplicate = duplicate
            return False
        ok = 200 <= status < 300
        record = self._record(
            request_id, service, account, url, body, attempt, "delivered" if ok else "rejected"
        )
        record.status = status
        record.duplicate = duplicate
        return ok

    def _record(
        self,
        request_id: str,
        service: str,
        account: str,
        url: str | None,
        body: dict[str, Any],
        attempt: int,
        outcome: str,
    ) -> DeliveryRecord:
        record = DeliveryRecord(request_id, service, account, url, body, attempt, outcome)
        self.state.delivery_log.append(record)
        log.info("callback %s %s attempt %d -> %s %s", service, request_id, attempt, outcome, url)
        return record


DELIVERY_KEY: web.AppKey[Deliverer] = web.AppKey("m2m_sim_delivery", Deliverer)
