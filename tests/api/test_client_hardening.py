"""The client against hostile servers (issue 9, points 13-17): every failure typed and plain,
total deadlines, size caps that hold while streaming (gzip bombs included), paging that cannot
loop, and no secret in any error text."""

from __future__ import annotations

import asyncio
import gzip
import json
import time
import tracemalloc
import zlib
from collections.abc import Iterator

import httpx
import pytest
from aiohttp import web

from m2m_tui.api.client import ThingSpaceClient
from m2m_tui.api.credentials import ClientSettings, Credentials
from m2m_tui.api.errors import (
    ApiError,
    AppCredentialsRejected,
    GatewayError,
    LoginRejected,
    NotRetriedTimeout,
    PagingStalled,
    RequestTimeout,
    ResponseFormatError,
    ResponseTooLarge,
    ThingSpaceError,
    UnexpectedFailure,
)
from m2m_tui.api.models import DeviceId, DeviceListRequest, SuspendRequest

from .hostile import (
    APP_SECRET,
    BASIC,
    BEARER,
    PASSWORD,
    SECRETS,
    SESSION,
    client_for,
    drip_server,
    hostile_server,
    json_answer,
)

ACCOUNT = "0000123456-00001"
MB = 1 << 20
DEVICE = DeviceId(id="5551234567", kind="mdn")


def no_secret_in(exc: BaseException, secrets: tuple[str, ...] = SECRETS) -> None:
    assert isinstance(exc, ThingSpaceError)
    texts = [str(exc), repr(exc), exc.message, exc.hint, *(str(a) for a in exc.args)]
    texts += [str(v) for v in vars(exc).values()]
    leaked = [s for s in secrets if any(s in text for text in texts)]
    assert not leaked, (leaked, texts)


# ---------------------------------------------------------------- 13: typed, plain failures


async def _status(client: ThingSpaceClient) -> None:
    await client.request_status(ACCOUNT, "req-1")


async def test_gzip_header_on_a_plain_body_is_a_typed_error() -> None:
    async def handler(request: web.Request) -> web.Response:
        return json_answer({"status": "Success"}, **{"Content-Encoding": "gzip"})

    async with hostile_server(handler) as url, client_for(url) as client:
        with pytest.raises(ResponseFormatError) as info:
            await _status(client)
    assert "Content-Encoding gzip" in info.value.message
    assert info.value.status == 200


async def test_unknown_encoding_is_a_typed_error() -> None:
    async def handler(request: web.Request) -> web.Response:
        return json_answer({"status": "Success"}, **{"Content-Encoding": "br"})

    async with hostile_server(handler) as url, client_for(url) as client:
        with pytest.raises(ResponseFormatError, match="encoding"):
            await _status(client)


async def test_real_gzip_and_deflate_answers_still_read() -> None:
    body = json.dumps({"requestId": "r", "status": "Success"}).encode()
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    encoded = {
        "gzip": ("gzip", gzip.compress(body)),
        "deflate": ("deflate", zlib.compress(body)),
        "raw": ("deflate", raw.compress(body) + raw.flush()),
        "plain": ("identity", body),
    }

    async def handler(request: web.Request) -> web.Response:
        encoding, data = encoded[request.path.split("/")[-2]]
        return web.Response(
            body=data,
            headers={"Content-Type": "application/json", "Content-Encoding": encoding},
        )

    async with hostile_server(handler) as url, client_for(url) as client:
        for name in encoded:
            answer = await client.request_status(ACCOUNT, name)
            assert answer.status.value == "Success", name


@pytest.mark.parametrize("status", [200, 400])
async def test_deeply_nested_json_is_a_typed_error(status: int) -> None:
    deep = b"[" * 200_000 + b"]" * 200_000

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=deep, status=status, content_type="application/json")

    async with hostile_server(handler) as url, client_for(url) as client:
        with pytest.raises(ThingSpaceError) as info:
            await _status(client)
    assert info.value.status == status
    if status == 200:
        assert isinstance(info.value, ResponseFormatError)
        assert "nested too deeply" in info.value.message


async def test_any_other_failure_is_an_unexpected_failure_named_by_type() -> None:
    def explode(request: httpx.Request) -> httpx.Response:
        raise RuntimeError(f"boom {PASSWORD}")

    client = ThingSpaceClient(
        Credentials.of("k", "s3cret-app", "u", PASSWORD),
        ClientSettings(base_url="http://thingspace.invalid"),
        transport=httpx.MockTransport(explode),
    )
    async with client:
        with pytest.raises(UnexpectedFailure) as info:
            await client.login()
    assert "RuntimeError" in info.value.message
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert PASSWORD not in str(info.value) + repr(info.value)


