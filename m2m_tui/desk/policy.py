"""``can(action, target)``: may this request be sent now, and if so, can it finish?

Two things stop or qualify a request before anything is sent:
- read-only mode refuses every state change (no confirm can override it);
- a CALLBACK-ONLY request (suspension status, every filter action) finishes only when
  ThingSpace's callback reaches us. When none can (no listener here, or it failed to start, and
  no journal followed; or the registration for that service is known and names another URL),
  sending it means a request that waits for its deadline and then says "timed out". The answer
  is then :class:`Warned`: the front end asks for a confirm whose text says why it cannot
  finish and what to do.
Pollable requests (single-device provisioning) finish by polling, with or without callbacks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from m2m_tui.tracking.records import RequestAction

if TYPE_CHECKING:
    from m2m_tui.desk.actions import Target


@dataclass(frozen=True, slots=True)
class Allowed:
    """Send it (after the usual confirm of a state change)."""


@dataclass(frozen=True, slots=True)
class Warned:
    """It may be sent, but only after the engineer confirmed ``reason``."""

    reason: str


@dataclass(frozen=True, slots=True)
class Refused:
    """Not sent; ``reason`` says why (and ``error`` is the failure, when one caused it)."""

    reason: str
    error: BaseException | None = None


Verdict = Allowed | Warned | Refused

#: The callback service that carries each action's results (thingspace-api.md §4).
CALLBACK_SERVICE: Mapping[RequestAction, str] = {
    RequestAction.SUSPENSION_STATUS: "DeviceSuspensionStatus",
    RequestAction.SUSPEND: "CarrierService",
    RequestAction.RESTORE: "CarrierService",
    RequestAction.ACTIVATE: "CarrierService",
    RequestAction.DEACTIVATE: "CarrierService",
}


@dataclass(frozen=True)
class CallbackReach:
    """Whether a callback can reach this app now, and why not when it cannot."""

    listening: bool = False
    """Our own listener is running."""
    following: bool = False
    """We follow a journal that another process (``m2m-tui listen``) writes."""
    why_not: str | None = None
    """Why there is no listener (it failed to start: the reason; or it is off)."""
    fix: str | None = None
    """What to do about it, fitting ``why_not`` (None: the general advice)."""
    our_urls: frozenset[str] = frozenset()
    """The URLs ThingSpace may use to reach us (listener URL, profile public URL)."""
    registered: Mapping[str, str | None] | None = field(default=None)
    """Service name -> registered URL (None: nothing registered), when the registration is
    known; None when it was never read."""

    @property
    def receives(self) -> bool:
        return self.listening or self.following


#: The advice when nothing more fitting is known (a listener that failed for another reason).
GENERAL_FIX = (
    "Free or change the profile's callback.listen address and log in again, or run "
    "`m2m-tui listen` and start the app with --journal to follow it."
)


def is_pollable(action: RequestAction, target: Target) -> bool:
    """Request status answers only for single-device activate/deactivate/suspend/restore."""
    from m2m_tui.desk.actions import DeviceTarget

    return action.changes_state and isinstance(target, DeviceTarget)


def _same_url(a: str, b: str) -> bool:
    return a.rstrip("/").lower() == b.rstrip("/").lower()


def registered_elsewhere(service: str, reach: CallbackReach) -> str | None:
    """The reason when the known registration of ``service`` does not point at us."""
    if reach.registered is None or service not in reach.registered or not reach.our_urls:
        return None  # never read (or we do not know our own URL): no claim either way
    url = reach.registered[service]
    if url is None:
        return f"no {service} callback URL is registered for the account"
    # Our listener answers under any path below its root: a prefix match is ours.
    if any(
        _same_url(url, ours) or url.lower().startswith(ours.rstrip("/").lower() + "/")
        for ours in reach.our_urls
    ):
        return None
    return f"the account's {service} callbacks go to {url}, not to this app"


def tracking_note(action: RequestAction, target: Target, reach: CallbackReach | None) -> str:
    """How a request sent now will be followed, from where callbacks can really reach us.

    ``reach`` is None when request tracking is not running at all. Never claims a callback
    that cannot arrive (listener off or failed, or the registration names another URL).
    """
    if reach is None:
        return "NOT tracked: request tracking is not running (log in first)."
    service = CALLBACK_SERVICE[action]
    if not reach.receives:
        blocked: str | None = reach.why_not or "the callback listener is off"
        blocked = f"no callback can reach us: {blocked}"
    else:
        elsewhere = registered_elsewhere(service, reach)
        blocked = None if elsewhere is None else f"no {service} callback will reach us: {elsewhere}"
    if is_pollable(action, target):
        if blocked is None:
            return f"Tracked by polling and by the {service} callback."
        return f"Tracked by polling only ({blocked})."
    what = "Filter request: results" if action.changes_state else "Results"
    if blocked is None:
        return f"{what} arrive only by the {service} callback (no polling)."
    return f"{what} arrive only by the {service} callback (no polling), and {blocked}."


def read_only_reason(action: RequestAction) -> str:
    """Why read-only mode refuses ``action``, naming every switch so the user finds theirs."""
    return (
        f"read-only mode: {action.label} is blocked (set by --read-only, "
        "M2M_TUI_READ_ONLY or the profile's read_only = true)"
    )


def can(action: RequestAction, target: Target, *, read_only: bool, reach: CallbackReach) -> Verdict:
    """Allowed, Refused(reason) or Warned(reason): the rules in the module docstring."""
    if read_only and action.changes_state:
        return Refused(read_only_reason(action))
    if is_pollable(action, target):
        return Allowed()
    what = (
        "A suspension status request"
        if action is RequestAction.SUSPENSION_STATUS
        else f"A {action.label} of a filter"
    )
    if not reach.receives:
        why = reach.why_not or "the callback listener is off"
        return Warned(
            f"{what} finishes only by callback, and no callback can reach this app: {why}. "
            f"It would wait until its deadline and end timed out. {reach.fix or GENERAL_FIX}"
        )
    elsewhere = registered_elsewhere(CALLBACK_SERVICE[action], reach)
    if elsewhere is not None:
        return Warned(
            f"{what} finishes only by callback, and {elsewhere}: its results will not reach "
            "this app. Register our URL for that service first (u: callback registration)."
        )
    return Allowed()
