"""Why did this device stop reporting? The rules R0-R18 of ``thingspace-diagnostics.md`` §12.

Pure functions from fetched :class:`Facts` to a :class:`Diagnosis`: a headline verdict (the
first matching verdict rule, top to bottom), the other matching verdicts as secondary findings,
every matching note, and the one next step. When nothing matches, or the facts needed are
missing, the answer is "no conclusion", never a guess. The "must not fire" list is respected:
no "not attaching" from a connection window that was incomplete (timeout, unfollowed 202),
no "no usage" from the last 3 days of SMS, and ``eventType`` is only read through the
substring classes of §3.2.

The data-path verdicts (R7-R10) read only active lines: for a suspended or deactivated line
the state is the explanation, and its old sessions would mislead. One deliberate change of order: R9 (reconnect loop) is evaluated before R8 (attaches, no
data), because a loop's sessions are too short to carry data and "no data" would hide the
cause; R8 then appears as a secondary finding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from m2m_tui.api.models.history import as_utc
from m2m_tui.desk.diagnosis_facts import (
    Facts,
    Timeline,
    build_timeline,
    event_text,
    size_text,
    when_text,
)
from m2m_tui.desk.diagnosis_notes import notes_for

NOT_FOUND_CODES = ("DeviceNotFound", "Device.Identifier.Invalid")
LOOP_STARTS_PER_HOUR = 12
LOOP_SESSION = timedelta(seconds=60)
AFTER_EVENT = timedelta(hours=24)


@dataclass(frozen=True)
class Finding:
    """One rule's conclusion: which rule, the sentence, the facts behind it, what to do."""

    rule: str
    text: str
    evidence: tuple[str, ...] = ()
    next_step: str | None = None
    kind: str = "verdict"


@dataclass(frozen=True)
class Diagnosis:
    headline: Finding | None
    secondary: tuple[Finding, ...] = ()
    notes: tuple[Finding, ...] = ()
    next_step: str = ""
    no_conclusion: str | None = None
    """Why nothing could be concluded (when ``headline`` is None)."""
    rules: tuple[str, ...] = field(default=())
    ticket: tuple[str, ...] = ()
    """What the engineer said the ticket says (IMEI, last report), named with the verdict."""

    @property
    def line(self) -> str:
        """The diagnosis line at the top of the card."""
        if self.headline is not None:
            return self.headline.text
        return f"No conclusion: {self.no_conclusion or 'nothing in the records explains it'}"

    @property
    def rule(self) -> str | None:
        return self.headline.rule if self.headline is not None else None

    def markdown(self) -> str:
        """The diagnosis for a ticket or an export: the line, its evidence, the rest, the step."""
        lines = [f"**Diagnosis:** {self.line}"]
        if self.headline is not None:
            lines += [f"- {e}" for e in self.headline.evidence]
        if self.ticket:
            lines.append(f"- the ticket says: {'; '.join(self.ticket)}")
        for finding in self.secondary:
            lines.append(f"- also ({finding.rule}): {finding.text}")
        for note in self.notes:
            lines.append(f"- note ({note.rule}): {note.text}")
        if self.next_step:
            lines.append(f"**Next step:** {self.next_step}")
        return "\n".join(lines)


Rule = Callable[[Timeline], Finding | None]


def diagnose(facts: Facts) -> Diagnosis:
    """Evaluate every rule on ``facts``; see the module docstring for the order and limits."""
    ticket = ticket_lines(facts)
    if facts.device is None:
        found = r0_not_found(facts)
        if found is not None:
            return Diagnosis(
                found, next_step=found.next_step or "", rules=(found.rule,), ticket=ticket
            )
        reason = f"the device lookup failed ({facts.device_error or 'no answer'})"
        return Diagnosis(None, next_step="Retry the lookup", no_conclusion=reason, ticket=ticket)
    timeline = build_timeline(facts)
    verdicts = [f for rule in VERDICT_RULES if (f := rule(timeline)) is not None]
    notes = notes_for(timeline)
    rules = tuple(f.rule for f in verdicts) + tuple(n.rule for n in notes)
    if verdicts:
        head = verdicts[0]
        step = head.next_step or ""
        return Diagnosis(head, tuple(verdicts[1:]), tuple(notes), step, rules=rules, ticket=ticket)
    reason, step = _no_conclusion(timeline)
    return Diagnosis(None, (), tuple(notes), step, no_conclusion=reason, rules=rules, ticket=ticket)