async def test_answers_built_in_memory_by_a_transport_still_read() -> None:
    """Test doubles hand back responses already read: they pass, under the same cap."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        if request.url.path.endswith("/login"):
            return httpx.Response(200, json={"sessionToken": "s"})
        if request.url.path.endswith("/big/status"):
            return httpx.Response(200, json={"requestId": "big", "pad": "x" * (2 * MB)})
        return httpx.Response(200, json={"requestId": "r", "status": "Success"})

    client = ThingSpaceClient(
        Credentials.of("k", "secret", "u", "p"),
        ClientSettings(base_url="http://thingspace.invalid"),
        transport=httpx.MockTransport(answer),
    )
    async with client:
        assert (await client.request_status(ACCOUNT, "r")).requestId == "r"
        with pytest.raises(ResponseTooLarge):
            await client.request_status(ACCOUNT, "big")


# ---------------------------------------------------------------- 15: deadlines and caps


async def test_a_trickling_server_cannot_hold_a_call_past_its_deadline() -> None:
    # Each byte comes well within the read timeout: only a total deadline ends this.
    async with drip_server(byte_every=0.05, total=2000) as url:
        client = client_for(url, attempts=3, timeout=0.4, connect_timeout=0.2, call_deadline=1.0)
        async with client:
            started = time.monotonic()
            with pytest.raises(RequestTimeout) as info:
                async with asyncio.timeout(10):
                    await client.fetch_token()
            elapsed = time.monotonic() - started
    assert 0.9 < elapsed < 2.5, elapsed
    assert "within 1 s" in info.value.message


async def test_a_trickled_provisioning_answer_times_out_and_is_not_resent() -> None:
    calls: list[str] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        calls.append(request.path)
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        try:
            for byte in b'{"requestId": "r-1"}'.ljust(2000):
                await response.write(bytes([byte]))
                await asyncio.sleep(0.05)  # the trickle under test: one byte every 50 ms
        except (ConnectionError, RuntimeError):
            pass
        return response

    async with hostile_server(handler) as url:
        client = client_for(url, attempts=3, timeout=0.4, connect_timeout=0.2, call_deadline=1.0)
        async with client:
            await client.login()
            started = time.monotonic()
            with pytest.raises(NotRetriedTimeout) as info:
                async with asyncio.timeout(10):
                    await client.suspend(SuspendRequest.for_devices(ACCOUNT, DEVICE))
            elapsed = time.monotonic() - started
    assert elapsed < 2.5 and "within 1 s" in info.value.message
    assert "may have been accepted" in info.value.hint
    assert len(calls) == 1


def test_limits_per_call_kind() -> None:
    settings = ClientSettings()
    small, page = settings.limits("small"), settings.limits("page")
    assert small.max_bytes == MB and page.max_bytes == 16 * MB
    assert small.deadline < page.deadline
    slow = ClientSettings(timeout=120.0, connect_timeout=10.0)
    assert slow.limits("small").deadline == 130.0 and slow.limits("page").deadline == 180.0


async def test_answers_past_the_cap_raise_and_the_cap_is_per_call_kind() -> None:
    pad = "x" * (5 * MB)

    async def handler(request: web.Request) -> web.Response:
        if request.path.endswith("/status"):
            return json_answer({"requestId": "r", "status": "Success", "pad": pad})
        return json_answer({"hasMoreData": False, "devices": [], "pad": pad})

    async with hostile_server(handler) as url, client_for(url) as client:
        with pytest.raises(ResponseTooLarge) as info:
            await _status(client)
        page = await client.list_devices(DeviceListRequest(accountName=ACCOUNT))
    assert "larger than 1,048,576 bytes" in info.value.message
    assert page.devices == []


async def test_a_huge_unannounced_body_is_not_read_into_memory() -> None:
    chunk = b" " * MB
    sent: list[int] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)  # chunked: no Content-Length to refuse early
        try:
            for _ in range(200):
                await response.write(chunk)
                sent.append(len(chunk))
        except (ConnectionError, RuntimeError):
            pass
        return response

    async with hostile_server(handler) as url, client_for(url) as client:
        await client.login()
        tracemalloc.start()
        try:
            with pytest.raises(ResponseTooLarge):
                await _status(client)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    print(f"unannounced 200 MB body, status call: peak {peak / MB:.1f} MB traced")
    assert peak < 20 * MB, peak
    assert sum(sent) < 100 * MB


@pytest.fixture(scope="module")
def gzip_bomb() -> Iterator[bytes]:
    """256 MB of zeros in about 250 KB of gzip."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(MB)
    parts = [packer.compress(zeros) for _ in range(256)]
    parts.append(packer.flush())
    yield b"".join(parts)


@pytest.mark.parametrize("call", ["status", "page"])
async def test_a_gzip_bomb_costs_about_the_cap_not_hundreds_of_mb(
    gzip_bomb: bytes, call: str
) -> None:
    assert len(gzip_bomb) < MB

    served: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        served.append(request.path)
        return web.Response(
            body=gzip_bomb,
            headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
        )

    async with hostile_server(handler) as url, client_for(url) as client:
        await client.login()
        tracemalloc.start()
        try:
            with pytest.raises(ResponseTooLarge):
                if call == "status":
                    await _status(client)
                else:
                    await client.list_devices(DeviceListRequest(accountName=ACCOUNT))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    print(f"gzip bomb (256 MB inflated), {call} call: peak {peak / MB:.1f} MB traced")
    assert peak < 50 * MB, peak
    assert len(served) == 1  # an oversized answer is not asked for again


