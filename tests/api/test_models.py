"""Every example body of the reference parses into our models; the rules of each body hold."""

from datetime import date, datetime, timedelta

import pytest
from pydantic import ValidationError

from m2m_tui.api.errors import (
    AppCredentialsRejected,
    AuthError,
    InvalidInputError,
    NotFoundError,
    error_from_body,
)
from m2m_tui.api.models import (
    ActivateRequest,
    CallbackKind,
    CallbackMessage,
    CallbackRegistrationResult,
    CustomField,
    DeactivateRequest,
    DeviceId,
    DeviceListRequest,
    DeviceListResponse,
    GatewayFaultBody,
    LoginRequest,
    M2MErrorBody,
    OAuthErrorBody,
    OAuthToken,
    RegisterCallbackRequest,
    RegisteredCallback,
    RequestIdResponse,
    RequestStatus,
    RequestStatusResponse,
    SessionTokenResponse,
    SuspendRequest,
    SuspensionStatusRequest,
    decode_error_body,
)

from . import thingspace_examples as ex

ACCOUNT = "0000123456-00001"


def test_outbound_examples_round_trip_exactly() -> None:
    cases = [
        (LoginRequest, ex.LOGIN_REQUEST),
        (RegisterCallbackRequest, ex.REGISTER_CALLBACK),
        (DeviceListRequest, ex.DEVICE_LIST_REQUEST),
        (SuspendRequest, ex.SUSPEND_REQUEST),
        (DeactivateRequest, ex.DEACTIVATE_REQUEST),
        (ActivateRequest, ex.ACTIVATE_REQUEST),
        (SuspensionStatusRequest, ex.SUSPENSION_STATUS_REQUEST),
        (SuspensionStatusRequest, ex.SUSPENSION_STATUS_FILTER_REQUEST),
    ]
    for model, body in cases:
        assert model.model_validate(body).wire(reveal_secrets=True) == body, model.__name__


def test_secrets_are_masked_unless_revealed() -> None:
    login = LoginRequest.model_validate(ex.LOGIN_REQUEST)
    assert "Example#Pass1" not in repr(login)
    assert "Example#Pass1" not in str(login.wire())
    token = OAuthToken.model_validate(ex.OAUTH_TOKEN)
    assert ex.OAUTH_TOKEN["access_token"] not in repr(token)
    session = SessionTokenResponse.model_validate(ex.LOGIN_RESPONSE)
    assert ex.LOGIN_RESPONSE["sessionToken"] not in repr(session)
    listed = RegisteredCallback.model_validate(ex.CALLBACK_LIST[0])
    assert "s3cr3t-shared" not in repr(listed)
    callback = CallbackMessage.model_validate(ex.CARRIER_SUCCESS_CALLBACK)
    assert "s3cr3t-shared" not in repr(callback)
    assert "s3cr3t-shared" not in callback.model_dump_json()


def test_inbound_examples_parse() -> None:
    assert OAuthToken.model_validate(ex.OAUTH_TOKEN).expires_in == 3600
    assert CallbackRegistrationResult.model_validate(ex.REGISTER_RESULT).serviceName == (
        "CarrierService"
    )
    listed = [RegisteredCallback.model_validate(item) for item in ex.CALLBACK_LIST]
    assert listed[1].password is None and listed[0].username == "tui"
    assert RequestIdResponse.model_validate(ex.REQUEST_ID).requestId.startswith("595f")


def test_device_list_response() -> None:
    page = DeviceListResponse.model_validate(ex.DEVICE_LIST_RESPONSE)
    device = page.devices[0]
    assert device.state == "active"
    assert device.service_plan == "M2MPLAN4G"
    assert device.identifier("ICCID") == "89148000001234567890"  # sent as "iccId"
    assert device.numeric_device_id == 1234567
    assert device.attribute("PrimaryPlaceOfUseFirstName") == "Pat"
    assert isinstance(device.lastConnectionDate, datetime)
    assert device.lastConnectionDate.utcoffset() == timedelta(hours=-4)
    assert device.accountName == ACCOUNT


