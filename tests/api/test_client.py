"""The client against the simulator over real loopback HTTP: logins, renewal, retries, errors."""

from __future__ import annotations

import asyncio
import logging
import socket
import time

import pytest

from m2m_tui.api.client import ThingSpaceClient
from m2m_tui.api.credentials import ClientSettings
from m2m_tui.api.errors import (
    ApiError,
    AppCredentialsRejected,
    LoginGuardTripped,
    LoginRejected,
    NetworkError,
    NotFoundError,
    NotRetriedTimeout,
    RateLimited,
    RequestTimeout,
    ServerError,
    SessionRenewalFailed,
)
from m2m_tui.api.models import (
    DeviceId,
    DeviceListRequest,
    RegisterCallbackRequest,
    RequestStatus,
    SuspendRequest,
    SuspensionStatusRequest,
)
from m2m_tui.api.retry import RetryPolicy
from m2m_tui.sim import RunningSimulator, SimConfig
from m2m_tui.sim.wellknown import DEMO_IMEI, DEMO_MDN, SUSPENDED_MDN

from ..conftest import FAST, ClientFactory, credentials_for
from ..waiting import eventually, eventually_async

PRIMARY = "0000123456-00001"
SECONDARY = "0000654321-00001"
DEMO = DeviceId(id=DEMO_MDN, kind="mdn")


def calls_to(sim: RunningSimulator, fragment: str) -> int:
    return sum(n for key, n in sim.state.calls.items() if fragment in key)


async def test_both_logins_then_a_lookup(client: ThingSpaceClient, sim: RunningSimulator) -> None:
    device = await client.get_device(PRIMARY, DeviceId(id=DEMO_IMEI, kind="imei"))
    assert device.identifier("mdn") == DEMO_MDN
    assert device.state == "active"
    assert (client.stats["tokens"], client.stats["logins"]) == (1, 1)
    assert sim.state.logins == 1
    snapshot = client.auth_snapshot()
    assert snapshot.logged_in and not snapshot.guard_tripped
    assert snapshot.bearer_seconds_left() is not None and snapshot.bearer_seconds_left() > 3000


async def test_first_call_logs_in_by_itself(make_client: ClientFactory) -> None:
    fresh = make_client()
    device = await fresh.get_device(PRIMARY, DEMO)
    assert device.identifier("imei") == DEMO_IMEI
    assert fresh.stats["logins"] == 1


async def test_bearer_refused_mid_use_is_renewed_once(
    client: ThingSpaceClient, sim: RunningSimulator
) -> None:
    issued = sim.state.tokens_issued
    sim.state.expire_bearer_tokens()
    await client.get_device(PRIMARY, DEMO)
    assert sim.state.tokens_issued == issued + 1
    assert client.stats["tokens"] == 2
    assert sim.state.logins == 1  # the session survived


async def test_session_expired_mid_use_logs_in_again_once(
    client: ThingSpaceClient, sim: RunningSimulator
) -> None:
    notices: list[str] = []
    client._on_notice = notices.append
    sim.state.expire_sessions()
    await client.get_device(PRIMARY, DEMO)
    assert sim.state.logins == 2
    assert notices == ["session expired; logged in again"]


@pytest.mark.parametrize(
    "sim_config",
    [SimConfig(token_ttl=1.0, session_idle=1.0, **FAST)],  # type: ignore[arg-type]
)
async def test_short_clocks_renew_before_expiry(
    make_client: ClientFactory, sim: RunningSimulator
) -> None:
    now = [time.time()]
    client = make_client(
        settings={"bearer_margin": 0.5, "session_idle_renew": 0.7}, clock=lambda: now[0]
    )
    await client.login()
    # 1.1 s later on both clocks: the bearer inside its margin, the session idle past the
    # renew point (and both expired on the simulator's side if they were not renewed).
    now[0] += 1.1
    sim.state.advance_clock(1.1)
    await client.get_device(PRIMARY, DEMO)
    assert client.stats["tokens"] >= 2
    assert sim.state.logins == 2
    # No call was refused: the renewals happened before the tokens ran out.
    refused = [k for k in sim.state.calls if "devices/actions/list" in k]
    assert calls_to(sim, "devices/actions/list") == 1, refused


async def test_concurrent_calls_share_one_relogin(
    client: ThingSpaceClient, sim: RunningSimulator
) -> None:
    sim.state.expire_sessions()
    sim.state.expire_bearer_tokens()
    results = await asyncio.gather(*(client.get_device(PRIMARY, DEMO) for _ in range(12)))
    assert len(results) == 12
    assert sim.state.logins == 2
    assert client.stats["tokens"] == 2


