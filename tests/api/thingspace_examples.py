"""The example bodies of ``thingspace-api.md`` §10 and the seeds, verbatim, as test data."""

OAUTH_TOKEN = {
    "access_token": "2f1c7d4e9a8b4c0e9d6f5a3b2c1d0e9f",
    "token_type": "Bearer",
    "expires_in": 3600,
    "scope": "default",
}
LOGIN_REQUEST = {"username": "support_uws_user", "password": "Example#Pass1"}
LOGIN_RESPONSE = {"sessionToken": "7c2e8f1a-5b3d-4e6f-9a0b-1c2d3e4f5a6b"}
REGISTER_CALLBACK = {
    "name": "CarrierService",
    "url": "https://tui.example.net:9001/cb/carrier",
    "username": "tui",
    "password": "s3cr3t-shared",
}
REGISTER_RESULT = {"accountName": "0000123456-00001", "serviceName": "CarrierService"}
CALLBACK_LIST = [
    {
        "accountName": "0000123456-00001",
        "serviceName": "CarrierService",
        "url": "https://tui.example.net:9001/cb/carrier",
        "username": "tui",
        "password": "s3cr3t-shared",
    },
    {
        "accountName": "0000123456-00001",
        "serviceName": "DeviceSuspensionStatus",
        "url": "https://tui.example.net:9001/cb/suspension",
    },
]
DEVICE_LIST_REQUEST = {
    "accountName": "0000123456-00001",
    "deviceId": {"id": "5551234567", "kind": "mdn"},
}
DEVICE_LIST_RESPONSE = {
    "hasMoreData": False,
    "devices": [
        {
            "accountName": "0000123456-00001",
            "billingCycleEndDate": "2024-06-09T20:00:00-04:00",
            "carrierInformations": [
                {"carrierName": "Verizon Wireless", "servicePlan": "M2MPLAN4G", "state": "active"}
            ],
            "connected": True,
            "createdAt": "2023-02-07T10:42:15-05:00",
            "deviceIds": [
                {"id": "5551234567", "kind": "mdn"},
                {"id": "359876543210987", "kind": "imei"},
                {"id": "89148000001234567890", "kind": "iccId"},
                {"id": "15551234567", "kind": "msisdn"},
            ],
            "groupNames": ["Default: 0000123456-00001"],
            "ipAddress": "10.12.34.56",
            "lastActivationBy": "UWS API",
            "lastActivationDate": "2023-02-07T10:45:01-05:00",
            "lastConnectionDate": "2024-05-30T04:23:37-04:00",
            "customFields": [],
            "extendedAttributes": [
                {"key": "DeviceId", "value": "1234567"},
                {"key": "PrimaryPlaceOfUseFirstName", "value": "Pat"},
            ],
        }
    ],
}
SUSPEND_REQUEST = {
    "accountName": "0000123456-00001",
    "devices": [{"deviceIds": [{"id": "5551234567", "kind": "mdn"}]}],
}
DEACTIVATE_REQUEST = {
    "accountName": "0000123456-00001",
    "devices": [{"deviceIds": [{"id": "89148000001234567890", "kind": "iccid"}]}],
    "reasonCode": "FF",
    "etfWaiver": False,
}
ACTIVATE_REQUEST = {
    "accountName": "0000123456-00001",
    "servicePlan": "M2MPLAN4G",
    "mdnZipCode": "98801",
    "devices": [
        {
            "deviceIds": [
                {"id": "359876543210987", "kind": "imei"},
                {"id": "89148000001234567890", "kind": "iccid"},
            ]
        }
    ],
}
REQUEST_ID = {"requestId": "595f5c44-c31c-4552-8670-020a1545a84d"}
STATUS_PENDING = {"requestId": "595f5c44-c31c-4552-8670-020a1545a84d", "status": "Pending"}
STATUS_SUCCESS = {"requestId": "595f5c44-c31c-4552-8670-020a1545a84d", "status": "Success"}
STATUS_FAILED = {"requestId": "595f5c44-c31c-4552-8670-020a1545a84d", "status": "Failed"}
STATUS_FAILURE = {"requestId": "595f5c44-c31c-4552-8670-020a1545a84d", "status": "Failure"}
CARRIER_SUCCESS_CALLBACK = {
    "username": "tui",
    "password": "s3cr3t-shared",
    "requestId": "595f5c44-c31c-4552-8670-020a1545a84d",
    "deviceIds": [{"id": "5551234567", "kind": "mdn"}],
    "deviceResponse": {"suspendResponse": {"deviceIds": [{"id": "5551234567", "kind": "mdn"}]}},
    "status": "Success",
    "callbackCount": 1,
    "maxCallbackThreshold": 4,
}
CARRIER_FAILURE_CALLBACK = {
    "username": "tui",
    "password": "s3cr3t-shared",
    "requestId": "595f5c44-c31c-4552-8670-020a1545a84d",
    "deviceIds": [
        {"id": "89148000001234567890", "kind": "Iccid"},
        {"id": "359876543210987", "kind": "Imei"},
    ],
    "faultResponse": {
        "faultcode": "UnifiedWebService.REQUEST_FAILED.DeviceAlreadyActive",
        "faultstring": "REQUEST_FAILED. Device is already active",
    },
    "status": "Failed",
    "callbackCount": 2,
    "maxCallbackThreshold": 4,
}
SUSPENSION_STATUS_REQUEST = {
    "accountName": "0000123456-00001",
    "deviceIds": [{"id": "5551234567", "kind": "mdn"}],
}
SUSPENSION_STATUS_FILTER_REQUEST = {
    "filter": {"groupName": "suspended devices"},
    "accountName": "1223334444-00001",
}
SUSPENSION_STATUS_CALLBACK = {
    "username": "tui",
    "password": "s3cr3t-shared",
    "requestId": "904dcdc6-a590-45e4-ac76-403306f6d883",
    "deviceResponse": {
        "deviceSuspensionStatusResponse": [
            {
                "deviceIds": [{"id": "5551234567", "kind": "mdn"}],
                "state": "suspend",
                "suspendDate": "2024-05-01 00:00:00",
                "expectedResumeDate": "2024-07-30",
                "daysRemainingAutoResume": "61",
                "maxSuspendDaysAllowed": "90",
                "numDaysSuspendedLast12Months": "29",
                "numDaysSuspendAllowedCurrent12Months": "61",
                "timesSuspendedLast12Months": "1",
            }
        ]
    },
    "callbackCount": 1,
    "maxCallbackThreshold": 4,
}
COMPLETION_CALLBACK = {
    "username": "tui",
    "password": "s3cr3t-shared",
    "requestId": "904dcdc6-a590-45e4-ac76-403306f6d883",
    "deviceResponse": {},
    "comment": "Request Completed Processing",
    "callbackCount": 1,
    "maxCallbackThreshold": 4,
}
SEED_SUSPENSION_CALLBACK_TWO_DEVICES = {
    "username": "",
    "password": "",
    "requestId": "904dcdc6-a590-45e4-ac76-403306f6d883",
    "deviceResponse": {
        "deviceSuspensionStatusResponse": [
            {
                "deviceIds": [{"id": "502209576627731", "kind": "imei"}],
                "state": "suspend",
                "suspendDate": "2017-12-21 00:00:00",
                "expectedResumeDate": "2018-03-20",
                "daysRemainingAutoResume": "90",
                "maxSuspendDaysAllowed": "180",
                "numDaysSuspendedLast12Months": "0",
                "numDaysSuspendAllowedCurrent12Months": "91",
                "timesSuspendedLast12Months": "1",
            },
            {
                "deviceIds": [{"id": "50220957662773100000", "kind": "iccid"}],
                "state": "suspend",
                "suspendDate": "2017-12-21 00:00:00",
                "expectedResumeDate": "2018-03-20",
                "daysRemainingAutoResume": "90",
                "maxSuspendDaysAllowed": "180",
                "numDaysSuspendedLast12Months": "0",
                "numDaysSuspendAllowedCurrent12Months": "91",
                "timesSuspendedLast12Months": "1",
            },
        ]
    },
    "callbackCount": 1,
    "maxCallbackThreshold": 4,
}
ERROR_EXPIRED = {
    "errorCode": "UnifiedWebService.REQUEST_FAILED.SessionToken.Expired",
    "errorMessage": "The Session has expired.",
}
ERROR_INVALID = {
    "errorCode": "UnifiedWebService.INPUT_INVALID.SessionToken.Invalid",
    "errorMessage": "Session token is invalid.",
}
ERROR_ACCOUNT = {
    "errorCode": "UnifiedWebService.REQUEST_FAILED.AccountNotFound",
    "errorMessage": "Account not found.",
}
GATEWAY_FAULT = {
    "fault": {
        "code": "900901",
        "message": "Invalid Credentials",
        "description": "Access failure for API: /m2m/v1, version: v1. Make sure you have given the correct access token",
    }
}
OAUTH_ERROR = {
    "error": "invalid_request",
    "error_description": "Missing grant_type parameter value",
}
