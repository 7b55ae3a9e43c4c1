"""The listener over real loopback HTTP: every refusal, the 200 path, health, TLS."""

from __future__ import annotations

import copy
import json
import shutil
import sqlite3
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from pydantic import SecretStr

from m2m_tui.tracking.events import CallbackAccepted, CallbackRejected
from m2m_tui.tracking.export import export
from m2m_tui.tracking.journal.sqlite import Journal
from m2m_tui.tracking.listener import CallbackListener, ListenerError
from m2m_tui.tracking.listener_config import MAX_BODY, THINGSPACE_SOURCE_ADDRESSES, ListenerConfig
from tests.tracking.conftest import StartListener
from tests.tracking.tracking_helpers import (
    FAILURE_BODY,
    PASSWORD,
    completion_body,
    suspension_body,
)

Events = list[CallbackAccepted | CallbackRejected]


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def _post(
    http: aiohttp.ClientSession, url: str, data: bytes | object, **kwargs: object
) -> tuple[int, dict[str, object]]:
    payload = data if isinstance(data, bytes) else json.dumps(data).encode()
    async with http.post(url, data=payload, **kwargs) as response:  # type: ignore[arg-type]
        return response.status, await response.json(content_type=None)


def _rejections(journal_path: Path) -> list[str]:
    with Journal.open(journal_path, readonly=True) as reader:
        return [r.reason for r in reader.rejections(limit=100)]


async def test_accepted_callback_is_committed_before_the_answer(
    start_listener: tuple[StartListener, Events], http: aiohttp.ClientSession, journal_path: Path
) -> None:
    start, events = start_listener
    listener = await start()
    status, answer = await _post(http, listener.url + "cb/suspension", suspension_body("r-200"))
    assert (status, answer) == (200, {"status": "ok"})
    with Journal.open(journal_path, readonly=True) as reader:  # a separate connection
        rows = reader.callbacks_for("r-200")
    assert [(r.kind, r.device_key, r.duplicate) for r in rows] == [
        ("suspension_status", "mdn:5551234567", False)
    ]
    assert PASSWORD not in rows[0].body
    assert isinstance(events[-1], CallbackAccepted) and events[-1].request_id == "r-200"


async def test_any_path_under_the_prefix(
    start_listener: tuple[StartListener, Events], http: aiohttp.ClientSession
) -> None:
    start, _ = start_listener
    listener = await start(path_prefix="/cb")
    base = f"http://127.0.0.1:{listener.port}"
    for path in ("/cb", "/cb/carrier", "/cb/suspension/extra"):
        status, _ = await _post(http, base + path, completion_body(f"r{path}"))
        assert status == 200, path
    async with http.post(base + "/elsewhere", data=b"{}") as response:
        assert response.status == 404
    async with http.get(base + "/cb/carrier") as response:
        assert response.status == 405


async def test_duplicates_are_flagged(
    start_listener: tuple[StartListener, Events], http: aiohttp.ClientSession
) -> None:
    start, events = start_listener
    listener = await start()
    assert await _post(http, listener.url, suspension_body("d", count=1)) == (200, {"status": "ok"})
    status, answer = await _post(http, listener.url, suspension_body("d", count=2))
    assert (status, answer) == (200, {"status": "ok", "duplicate": True})
    assert [e.duplicate for e in events if isinstance(e, CallbackAccepted)] == [False, True]


async def test_every_refusal_path(
    start_listener: tuple[StartListener, Events], http: aiohttp.ClientSession, journal_path: Path
) -> None:
    start, events = start_listener
    listener = await start()
    url = listener.url
    wrong = suspension_body("r", password="not-the-password")
    cases: list[tuple[bytes | object, int, str]] = [
        (b"\x80\x81 not utf-8", 400, "not_json"),
        (b"{nope", 400, "not_json"),
        ([suspension_body("r")], 400, "not_object"),
        ({"deviceResponse": {}}, 422, "invalid_envelope"),
        ({"requestId": ""}, 422, "invalid_envelope"),
        ({"requestId": ["r"], "callbackCount": "x"}, 422, "invalid_envelope"),
        (wrong, 401, "bad_credentials"),
    ]
    for data, expected_status, reason in cases:
        status, answer = await _post(http, url, data)
        assert (status, answer["reason"]) == (expected_status, reason), data
        assert answer["status"] == "rejected" and answer["detail"]
    assert _rejections(journal_path) == [reason for _, _, reason in cases]
    assert [e.reason for e in events if isinstance(e, CallbackRejected)] == [
        reason for _, _, reason in cases
    ]
    raw = b"".join(p.read_bytes() for p in journal_path.parent.glob(journal_path.name + "*"))
    assert PASSWORD.encode() not in raw and b"not-the-password" not in raw


