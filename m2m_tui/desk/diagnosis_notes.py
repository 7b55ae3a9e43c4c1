"""The "note" rules of ``thingspace-diagnostics.md`` §12 (R12-R18, plus an unknown plan code).

Notes never decide the headline; they are added whenever they match, under the verdict. Each
is a pure function of the digested :class:`Timeline`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from m2m_tui.api.models.history import as_utc
from m2m_tui.desk.diagnosis_facts import Timeline, size_text, when_text

if TYPE_CHECKING:
    from m2m_tui.desk.diagnosis import Finding

SMS_LAG = timedelta(days=3)
RATED_LAG = timedelta(days=2)
DATA_LAG = timedelta(minutes=15)


def _note(rule: str, text: str, *evidence: str) -> Finding:
    from m2m_tui.desk.diagnosis import Finding

    return Finding(rule, text, tuple(evidence), None, kind="note")


def r12_ip_changed(t: Timeline) -> Finding | None:
    if t.silence is None:
        return None
    previous: tuple[str, object] | None = None
    change = None
    for session in t.sessions:
        if not session.ip or session.start is None:
            continue
        if previous is not None and previous[0] != session.ip:
            change = (previous[0], session.ip, session.start)
        previous = (session.ip, session.start)
    if change is None or abs(t.silence - change[2]) > timedelta(hours=48):
        return None
    old, new, when = change
    account = t.facts.account
    pinned = account is not None and (
        account.has_feature("Static IP") or account.has_feature("Customer PN")
    )
    text = f"IP changed {old}→{new} at {when_text(when, t.now)}"
    text += (
        "; the account has Static IP / Customer PN: update any server or firewall allow-list"
        if pinned
        else "; if the server or a firewall allow-lists IPs, update it"
    )
    return _note("R12", text, f"FramedIpAddress {old} then {new}")


def r13_sms_alive(t: Timeline) -> Finding | None:
    usage = t.facts.usage
    if usage is None or t.silence is None:
        return None
    settled = t.now - SMS_LAG  # SMS of the last 3 days are not final: never read them
    days = [
        r
        for r in usage
        if r.when is not None
        and t.silence < r.when <= settled
        and (r.mo_sms or 0) > 0
        and not (r.bytesUsed or 0)
    ]
    if not days:
        return None
    return _note(
        "R13",
        "Device is alive (sending SMS) but has no data session: data/APN provisioning",
        f"usage: MO SMS on {len(days)} day(s) after {when_text(t.silence)} with 0 bytes",
    )


def r14_fleet_silence(t: Timeline) -> Finding | None:
    siblings = t.facts.sibling_last_connections
    if not siblings or t.silence is None:
        return None
    near = [
        s
        for s in siblings
        if s is not None
        and abs(s - t.silence) <= timedelta(hours=2)
        and t.now - s > t.facts.reporting_interval
    ]
    if len(near) * 2 < len(siblings):
        return None
    return _note(
        "R14",
        f"Fleet-wide silence at {when_text(t.silence)}: customer server or regional network "
        "event, not this device",
        f"{len(near)} of {len(siblings)} sibling(s) silent since within 2 h of it",
    )


def r15_over_allowance(t: Timeline) -> Finding | None:
    plans, usage = t.facts.plans, t.facts.usage
    if plans is None or usage is None:
        return None
    plan = plans.find(t.device.service_plan)
    if plan is None or not plan.sizeKb:
        return None
    cycle_end = as_utc(t.device.billingCycleEndDate)
    cycle_start = (cycle_end - timedelta(days=30)) if cycle_end else (t.now - timedelta(days=30))
    used = sum(r.bytesUsed or 0 for r in usage if r.when is not None and r.when >= cycle_start)
    allowance = plan.sizeKb * 1024
    if used <= allowance:
        return None
    return _note(
        "R15",
        f"Over the plan allowance ({size_text(used)} of {size_text(allowance)}); throttling is "
        "possible — check SubscriptionNotificationService messages",
        f"plan {plan.code}: sizeKb {plan.sizeKb}",
    )


def r16_reachability(t: Timeline) -> Finding | None:
    answer = t.facts.reachability
    if answer is None:
        return None
    return _note("R16", f"Reachability answer (shown raw): {answer}")


def r17_custom_state(t: Timeline) -> Finding | None:
    states = t.facts.states
    if states is None:
        return None
    state = states.state_for_plan(t.device.service_plan)
    if state is None:
        return None
    return _note(
        "R17",
        f"Device is in custom state '{state.name}'",
        f"plan code {t.device.service_plan} belongs to that state",
    )


def unknown_plan(t: Timeline) -> Finding | None:
    plans, code = t.facts.plans, t.device.service_plan
    if plans is None or not code or plans.find(code) is not None:
        return None
    return _note(
        "PLAN",
        f"Plan code {code} is not in the account's plan list: retired, or another account's "
        "plan (flagged, not a conclusion)",
    )


def r18_freshness(t: Timeline) -> Finding | None:
    now = t.now
    return _note(
        "R18",
        f"Usage after {when_text(now - DATA_LAG)} (data), {when_text(now - SMS_LAG)} (SMS), "
        f"{when_text(now - RATED_LAG)} (rated) may be incomplete",
    )


NOTE_RULES: tuple[Callable[[Timeline], Finding | None], ...] = (
    r12_ip_changed,
    r13_sms_alive,
    r14_fleet_silence,
    r15_over_allowance,
    r16_reachability,
    r17_custom_state,
    unknown_plan,
    r18_freshness,
)


def notes_for(t: Timeline) -> list[Finding]:
    return [f for rule in NOTE_RULES if (f := rule(t)) is not None]