def ticket_lines(facts: Facts) -> tuple[str, ...]:
    """The ticket's facts the rules were given, as the card and the ticket name them."""
    lines = []
    if facts.ticket_imei:
        lines.append(f"IMEI {facts.ticket_imei}")
    if facts.ticket_last_report is not None:
        lines.append(f"last report {when_text(facts.ticket_last_report, facts.now)}")
    return tuple(lines)


def _no_conclusion(t: Timeline) -> tuple[str, str]:
    facts = t.facts
    missing = [
        name
        for name, value in (
            ("connection history", facts.connections),
            ("provisioning", facts.provisioning),
        )
        if value is None
    ]
    if missing:
        return (
            f"{' and '.join(missing)} could not be read; the line is {t.state or 'in an unknown state'}",
            "Retry the missing sections",
        )
    carried = [s for s in t.stops() if (s.bytes_used or 0) > 0]
    if t.state == "active" and carried:
        last = carried[-1]
        return (
            f"the line is active and still carries data (last {size_text(last.bytes_used or 0)} "
            f"at {when_text(last.when, t.now)})",
            "Compare with the customer's last received report (t states it): "
            "if data still flows, look at the customer's server/ingest",
        )
    return (
        f"the line is {t.state or 'in an unknown state'} and nothing in its records explains it",
        "Ask the customer when the last report arrived",
    )


# ------------------------------------------------------------------------------- verdicts


def r0_not_found(facts: Facts) -> Finding | None:
    code = facts.device_error_code or ""
    if not any(code.endswith(c) for c in NOT_FOUND_CODES):
        return None
    return Finding(
        "R0",
        "No such device on accounts visible to this user: check the identifier and its kind, "
        "or the customer's other accounts",
        (f"device list: {code}",),
        "Check the identifier and its kind, or look in the customer's other accounts",
    )


def r1_deactivated(t: Timeline) -> Finding | None:
    if t.state != "deactive":
        return None
    event = t.newest_success("deactivate")
    evidence = [f"device list: state deactive, ipAddress {t.device.ipAddress or '-'}"]
    if event is not None:
        evidence.append(event_text(event, t.now))
        text = (
            f"Line deactivated by {event.eventBy or 'an unknown user'} at "
            f"{when_text(event.when, t.now)}. It needs a new activation (and may get a new MDN)"
        )
    elif t.facts.provisioning is None:
        text = "Line deactivated (provisioning history unavailable: who and when unknown)"
    else:
        text = "Line deactivated before the history window. It needs a new activation"
    return Finding(
        "R1",
        text,
        tuple(evidence),
        "Confirm with the customer the deactivation was not intended, then activate it again",
    )


def r2_suspended(t: Timeline) -> Finding | None:
    if t.state != "suspend":
        return None
    event = t.newest_success("suspend")
    status = t.facts.suspension
    evidence = ["device list: state suspend"]
    if event is not None:
        evidence.append(event_text(event, t.now))
        who = f"Suspended by {event.eventBy or 'an unknown user'} at {when_text(event.when, t.now)}"
    else:
        who = "Suspended before the history window"
    if status is not None and status.expectedResumeDate:
        resume = f"auto-resumes on {status.expectedResumeDate}"
        evidence.append(
            f"suspension status: expectedResumeDate {status.expectedResumeDate}, "
            f"daysRemainingAutoResume {status.daysRemainingAutoResume}"
        )
        step = f"Ask {event.eventBy if event else 'the customer'} why; restore it if not intended"
    else:
        resume = "auto-resume date: request suspension status"
        step = "Request suspension status for the auto-resume date; restore it if not intended"
    return Finding("R2", f"{who}; {resume}", tuple(evidence), step)


