"""Passwords are removed from bodies and raw text, at any depth, without touching the input."""

from __future__ import annotations

import json

from m2m_tui.tracking.redact import REDACTED, redact_body, redact_text


def test_redact_body_top_level_and_nested() -> None:
    body = {
        "password": "s3cr3t",
        "requestId": "r1",
        "nested": {"Password": "inner", "list": [{"password": "deep"}, 1, "x"]},
    }
    redacted = redact_body(body)
    assert redacted["password"] == REDACTED
    assert redacted["nested"]["Password"] == REDACTED
    assert redacted["nested"]["list"][0]["password"] == REDACTED
    assert redacted["nested"]["list"][1:] == [1, "x"]
    assert body["password"] == "s3cr3t"  # input untouched
    assert body["nested"]["list"][0]["password"] == "deep"
    assert "s3cr3t" not in json.dumps(redacted)


def test_redact_body_keeps_empty_and_shares_untouched_parts() -> None:
    body = {"password": "", "username": "", "deviceResponse": {"a": [1, 2]}}
    redacted = redact_body(body)
    assert redacted is body  # nothing to hide: no copy
    assert redact_body({"password": None})["password"] is None


def test_redact_text_json_form_and_truncated() -> None:
    assert redact_text('{"password": "s3cr3t", "a": 1}') == '{"password": "[redacted]", "a": 1}'
    assert "s3cr3t" not in redact_text('{"PASSWORD":"s3\\"cr3t"}')
    assert "s3cr" not in redact_text('{"password": "s3cr')  # cut off by an excerpt
    assert "12345" not in redact_text('{"password": 12345}')
    assert redact_text("user=a&password=s3cr3t&x=1") == "user=a&password=[redacted]&x=1"


def test_redact_text_scrubs_given_secrets() -> None:
    assert redact_text("pwd is hunter22 ok", "hunter22") == f"pwd is {REDACTED} ok"
    assert redact_text("nothing", "") == "nothing"
