"""Preflight of a public callback URL: allowed ports, https, and /healthz through the URL."""

from __future__ import annotations

import httpx
import pytest

from m2m_tui.tracking.listener import CallbackListener
from m2m_tui.tracking.preflight import (
    ALLOWED_PORTS,
    Outcome,
    Resolver,
    check_host,
    check_url,
    effective_port,
    healthz_urls,
    preflight,
    probe_healthz,
    same_listener,
    summary,
)

from .conftest import StartListener


def outcomes(url: str) -> dict[str, Outcome]:
    return {check.name: check.outcome for check in check_url(url)}


def test_allowed_ports_are_the_documented_ones() -> None:
    assert {80, 443, 9001, 9006, 50551, 50559, 28200, 28220} <= ALLOWED_PORTS
    assert not {8080, 9000, 9007, 50550, 50560, 28199, 28221} & ALLOWED_PORTS
    assert len(ALLOWED_PORTS) == 2 + 6 + 9 + 21


@pytest.mark.parametrize(
    ("url", "port"),
    [
        ("https://cb.example.com/x", 443),
        ("http://cb.example.com", 80),
        ("https://cb.example.com:9003/", 9003),
        ("ftp://cb.example.com", None),
        ("https://cb.example.com:99999/", None),
    ],
)
def test_effective_port(url: str, port: int | None) -> None:
    assert effective_port(url) == port


def test_https_on_an_allowed_port_passes() -> None:
    assert outcomes("https://cb.example.com:50551/cb") == {
        "port": Outcome.OK,
        "https": Outcome.OK,
    }


def test_http_is_a_warning_and_a_wrong_port_a_failure() -> None:
    found = outcomes("http://cb.example.com:8080/cb")
    assert found == {"port": Outcome.FAIL, "https": Outcome.WARN}
    port = next(c for c in check_url("http://cb.example.com:8080") if c.name == "port")
    assert "8080" in port.detail and "9001-9006" in port.detail


def test_not_a_url_fails_alone() -> None:
    assert outcomes("cb.example.com") == {"url": Outcome.FAIL}


def test_healthz_urls_try_the_root_then_under_the_path() -> None:
    assert healthz_urls("https://h.example:9001") == ["https://h.example:9001/healthz"]
    assert healthz_urls("https://h.example/m2m/cb/?x=1") == [
        "https://h.example/healthz",
        "https://h.example/m2m/cb/healthz",
    ]


def _transport(handler: object) -> httpx.MockTransport:
    return httpx.MockTransport(handler)  # type: ignore[arg-type]


async def test_probe_ok_when_the_listener_answers() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"status": "ok", "accepted": 3})

    check = await probe_healthz("https://cb.example.com/", transport=_transport(handler))
    assert check.outcome is Outcome.OK and "https://cb.example.com/healthz" in check.detail


async def test_probe_fails_when_something_else_answers() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, text="<html>not found</html>")

    check = await probe_healthz("https://cb.example.com/", transport=_transport(handler))
    assert check.outcome is Outcome.FAIL and "HTTP 404" in check.detail


async def test_probe_unreachable_is_only_a_warning() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    check = await probe_healthz("https://cb.example.com/", transport=_transport(handler))
    assert check.outcome is Outcome.WARN
    assert "not reachable from here" in check.detail


async def test_probe_times_out_quickly() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    check = await probe_healthz(
        "https://cb.example.com/", time_limit=0.2, transport=_transport(handler)
    )
    assert check.outcome is Outcome.WARN and "0.2 s" in check.detail


async def test_preflight_against_a_real_listener(
    start_listener: tuple[StartListener, list[object]],
) -> None:
    start, _ = start_listener
    listener: CallbackListener = await start()
    checks = await preflight(listener.url, time_limit=2.0)
    by_name = {c.name: c.outcome for c in checks}
    assert by_name["healthz"] is Outcome.OK
    assert by_name["https"] is Outcome.WARN
    assert by_name["address"] is Outcome.WARN  # the listener is on loopback
    assert by_name["port"] is (Outcome.OK if listener.port in ALLOWED_PORTS else Outcome.FAIL)
    assert summary(checks) in (Outcome.WARN, Outcome.FAIL)


