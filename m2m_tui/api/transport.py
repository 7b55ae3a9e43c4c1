"""HTTP exchanges with ThingSpace: transport failures as typed errors, read-only retries,
answers decoded into models or typed errors."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import ssl
from collections.abc import AsyncIterator
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, SecretStr, ValidationError

from m2m_tui.api.bodies import read_capped
from m2m_tui.api.credentials import CallLimits
from m2m_tui.api.errors import (
    AuthError,
    NetworkError,
    NotRetriedTimeout,
    RateLimited,
    RequestTimeout,
    ResponseFormatError,
    ThingSpaceError,
    TLSError,
    error_from_body,
)
from m2m_tui.api.models import ErrorBody, GatewayFaultBody, decode_error_body
from m2m_tui.api.retry import RETRY_STATUSES, RetryPolicy, parse_retry_after

log = logging.getLogger("m2m_tui.api")

ModelT = TypeVar("ModelT", bound=BaseModel)

#: Headers that describe the body as it came over the wire, not the decoded one we keep.
_BODY_FRAMING = frozenset({"content-encoding", "content-length", "transfer-encoding"})


def transport_error(
    exc: httpx.TransportError, *, method: str, path: str, retriable: bool
) -> ThingSpaceError:
    """Name what went wrong without leaking headers (httpx messages never include them)."""
    if isinstance(exc, httpx.TimeoutException):
        if isinstance(exc, httpx.ConnectTimeout):
            return RequestTimeout(
                "timed out connecting to ThingSpace",
                method=method,
                path=path,
                hint="could not connect in time: check the base URL, VPN and proxy",
            )
        cls = RequestTimeout if retriable else NotRetriedTimeout
        return cls("ThingSpace did not answer in time", method=method, path=path)
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLError):
            return TLSError(f"TLS failure: {cause.__class__.__name__}", method=method, path=path)
        cause = cause.__cause__ or cause.__context__
    if "CERTIFICATE_VERIFY_FAILED" in str(exc) or "SSL" in str(exc):
        return TLSError("TLS failure", method=method, path=path)
    return NetworkError(
        f"cannot reach ThingSpace: {exc.__class__.__name__}", method=method, path=path
    )


def json_body(response: httpx.Response, *, method: str, path: str) -> Any:
    """The parsed JSON of a success answer, or a ResponseFormatError saying what came instead."""
    try:
        return json.loads(response.content)
    except RecursionError:
        raise ResponseFormatError(
            "answer nested too deeply to read",
            status=response.status_code,
            method=method,
            path=path,
        ) from None
    except (ValueError, UnicodeDecodeError):
        kind = response.headers.get("content-type", "unknown content type")[:60]
        raise ResponseFormatError(
            f"expected JSON, got {kind}",
            status=response.status_code,
            method=method,
            path=path,
        ) from None


class Exchange:
    """Sends requests, retries the read-only ones, and turns answers into models or errors.

    Kept apart from the client so the rules "which failures are retried" and "what a timeout
    means for a POST" live in one place, away from token renewal.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        retry: RetryPolicy,
        stats: dict[str, int],
        limits: CallLimits | None = None,
    ) -> None:
        self.http = http
        self.retry = retry
        self.stats = stats
        #: Deadline and size cap of a call that names none.
        self.limits = limits or CallLimits(60.0, 1 << 20)
        self._rng = random.Random()

    @contextlib.asynccontextmanager
    async def _deadline(
        self, limits: CallLimits, method: str, path: str, retriable: bool
    ) -> AsyncIterator[None]:
        """The whole call, retries included, ends by ``limits.deadline`` or raises a timeout."""
        scope = asyncio.timeout(limits.deadline)
        try:
            async with scope:
                yield
        except TimeoutError:
            if not scope.expired():
                raise
            cls = RequestTimeout if retriable else NotRetriedTimeout
            raise cls(
                f"ThingSpace did not finish answering within {limits.deadline:g} s",
                method=method,
                path=path,
            ) from None

    async def send_with_retry(
        self,
        method: str,
        url: str,
        path: str,
        *,
        retriable: bool,
        limits: CallLimits | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send; for read-only calls, retry 408/429/5xx and timeouts with backoff."""
        limits = limits or self.limits
        loop = asyncio.get_running_loop()
        ends = loop.time() + limits.deadline
        async with self._deadline(limits, method, path, retriable):
            attempt = 0
            while True:
                try:
                    response = await self._attempt(method, url, path, retriable, limits, kwargs)
                except ThingSpaceError as exc:
                    # A malformed or oversized answer is the server's way, not a glitch.
                    if not retriable or isinstance(exc, AuthError | ResponseFormatError):
                        raise
                    attempt += 1
                    delay = self._delay(attempt, None, ends - loop.time())
                    if delay is None:
                        raise
                    log.info(
                        "%s %s failed (%s); retry %d in %.2fs",
                        method,
                        path,
                        exc.__class__.__name__,
                        attempt,
                        delay,
                    )
                    await asyncio.sleep(delay)
                    continue
                if not retriable or response.status_code not in RETRY_STATUSES:
                    return response
                attempt += 1
                retry_after = parse_retry_after(response.headers.get("retry-after"))
                delay = self._delay(attempt, retry_after, ends - loop.time())
                if delay is None:
                    if response.status_code == 429:
                        raise RateLimited(
                            "ThingSpace is throttling requests",
                            retry_after=retry_after,
                            status=429,
                            method=method,
                            path=path,
                        )
                    return response
                log.info(
                    "%s %s got HTTP %d; retry %d in %.2fs",
                    method,
                    path,
                    response.status_code,
                    attempt,
                    delay,
                )
                await asyncio.sleep(delay)

    def _delay(self, attempt: int, retry_after: float | None, left: float) -> float | None:
        """The wait before the next attempt; None when there is none, or no time for it."""
        delay = self.retry.delay(attempt, retry_after, self._rng)
        if delay is None or delay >= left:
            return None
        self.stats["retries"] += 1
        return delay

    async def send(
        self,
        method: str,
        url: str,
        path: str,
        *,
        retriable: bool,
        limits: CallLimits | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """One attempt, within the call's deadline and size cap."""
        limits = limits or self.limits
        async with self._deadline(limits, method, path, retriable):
            return await self._attempt(method, url, path, retriable, limits, kwargs)

    async def _attempt(
        self,
        method: str,
        url: str,
        path: str,
        retriable: bool,
        limits: CallLimits,
        kwargs: dict[str, Any],
    ) -> httpx.Response:
        """Stream the answer in, decoded and capped, and hand it back fully read."""
        options = dict(kwargs)
        auth = options.pop("auth", None)
        try:
            request = self.http.build_request(method, url, **options)
            streamed = await self.http.send(request, auth=auth, stream=True)
            try:
                body = await read_capped(streamed, limits.max_bytes, method=method, path=path)
            finally:
                await streamed.aclose()
        except httpx.TransportError as exc:
            raise transport_error(exc, method=method, path=path, retriable=retriable) from None
        except httpx.HTTPError as exc:
            raise ResponseFormatError(
                f"unreadable answer ({exc.__class__.__name__})", method=method, path=path
            ) from None
        headers = [
            (name, value)
            for name, value in streamed.headers.multi_items()
            if name.lower() not in _BODY_FRAMING
        ]
        return httpx.Response(streamed.status_code, headers=headers, content=body, request=request)

    @staticmethod
    def json_headers(bearer: SecretStr, session: SecretStr | None = None) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {bearer.get_secret_value()}",
            "Content-Type": "application/json",
        }
        if session is not None:
            headers["VZ-M2M-Token"] = session.get_secret_value()
        return headers

    @staticmethod
    def bearer_refused(response: httpx.Response, body: object) -> bool:
        return response.status_code == 401 and (body is None or isinstance(body, GatewayFaultBody))

    def error(
        self, response: httpx.Response, method: str, path: str, body: ErrorBody | None = None
    ) -> ThingSpaceError:
        decoded = body if body is not None else decode_error_body(response.content)
        error = error_from_body(
            decoded,
            status=response.status_code,
            method=method,
            path=path,
        )
        if response.status_code == 429 and isinstance(error, RateLimited):
            error.retry_after = parse_retry_after(response.headers.get("retry-after"))
        return error

    @staticmethod
    def parse(model: type[ModelT], response: httpx.Response, method: str, path: str) -> ModelT:
        data = json_body(response, method=method, path=path)
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            fields = ", ".join(".".join(str(p) for p in e["loc"]) or "body" for e in exc.errors())
            raise ResponseFormatError(
                f"unexpected {model.__name__} body (fields: {fields})",
                status=response.status_code,
                method=method,
                path=path,
            ) from None
