"""Checks of a public callback URL before it is registered with ThingSpace.

Three things can be known from here (``thingspace-api.md`` §4.3): the port is one ThingSpace
accepts, the scheme is https (recommended, not required), and our listener answers
``GET /healthz`` through that URL. The last one only proves something when the URL is
reachable from this host: a URL that does not answer here may still answer from Verizon's side
of a reverse proxy, so that outcome is a warning, never a failure.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit, urlunsplit

#: Ports ThingSpace accepts in a callback URL (``thingspace-api.md`` §4.3).
ALLOWED_PORTS: frozenset[int] = frozenset(
    [80, 443, *range(9001, 9007), *range(50551, 50560), *range(28200, 28221)]
)
ALLOWED_PORTS_TEXT = "80, 443, 9001-9006, 50551-50559, 28200-28220"
HEALTHZ_TIMEOUT = 3.0


class Outcome(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class Check:
    """One preflight result: a short name, the outcome, and a sentence a user can act on."""

    name: str
    outcome: Outcome
    detail: str

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK


def effective_port(url: str) -> int | None:
    """The port a URL names, or its scheme's default; None when the URL is not http(s)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    return port if port is not None else (443 if parts.scheme == "https" else 80)


def check_url(url: str) -> list[Check]:
    """The checks that need no network: URL shape, port, scheme."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [Check("url", Outcome.FAIL, f"{url!r} is not an http:// or https:// URL")]
    port = effective_port(url)
    if port is None:
        return [Check("url", Outcome.FAIL, f"{url!r} has an invalid port")]
    checks = []
    if port in ALLOWED_PORTS:
        checks.append(Check("port", Outcome.OK, f"port {port} is one ThingSpace accepts"))
    else:
        checks.append(
            Check(
                "port",
                Outcome.FAIL,
                f"port {port} is not accepted by ThingSpace (allowed: {ALLOWED_PORTS_TEXT})",
            )
        )
    if parts.scheme == "https":
        checks.append(Check("https", Outcome.OK, "https: callbacks are encrypted in transit"))
    else:
        checks.append(
            Check(
                "https",
                Outcome.WARN,
                "http: allowed, but https with a third-party certificate is recommended "
                "(callbacks carry a password in the body)",
            )
        )
    return checks


def healthz_urls(url: str) -> list[str]:
    """Where to ask: the origin's ``/healthz`` (the listener serves it at the root), then
    ``<path>/healthz`` when the public URL has a path (a proxy that forwards one prefix)."""
    parts = urlsplit(url.strip())
    candidates = [urlunsplit((parts.scheme, parts.netloc, "/healthz", "", ""))]
    path = parts.path.rstrip("/")
    if path:
        candidates.append(urlunsplit((parts.scheme, parts.netloc, path + "/healthz", "", "")))
    return candidates


def _healthy(body: bytes) -> bool:
    try:
        data: Any = json.loads(body)
    except ValueError:
        return False
    return isinstance(data, dict) and data.get("status") == "ok"


async def probe_healthz(
    url: str, *, time_limit: float = HEALTHZ_TIMEOUT, transport: Any = None
) -> Check:
    """Ask the listener's ``/healthz`` through ``url``; a short timeout, never raises.

    ``transport`` is an httpx transport for tests.
    """
    import httpx

    problems: list[str] = []
    unreachable = True
    async with httpx.AsyncClient(
        timeout=time_limit, transport=transport, verify=True, follow_redirects=False
    ) as client:
        for candidate in healthz_urls(url):
            try:
                response = await client.get(candidate)
            except httpx.TimeoutException:
                problems.append(f"{candidate}: no answer within {time_limit:g} s")
                continue
            except httpx.HTTPError as exc:
                problems.append(f"{candidate}: {type(exc).__name__}: {exc}".rstrip(": "))
                continue
            unreachable = False
            if response.status_code == 200 and _healthy(response.content):
                return Check("healthz", Outcome.OK, f"the listener answers at {candidate}")
            problems.append(f"{candidate}: HTTP {response.status_code}, not our listener")
    if unreachable:
        return Check(
            "healthz",
            Outcome.WARN,
            "not reachable from here (it may still be from ThingSpace): " + "; ".join(problems),
        )
    return Check("healthz", Outcome.FAIL, "; ".join(problems))


async def preflight(
    url: str, *, time_limit: float = HEALTHZ_TIMEOUT, transport: Any = None
) -> list[Check]:
    """Every check, the network one last (skipped when the URL itself is unusable)."""
    checks = check_url(url)
    if any(c.name == "url" for c in checks):
        return checks
    checks.append(await probe_healthz(url, time_limit=time_limit, transport=transport))
    return checks


def summary(checks: Sequence[Check]) -> Outcome:
    """The worst outcome."""
    if any(c.outcome is Outcome.FAIL for c in checks):
        return Outcome.FAIL
    if any(c.outcome is Outcome.WARN for c in checks):
        return Outcome.WARN
    return Outcome.OK


def same_listener(registered: str | None, ours: str | None) -> bool:
    """Whether a registered URL reaches our listener: the same URL, or a path under it
    (the listener takes POSTs to any path under its prefix, e.g. ``/cb/carrierservice``)."""
    if not registered or not ours:
        return False
    a, b = urlsplit(registered.strip()), urlsplit(ours.strip())
    if (a.scheme.lower(), a.netloc.lower()) != (b.scheme.lower(), b.netloc.lower()):
        return False
    base = b.path.rstrip("/")
    path = a.path.rstrip("/")
    return path == base or path.startswith(base + "/")
