"""The three error envelopes ThingSpace answers with (``thingspace-api.md`` §8.1)."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import ValidationError, field_validator

from m2m_tui.api.models.base import InboundModel


class M2MErrorBody(InboundModel):
    """``{"errorCode": "<Service>.<CLASS>.<Code>", "errorMessage": "..."}`` (HTTP 400)."""

    errorCode: str
    errorMessage: str | None = None

    @property
    def error_class(self) -> str | None:
        """``INPUT_INVALID``, ``REQUEST_FAILED``... (the second dotted part)."""
        parts = self.errorCode.split(".")
        return parts[1] if len(parts) > 2 else None

    @property
    def code_suffix(self) -> str:
        """The part after the service and class, e.g. ``SessionToken.Expired``.

        Match on this: the service prefix and the messages change, the suffix does not.
        """
        parts = self.errorCode.split(".")
        return ".".join(parts[2:]) if len(parts) > 2 else self.errorCode


class GatewayFaultDetail(InboundModel):
    code: str
    message: str | None = None
    description: str | None = None

    @field_validator("code", mode="before")
    @classmethod
    def _code_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value


class GatewayFaultBody(InboundModel):
    """The API gateway's ``{"fault": {"code", "message", "description"}}`` (401, 403, 404, 429)."""

    fault: GatewayFaultDetail


class OAuthErrorBody(InboundModel):
    """``{"error": "invalid_client", "error_description": "..."}`` from the token endpoint."""

    error: str
    error_description: str | None = None


ErrorBody = M2MErrorBody | GatewayFaultBody | OAuthErrorBody
_BodyT = TypeVar("_BodyT", M2MErrorBody, GatewayFaultBody, OAuthErrorBody)


def decode_error_body(body: bytes | str | Any) -> ErrorBody | None:
    """Recognise any of the three envelopes in a raw or parsed body; None when it is none of them."""
    data: Any = body
    if isinstance(body, bytes | str):
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return None
    if not isinstance(data, dict):
        return None
    if "errorCode" in data:
        return _try(M2MErrorBody, data)
    if "fault" in data:
        return _try(GatewayFaultBody, data)
    if "error" in data:
        return _try(OAuthErrorBody, data)
    return None


def _try(model: type[_BodyT], data: dict[str, Any]) -> _BodyT | None:
    try:
        return model.model_validate(data)
    except ValidationError:
        return None
