"""Checks of a public callback URL before it is registered with ThingSpace.

Four things can be known from here (``thingspace-api.md`` §4.3): the port is one ThingSpace
accepts, the scheme is https (recommended, not required), the host is a public address
ThingSpace can reach over the internet, and our listener answers ``GET /healthz`` through
that URL. The probe only proves something when the URL is reachable from this host: a URL that
does not answer here may still answer from Verizon's side of a reverse proxy, so that outcome
is a warning, never a failure. A loopback or private host is a warning too, not a failure: the
demo and local tests use loopback on purpose, and split-horizon DNS can give ThingSpace another
address than the one this host sees.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
from collections.abc import Awaitable, Callable, Sequence
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

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: Resolves a host name to its addresses (as text); raises OSError when it cannot.
Resolver = Callable[[str], Awaitable[list[str]]]

_RFC1918 = tuple(
    ipaddress.IPv4Network(net) for net in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)
_ULA = ipaddress.IPv6Network("fc00::/7")


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


def unreachable_kind(address: IPAddress) -> str | None:
    """Why ThingSpace, on the internet, cannot reach this address, in a few words ("a
    loopback address (this machine only)"); None for a public address."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_unspecified:
        return "the unspecified address (it names no machine)"
    if address.is_loopback:
        return "a loopback address (this machine only)"
    if address.is_link_local:
        return "a link-local address (one local network segment only)"
    if isinstance(address, ipaddress.IPv4Address) and any(address in n for n in _RFC1918):
        return "a private address (RFC 1918: local networks only)"
    if isinstance(address, ipaddress.IPv6Address) and address in _ULA:
        return "a private address (IPv6 unique local: local networks only)"
    if not address.is_global:
        return "a reserved address (not routed on the internet)"
    return None


def _ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def address_check(host: str, addresses: Sequence[str]) -> Check:
    """Whether ThingSpace can reach ``host``: OK when any of its addresses is public."""
    parsed = [ip for ip in (_ip(a) for a in addresses) if ip is not None]
    public = [ip for ip in parsed if unreachable_kind(ip) is None]
    literal = _ip(host) is not None
    if public:
        where = f"{host} is" if literal else f"{host} resolves to {public[0]},"
        return Check("address", Outcome.OK, f"{where} a public address")
    if not parsed:
        return Check("address", Outcome.WARN, f"{host} has no IP address here")
    kind = unreachable_kind(parsed[0])
    if literal:
        said = f"{host} is {kind}"
    else:
        listed = ", ".join(dict.fromkeys(str(ip) for ip in parsed))
        said = f"{host} resolves here only to {listed}: {parsed[0]} is {kind}"
    return Check(
        "address",
        Outcome.WARN,
        f"{said}; ThingSpace calls from the internet and cannot reach it "
        "(fine for the demo, not for real callbacks)",
    )


async def resolve_host(host: str, time_limit: float = HEALTHZ_TIMEOUT) -> list[str]:
    """The addresses ``host`` resolves to from here; raises OSError (or TimeoutError)."""
    loop = asyncio.get_running_loop()
    infos = await asyncio.wait_for(
        loop.getaddrinfo(host, None, type=socket.SOCK_STREAM), time_limit
    )
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def check_host(
    url: str, *, time_limit: float = HEALTHZ_TIMEOUT, resolve: Resolver | None = None
) -> Check | None:
    """The address check for a URL naming a host (an IP literal is checked by check_url)."""
    host = urlsplit(url.strip()).hostname
    if not host or _ip(host) is not None:
        return None
    try:
        if resolve is None:
            addresses = await resolve_host(host, time_limit)
        else:
            addresses = await resolve(host)
    except (OSError, TimeoutError) as exc:
        reason = "no answer in time" if isinstance(exc, TimeoutError) else str(exc)
        return Check(
            "address",
            Outcome.WARN,
            f"{host} does not resolve from here ({reason}); ThingSpace needs a name in public DNS",
        )
    return address_check(host, addresses)


def check_url(url: str) -> list[Check]:
    """The checks that need no network: URL shape, port, scheme, and an IP literal host."""
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
    host = parts.hostname
    if _ip(host) is not None:
        checks.append(address_check(host, [host]))
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
    url: str,
    *,
    time_limit: float = HEALTHZ_TIMEOUT,
    transport: Any = None,
    resolve: Resolver | None = None,
) -> list[Check]:
    """Every check, the network ones last (skipped when the URL itself is unusable).

    ``resolve`` replaces the system resolver in tests.
    """
    checks = check_url(url)
    if any(c.name == "url" for c in checks):
        return checks
    host = await check_host(url, time_limit=time_limit, resolve=resolve)
    if host is not None:
        checks.append(host)
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