def test_unknown_fields_are_kept_never_a_crash() -> None:
    body = dict(ex.DEVICE_LIST_RESPONSE)
    body["somethingNew"] = {"a": 1}
    device = dict(ex.DEVICE_LIST_RESPONSE["devices"][0])  # type: ignore[index]
    device["futureField"] = [1, 2]
    device["lastConnectionDate"] = "not a date"
    body["devices"] = [device]
    page = DeviceListResponse.model_validate(body)
    assert page.model_extra == {"somethingNew": {"a": 1}}
    assert page.devices[0].model_extra == {"futureField": [1, 2]}
    assert page.devices[0].lastConnectionDate == "not a date"  # kept as text, not lost


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (ex.STATUS_PENDING, RequestStatus.PENDING),
        (ex.STATUS_SUCCESS, RequestStatus.SUCCESS),
        (ex.STATUS_FAILED, RequestStatus.FAILED),
        (ex.STATUS_FAILURE, RequestStatus.FAILURE),
    ],
)
def test_request_status_accepts_both_failure_spellings(body: dict, status: RequestStatus) -> None:
    parsed = RequestStatusResponse.model_validate(body)
    assert parsed.status is status
    assert parsed.status.terminal == (status is not RequestStatus.PENDING)
    assert parsed.status.failed == (status in (RequestStatus.FAILED, RequestStatus.FAILURE))


def test_request_status_rejects_unknown_values() -> None:
    with pytest.raises(ValidationError):
        RequestStatusResponse.model_validate({"requestId": "x", "status": "Exploded"})


def test_suspension_callback_numbers_and_dates() -> None:
    message = CallbackMessage.model_validate(ex.SUSPENSION_STATUS_CALLBACK)
    assert message.kind is CallbackKind.SUSPENSION_STATUS
    (status,) = message.suspension_statuses()
    assert status.daysRemainingAutoResume == 61
    assert status.maxSuspendDaysAllowed == 90
    assert status.numDaysSuspendedLast12Months == 29
    assert status.numDaysSuspendAllowedCurrent12Months == 61
    assert status.timesSuspendedLast12Months == 1
    assert status.suspendDate == datetime(2024, 5, 1, 0, 0, 0)
    assert status.expectedResumeDate == date(2024, 7, 30)
    assert [str(d) for d in message.devices()] == ["MDN 5551234567"]


def test_seed_callback_with_two_devices() -> None:
    message = CallbackMessage.model_validate(ex.SEED_SUSPENSION_CALLBACK_TWO_DEVICES)
    assert len(message.suspension_statuses()) == 2
    assert {d.kind for d in message.devices()} == {"imei", "iccid"}
    assert message.password is not None and message.password.get_secret_value() == ""


def test_callback_kinds() -> None:
    assert CallbackMessage.model_validate(ex.COMPLETION_CALLBACK).kind is CallbackKind.COMPLETION
    success = CallbackMessage.model_validate(ex.CARRIER_SUCCESS_CALLBACK)
    assert success.kind is CallbackKind.DEVICE_RESULT
    failure = CallbackMessage.model_validate(ex.CARRIER_FAILURE_CALLBACK)
    assert failure.kind is CallbackKind.FAILURE
    assert failure.faultResponse is not None
    assert failure.faultResponse.code_suffix == "DeviceAlreadyActive"
    assert failure.callbackCount == 2
    assert [d.kind for d in failure.devices()] == ["iccid", "imei"]


def test_callback_envelope_requires_request_id() -> None:
    for bad in ({}, {"requestId": ""}, {"requestId": 5}, {"requestId": "x", "callbackCount": "a"}):
        with pytest.raises(ValidationError):
            CallbackMessage.model_validate(bad)


def test_malformed_suspension_items_are_skipped() -> None:
    body = {
        "requestId": "r",
        "deviceResponse": {"deviceSuspensionStatusResponse": [{"deviceIds": "oops"}, {}]},
    }
    assert len(CallbackMessage.model_validate(body).suspension_statuses()) == 1


def test_error_envelopes_decode() -> None:
    expired = decode_error_body(ex.ERROR_EXPIRED)
    assert isinstance(expired, M2MErrorBody)
    assert expired.code_suffix == "SessionToken.Expired"
    assert expired.error_class == "REQUEST_FAILED"
    fault = decode_error_body(ex.GATEWAY_FAULT)
    assert isinstance(fault, GatewayFaultBody) and fault.fault.code == "900901"
    numeric = decode_error_body({"fault": {"code": 900902, "message": "Missing Credentials"}})
    assert isinstance(numeric, GatewayFaultBody) and numeric.fault.code == "900902"
    assert isinstance(decode_error_body(ex.OAUTH_ERROR), OAuthErrorBody)
    assert decode_error_body(b"<html>nope</html>") is None
    assert decode_error_body(b"[1, 2]") is None