async def test_wrong_password_is_never_retried_and_the_guard_holds(
    make_client: ClientFactory, sim: RunningSimulator
) -> None:
    client = make_client(password="wrong")
    with pytest.raises(LoginRejected) as first:
        await client.login()
    assert first.value.attempt == 1
    assert "5 failed attempts lock this user" in first.value.hint
    assert sim.state.login_failures == 1
    # A call does not silently log in again with the rejected password.
    with pytest.raises((SessionRenewalFailed, LoginGuardTripped)):
        await client.get_device(PRIMARY, DEMO)
    assert sim.state.login_failures == 1
    with pytest.raises(LoginRejected) as second:
        await client.login()
    assert second.value.attempt == 2
    with pytest.raises(LoginGuardTripped):
        await client.login()
    assert sim.state.login_failures == 2  # the guard did not reach the server
    assert client.auth_snapshot().guard_tripped
    client.set_credentials(credentials_for(sim.config))
    client.allow_login_attempt()
    await client.login()
    assert client.auth_snapshot().login_failures == 0


async def test_bad_app_secret(make_client: ClientFactory) -> None:
    client = make_client(app_secret="nope")
    with pytest.raises(AppCredentialsRejected) as info:
        await client.login()
    assert info.value.status == 401
    assert "app key or secret" in info.value.hint


async def test_documented_errors_arrive_typed(client: ThingSpaceClient) -> None:
    with pytest.raises(NotFoundError) as account:
        await client.get_device("123456-00001", DEMO)
    assert "leading zeros" in account.value.hint
    assert account.value.code is not None and account.value.code.endswith("AccountNotFound")
    with pytest.raises(NotFoundError) as device:
        await client.get_device(PRIMARY, DeviceId(id="5550000000", kind="mdn"))
    assert "check the identifier" in device.value.hint
    with pytest.raises(ApiError) as feature:
        await client.suspension_status(
            SuspensionStatusRequest(
                accountName=SECONDARY, deviceIds=[DeviceId(id="5559876543", kind="mdn")]
            )
        )
    assert feature.value.status == 400
    assert "enable" in feature.value.hint


@pytest.mark.parametrize(
    "sim_config",
    [SimConfig(**FAST, seed=7)],  # type: ignore[arg-type]
)
async def test_reads_back_off_on_429_and_5xx_and_succeed(
    make_client: ClientFactory, sim: RunningSimulator
) -> None:
    client = make_client(retry=RetryPolicy(attempts=8, base_delay=0.01, max_delay=0.02))
    await client.login()
    sim.config.faults.rate_429 = 0.3
    sim.config.faults.error_rate = 0.3
    sim.config.faults.retry_after = 0
    for _ in range(6):
        await client.get_device(PRIMARY, DEMO)
    assert client.stats["retries"] >= 1


async def test_retry_after_is_honoured(client: ThingSpaceClient, sim: RunningSimulator) -> None:
    client.retry = RetryPolicy(attempts=1, base_delay=0.01, max_retry_after=5)
    sim.config.faults.rate_429 = 1.0
    sim.config.faults.retry_after = 1
    started = time.monotonic()
    with pytest.raises(RateLimited) as info:
        await client.request_status(PRIMARY, "0e6b8f6a-0000-0000-0000-000000000000")
    assert time.monotonic() - started >= 0.95
    assert info.value.retry_after == 1
    assert calls_to(sim, "/requests/") == 2


async def test_long_retry_after_is_not_waited_for(
    client: ThingSpaceClient, sim: RunningSimulator
) -> None:
    client.retry = RetryPolicy(attempts=3, max_retry_after=0.5)
    sim.config.faults.rate_429 = 1.0
    sim.config.faults.retry_after = 30
    started = time.monotonic()
    with pytest.raises(RateLimited):
        await client.get_device(PRIMARY, DEMO)
    assert time.monotonic() - started < 1
    assert calls_to(sim, "devices/actions/list") == 1


async def test_provisioning_post_is_never_retried(
    client: ThingSpaceClient, sim: RunningSimulator
) -> None:
    sim.config.faults.error_rate = 1.0
    with pytest.raises(ServerError):
        await client.suspend(SuspendRequest.for_devices(PRIMARY, DEMO))
    assert calls_to(sim, "actions/suspend") == 1
    with pytest.raises(ServerError):
        await client.get_device(PRIMARY, DEMO)
    assert calls_to(sim, "devices/actions/list") == 1 + client.retry.attempts


