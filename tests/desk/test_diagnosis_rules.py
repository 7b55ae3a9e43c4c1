"""The rules of thingspace-diagnostics.md §12 on the reference's own examples, one rule at a time,
including the "must not fire" list. Pure functions: no simulator, no I/O."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from m2m_tui.api.models.accounts import AccountInfo, ServicePlanList, StatesAndServices
from m2m_tui.api.models.callbacks import SuspensionStatus
from m2m_tui.api.models.devices import Device
from m2m_tui.api.models.history import (
    ConnectionEvent,
    ConnectionHistoryResponse,
    ProvisioningEvent,
    ProvisioningHistoryResponse,
    UsageHistoryResponse,
    UsageRecord,
)
from m2m_tui.desk.diagnosis import diagnose
from m2m_tui.desk.diagnosis_facts import Facts

NOW = datetime.fromisoformat("2024-06-02T12:00:00+00:00")

# §2.5: attaches but sends nothing (scenario D).
SECTION_2_5 = {
    "connectionHistory": [
        {"occurredAt": "2024-05-28T06:00:12-04:00", "extendedAttributes": [],
         "connectionEventAttributes": [{"key": "BytesUsed", "value": "0"}, {"key": "Event", "value": "Start"},
                                       {"key": "Msisdn", "value": "15551234567"},
                                       {"key": "FramedIpAddress", "value": "10.12.34.56"}]},
        {"occurredAt": "2024-05-28T06:14:47-04:00", "extendedAttributes": [],
         "connectionEventAttributes": [{"key": "BytesUsed", "value": "48213"}, {"key": "Event", "value": "Stop"},
                                       {"key": "Msisdn", "value": "15551234567"}]},
        {"occurredAt": "2024-05-29T06:00:09-04:00", "extendedAttributes": [],
         "connectionEventAttributes": [{"key": "BytesUsed", "value": "0"}, {"key": "Event", "value": "Start"},
                                       {"key": "Msisdn", "value": "15551234567"},
                                       {"key": "FramedIpAddress", "value": "10.12.34.56"}]},
        {"occurredAt": "2024-05-29T06:13:58-04:00", "extendedAttributes": [],
         "connectionEventAttributes": [{"key": "BytesUsed", "value": "47690"}, {"key": "Event", "value": "Stop"},
                                       {"key": "Msisdn", "value": "15551234567"}]},
        {"occurredAt": "2024-05-30T04:23:37-04:00", "extendedAttributes": [],
         "connectionEventAttributes": [{"key": "BytesUsed", "value": "0"}, {"key": "Event", "value": "Start"},
                                       {"key": "Msisdn", "value": "15551234567"},
                                       {"key": "FramedIpAddress", "value": "10.12.34.56"}]},
        {"occurredAt": "2024-05-30T04:24:05-04:00", "extendedAttributes": [],
         "connectionEventAttributes": [{"key": "BytesUsed", "value": "0"}, {"key": "Event", "value": "Stop"},
                                       {"key": "Msisdn", "value": "15551234567"}]},
    ],
    "hasMoreData": False,
}  # fmt: skip
# §3.3: suspended by a customer user (scenario B), in the SDK's array form.
SECTION_3_3 = [
    {
        "provisioningHistory": [
            {"occurredAt": "2023-02-07T10:45:01-05:00", "status": "Success", "eventBy": "UWS API",
             "eventType": "Activation Confirmed", "servicePlan": "M2MPLAN4G", "mdn": "5551234567",
             "msisdn": "15551234567", "extendedAttributes": []},
            {"occurredAt": "2024-05-30T09:12:44-04:00", "status": "Success", "eventBy": "jdoe",
             "eventType": "Suspend", "servicePlan": "M2MPLAN4G", "mdn": "5551234567",
             "msisdn": "15551234567", "extendedAttributes": []},
        ],
        "hasMoreData": False,
    }
]  # fmt: skip
# §4.4: the usage of the §2.5 device.
SECTION_4_4 = {
    "hasMoreData": False,
    "usageHistory": [
        {"timestamp": "2024-05-27T00:00:00Z", "bytesUsed": 96004, "smsUsed": 1, "source": "Raw Usage",
         "servicePlan": "M2MPLAN4G", "extendedAttributes": [{"key": "MoSms", "value": "1"}, {"key": "MtSms", "value": "0"}]},
        {"timestamp": "2024-05-28T00:00:00Z", "bytesUsed": 48213, "smsUsed": 0, "source": "Raw Usage",
         "servicePlan": "M2MPLAN4G", "extendedAttributes": [{"key": "MoSms", "value": "0"}, {"key": "MtSms", "value": "0"}]},
        {"timestamp": "2024-05-29T00:00:00Z", "bytesUsed": 47690, "smsUsed": 0, "source": "Raw Usage",
         "servicePlan": "M2MPLAN4G", "extendedAttributes": [{"key": "MoSms", "value": "0"}, {"key": "MtSms", "value": "0"}]},
    ],
}  # fmt: skip
PLANS = ServicePlanList.model_validate(
    [
        {"name": "2MSHR5GB", "code": "M2MSHR5GB", "sizeKb": 0, "carrierServicePlanCode": "84638"},
        {
            "name": "M2M 4G 5MB",
            "code": "M2MPLAN4G",
            "sizeKb": 5120,
            "carrierServicePlanCode": 84777,
        },
    ]
)


def device(state: str = "active", **fields: Any) -> Device:
    data: dict[str, Any] = {
        "accountName": "0000123456-00001",
        "carrierInformations": [
            {"carrierName": "Verizon Wireless", "servicePlan": "M2MPLAN4G", "state": state}
        ],
        "connected": False,
        "deviceIds": [
            {"id": "5551234567", "kind": "mdn"},
            {"id": "359876543210987", "kind": "imei"},
            {"id": "89148000001234567890", "kind": "iccId"},
            {"id": "15551234567", "kind": "msisdn"},
        ],
        "lastActivationDate": "2023-02-07T10:45:01-05:00",
        "lastActivationBy": "UWS API",
        "lastConnectionDate": "2024-05-30T04:23:37-04:00",
        "ipAddress": "10.12.34.56",
    }
    data.update(fields)
    return Device.model_validate(data)


def connections(raw: Any = None) -> list[ConnectionEvent]:
    return ConnectionHistoryResponse.model_validate(raw or SECTION_2_5).connectionHistory


def provisioning(raw: Any = None) -> list[ProvisioningEvent]:
    return ProvisioningHistoryResponse.model_validate(raw or SECTION_3_3).provisioningHistory


def usage(raw: Any = None) -> list[UsageRecord]:
    return UsageHistoryResponse.model_validate(raw or SECTION_4_4).usageHistory


def facts(**overrides: Any) -> Facts:
    base: dict[str, Any] = {
        "now": NOW,
        "device": device(),
        "connections": connections(),
        "provisioning": provisioning()[:1],  # the activation only (scenario D)
        "usage": usage(),
        "plans": PLANS,
    }  # fmt: skip
    base.update(overrides)
    return Facts(**base)


def session(
    start: datetime, seconds: float, size: int = 0, ip: str = "10.1.1.1"
) -> list[dict[str, Any]]:
    stop = start + timedelta(seconds=seconds)
    return [
        {"occurredAt": start.isoformat(), "connectionEventAttributes": [
            {"key": "Event", "value": "Start"}, {"key": "FramedIpAddress", "value": ip}]},
        {"occurredAt": stop.isoformat(), "connectionEventAttributes": [
            {"key": "Event", "value": "Stop"}, {"key": "BytesUsed", "value": str(size)}]},
    ]  # fmt: skip


def history(*sessions: list[dict[str, Any]]) -> list[ConnectionEvent]:
    events = [e for s in sessions for e in s]
    return connections({"connectionHistory": events})


# ------------------------------------------------------------------------------ the examples


def test_scenario_d_gives_r7_headline_and_r8_secondary() -> None:
    result = diagnose(facts())
    assert result.rule == "R7"
    assert "not attaching since 2024-05-30 08:24 UTC" in result.line
    assert [f.rule for f in result.secondary] == ["R8"]
    assert "(10.12.34.56)" in result.secondary[0].text
    assert [n.rule for n in result.notes] == ["R18"]


def test_scenario_b_suspended_with_and_without_the_status_callback() -> None:
    suspended = facts(device=device("suspend"), provisioning=provisioning())
    result = diagnose(suspended)
    assert result.rule == "R2"
    assert result.line == (
        "Suspended by jdoe at 2024-05-30 13:12 UTC (2 days ago); "
        "auto-resume date: request suspension status"
    )
    status = SuspensionStatus.model_validate(
        {"state": "suspend", "expectedResumeDate": "2024-08-28", "daysRemainingAutoResume": "87"}
    )
    suspended.suspension = status
    assert diagnose(suspended).line.endswith("auto-resumes on 2024-08-28")


def test_r0_only_for_not_found_codes() -> None:
    missing = Facts(now=NOW, device_error_code="UnifiedWebService.REQUEST_FAILED.DeviceNotFound")
    assert diagnose(missing).rule == "R0"
    invalid = Facts(
        now=NOW, device_error_code="UnifiedWebService.INPUT_INVALID.Device.Identifier.Invalid"
    )
    assert diagnose(invalid).rule == "R0"
    timeout = Facts(now=NOW, device_error="ThingSpace did not answer in time")
    result = diagnose(timeout)
    assert result.rule is None and result.line.startswith("No conclusion: the device lookup failed")


def test_r1_deactivated_with_and_without_the_event() -> None:
    events = provisioning(
        {"provisioningHistory": [{"occurredAt": "2024-05-20T10:00:00Z", "status": "SUCCESS",
                                  "eventBy": "UWS API", "eventType": "Deactivate"}]}
    )  # fmt: skip
    result = diagnose(facts(device=device("deactive"), provisioning=events))
    assert result.rule == "R1" and "by UWS API at 2024-05-20 10:00 UTC" in result.line
    before = diagnose(facts(device=device("deactive"), provisioning=[]))
    assert "before the history window" in before.line


def test_r3_pre_active_or_never_activated() -> None:
    assert diagnose(facts(device=device("pre-active"))).rule == "R3"
    assert diagnose(facts(device=device("pending activation"))).rule == "R3"
    assert diagnose(facts(device=device(lastActivationDate=None))).rule == "R3"


def test_r4_failed_restore() -> None:
    events = provisioning(
        {"provisioningHistory": [
            {"occurredAt": "2024-05-20T10:00:00Z", "status": "Success", "eventBy": "jdoe", "eventType": "Suspend"},
            {"occurredAt": "2024-05-21T10:00:00Z", "status": "Failed", "eventBy": "amy", "eventType": "Restore"},
        ]}
    )  # fmt: skip
    result = diagnose(facts(device=device("suspend"), provisioning=events))
    assert result.rule == "R2"  # still suspended: that is the headline
    assert [f.rule for f in result.secondary] == ["R4"]
    assert "Restore requested by amy at 2024-05-21 10:00 UTC" in result.secondary[0].text


def test_r5_after_a_change_within_24_hours_of_the_silence() -> None:
    events = provisioning(
        {"provisioningHistory": [
            {"occurredAt": "2024-05-29T20:00:00Z", "status": "Success", "eventBy": "mlee",
             "eventType": "Change MDN", "mdn": "5550001111", "msisdn": "15550001111"},
        ]}
    )  # fmt: skip
    result = diagnose(facts(provisioning=events))
    assert result.rule == "R5"
    assert "Stopped right after Change MDN by mlee" in result.line
    assert "MDN/MSISDN now 5551234567/15551234567" in result.line
    old = provisioning(
        {"provisioningHistory": [{"occurredAt": "2024-05-25T20:00:00Z", "status": "Success",
                                  "eventBy": "mlee", "eventType": "Change Service Plan"}]}
    )  # fmt: skip
    assert diagnose(facts(provisioning=old)).rule == "R7"  # 5 days before: not "right after"


def test_r6_needs_the_ticket_imei() -> None:
    assert diagnose(facts(ticket_imei="359876543210987")).rule == "R7"
    moved = diagnose(facts(ticket_imei="359876543219999"))
    assert (
        moved.rule == "R6"
        and moved.line == "The SIM is now in another device (IMEI 359876543210987)"
    )


def test_r9_more_than_12_short_sessions_an_hour() -> None:
    start = NOW - timedelta(hours=2)
    loop = [session(start + timedelta(minutes=4 * i), 30) for i in range(30)]  # 15 an hour
    result = diagnose(
        facts(device=device(connected=True, lastConnectionDate=None), connections=history(*loop))
    )
    assert result.rule == "R9" and "since 2024-06-02 10:00 UTC" in result.line
    slow = [session(start + timedelta(minutes=6 * i), 30) for i in range(20)]  # 10 an hour
    assert (
        diagnose(
            facts(
                device=device(connected=True, lastConnectionDate=None), connections=history(*slow)
            )
        ).rule
        != "R9"
    )


def test_r10_open_session_with_no_usage_after_it() -> None:
    opened = connections({"connectionHistory": [session(NOW - timedelta(days=4), 60, 100)[0]]})
    quiet = usage({"usageHistory": [{"timestamp": "2024-05-29T00:00:00Z", "bytesUsed": 500}]})
    on = device(connected=True, lastConnectionDate="2024-05-29T12:00:00Z")
    result = diagnose(facts(device=on, connections=opened, usage=quiet))
    assert result.rule == "R10"
    busy = usage({"usageHistory": [{"timestamp": "2024-05-31T00:00:00Z", "bytesUsed": 900000}]})
    assert diagnose(facts(device=on, connections=opened, usage=busy)).rule is None


def test_r11_data_after_the_customers_last_report() -> None:
    sessions = history(session(NOW - timedelta(hours=5), 600, 52000))
    alive = device(connected=False, lastConnectionDate=(NOW - timedelta(hours=5)).isoformat())
    result = diagnose(
        facts(device=alive, connections=sessions, ticket_last_report=NOW - timedelta(days=1))
    )
    assert result.rule == "R11" and "last 52.0 kB at" in result.line


def test_notes_ip_change_sms_fleet_plan_reachability_custom_state() -> None:
    base = NOW - timedelta(days=6)
    sessions = history(
        session(base, 600, 1000, "10.0.0.1"),
        session(base + timedelta(hours=20), 600, 1000, "10.0.0.9"),
    )
    sms = usage({"usageHistory": [
        {"timestamp": (base + timedelta(days=2)).isoformat(), "bytesUsed": 0, "smsUsed": 2,
         "extendedAttributes": [{"key": "MoSms", "value": "2"}]},
        {"timestamp": (base + timedelta(days=1)).isoformat(), "bytesUsed": 6_000_000},
    ]})  # fmt: skip
    states = StatesAndServices.model_validate(
        {
            "engagement": [
                {
                    "services": [
                        {"states": [{"name": "Svc1 No Telematics", "servicePlans": ["M2MPLAN4G"]}]}
                    ]
                }
            ]
        }
    )
    account = AccountInfo.model_validate(
        {"features": ["Static IP"], "ipPools": [{"poolName": "P"}]}
    )
    silence = base + timedelta(hours=20, minutes=10)
    result = diagnose(
        facts(
            device=device(lastConnectionDate=None, billingCycleEndDate="2024-06-09T20:00:00-04:00"),
            connections=sessions,
            usage=sms,
            states=states,
            account=account,
            reachability={"reachable": False},
            sibling_last_connections=[
                silence + timedelta(minutes=30),
                silence - timedelta(hours=1),
                None,
            ],
        )
    )
    notes = {n.rule: n.text for n in result.notes}
    assert notes["R12"].startswith("IP changed 10.0.0.1→10.0.0.9") and "Static IP" in notes["R12"]
    assert notes["R13"].startswith("Device is alive (sending SMS)")
    assert notes["R14"].startswith("Fleet-wide silence")
    assert notes["R15"].startswith("Over the plan allowance (6.0 MB of 5.2 MB)")
    assert notes["R16"] == "Reachability answer (shown raw): {'reachable': False}"
    assert notes["R17"] == "Device is in custom state 'Svc1 No Telematics'"
    assert "R18" in notes


def test_unknown_plan_code_is_flagged_not_concluded() -> None:
    other = device(carrierInformations=[{"servicePlan": "OLDPLAN", "state": "active"}])
    result = diagnose(facts(device=other))
    assert "PLAN" in [n.rule for n in result.notes] and result.rule == "R7"


# ------------------------------------------------------------------------------ must not fire


def test_not_attaching_never_from_an_incomplete_or_missing_window() -> None:
    assert diagnose(facts(connections=[], connections_complete=False)).rule != "R7"
    result = diagnose(facts(connections=None))
    assert result.rule is None and "connection history" in (result.no_conclusion or "")
    assert diagnose(facts(connections=[])).rule == "R7"  # a complete, empty window does count


def test_sms_of_the_last_three_days_is_never_read() -> None:
    recent = usage({"usageHistory": [
        {"timestamp": (NOW - timedelta(days=1)).isoformat(), "bytesUsed": 0, "smsUsed": 3,
         "extendedAttributes": [{"key": "MoSms", "value": "3"}]},
    ]})  # fmt: skip
    result = diagnose(facts(usage=recent))
    assert "R13" not in [n.rule for n in result.notes]


def test_event_types_are_read_by_substring_class_only() -> None:
    shouting = provisioning(
        {"provisioningHistory": [{"occurredAt": "2024-05-30T10:00:00Z", "status": "success",
                                  "eventBy": "ops", "eventType": "SUSPEND REQUESTED"}]}
    )  # fmt: skip
    assert diagnose(facts(device=device("suspend"), provisioning=shouting)).line.startswith(
        "Suspended by ops"
    )
    unknown = provisioning(
        {"provisioningHistory": [{"occurredAt": "2024-05-30T10:00:00Z", "status": "Success",
                                  "eventBy": "ops", "eventType": "Hold"}]}
    )  # fmt: skip
    assert diagnose(facts(device=device("suspend"), provisioning=unknown)).line.startswith(
        "Suspended before the history window"
    )
    failed = provisioning(
        {"provisioningHistory": [{"occurredAt": "2024-05-30T10:00:00Z", "status": "Failure",
                                  "eventBy": "ops", "eventType": "Suspend"}]}
    )  # fmt: skip
    assert (
        "before the history window"
        in diagnose(facts(device=device("suspend"), provisioning=failed)).line
    )


def test_no_conclusion_for_a_line_still_carrying_data() -> None:
    sessions = history(session(NOW - timedelta(hours=3), 600, 52000))
    alive = device(connected=False, lastConnectionDate=(NOW - timedelta(hours=3)).isoformat())
    result = diagnose(facts(device=alive, connections=sessions))
    assert result.headline is None
    assert result.line.startswith("No conclusion: the line is active and still carries data")


def test_markdown_carries_the_line_evidence_findings_and_next_step() -> None:
    text = diagnose(facts()).markdown()
    lines = text.splitlines()
    assert lines[0].startswith("**Diagnosis:** Line active, device not attaching since")
    assert any(line.startswith("- device list: state active, connected false") for line in lines)
    assert any(line.startswith("- also (R8): Device attaches and gets an IP") for line in lines)
    assert any(line.startswith("- note (R18): Usage after") for line in lines)
    assert lines[-1].startswith("**Next step:** Check the device's power")
    undecided = diagnose(Facts(now=NOW, device_error="timeout")).markdown()
    assert undecided.startswith("**Diagnosis:** No conclusion: the device lookup failed")