def test_error_bodies_become_typed_exceptions_with_hints() -> None:
    where = {"method": "POST", "path": "/x"}
    account = error_from_body(decode_error_body(ex.ERROR_ACCOUNT), status=400, **where)
    assert isinstance(account, NotFoundError)
    assert "leading zeros" in account.hint
    invalid = error_from_body(decode_error_body(ex.ERROR_INVALID), status=400, **where)
    assert isinstance(invalid, InvalidInputError)
    gateway = error_from_body(decode_error_body(ex.GATEWAY_FAULT), status=401, **where)
    assert isinstance(gateway, AuthError) and gateway.code == "900901"
    oauth = error_from_body(OAuthErrorBody(error="invalid_client"), status=401, **where)
    assert isinstance(oauth, AppCredentialsRejected)
    text = str(account)
    assert "HTTP 400" in text and "AccountNotFound" in text and "leading zeros" in text


def test_account_names_keep_leading_zeros() -> None:
    request = SuspendRequest.for_devices(ACCOUNT, DeviceId(id="5551234567", kind="mdn"))
    assert request.wire()["accountName"] == "0000123456-00001"
    with pytest.raises(ValidationError, match="leading zeros"):
        SuspendRequest.for_devices(" ", DeviceId(id="5551234567", kind="mdn"))


def test_filter_rules() -> None:
    mdn = DeviceId(id="5551234567", kind="mdn")
    with pytest.raises(ValidationError, match="accountName is required"):
        SuspendRequest(groupName="Field units")
    with pytest.raises(ValidationError, match="exclusive"):
        SuspendRequest.for_devices(ACCOUNT, mdn, groupName="Field units")
    with pytest.raises(ValidationError, match="name devices, or a filter"):
        SuspendRequest(accountName=ACCOUNT)
    with pytest.raises(ValidationError, match="exclusive"):
        SuspensionStatusRequest(deviceIds=[mdn], filter={"groupName": "g"}, accountName=ACCOUNT)
    with pytest.raises(ValidationError, match="accountName is required"):
        SuspensionStatusRequest(filter={"groupName": "g"})
    with pytest.raises(ValidationError, match="accountName is required"):
        DeviceListRequest(groupName="g")
    with pytest.raises(ValidationError, match="do not combine"):
        DeviceListRequest(accountName=ACCOUNT, deviceId=mdn, servicePlan="P")
    ok = SuspendRequest(accountName=ACCOUNT, servicePlan="M2MPLAN4G")
    assert ok.uses_filter and ok.device_count is None


def test_custom_field_rules() -> None:
    assert CustomField(key="customfield3", value="x").key == "CustomField3"
    with pytest.raises(ValidationError, match="CustomField1 to CustomField5"):
        CustomField(key="CustomField6", value="x")
    with pytest.raises(ValidationError, match="50"):
        CustomField(key="CustomField1", value="x" * 51)


def test_activate_and_deactivate_rules() -> None:
    mdn = DeviceId(id="5551234567", kind="mdn")
    with pytest.raises(ValidationError, match="mdnZipCode"):
        ActivateRequest.for_devices(ACCOUNT, mdn, servicePlan="P", mdnZipCode="123")
    with pytest.raises(ValidationError, match="servicePlan is required"):
        ActivateRequest.for_devices(ACCOUNT, mdn, mdnZipCode="98801")
    deactivate = DeactivateRequest.for_devices(ACCOUNT, mdn)
    assert deactivate.wire()["reasonCode"] == "FF"
    assert deactivate.wire()["etfWaiver"] is False


def test_validation_errors_name_the_field() -> None:
    with pytest.raises(ValidationError) as info:
        DeviceListRequest(accountName=ACCOUNT, deviceId={"id": "12", "kind": "mdn"})
    assert info.value.errors()[0]["loc"][0] == "deviceId"
    assert "10 decimal digits" in str(info.value)