async def test_timeouts_are_surfaced_and_posts_not_resent(
    make_client: ClientFactory, sim: RunningSimulator
) -> None:
    client = make_client(retry=RetryPolicy(attempts=1, base_delay=0.01), settings={"timeout": 0.3})
    await client.login()
    sim.config.faults.latency = 0.6
    with pytest.raises(NotRetriedTimeout) as post:
        await client.suspend(SuspendRequest.for_devices(PRIMARY, DEMO))
    assert "may have been accepted" in post.value.hint
    with pytest.raises(RequestTimeout) as read:
        await client.get_device(PRIMARY, DEMO)
    assert not isinstance(read.value, NotRetriedTimeout)
    # The simulator went on with the suspend we hung up on: by the time it has the request
    # (after its 0.6 s latency), a resend would have been counted (calls count on arrival).
    await eventually(lambda: len(sim.state.requests) == 1)
    assert calls_to(sim, "actions/suspend") == 1
    assert calls_to(sim, "devices/actions/list") == 2


async def test_unreachable_host_is_a_network_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    from m2m_tui.api.credentials import Credentials

    client = ThingSpaceClient(
        Credentials.of("k", "s", "u", "p"),
        ClientSettings(base_url=f"http://127.0.0.1:{port}"),
        retry=RetryPolicy(attempts=1, base_delay=0.01),
    )
    async with client:
        with pytest.raises(NetworkError) as info:
            await client.login()
    assert "unreachable" in info.value.hint


async def test_device_list_pages_through_a_filter(client: ThingSpaceClient) -> None:
    request = DeviceListRequest(accountName=PRIMARY, maxNumberOfDevices=40)
    pages = [page async for page in client.iter_device_pages(request)]
    assert len(pages) > 2
    ids = [d.numeric_device_id for page in pages for d in page]
    assert len(ids) == len(set(ids))
    everything = await client.list_devices(DeviceListRequest(accountName=PRIMARY))
    assert not everything.hasMoreData
    assert len(ids) == len(everything.devices)


async def test_suspend_then_poll_status(client: ThingSpaceClient) -> None:
    answer = await client.suspend(SuspendRequest.for_devices(PRIMARY, DEMO))
    first = await client.request_status(PRIMARY, answer.requestId)
    assert first.status in (RequestStatus.PENDING, RequestStatus.SUCCESS)

    async def final() -> bool:
        return (await client.request_status(PRIMARY, answer.requestId)).status.terminal

    await eventually_async(final)
    status = await client.request_status(PRIMARY, answer.requestId)
    assert status.status is RequestStatus.SUCCESS
    device = await client.get_device(PRIMARY, DEMO)
    assert device.state == "suspend"
    again = await client.suspend(
        SuspendRequest.for_devices(PRIMARY, DeviceId(id=SUSPENDED_MDN, kind="mdn"))
    )
    assert again.requestId != answer.requestId


async def test_callback_registration_round_trip(client: ThingSpaceClient) -> None:
    registered = await client.register_callback(
        PRIMARY,
        RegisterCallbackRequest(
            name="CarrierService", url="http://127.0.0.1:9001/cb", username="u", password="pw"
        ),
    )
    assert registered.serviceName == "CarrierService"
    listed = await client.list_callbacks(PRIMARY)
    mine = [c for c in listed if c.serviceName == "CarrierService"]
    assert mine and mine[0].url == "http://127.0.0.1:9001/cb"
    assert mine[0].password is not None and mine[0].password.get_secret_value() == "pw"
    await client.deregister_callback(PRIMARY, "CarrierService")
    assert all(c.serviceName != "CarrierService" for c in await client.list_callbacks(PRIMARY))


async def test_logout_then_calls_log_in_again(
    client: ThingSpaceClient, sim: RunningSimulator
) -> None:
    await client.logout()
    assert not client.auth_snapshot().logged_in
    await client.get_device(PRIMARY, DEMO)
    assert sim.state.logins == 2


async def test_secrets_never_reach_logs_reprs_or_errors(
    make_client: ClientFactory, sim: RunningSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client()
    await client.login()
    sim.state.expire_sessions()
    sim.state.expire_bearer_tokens()
    await client.get_device(PRIMARY, DEMO)
    sim.config.faults.error_rate = 1.0
    with pytest.raises(ServerError) as info:
        await client.suspend(SuspendRequest.for_devices(PRIMARY, DEMO))
    secrets = [*sim.state.tokens, *sim.state.sessions, sim.config.password, sim.config.app_secret]
    exposed = " ".join(
        [caplog.text, repr(client), repr(client.auth_snapshot()), str(info.value), repr(info.value)]
    )
    assert secrets and not [s for s in secrets if s in exposed]
