"""The async ThingSpace client: both logins, renewal, retries, typed errors.

One client per session (it owns an ``httpx.AsyncClient``). Rules, from ``thingspace-api.md``:
- every M2M call sends the bearer and the VZ-M2M session token;
- the bearer is renewed before it expires and once on a 401 gateway fault;
- the session is renewed once on any ``SessionToken.*`` error, and the call retried once;
- concurrent calls that hit an expiry share one renewal;
- a rejected password is never retried, and after ``login_guard`` rejections no login is
  attempted until :meth:`ThingSpaceClient.allow_login_attempt` is called;
- reads retry on 408/429/5xx with backoff and honour ``Retry-After``; provisioning POSTs never
  retry.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, SecretStr, ValidationError

from m2m_tui.api.bearer import BearerKeeper
from m2m_tui.api.bodies import ACCEPT_ENCODING
from m2m_tui.api.credentials import CallKind, ClientSettings, Credentials
from m2m_tui.api.errors import (
    ApiError,
    AppCredentialsRejected,
    LoginGuardTripped,
    LoginRejected,
    NotFoundError,
    ResponseFormatError,
    SessionRenewalFailed,
)
from m2m_tui.api.identifiers import DeviceKind
from m2m_tui.api.models import (
    ActivateRequest,
    CallbackRegistrationResult,
    DeactivateRequest,
    Device,
    DeviceId,
    DeviceListRequest,
    DeviceListResponse,
    LoginRequest,
    M2MErrorBody,
    OAuthToken,
    OutboundModel,
    RegisterCallbackRequest,
    RegisteredCallback,
    RequestIdResponse,
    RequestStatusResponse,
    RestoreRequest,
    SessionTokenResponse,
    SuspendRequest,
    SuspensionStatusRequest,
    decode_error_body,
)
from m2m_tui.api.paging import DevicePager
from m2m_tui.api.retry import RetryPolicy
from m2m_tui.api.scrub import Scrubber, guard_calls
from m2m_tui.api.tokens import AuthSnapshot, TokenState, same_secret
from m2m_tui.api.transport import Exchange, json_body

log = logging.getLogger("m2m_tui.api")

ModelT = TypeVar("ModelT", bound=BaseModel)
NoticeHandler = Callable[[str], None]


@guard_calls("_m2m")
class ThingSpaceClient:
    """Talks to ThingSpace (or the simulator) on behalf of one logged-in user."""

    def __init__(
        self,
        credentials: Credentials,
        settings: ClientSettings | None = None,
        *,
        retry: RetryPolicy | None = None,
        on_notice: NoticeHandler | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings or ClientSettings()
        self._credentials = credentials
        self._on_notice = on_notice
        self._clock = clock
        self._tokens = TokenState()
        self._session_lock = asyncio.Lock()
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(self.settings.timeout, connect=self.settings.connect_timeout),
            limits=httpx.Limits(
                max_connections=self.settings.max_connections,
                max_keepalive_connections=self.settings.max_connections,
            ),
            verify=self.settings.verify_tls,
            headers={
                "User-Agent": self.settings.user_agent,
                "Accept": "application/json",
                "Accept-Encoding": ACCEPT_ENCODING,
            },
            transport=transport,
        )
        self._scrubber = Scrubber()
        self._scrubber.credentials(
            credentials.app_key, credentials.app_secret, credentials.password
        )
        #: Counters a status bar or a test can read: token fetches, logins, calls.
        self.stats: dict[str, int] = {"tokens": 0, "logins": 0, "calls": 0, "retries": 0}
        self._exchange = Exchange(
            self._http, retry or RetryPolicy(), self.stats, self.settings.limits("small")
        )
        self._bearer = BearerKeeper(
            self.settings,
            lambda: self._credentials,
            self._exchange,
            self._tokens,
            self._scrubber,
            clock=clock,
            notice=self._notice,
        )

    @property
    def retry(self) -> RetryPolicy:
        """How read-only calls are retried (settable, e.g. by a test or a slow link)."""
        return self._exchange.retry

    @retry.setter
    def retry(self, policy: RetryPolicy) -> None:
        self._exchange.retry = policy

    def __repr__(self) -> str:
        return f"ThingSpaceClient(base_url={self.settings.base_url!r}, user={self.username!r})"

    @property
    def username(self) -> str:
        return self._credentials.username

    async def __aenter__(self) -> ThingSpaceClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # ----------------------------------------------------------------- auth state

    def auth_snapshot(self) -> AuthSnapshot:
        """Countdowns and guard state for the status bar."""
        return self._tokens.snapshot(self.settings.session_idle_renew, self.settings.login_guard)

    def set_credentials(self, credentials: Credentials) -> None:
        """New credentials typed by the user; the failed-login count stays (ThingSpace keeps it)."""
        self._credentials = credentials
        self._scrubber.credentials(
            credentials.app_key, credentials.app_secret, credentials.password
        )
        self._tokens.drop_session()
        self._tokens.drop_bearer()

    def allow_login_attempt(self) -> None:
        """The user asked to try again after the guard tripped."""
        self._tokens.guard_overridden = True

    def _notice(self, text: str) -> None:
        log.info(text)
        if self._on_notice is not None:
            self._on_notice(text)

    # ----------------------------------------------------------------- OAuth bearer

    async def fetch_token(self) -> OAuthToken:
        """``POST /oauth2/token`` with Basic auth and a form body; remembers the token."""
        return await self._bearer.fetch()

    async def revoke_token(self, token: SecretStr) -> None:
        """Best effort: ThingSpace hands out the same bearer for an hour unless it is revoked."""
        await self._bearer.revoke(token)

    # ----------------------------------------------------------------- VZ-M2M session

    async def login(self) -> None:
        """Log in as the user asked (the UI's login button). Respects the failed-login guard."""
        async with self._session_lock:
            await self._login(automatic=False)

    async def _login(self, *, automatic: bool) -> None:
        tokens = self._tokens
        guard = self.settings.login_guard
        if tokens.login_failures and automatic:
            raise SessionRenewalFailed(
                "not logging in again with a password ThingSpace rejected",
                hint="log in again with the right UWS password",
            )
        if tokens.login_failures >= guard and not tokens.guard_overridden:
            raise LoginGuardTripped(tokens.login_failures)
        path = "/session/login"
        body = LoginRequest(
            username=self._credentials.username, password=self._credentials.password
        ).wire(reveal_secrets=True)
        tokens.renewing += 1
        try:
            for refused_once in (False, True):
                bearer = await self._bearer.ensure()
                response = await self._exchange.send(
                    "POST",
                    self.settings.m2m_url(path),
                    path,
                    retriable=False,
                    headers=self._exchange.json_headers(bearer),
                    json=body,
                )
                if response.status_code == 200:
                    session = self._exchange.parse(SessionTokenResponse, response, "POST", path)
                    self._scrubber.token(session.sessionToken)
                    tokens.set_session(session.sessionToken, self._clock())
                    self.stats["logins"] += 1
                    return
                error_body = decode_error_body(response.content)
                if self._exchange.bearer_refused(response, error_body) and not refused_once:
                    await self._bearer.renew(bearer)
                    continue
                if isinstance(error_body, M2MErrorBody) and response.status_code in (400, 401):
                    tokens.login_failures += 1
                    tokens.guard_overridden = False
                    rejected = LoginRejected(
                        error_body.errorMessage or "login rejected",
                        attempt=tokens.login_failures,
                        status=response.status_code,
                        code=error_body.errorCode,
                        method="POST",
                        path=path,
                    )
                    if "lock" in error_body.errorCode.lower():
                        rejected.hint = "this UWS user is locked: ask Verizon support to unlock it"
                    raise rejected
                raise self._exchange.error(response, "POST", path)
        finally:
            tokens.renewing -= 1

    async def _ensure_session(self) -> SecretStr:
        idle = self.settings.session_idle_renew
        if self._tokens.session_fresh(idle, self._clock()) and self._tokens.session:
            return self._tokens.session
        async with self._session_lock:
            if self._tokens.session_fresh(idle, self._clock()) and self._tokens.session:
                return self._tokens.session
            await self._login(automatic=True)
            assert self._tokens.session is not None
            return self._tokens.session

    async def _renew_session(self, refused: SecretStr) -> None:
        async with self._session_lock:
            if not same_secret(self._tokens.session, refused) and self._tokens.session is not None:
                return
            self._tokens.drop_session()
            await self._login(automatic=True)
            self._notice("session expired; logged in again")

    async def logout(self) -> None:
        """End the session; a session that already expired counts as logged out."""
        session = self._tokens.session
        if session is None:
            return
        path = "/session/logout"
        bearer = await self._bearer.ensure()
        try:
            response = await self._exchange.send(
                "POST",
                self.settings.m2m_url(path),
                path,
                retriable=False,
                headers=self._exchange.json_headers(bearer, session),
            )
        finally:
            self._tokens.drop_session()
        if response.status_code != 200:
            error = decode_error_body(response.content)
            if isinstance(error, M2MErrorBody) and error.code_suffix.startswith("SessionToken."):
                return
            raise self._exchange.error(response, "POST", path)

    # ----------------------------------------------------------------- M2M calls

    async def list_devices(self, request: DeviceListRequest) -> DeviceListResponse:
        """One page of the device list (HTTP 202 means more pages follow)."""
        response = await self._m2m(
            "POST", "/devices/actions/list", request, read_only=True, kind="page"
        )
        return self._exchange.parse(DeviceListResponse, response, "POST", "/devices/actions/list")

    async def get_device(self, account: str, device_id: DeviceId) -> Device:
        """Look up one device; NotFoundError when ThingSpace returns none."""
        page = await self.list_devices(DeviceListRequest(accountName=account, deviceId=device_id))
        if not page.devices:
            raise NotFoundError(
                f"no device {device_id} in account {account}",
                status=200,
                hint="no such device on this account: check the identifier and its kind",
            )
        return page.devices[0]

    async def iter_device_pages(self, request: DeviceListRequest) -> AsyncIterator[list[Device]]:
        """Every page of a filtered list (see :class:`DevicePager`); PagingStalled when the
        pages stop moving forward."""
        pager = DevicePager(self.list_devices, request)
        while pager.more:
            yield await pager.next_page()

    async def suspension_status(self, request: SuspensionStatusRequest) -> RequestIdResponse:
        return await self._action("/devices/suspension/status", request)

    async def activate(self, request: ActivateRequest) -> RequestIdResponse:
        return await self._action("/devices/actions/activate", request)

    async def deactivate(self, request: DeactivateRequest) -> RequestIdResponse:
        return await self._action("/devices/actions/deactivate", request)

    async def suspend(self, request: SuspendRequest) -> RequestIdResponse:
        return await self._action("/devices/actions/suspend", request)

    async def restore(self, request: RestoreRequest) -> RequestIdResponse:
        return await self._action("/devices/actions/restore", request)

    async def request_status(self, account: str, request_id: str) -> RequestStatusResponse:
        """Status of a single-device provisioning request (the only kind ThingSpace tracks)."""
        path = f"/accounts/{_seg(account)}/requests/{_seg(request_id)}/status"
        response = await self._m2m("GET", path, None, read_only=True)
        return self._exchange.parse(RequestStatusResponse, response, "GET", path)

    async def list_callbacks(self, account: str) -> list[RegisteredCallback]:
        path = f"/callbacks/{_seg(account)}"
        response = await self._m2m("GET", path, None, read_only=True)
        data = json_body(response, method="GET", path=path)
        if not isinstance(data, list):
            raise ResponseFormatError("expected a list of callbacks", status=200, path=path)
        try:
            return [RegisteredCallback.model_validate(item) for item in data]
        except ValidationError as exc:
            raise ResponseFormatError(
                f"unexpected callback list: {exc.error_count()} problem(s)", status=200, path=path
            ) from None

    async def register_callback(
        self, account: str, request: RegisterCallbackRequest
    ) -> CallbackRegistrationResult:
        """Replaces whatever URL the account had for that service: confirm before calling."""
        path = f"/callbacks/{_seg(account)}"
        response = await self._m2m("POST", path, request, read_only=False, reveal=True)
        return self._exchange.parse(CallbackRegistrationResult, response, "POST", path)

    async def deregister_callback(
        self, account: str, service_name: str
    ) -> CallbackRegistrationResult:
        path = f"/callbacks/{_seg(account)}/name/{_seg(service_name)}"
        response = await self._m2m("DELETE", path, None, read_only=False)
        return self._exchange.parse(CallbackRegistrationResult, response, "DELETE", path)

    async def _action(self, path: str, request: OutboundModel) -> RequestIdResponse:
        response = await self._m2m("POST", path, request, read_only=False)
        return self._exchange.parse(RequestIdResponse, response, "POST", path)

    async def read(
        self, method: str, path: str, body: OutboundModel | None = None
    ) -> httpx.Response:
        """A read-only M2M call (both tokens, retried like every read), for api/history.py.

        History answers are lists of a page's size, so they get a page's size cap and deadline.
        """
        return await self._m2m(method, path, body, read_only=True, kind="page")

    # ----------------------------------------------------------------- plumbing

    async def _m2m(
        self,
        method: str,
        path: str,
        body: OutboundModel | None,
        *,
        read_only: bool,
        reveal: bool = False,
        kind: CallKind = "small",
    ) -> httpx.Response:
        """One M2M call with both tokens, renewing each at most once."""
        payload = body.wire(reveal_secrets=reveal) if body is not None else None
        bearer_renewed = session_renewed = False
        while True:
            bearer = await self._bearer.ensure()
            session = await self._ensure_session()
            response = await self._exchange.send_with_retry(
                method,
                self.settings.m2m_url(path),
                path,
                retriable=read_only,
                limits=self.settings.limits(kind),
                headers=self._exchange.json_headers(bearer, session),
                json=payload,
            )
            self.stats["calls"] += 1
            if response.status_code in (200, 201, 202, 204):
                self._tokens.touch_session(self._clock())
                return response
            error_body = decode_error_body(response.content)
            if self._exchange.bearer_refused(response, error_body):
                if bearer_renewed:
                    raise self._exchange.error(response, method, path)
                bearer_renewed = True
                await self._bearer.renew(bearer)
                continue
            if isinstance(error_body, M2MErrorBody) and error_body.code_suffix.startswith(
                "SessionToken."
            ):
                if session_renewed:
                    raise SessionRenewalFailed(
                        error_body.errorMessage or "session refused after logging in again",
                        status=response.status_code,
                        code=error_body.errorCode,
                        method=method,
                        path=path,
                    )
                session_renewed = True
                await self._renew_session(session)
                continue
            raise self._exchange.error(response, method, path, error_body)


def _seg(value: str) -> str:
    """A path segment, URL-encoded (account names keep their leading zeros: never int())."""
    return quote(value, safe="")


__all__ = [
    "ApiError",
    "AppCredentialsRejected",
    "ClientSettings",
    "Credentials",
    "DeviceKind",
    "ThingSpaceClient",
]