def r3_not_activated(t: Timeline) -> Finding | None:
    state = t.state
    if not (
        state == "pre-active" or state.startswith("pending") or t.device.lastActivationDate is None
    ):
        return None
    if state in ("deactive", "suspend"):
        return None
    return Finding(
        "R3",
        "Line not (yet) activated — activation pending or never requested",
        (
            f"device list: state {state or '?'}, lastActivationDate {t.device.lastActivationDate or '-'}",
        ),
        "Activate the line, or follow the pending activation request",
    )


def r4_failed_return(t: Timeline) -> Finding | None:
    if not t.provisioning:
        return None
    newest = t.provisioning[-1]
    if newest.kind not in ("restore", "activate") or newest.succeeded:
        return None
    return Finding(
        "R4",
        f"{newest.eventType} requested by {newest.eventBy or 'an unknown user'} at "
        f"{when_text(newest.when, t.now)} failed — the line did not come back",
        (event_text(newest, t.now), f"device list: state {t.state}"),
        f"Retry the {newest.eventType} and follow the request until it completes",
    )


def r5_after_change(t: Timeline) -> Finding | None:
    silence = t.silence
    if t.state != "active" or silence is None:
        return None
    if t.now - silence <= t.facts.reporting_interval:
        return None  # not silent: nothing "stopped"
    for event in reversed(t.provisioning):
        when = event.when
        if (
            when is None
            or not event.succeeded
            or event.kind not in ("plan", "change", "move", "restore")
        ):
            continue
        if timedelta(0) <= silence - when <= AFTER_EVENT:
            text = (
                f"Stopped right after {event.eventType} by {event.eventBy or 'an unknown user'} "
                f"at {when_text(event.when, t.now)}"
            )
            if event.kind == "change" and any(
                k in (event.eventType or "").lower() for k in ("mdn", "msisdn")
            ):
                mdn = t.device.identifier("mdn") or event.mdn
                msisdn = t.device.identifier("msisdn") or event.msisdn
                text += f" (MDN/MSISDN now {mdn}/{msisdn}: check the server still recognises the device)"
            return Finding(
                "R5",
                text,
                (event_text(event, t.now), f"last network activity {when_text(silence, t.now)}"),
                f"Check what the {event.eventType} changed for the device (plan, numbers) and "
                "revert it if it broke reporting",
            )
    return None


def r6_sim_moved(t: Timeline) -> Finding | None:
    ticket = (t.facts.ticket_imei or "").strip()
    imei = t.device.identifier("imei")
    if not ticket or not imei or ticket == imei:
        return None
    evidence = [f"device list: IMEI {imei}", f"ticket: IMEI {ticket}"]
    evidence += [
        event_text(e, t.now) for e in t.provisioning if "imei" in (e.eventType or "").lower()
    ]
    return Finding(
        "R6",
        f"The SIM is now in another device (IMEI {imei})",
        tuple(evidence),
        "Ask the customer where the SIM went: the device on the ticket has no SIM",
    )


def r7_not_attaching(t: Timeline) -> Finding | None:
    facts = t.facts
    if t.state != "active" or t.device.connected is not False:
        return None
    if facts.connections is None or not facts.connections_complete:
        return None  # an empty or partial window proves nothing
    quiet = max(facts.reporting_interval, timedelta(days=3))
    since = t.now - quiet
    if any(e.when is not None and e.when >= since for e in t.events):
        return None
    if t.silence is not None and t.silence >= since:
        return None
    if t.silence is None:
        start = facts.connections_since
        silence = f"before {when_text(start, t.now)}" if start else "before the history window"
    else:
        silence = when_text(t.silence, t.now)
    return Finding(
        "R7",
        f"Line active, device not attaching since {silence}: check power, antenna/coverage, "
        "SIM seated, APN; run a reachability check",
        (
            "device list: state active, connected false, lastConnectionDate "
            f"{when_text(_last_conn(t), t.now)}",
            f"connection history: {len(t.events)} event(s) in the window, none in the last "
            f"{quiet.days} days",
        ),
        "Check the device's power, antenna/coverage, SIM seating and APN; run a reachability check",
    )


def _last_conn(t: Timeline) -> datetime | None:
    return as_utc(t.device.lastConnectionDate)