# ---------------------------------------------------------------- 16: paging that cannot loop


def _listed(
    device_id: int | None, created: str | None = "2024-01-01T00:00:00Z"
) -> dict[str, object]:
    entry: dict[str, object] = {"deviceIds": [{"id": f"{device_id or 0:015d}", "kind": "imei"}]}
    if device_id is not None:
        entry["extendedAttributes"] = [{"key": "DeviceId", "value": str(device_id)}]
    if created is not None:
        entry["createdAt"] = created
    return entry


async def _pages(client: ThingSpaceClient) -> list[list[str]]:
    pages: list[list[str]] = []
    request = DeviceListRequest(accountName=ACCOUNT, maxNumberOfDevices=2)
    async with asyncio.timeout(10):
        async for page in client.iter_device_pages(request):
            pages.append([d.deviceIds[0].id for d in page])
    return pages


async def test_more_data_without_progress_stops_with_a_typed_error() -> None:
    asked: list[dict[str, object]] = []

    async def handler(request: web.Request) -> web.Response:
        asked.append(await request.json())
        return json_answer({"hasMoreData": True, "devices": [_listed(5), _listed(4)]}, 202)

    async with hostile_server(handler) as url, client_for(url) as client:
        with pytest.raises(PagingStalled) as info:
            await _pages(client)
    assert len(asked) == 2
    assert asked[1]["largestDeviceIdSeen"] == 5
    assert "did not move past device id 5" in info.value.message
    assert "incomplete" in info.value.message and "2 devices listed" in info.value.message


async def test_an_empty_page_announcing_more_is_a_typed_error() -> None:
    async def handler(request: web.Request) -> web.Response:
        return json_answer({"hasMoreData": True, "devices": []}, 202)

    async with hostile_server(handler) as url, client_for(url) as client:
        with pytest.raises(PagingStalled, match="empty"):
            await _pages(client)


# ---------------------------------------------------------------- 17: secrets scrubbed


async def test_secrets_echoed_by_the_server_never_reach_error_text() -> None:
    echo = f"you sent {PASSWORD} with {BEARER}, {SESSION} and Basic {BASIC}"

    async def handler(request: web.Request) -> web.Response:
        if request.path.endswith("/status"):
            return json_answer(
                {"errorCode": "REQUEST_FAILED.UnexpectedError", "errorMessage": echo}, 400
            )
        if request.path.endswith("/list"):
            return json_answer({"fault": {"code": "900908", "message": echo}}, 403)
        # A success with a content type that quotes the session token.
        return web.Response(body=b"not json", headers={"Content-Type": f"text/{SESSION}"})

    async def bad_login(request: web.Request) -> web.Response:
        return json_answer(
            {"errorCode": "UnifiedWebService.INPUT_INVALID.x", "errorMessage": echo}, 400
        )

    async def bad_token(request: web.Request) -> web.Response:
        described = f"{echo} {json.dumps(PASSWORD)}"
        return json_answer({"error": "invalid_client", "error_description": described}, 401)

    async with hostile_server(handler) as url, client_for(url) as client:
        with pytest.raises(ApiError) as status:
            await _status(client)
        with pytest.raises(GatewayError) as listing:
            await client.list_devices(DeviceListRequest(accountName=ACCOUNT))
        with pytest.raises(ResponseFormatError) as callbacks:
            await client.list_callbacks(ACCOUNT)
    for caught in (status, listing, callbacks):
        no_secret_in(caught.value)
        assert "***" in str(caught.value)
    async with hostile_server(handler, login=bad_login) as url, client_for(url) as client:
        with pytest.raises(LoginRejected) as login:
            await client.login()
    # This client never got a session token, so it cannot know to mask that one.
    no_secret_in(login.value, tuple(s for s in SECRETS if s != SESSION))
    async with hostile_server(handler, token=bad_token) as url, client_for(url) as client:
        with pytest.raises(AppCredentialsRejected) as token:
            await client.fetch_token()
    no_secret_in(token.value, (APP_SECRET, PASSWORD, BASIC))


def test_secrets_too_short_to_guard_anything_do_not_shred_messages() -> None:
    """A one-letter test password must not turn "proxy" into "***roxy" in every error."""
    from pydantic import SecretStr

    from m2m_tui.api.scrub import Scrubber

    scrubber = Scrubber()
    scrubber.credentials("key", SecretStr("s"), SecretStr("p"))
    text = "ThingSpace is unreachable from here: check the base URL, VPN and proxy"
    assert scrubber.text(text) == text
    scrubber.credentials("key", SecretStr("s3cret-app"), SecretStr("Pa55word!"))
    assert scrubber.text("echo Pa55word! and s3cret-app") == "echo *** and ***"
