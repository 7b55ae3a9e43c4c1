"""What the account has registered for callbacks, read once and compared with our URL.

ThingSpace keeps one URL per service per account (``thingspace-api.md`` §4.1). The
registration view shows it, and a request that finishes only by callback needs to know
whether its service's callbacks come to us: :meth:`Registrations.reaches_us` answers that
without a screen. Plain frozen values: the pydantic models of the answer are not kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from m2m_tui.tracking.preflight import same_listener

if TYPE_CHECKING:
    from pydantic import SecretStr

    from m2m_tui.api.client import ThingSpaceClient

#: The services whose callbacks the app tracks (shown first, even when nothing is there).
WANTED: tuple[str, ...] = ("CarrierService", "DeviceSuspensionStatus")


@dataclass(frozen=True, slots=True)
class ServiceRegistration:
    """One service's registration (what to put back on exit includes its credentials)."""

    service: str
    url: str | None
    username: str | None = None
    password: SecretStr | None = None
    ours: bool = False


@dataclass(frozen=True, slots=True)
class Registrations:
    """The account's registrations as listed, and our URL they were compared with."""

    account: str
    our_url: str | None
    services: tuple[ServiceRegistration, ...]

    def get(self, service: str) -> ServiceRegistration | None:
        """The registration of ``service``; None when nothing is registered for it."""
        return next((s for s in self.services if s.service == service), None)

    def names(self) -> list[str]:
        """The wanted services first, then any other the account has, by name."""
        others = sorted(s.service for s in self.services if s.service not in WANTED)
        return [*WANTED, *others]

    def reaches_us(self, service: str) -> bool:
        """Whether ``service``'s callbacks are registered to our listener."""
        found = self.get(service)
        return found is not None and found.ours


async def read_registrations(
    client: ThingSpaceClient, account: str, our_url: str | None
) -> Registrations:
    """List the account's registrations (one GET) and mark those that reach ``our_url``."""
    found = await client.list_callbacks(account)
    services = tuple(
        ServiceRegistration(
            item.serviceName,
            item.url,
            item.username,
            item.password,
            same_listener(item.url, our_url),
        )
        for item in found
    )
    return Registrations(account, our_url, services)