def r8_no_data(t: Timeline) -> Finding | None:
    stops = [s for s in t.stops() if s.bytes_used is not None]
    if not stops or t.state != "active":
        return None
    report = t.facts.ticket_last_report
    if report is not None:
        after = [s for s in stops if s.when is not None and s.when > report]
    else:
        carried = [i for i, s in enumerate(stops) if (s.bytes_used or 0) > 0]
        after = stops[carried[-1] + 1 :] if carried else stops
    if not after or any((s.bytes_used or 0) > 0 for s in after):
        return None
    ips = [s.ip for s in t.sessions if s.ip]
    ip = ips[-1] if ips else "an address"
    return Finding(
        "R8",
        f"Device attaches and gets an IP ({ip}) but passes no data: check APN, destination "
        "server/firewall, private-network routing, device application",
        (
            f"connection history: {len(after)} session(s) since "
            f"{when_text(after[0].when, t.now)}, every Stop with BytesUsed 0",
        ),
        "Check the APN, the destination server and firewall, private-network routing and the "
        "device application",
    )


def r9_reconnect_loop(t: Timeline) -> Finding | None:
    short = [
        s
        for s in t.sessions
        if s.start is not None and s.duration is not None and s.duration < LOOP_SESSION
    ]
    if t.state != "active" or len(short) <= LOOP_STARTS_PER_HOUR or t.sessions[-1] is not short[-1]:
        return None
    run = [short[-1]]
    for session in reversed(short[:-1]):
        assert session.start is not None and run[0].start is not None
        if run[0].start - session.start > timedelta(minutes=10):
            break
        run.insert(0, session)
    first, last = run[0].start, run[-1].start
    assert first is not None and last is not None
    hours = max((last - first).total_seconds() / 3600, 1.0)
    rate = len(run) / hours
    if len(run) <= LOOP_STARTS_PER_HOUR or rate <= LOOP_STARTS_PER_HOUR:
        return None
    return Finding(
        "R9",
        f"Device in a reconnect loop since {when_text(first, t.now)}: coverage or "
        "modem/firmware problem",
        (f"connection history: {len(run)} sessions under 60 s, {rate:.0f} per hour",),
        "Check the coverage at the site and the modem's firmware; power-cycle the device",
    )


def r10_open_session(t: Timeline) -> Finding | None:
    usage = t.facts.usage
    if not t.events or t.state != "active" or t.device.connected is not True or usage is None:
        return None
    newest = t.events[-1]
    opened = newest.when
    if newest.event != "Start" or opened is None or t.now - opened < timedelta(days=1):
        return None
    day = opened.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    traffic = sum(r.bytesUsed or 0 for r in usage if r.when is not None and r.when >= day)
    if traffic > 1024:
        return None
    return Finding(
        "R10",
        f"Network shows a data session open since {when_text(opened, t.now)} but no traffic: "
        "application hung or server unreachable (long 4G sessions report usage only every ~6 h)",
        (
            "connection history: newest event is a Start with no Stop",
            f"usage since {day.date()}: {size_text(traffic)}",
        ),
        "Restart the device application, or check that its server is reachable",
    )


def r11_still_carried(t: Timeline) -> Finding | None:
    report = t.facts.ticket_last_report
    if report is None:
        return None
    carried = [
        s for s in t.stops() if s.when is not None and s.when > report and (s.bytes_used or 0) > 0
    ]
    if not carried:
        return None
    last = carried[-1]
    return Finding(
        "R11",
        f"The network still carries this device's data (last {size_text(last.bytes_used or 0)} "
        f"at {when_text(last.when, t.now)}): look at the customer's server/ingest, not connectivity",
        (f"{len(carried)} session(s) with data after the last report {when_text(report, t.now)}",),
        "Look at the customer's server and ingest pipeline",
    )


VERDICT_RULES: tuple[Rule, ...] = (
    r1_deactivated,
    r2_suspended,
    r3_not_activated,
    r4_failed_return,
    r5_after_change,
    r6_sim_moved,
    r7_not_attaching,
    r9_reconnect_loop,
    r8_no_data,
    r10_open_session,
    r11_still_carried,
)

__all__ = ["VERDICT_RULES", "Diagnosis", "Facts", "Finding", "diagnose"]
