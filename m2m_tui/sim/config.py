"""Settings of the simulator: credentials, accounts, clocks and fault knobs.

Every clock is a setting so the test suite can run the real flows (token expiry, idle sessions,
callback retries) in fractions of a second, and one seed drives all randomness so a run can be
repeated exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

PRIMARY_ACCOUNT = "0000123456-00001"
SECONDARY_ACCOUNT = "0000654321-00001"


@dataclass
class AccountSpec:
    """One billing account the simulated UWS user can work with.

    ``suspension_status`` says whether the DeviceSuspensionStatus feature is enabled; production
    needs Verizon to switch it on per organization, so a disabled account answers that API
    with a 400 error.
    """

    name: str
    suspension_status: bool = True
    organization: str = "Demo Organization"


def _default_accounts() -> list[AccountSpec]:
    return [
        AccountSpec(PRIMARY_ACCOUNT, suspension_status=True, organization="Acme Telemetry"),
        AccountSpec(SECONDARY_ACCOUNT, suspension_status=False, organization="Acme Field Ops"),
    ]


@dataclass
class FaultConfig:
    """Misbehaviour to inject, all off by default.

    Rates are fractions in [0, 1] drawn from the simulator's seeded random generator.
    """

    latency: float = 0.0
    """Seconds added to every HTTP response."""
    error_rate: float = 0.0
    """Fraction of calls answered 500 before they are processed."""
    rate_429: float = 0.0
    """Fraction of calls answered 429 (WSO2 throttle fault 900800) before they are processed."""
    retry_after: int = 1
    """Seconds put in the Retry-After header of a 429."""
    drop_rate: float = 0.0
    """Fraction of callback messages never sent at all."""
    duplicate_rate: float = 0.0
    """Fraction of callback messages sent twice in a row (identical bodies)."""
    reorder: bool = False
    """Shuffle the per-device callbacks of a request (the completion message stays last)."""
    early_callbacks: bool = False
    """Process at once and deliver callbacks before the synchronous requestId response."""


@dataclass
class DiagnosticsConfig:
    """Switches for the diagnostics reads, where the reference leaves the real answer open."""

    stories: bool = True
    """Seed the scenario-kit devices (``thingspace-diagnostics.md`` §10) into the inventory."""
    history_page_size: int = 500
    strict_date_range: bool = False
    """Answer ``latest < earliest`` with a 400 instead of an empty 200 list."""
    provisioning_bare_object: bool = False
    """Answer provisioning history as a bare object instead of the SDK's array."""
    pools_key: str = "iPPools"
    """``iPPools`` (SDK) or ``ipPools`` (doc table) in the account answer."""
    group_page_size: int = 100
    unexpected_error_once: bool = False
    """Fail each distinct history request once with ``UnexpectedError`` after ``timeout_delay``
    seconds, then serve it: the documented 30-second timeout behaviour."""
    timeout_delay: float = 0.0
    max_window_days: float = 0.0
    """When > 0, a history window longer than this always fails with ``UnexpectedError``
    (a long window timing out, §1): clients must split it."""


@dataclass
class SimConfig:
    """Everything the simulator can be told; the defaults make a ready-to-use demo."""

    app_key: str = "demo-app-key"
    app_secret: str = "demo-app-secret"
    username: str = "demo_uws_user"
    password: str = "Demo#Pass1"
    accounts: list[AccountSpec] = field(default_factory=_default_accounts)
    inventory_size: int = 300
    """Devices in total (well-known demo devices included), split 2:1 over the first two accounts."""
    seed: int = 1
    request_id_salt: int | None = None
    """Mixed into every requestId so ids stay unique across restarts with the same seed, as
    ThingSpace's do (a journal keeps ids from earlier runs). None: drawn at random when the
    simulator starts. Set it to repeat a run's requestIds exactly."""
    now: datetime | None = None
    """Wall-clock reference for generated dates; None means the current time at start-up."""
    token_ttl: float = 3600.0
    session_idle: float = 1200.0
    processing_delay: float = 0.5
    """Seconds between a request being accepted and its devices changing state / callbacks."""
    carrier_callback_delay: float = 0.0
    """Seconds between a provisioning request's status turning final and its CarrierService
    callbacks being sent (the demo sets a few, so a poll can finish a request first)."""
    callback_retry_interval: float = 300.0
    max_callback_sends: int = 4
    callback_timeout: float = 10.0
    """Seconds ThingSpace waits for a listener to answer one callback POST."""
    daily_action_limit: int = 5
    """Provisioning actions per line per day (activate/suspend/restore/deactivate)."""
    lockout_after: int = 5
    """Consecutive failed logins that lock the UWS user."""
    page_size: int = 2000
    """Most devices in one device-list response (production: 2000)."""
    list_extended_attributes: bool = True
    """Give listed devices their ``DeviceId`` extended attribute. Off: device-list pages carry
    no ``extendedAttributes`` at all (Verizon's SDK says multi-device answers may not), so a
    client must page by date added with ``earliest``."""
    max_devices_per_request: int = 10000
    enforce_callback_ports: bool = False
    """Reject callback URLs on ports production refuses (off: tests listen on random ports)."""
    faults: FaultConfig = field(default_factory=FaultConfig)
    diagnostics: DiagnosticsConfig = field(default_factory=DiagnosticsConfig)

    @property
    def primary_account(self) -> str:
        return self.accounts[0].name

    @property
    def secondary_account(self) -> str | None:
        return self.accounts[1].name if len(self.accounts) > 1 else None

    def account(self, name: str) -> AccountSpec | None:
        """The account spec called exactly ``name`` (leading zeros matter)."""
        for spec in self.accounts:
            if spec.name == name:
                return spec
        return None