async def test_too_large_with_content_length_and_chunked(
    start_listener: tuple[StartListener, Events], http: aiohttp.ClientSession, journal_path: Path
) -> None:
    start, _ = start_listener
    listener = await start()
    big = b"x" * (MAX_BODY + 1)
    status, answer = await _post(http, listener.url, big)
    assert (status, answer["reason"]) == (413, "too_large")

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b"y" * 65536  # 1.25 MiB without a Content-Length

    async with http.post(listener.url, data=chunks()) as response:
        assert response.status == 413
        assert response.request_info.headers.get("Transfer-Encoding") == "chunked"
    exactly = suspension_body("big") | {"pad": ""}
    exactly["pad"] = "z" * (MAX_BODY - len(json.dumps(exactly)))
    assert len(json.dumps(exactly)) == MAX_BODY
    assert (await _post(http, listener.url, exactly))[0] == 200  # the limit itself is allowed
    assert _rejections(journal_path) == ["too_large", "too_large"]


async def test_forbidden_source(
    start_listener: tuple[StartListener, Events], http: aiohttp.ClientSession, journal_path: Path
) -> None:
    start, _ = start_listener
    closed = await start(allow_sources=THINGSPACE_SOURCE_ADDRESSES, allow_loopback=False)
    status, answer = await _post(http, closed.url, suspension_body("r"))
    assert (status, answer["reason"]) == (403, "forbidden_source")
    opened = await start(allow_sources=THINGSPACE_SOURCE_ADDRESSES)  # loopback allowed by default
    assert (await _post(http, opened.url, suspension_body("r")))[0] == 200
    assert _rejections(journal_path) == ["forbidden_source"]


async def test_no_credentials_configured_accepts_any(
    start_listener: tuple[StartListener, Events], http: aiohttp.ClientSession
) -> None:
    start, _ = start_listener
    listener = await start(username=None, password=None)
    assert (await _post(http, listener.url, suspension_body("r", password="anything")))[0] == 200


async def test_healthz_counts(
    start_listener: tuple[StartListener, Events], http: aiohttp.ClientSession, journal_path: Path
) -> None:
    start, _ = start_listener
    listener = await start()
    await _post(http, listener.url, suspension_body("h"))
    await _post(http, listener.url, suspension_body("h", count=2))
    await _post(http, listener.url, dict(FAILURE_BODY))
    await _post(http, listener.url, b"[]")
    await _post(http, listener.url, b"{")
    await _post(http, listener.url, b"{")
    async with http.get(listener.url + "healthz") as response:
        assert response.status == 200
        health = await response.json()
    assert health["accepted"] == 2 and health["duplicates"] == 1
    assert health["rejected"] == {"not_object": 1, "not_json": 2}
    assert health["rejected_total"] == 3 and health["journal"] == str(journal_path)
    status = listener.status()
    assert (status.accepted, status.duplicates, status.rejected, status.running) == (2, 1, 3, True)


async def test_journal_failure_answers_503_and_recovers(
    start_listener: tuple[StartListener, Events], http: aiohttp.ClientSession, journal_path: Path
) -> None:
    start, events = start_listener
    listener = await start()
    conn = sqlite3.connect(journal_path)
    conn.execute("ALTER TABLE callbacks RENAME TO callbacks_away")
    conn.commit()
    status, answer = await _post(http, listener.url, suspension_body("lost"))
    assert (status, answer["reason"]) == (503, "journal_unavailable")
    assert events[-1].reason == "journal_unavailable"  # type: ignore[union-attr]
    conn.execute("ALTER TABLE callbacks_away RENAME TO callbacks")
    conn.commit()
    conn.close()
    assert (await _post(http, listener.url, suspension_body("lost")))[0] == 200  # the resend


async def test_port_in_use_is_a_clear_error(
    start_listener: tuple[StartListener, Events], writer: object
) -> None:
    start, _ = start_listener
    first = await start()
    second = CallbackListener(ListenerConfig(port=first.port), writer)  # type: ignore[arg-type]
    with pytest.raises(ListenerError, match=f"cannot listen on 127.0.0.1:{first.port}") as err:
        await second.start()
    # The OS's words, flagged for the desk's advice; never asyncio's Python repr of the address.
    assert str(err.value).endswith(": the port is already in use"), str(err.value)
    assert "('127.0.0.1'" not in str(err.value) and err.value.address_in_use


