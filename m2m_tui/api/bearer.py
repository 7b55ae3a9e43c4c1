"""The OAuth bearer: fetched with Basic auth, renewed before it expires and once after a 401.

Kept apart from the client so the client stays about M2M calls and the session; the client
owns one keeper and hands it what it shares (exchange, token state, scrubber, counters).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from pydantic import SecretStr

from m2m_tui.api.credentials import ClientSettings, Credentials
from m2m_tui.api.errors import ThingSpaceError
from m2m_tui.api.models import OAuthToken
from m2m_tui.api.scrub import Scrubber
from m2m_tui.api.tokens import TokenState, same_secret
from m2m_tui.api.transport import Exchange

log = logging.getLogger("m2m_tui.api")


class BearerKeeper:
    """Fetches, revokes and renews the bearer; concurrent callers share one renewal."""

    def __init__(
        self,
        settings: ClientSettings,
        credentials: Callable[[], Credentials],
        exchange: Exchange,
        tokens: TokenState,
        scrubber: Scrubber,
        *,
        clock: Callable[[], float],
        notice: Callable[[str], None],
    ) -> None:
        self._settings = settings
        self._credentials = credentials
        self._exchange = exchange
        self._tokens = tokens
        self._scrubber = scrubber
        self._clock = clock
        self._notice = notice
        self._lock = asyncio.Lock()

    async def fetch(self) -> OAuthToken:
        """``POST /oauth2/token`` with Basic auth and a form body; remembers the token."""
        path = "/oauth2/token"
        creds = self._credentials()
        response = await self._exchange.send_with_retry(
            "POST",
            self._settings.oauth_url("token"),
            path,
            retriable=True,
            auth=(creds.app_key, creds.app_secret.get_secret_value()),
            data={"grant_type": "client_credentials"},
        )
        if response.status_code != 200:
            raise self._exchange.error(response, "POST", path)
        token = self._exchange.parse(OAuthToken, response, "POST", path)
        self._scrubber.token(token.access_token)
        self._exchange.stats["tokens"] += 1
        self._tokens.set_bearer(token.access_token, token.expires_in, self._clock())
        return token

    async def revoke(self, token: SecretStr) -> None:
        """Best effort: ThingSpace hands out the same bearer for an hour unless it is revoked."""
        creds = self._credentials()
        try:
            await self._exchange.send(
                "POST",
                self._settings.oauth_url("revoke"),
                "/oauth2/revoke",
                retriable=False,
                auth=(creds.app_key, creds.app_secret.get_secret_value()),
                data={"grant_type": "client_credentials", "token": token.get_secret_value()},
            )
        except ThingSpaceError as exc:
            log.debug("token revoke failed: %s", exc.__class__.__name__)

    async def ensure(self) -> SecretStr:
        """A bearer good for at least ``bearer_margin`` more seconds."""
        margin = self._settings.bearer_margin
        if self._tokens.bearer_fresh(margin, self._clock()) and self._tokens.bearer:
            return self._tokens.bearer
        async with self._lock:
            if self._tokens.bearer_fresh(margin, self._clock()) and self._tokens.bearer:
                return self._tokens.bearer
            old = self._tokens.bearer
            self._tokens.renewing += 1
            try:
                token = await self.fetch()
                if old is not None and same_secret(old, token.access_token):
                    # Same token, still near its end: force a new one.
                    await self.revoke(old)
                    await self.fetch()
            finally:
                self._tokens.renewing -= 1
            assert self._tokens.bearer is not None
            return self._tokens.bearer

    async def renew(self, refused: SecretStr) -> None:
        """After a 401: revoke the refused token and get a new one, once for all callers."""
        async with self._lock:
            if not same_secret(self._tokens.bearer, refused) and self._tokens.bearer is not None:
                return
            self._tokens.renewing += 1
            try:
                self._tokens.drop_bearer()
                await self.revoke(refused)
                await self.fetch()
                self._notice("bearer token refused; fetched a new one")
            finally:
                self._tokens.renewing -= 1
