"""The stored text and duplicate key of a callback do not change between versions.

Journals written by an earlier version hold these hashes: a resend arriving after an upgrade
must still be recognised as a duplicate, so a faster encoder has to produce the same bytes.
The values were produced by the encoder as of issue 9 (json.dumps per call).
"""

from __future__ import annotations

import pytest

from m2m_tui.tracking.journal import callbacks
from m2m_tui.tracking.journal.callbacks import encode_callback

SUSPENSION = {
    "username": "tui",
    "password": "s3cr3t",
    "requestId": "r-1",
    "callbackCount": 2,
    "deviceResponse": {
        "deviceSuspensionStatusResponse": [
            {"deviceIds": [{"id": "5551234567", "kind": "mdn"}], "state": "suspend"}
        ]
    },
    "maxCallbackThreshold": 4,
}
ODD = {
    "Password": "",
    "requestId": "r-2",
    "comment": "pw s3cr3t \u00e9",
    "nested": {"PASSWORD": "x", "z": [1, 2.5, None]},
}


def test_a_plain_callback_is_stored_and_keyed_as_before() -> None:
    assert encode_callback("r-1", "mdn:5551234567", SUSPENSION, ("s3cr3t",)) == (
        '{"password":"[redacted]","callbackCount":2,"deviceResponse":'
        '{"deviceSuspensionStatusResponse":[{"deviceIds":[{"id":"5551234567","kind":"mdn"}],'
        '"state":"suspend"}]},"maxCallbackThreshold":4,"requestId":"r-1","username":"tui"}',
        "1ad283a050f642db86ab795c76ae5dbb",
    )


def test_nested_passwords_and_the_secret_in_free_text_are_stored_and_keyed_as_before() -> None:
    assert encode_callback("r-2", None, ODD, ("s3cr3t",)) == (
        '{"Password":"","comment":"pw [redacted] \\u00e9",'
        '"nested":{"PASSWORD":"[redacted]","z":[1,2.5,null]},"requestId":"r-2"}',
        "43532860d7a81062f915299c19d040a6",
    )


def test_a_plain_callback_takes_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """One dump, no redaction walk, when the password is where ThingSpace puts it (top level)
    and nowhere else: what every genuine callback costs the writer thread."""

    def walked(*_: object) -> None:
        raise AssertionError("the slow redaction path was taken")

    monkeypatch.setattr(callbacks, "redact_body", walked)
    monkeypatch.setattr(callbacks, "redact_secrets", walked)
    text, _ = encode_callback("r-1", "mdn:5551234567", SUSPENSION, ("s3cr3t",))
    assert "s3cr3t" not in text