def _self_signed(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "1", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
async def test_tls(
    start_listener: tuple[StartListener, Events], http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    cert, key = _self_signed(tmp_path)
    start, _ = start_listener
    listener = await start(tls_cert=cert, tls_key=key)
    assert listener.url.startswith("https://127.0.0.1:")
    client_tls = ssl.create_default_context(cafile=str(cert))
    status, answer = await _post(http, listener.url, suspension_body("tls"), ssl=client_tls)
    assert (status, answer) == (200, {"status": "ok"})
    with pytest.raises(aiohttp.ClientConnectorCertificateError):
        await _post(http, listener.url, suspension_body("tls"))  # not trusted by default


def test_bad_config_is_reported_early(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not an IP address"):
        ListenerConfig(allow_sources=("10.0.0.0/33",))
    with pytest.raises(ValueError, match="both"):
        ListenerConfig(tls_cert=tmp_path / "c.pem")
    config = ListenerConfig(tls_cert=tmp_path / "c.pem", tls_key=tmp_path / "k.pem")
    with pytest.raises(ValueError, match="cannot load TLS"):
        config.ssl_context()


async def test_healthz_obeys_the_allow_list(
    start_listener: tuple[StartListener, Events], http: aiohttp.ClientSession, journal_path: Path
) -> None:
    start, _ = start_listener
    closed = await start(allow_sources=THINGSPACE_SOURCE_ADDRESSES, allow_loopback=False)
    async with http.get(closed.url + "healthz") as response:
        assert response.status == 403
        text = await response.text()
    assert str(journal_path) not in text and "accepted" not in text
    assert closed.status().rejected_by_reason == {"forbidden_source": 1}
    opened = await start(allow_sources=THINGSPACE_SOURCE_ADDRESSES)  # loopback keeps access
    async with http.get(opened.url + "healthz") as response:
        assert response.status == 200 and (await response.json())["journal"] == str(journal_path)


def test_credentials_that_would_accept_anyone_are_refused() -> None:
    with pytest.raises(ValueError, match="without a password"):
        ListenerConfig(username="tui")
    with pytest.raises(ValueError, match="empty callback password"):
        ListenerConfig(username="tui", password=SecretStr(""))
    with pytest.raises(ValueError, match="empty callback password"):
        ListenerConfig(password=SecretStr(""))
    assert not ListenerConfig().credentials_expected  # nothing configured: a lab listener


async def test_an_empty_password_in_a_callback_never_matches(
    start_listener: tuple[StartListener, Events], http: aiohttp.ClientSession
) -> None:
    start, _ = start_listener
    listener = await start()
    for password in ("", None):
        body = suspension_body("empty") | {"password": password}
        status, answer = await _post(http, listener.url, body)
        assert (status, answer["reason"]) == (401, "bad_credentials")


async def test_the_password_in_free_text_is_redacted_in_the_journal_and_exports(
    start_listener: tuple[StartListener, Events], http: aiohttp.ClientSession, journal_path: Path
) -> None:
    start, _ = start_listener
    listener = await start()
    body = copy.deepcopy(FAILURE_BODY)
    body["requestId"] = "r-leak"
    body["comment"] = f"login {PASSWORD} refused"
    body["faultResponse"]["faultstring"] = f"bad credentials: tui/{PASSWORD}"
    body["extra"] = {"notes": [f"pw={PASSWORD}"], f"key-{PASSWORD}": 1}
    assert (await _post(http, listener.url, body))[0] == 200
    with Journal.open(journal_path, readonly=True) as reader:
        (row,) = reader.callbacks_for("r-leak")
        exports = [export(reader, fmt) for fmt in ("json", "csv", "md")]
    assert PASSWORD not in row.body
    stored = json.loads(row.body)
    assert stored["comment"] == "login [redacted] refused"
    assert stored["faultResponse"]["faultstring"] == "bad credentials: tui/[redacted]"
    assert stored["extra"] == {"notes": ["pw=[redacted]"], "key-[redacted]": 1}
    assert all(PASSWORD not in text for text in exports)
    assert "login [redacted] refused" in exports[0] and "login [redacted] refused" in exports[1]
    # The resend is still recognised as a duplicate (the redacted text is what is hashed).
    body["callbackCount"] = 3
    status, answer = await _post(http, listener.url, body)
    assert (status, answer) == (200, {"status": "ok", "duplicate": True})
