"""One HTTP exchange with ThingSpace, with transport failures turned into typed errors.

Kept apart from the client so the rules "which failures are retried" and "what a timeout
means for a POST" live in one place.
"""

from __future__ import annotations

import json
import logging
import ssl
from typing import Any

import httpx

from m2m_tui.api.errors import (
    NetworkError,
    NotRetriedTimeout,
    RequestTimeout,
    ResponseFormatError,
    ThingSpaceError,
    TLSError,
)

log = logging.getLogger("m2m_tui.api")


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
    except (ValueError, UnicodeDecodeError):
        kind = response.headers.get("content-type", "unknown content type")
        raise ResponseFormatError(
            f"expected JSON, got {kind}",
            status=response.status_code,
            method=method,
            path=path,
        ) from None
