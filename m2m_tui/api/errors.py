"""Typed failures of the ThingSpace client, each with a plain-language hint.

Every exception carries the HTTP status, ThingSpace's error code and message, and a short
hint a support engineer can act on. Tokens and passwords never appear in any of them.
"""

from __future__ import annotations

from m2m_tui.api.models.errors import (
    ErrorBody,
    GatewayFaultBody,
    M2MErrorBody,
    OAuthErrorBody,
)

LOCKOUT_LIMIT = 5

# Hints keyed by the error code suffix (after "<Service>.<CLASS>."); messages change, codes don't.
_HINTS: dict[str, str] = {
    "SessionToken.Expired": "session expired (20 minutes idle); log in again",
    "SessionToken.Invalid": "session token no longer valid (replaced by another login?); log in again",
    "SessionToken.Format": "the VZ-M2M session token was missing or malformed",
    "AccountNotFound": "account not found: check leading zeros (e.g. 0000123456-00001)",
    "AccountName": "this UWS user is not associated with that account",
    "Account.NotDefined": "an account name is required",
    "NoAccounts": "this UWS user has no accounts",
    "MultipleAccounts": "this UWS user has several accounts: name one",
    "DeviceNotFound": "no such device on this account: check the identifier and its kind",
    "Device.Identifier.Invalid": "the identifier does not fit its kind (e.g. MDN is 10 digits)",
    "Device.Kind.Invalid": "unsupported identifier kind",
    "Device.Account.Invalid": "the device is not in that account",
    "DeviceState.Invalid": "the device is not in a state that allows this action",
    "DeviceAlreadyActive": "the device is already active",
    "CustomField.InvalidName": "custom fields are CustomField1 to CustomField5",
    "CustomField.TooLong": "custom field values are at most 50 characters",
    "MaxRequestsExceeded": "more than 10,000 devices in one request",
    "NumberofDevices": "too many devices for this call",
    "Request.InvalidCharacter": "remove ', < and \\ from the input",
    "RequestUndefined": "the request body was empty",
    "UnexpectedError": "ThingSpace could not process the request; fix the input or retry once",
    "DefaultIpPoolNotDefined": "the account has no default IP pool",
    "DeviceGroupNotFound": "no such device group",
    "FeatureNotEnabled": "this feature is not enabled for the account: ask Verizon to enable it",
    # CarrierService callback faults (per-device results of provisioning requests).
    "DeviceActionLimit.Exceeded": "the line had its daily provisioning actions: retry tomorrow",
    "RequestStatus.NotSupported": "status is tracked for single-device requests only: "
    "wait for the callbacks",
    "CallbackService.NotFound": "no callback URL registered for this service: register one",
    "_servicePlan_.NotFound": "unknown service plan code: pick one of the account's plans",
}


def hint_for_code(code: str | None) -> str | None:
    """The hint for an error code, matched on its suffix (and its last part as a fallback)."""
    if not code:
        return None
    parts = code.split(".")
    suffix = ".".join(parts[2:]) if len(parts) > 2 else code
    if suffix in _HINTS:
        return _HINTS[suffix]
    for known, hint in _HINTS.items():
        if suffix.endswith(known) or known.endswith(suffix):
            return hint
    if "ServicePlan" in suffix or "servicePlan" in suffix:
        return "unknown service plan code for this account"
    return None


class ThingSpaceError(Exception):
    """Base of every client failure."""

    default_hint = "unexpected failure talking to ThingSpace"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        hint: str | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.hint = hint or hint_for_code(code) or self.default_hint
        self.method = method
        self.path = path

    def __str__(self) -> str:
        where = f" [{self.method} {self.path}]" if self.method and self.path else ""
        status = f"HTTP {self.status}" if self.status is not None else "no HTTP answer"
        code = f", {self.code}" if self.code else ""
        return f"{self.message} ({status}{code}){where}: {self.hint}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, status={self.status!r}, "
            f"code={self.code!r}, hint={self.hint!r})"
        )


class NetworkError(ThingSpaceError):
    """No answer: DNS, refused connection, TLS failure."""

    default_hint = "ThingSpace is unreachable from here: check the base URL, VPN and proxy"


class TLSError(NetworkError):
    default_hint = "TLS failed: check the base URL's certificate, or a proxy rewriting HTTPS"


class RequestTimeout(ThingSpaceError):
    default_hint = "ThingSpace did not answer in time; try again"


class NotRetriedTimeout(RequestTimeout):
    """A state-changing POST timed out: it may have been accepted, so it is never resent."""

    default_hint = (
        "not retried: the action may have been accepted; check the request status or the "
        "device's provisioning history before trying again"
    )


class AuthError(ThingSpaceError):
    default_hint = "authentication failed"


class AppCredentialsRejected(AuthError):
    """The OAuth token endpoint refused the app key/secret."""

    default_hint = "the app key or secret is wrong (ThingSpace portal > Key management)"


