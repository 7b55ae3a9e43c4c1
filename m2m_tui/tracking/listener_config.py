"""How the callback listener is bound and what it accepts.

Mistakes here (a bad CIDR, a missing key file) are reported when the config is built, in
words a user can act on, rather than as a traceback when the first callback arrives.
"""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

MAX_BODY = 1024 * 1024
#: Seconds a client has to send its request line and headers (from connect, or from the end of
#: its previous request on a kept-alive connection), and again to send the body.
READ_TIMEOUT = 10.0
#: Connections served at once; past it the oldest idle or still-reading one is closed.
MAX_CONNECTIONS = 512
#: Rejected bodies kept in the journal per reason (every rejection is still counted).
REJECTION_SAMPLES = 100

#: Where ThingSpace sends callbacks from (``thingspace-api.md`` §4.3; older pages list only the
#: first two).
THINGSPACE_SOURCE_ADDRESSES: tuple[str, ...] = (
    "137.117.33.109",
    "168.62.173.153",
    "3.87.163.45",
    "3.91.119.203",
    "54.197.62.209",
    "35.165.205.14",
    "54.200.43.232",
    "34.216.81.234",
)
LOOPBACK_NETWORKS: tuple[str, ...] = ("127.0.0.0/8", "::1/128")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class ListenerConfig:
    """Where to listen and what to accept.

    - ``username``/``password``: the values registered with ThingSpace, echoed in every body.
      When both are unset, no credentials are expected and any are accepted (a lab); a
      username without a password, or an empty password, is refused: it would accept anyone.
    - ``allow_sources``: ``None`` accepts any source; a tuple of IPs/CIDRs turns the
      allow-list on (``THINGSPACE_SOURCE_ADDRESSES`` for production), and then loopback is
      allowed too unless ``allow_loopback`` is False. Behind a reverse proxy the source is the
      proxy: forwarded headers are not trusted.
    - ``path_prefix``: POSTs to any path under it are callbacks (``/cb/carrier``, ...).
    - ``read_timeout``: seconds for the request line and headers, and again for the body; a
      client slower than that is disconnected (slow-loris), within a quarter of it (at most
      1 s) past the deadline: one sweep enforces every deadline, no timer per request.
    - ``max_connections``: connections served at once (also kept under the process's file
      descriptor limit); when full, the oldest connection that has not yet sent a whole
      request is closed to make room, so genuine callbacks still get through an attack.
    """

    host: str = "127.0.0.1"
    port: int = 9001
    username: str | None = None
    password: SecretStr | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    allow_sources: tuple[str, ...] | None = None
    allow_loopback: bool = True
    max_body: int = MAX_BODY
    path_prefix: str = "/"
    read_timeout: float = READ_TIMEOUT
    max_connections: int = MAX_CONNECTIONS

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port {self.port} is not between 0 and 65535")
        if self.max_body <= 0:
            raise ValueError("max_body must be positive")
        if not self.path_prefix.startswith("/"):
            raise ValueError(f"path prefix {self.path_prefix!r} must start with '/'")
        if not self.read_timeout > 0:
            raise ValueError("read timeout must be a positive number of seconds")
        if self.max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        if self.password is not None and not self.password.get_secret_value():
            raise ValueError("an empty callback password is refused: it would accept anyone")
        if self.username and self.password is None:
            raise ValueError(
                f"callback username {self.username!r} without a password would accept any "
                "password; set the callback password"
            )
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("TLS needs both a certificate file and a key file")
        self.networks()  # validate now

    @property
    def credentials_expected(self) -> bool:
        return bool(self.username) or bool(self.password and self.password.get_secret_value())

    @property
    def expected_username(self) -> str:
        return self.username or ""

    @property
    def expected_password(self) -> str:
        return self.password.get_secret_value() if self.password is not None else ""

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None

    def networks(self) -> tuple[Network, ...] | None:
        """The allow-list as networks (``None`` when it is off); raises ValueError on a typo."""
        if self.allow_sources is None:
            return None
        entries = list(self.allow_sources)
        if self.allow_loopback:
            entries.extend(LOOPBACK_NETWORKS)
        networks: list[Network] = []
        for entry in entries:
            try:
                networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                raise ValueError(
                    f"allow-list entry {entry!r} is not an IP address or CIDR network"
                ) from None
        return tuple(networks)

    def ssl_context(self) -> ssl.SSLContext | None:
        """A server TLS context from the cert and key files, or None for plain HTTP."""
        if self.tls_cert is None or self.tls_key is None:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            context.load_cert_chain(self.tls_cert, self.tls_key)
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(
                f"cannot load TLS certificate {self.tls_cert} with key {self.tls_key}: {exc}"
            ) from exc
        return context


def source_allowed(source: str | None, networks: tuple[Network, ...]) -> bool:
    """Whether a peer address is in the allow-list (IPv4-mapped IPv6 counts as IPv4)."""
    if not source:
        return False
    try:
        address = ipaddress.ip_address(source.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)