async def test_preflight_skips_the_probe_for_a_bad_url() -> None:
    checks = await preflight("not a url")
    assert [c.name for c in checks] == ["url"]


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://127.0.0.1:9001/cb", "loopback address (this machine only)"),
        ("http://[::1]:9001/cb", "loopback address"),
        ("https://10.20.30.40/cb", "private address (RFC 1918"),
        ("https://172.16.0.9/cb", "private address (RFC 1918"),
        ("https://192.168.1.20:9003/cb", "private address (RFC 1918"),
        ("https://[fd12:3456::1]/cb", "private address (IPv6 unique local"),
        ("https://169.254.10.1/cb", "link-local address"),
        ("https://[fe80::1]/cb", "link-local address"),
        ("https://0.0.0.0/cb", "unspecified address"),
        ("https://[::]/cb", "unspecified address"),
        ("https://[::ffff:192.168.0.1]/cb", "private address (RFC 1918"),
        ("https://100.64.0.1/cb", "reserved address"),
    ],
)
def test_an_address_thingspace_cannot_reach_is_a_warning_that_says_why(
    url: str, words: str
) -> None:
    address = next(c for c in check_url(url) if c.name == "address")
    assert address.outcome is Outcome.WARN
    assert words in address.detail and "cannot reach it" in address.detail


def test_a_public_address_passes_and_a_name_is_left_to_the_resolver() -> None:
    assert outcomes("https://8.8.8.8:9001/cb")["address"] is Outcome.OK
    assert outcomes("https://[2001:4860::8888]/cb")["address"] is Outcome.OK
    assert "address" not in outcomes("https://cb.example.com/cb")


def resolver(*addresses: str) -> Resolver:
    """A resolver that answers ``addresses`` for any name."""

    async def resolve(host: str) -> list[str]:
        return list(addresses)

    return resolve


async def test_a_name_warns_only_when_every_address_is_unreachable() -> None:
    mixed = await check_host("https://cb.example.com/", resolve=resolver("10.0.0.1", "8.8.4.4"))
    assert mixed is not None and mixed.outcome is Outcome.OK and "8.8.4.4" in mixed.detail
    inside = await check_host("https://cb.corp/", resolve=resolver("10.0.0.1", "fd00::1"))
    assert inside is not None and inside.outcome is Outcome.WARN
    assert "cb.corp resolves here only to 10.0.0.1, fd00::1" in inside.detail
    assert await check_host("https://10.0.0.1/") is None  # check_url covers literals


async def test_a_name_that_does_not_resolve_is_a_warning() -> None:
    async def fails(host: str) -> list[str]:
        raise OSError("Name or service not known")

    check = await check_host("https://cb.example.invalid/", resolve=fails)
    assert check is not None and check.outcome is Outcome.WARN
    assert "does not resolve from here" in check.detail


async def test_preflight_of_localhost_warns_through_the_real_resolver(
    start_listener: tuple[StartListener, list[object]],
) -> None:
    start, _ = start_listener
    listener: CallbackListener = await start()
    checks = await preflight(f"http://localhost:{listener.port}/cb", time_limit=2.0)
    by_name = {c.name: c for c in checks}
    assert by_name["address"].outcome is Outcome.WARN
    assert "localhost resolves here only to" in by_name["address"].detail
    assert "loopback" in by_name["address"].detail
    assert by_name["healthz"].outcome is Outcome.OK  # reachable here, not from ThingSpace
    assert summary(checks) is not Outcome.OK


@pytest.mark.parametrize(
    ("registered", "ours", "same"),
    [
        ("http://127.0.0.1:9001/cb/carrierservice", "http://127.0.0.1:9001/", True),
        ("http://127.0.0.1:9001/", "http://127.0.0.1:9001", True),
        ("HTTPS://CB.example.com/m2m", "https://cb.example.com/m2m/", True),
        ("https://cb.example.com/m2mx", "https://cb.example.com/m2m", False),
        ("https://customer.example.com/cb", "https://cb.example.com/", False),
        ("http://cb.example.com/", "https://cb.example.com/", False),
        (None, "https://cb.example.com/", False),
        ("https://cb.example.com/", None, False),
    ],
)
def test_same_listener(registered: str | None, ours: str | None, same: bool) -> None:
    assert same_listener(registered, ours) is same