class LoginRejected(AuthError):
    """ThingSpace refused the UWS username or password. Never retried automatically."""

    def __init__(
        self,
        message: str,
        *,
        attempt: int,
        status: int | None = None,
        code: str | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        self.attempt = attempt
        hint = (
            f"UWS username or password rejected (attempt {attempt}; "
            f"{LOCKOUT_LIMIT} failed attempts lock this user)"
        )
        super().__init__(message, status=status, code=code, hint=hint, method=method, path=path)


class LoginGuardTripped(AuthError):
    """Our own guard: after repeated failures we refuse to try again until the user says so."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        super().__init__(
            f"{failures} consecutive failed logins; not trying again",
            hint=(
                f"check the UWS credentials, then confirm a new attempt "
                f"({LOCKOUT_LIMIT} failed attempts lock this user)"
            ),
        )


class SessionRenewalFailed(AuthError):
    default_hint = "the session expired and logging in again did not help"


class ApiError(ThingSpaceError):
    """ThingSpace answered with an ``errorCode`` body (usually HTTP 400)."""

    @property
    def code_suffix(self) -> str | None:
        if not self.code:
            return None
        parts = self.code.split(".")
        return ".".join(parts[2:]) if len(parts) > 2 else self.code


class NotFoundError(ApiError):
    default_hint = "not found"


class InvalidInputError(ApiError):
    default_hint = "ThingSpace rejected the input"


class RateLimited(ThingSpaceError):
    default_hint = "ThingSpace is throttling requests; wait and try again"

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        status: int | None = None,
        code: str | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, status=status, code=code, method=method, path=path)


class ServerError(ThingSpaceError):
    default_hint = "ThingSpace had an internal error; try again later"


class GatewayError(ThingSpaceError):
    """The API gateway refused the call (wrong path, forbidden)."""

    default_hint = "the API gateway refused the call: check the base URL and the app's API access"


class ResponseFormatError(ThingSpaceError):
    default_hint = "ThingSpace answered something this tool does not understand"


class ResponseTooLarge(ResponseFormatError):
    """An answer past the size cap of its call kind; reading stopped there."""

    default_hint = (
        "the answer was far larger than ThingSpace sends for this call: check the base URL "
        "and any proxy in between"
    )


class PagingStalled(ResponseFormatError):
    """More devices announced, but the pages stopped moving forward: the list is incomplete."""

    default_hint = "the device list is incomplete: narrow the filter and list again"


class UnexpectedFailure(ThingSpaceError):
    """Anything the client did not foresee, named by type only (its text may hold secrets)."""

    default_hint = "an unexpected failure in the ThingSpace client; try again"


def error_from_body(
    body: ErrorBody | None,
    *,
    status: int,
    method: str,
    path: str,
) -> ThingSpaceError:
    """Turn an error answer into the most specific typed exception."""
    if status >= 500:
        code = body.errorCode if isinstance(body, M2MErrorBody) else None
        text = body.errorMessage if isinstance(body, M2MErrorBody) else None
        # A 500's fault is ThingSpace's: the code's "fix the input" hint would mislead.
        hint = None if code and code.endswith("UnexpectedError") else hint_for_code(code)
        return ServerError(
            text or f"server error {status}",
            code=code,
            status=status,
            hint=hint or ServerError.default_hint,
            method=method,
            path=path,
        )
    if isinstance(body, M2MErrorBody):
        message = body.errorMessage or body.errorCode
        suffix = body.code_suffix
        cls: type[ApiError] = ApiError
        if suffix.endswith("NotFound"):
            cls = NotFoundError
        elif body.error_class == "INPUT_INVALID":
            cls = InvalidInputError
        return cls(message, code=body.errorCode, status=status, method=method, path=path)
    if isinstance(body, GatewayFaultBody):
        fault = body.fault
        message = fault.message or "gateway fault"
        if status == 401:
            return AuthError(
                message,
                code=fault.code,
                hint="the OAuth bearer token was refused",
                status=status,
                method=method,
                path=path,
            )
        if status == 429:
            return RateLimited(message, code=fault.code, status=status, method=method, path=path)
        return GatewayError(message, code=fault.code, status=status, method=method, path=path)
    if isinstance(body, OAuthErrorBody):
        message = body.error_description or body.error
        if body.error == "invalid_client" or status == 401:
            return AppCredentialsRejected(
                message, code=body.error, status=status, method=method, path=path
            )
        return AuthError(message, code=body.error, status=status, method=method, path=path)
    if status == 429:
        return RateLimited("too many requests", status=status, method=method, path=path)
    if status >= 500:
        return ServerError(f"server error {status}", status=status, method=method, path=path)
    if status in (401, 403):
        return AuthError(f"HTTP {status}", status=status, method=method, path=path)
    if status == 404:
        return GatewayError("endpoint not found", status=status, method=method, path=path)
    return ThingSpaceError(f"unexpected HTTP {status}", status=status, method=method, path=path)
