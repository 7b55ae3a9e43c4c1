"""OAuth bearer and M2M session rules (thingspace-api.md §2, §8.1)."""

from __future__ import annotations

import httpx

from m2m_tui.sim import RunningSimulator

from .sim_helpers import M2M, SimFactory

PREFIX = "UnifiedWebService."


async def test_token_good_and_reused(m2m: M2M, sim: RunningSimulator) -> None:
    first = await m2m.token()
    assert first.status_code == 200
    body = first.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "default"
    assert body["expires_in"] == 3600
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    sim.state.advance_clock(100)
    second = (await m2m.token()).json()
    assert second["access_token"] == body["access_token"]
    assert 3499 <= second["expires_in"] <= 3500
    assert sim.state.tokens_issued == 1
    assert sim.state.token_requests == 2


async def test_token_bad_secret_and_bad_basic(m2m: M2M, http: httpx.AsyncClient) -> None:
    bad = await m2m.token(secret="wrong")
    assert bad.status_code == 401
    assert bad.json()["error"] == "invalid_client"
    no_auth = await http.post(
        f"{m2m.base}/api/ts/v1/oauth2/token", data={"grant_type": "client_credentials"}
    )
    assert no_auth.status_code == 401
    assert no_auth.json()["error"] == "invalid_client"


async def test_token_missing_or_wrong_grant_type(m2m: M2M) -> None:
    missing = await m2m.token(scope="x")
    assert missing.status_code == 400
    assert missing.json() == {
        "error": "invalid_request",
        "error_description": "Missing grant_type parameter value",
    }
    wrong = await m2m.token(grant_type="password")
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "unsupported_grant_type"


async def test_token_expiry_gives_900901_then_new_token(m2m: M2M, sim: RunningSimulator) -> None:
    await m2m.login()
    old = m2m.bearer
    sim.state.expire_bearer_tokens()
    answer = await m2m.call("GET", f"/callbacks/{m2m.account}")
    assert answer.status_code == 401
    assert answer.json()["fault"]["code"] == "900901"
    assert answer.json()["fault"]["message"] == "Invalid Credentials"
    fresh = (await m2m.token()).json()
    assert fresh["access_token"] != old
    assert fresh["expires_in"] == 3600
    m2m.bearer = fresh["access_token"]
    again = await m2m.call("GET", f"/callbacks/{m2m.account}")
    assert again.status_code == 200
    assert sim.state.tokens_issued == 2


async def test_token_ttl_setting(make_sim: SimFactory, http: httpx.AsyncClient) -> None:
    sim = await make_sim(token_ttl=0.2)
    client = M2M(sim, http)
    assert (await client.login()).status_code == 200
    sim.state.advance_clock(0.3)
    answer = await client.call("GET", f"/callbacks/{client.account}")
    assert answer.status_code == 401
    assert answer.json()["fault"]["code"] == "900901"


async def test_missing_bearer_is_900902(m2m: M2M) -> None:
    await m2m.login()
    answer = await m2m.call("GET", f"/callbacks/{m2m.account}", headers={"Authorization": ""})
    assert answer.status_code == 401
    assert answer.json()["fault"]["code"] == "900902"
    assert answer.json()["fault"]["message"] == "Missing Credentials"
    garbage = await m2m.call(
        "GET", f"/callbacks/{m2m.account}", headers={"Authorization": "Bearer nope"}
    )
    assert garbage.json()["fault"]["code"] == "900901"


async def test_revoke_then_new_token(m2m: M2M, http: httpx.AsyncClient) -> None:
    token = (await m2m.token()).json()["access_token"]
    cfg = m2m.sim.config
    answer = await http.post(
        f"{m2m.base}/api/ts/v1/oauth2/revoke",
        data={"grant_type": "client_credentials", "token": token},
        auth=(cfg.app_key, cfg.app_secret),
    )
    assert answer.status_code == 200
    assert answer.headers["RevokedAccessToken"] == token
    assert (await m2m.token()).json()["access_token"] != token


async def test_login_needs_bearer(m2m: M2M, http: httpx.AsyncClient) -> None:
    answer = await http.post(
        f"{m2m.base}/api/m2m/v1/session/login",
        json={"username": "demo_uws_user", "password": "Demo#Pass1"},
    )
    assert answer.status_code == 401
    assert answer.json()["fault"]["code"] == "900902"


async def test_login_success_returns_guid(m2m: M2M, sim: RunningSimulator) -> None:
    answer = await m2m.login()
    assert answer.status_code == 200
    token = answer.json()["sessionToken"]
    assert list(answer.json()) == ["sessionToken"]
    assert len(token) == 36 and token.count("-") == 4
    assert sim.state.logins == 1


async def test_wrong_password_counts_and_locks(m2m: M2M, sim: RunningSimulator) -> None:
    for attempt in range(1, 6):
        answer = await m2m.login(password="wrong")
        assert answer.status_code == 400
        body = answer.json()
        assert body["errorCode"] == PREFIX + "REQUEST_FAILED.InvalidCredentials"
        assert f"attempt {attempt} of 5" in body["errorMessage"]
    assert "locked" in body["errorMessage"]
    locked = await m2m.login()
    assert locked.status_code == 400
    assert locked.json()["errorCode"] == PREFIX + "REQUEST_FAILED.UserLocked"
    sim.state.unlock_user()
    assert (await m2m.login()).status_code == 200
    assert sim.state.login_failures == 6


async def test_success_resets_failure_counter(m2m: M2M) -> None:
    for _ in range(4):
        await m2m.login(password="wrong")
    assert (await m2m.login()).status_code == 200
    answer = await m2m.login(password="wrong")
    assert "attempt 1 of 5" in answer.json()["errorMessage"]


async def test_session_idle_expiry_and_relogin(m2m: M2M, sim: RunningSimulator) -> None:
    await m2m.login()
    sim.state.expire_sessions()
    answer = await m2m.call("GET", f"/callbacks/{m2m.account}")
    assert answer.status_code == 400
    assert answer.json() == {
        "errorCode": PREFIX + "REQUEST_FAILED.SessionToken.Expired",
        "errorMessage": "The Session has expired.",
    }
    assert (await m2m.login()).status_code == 200
    assert (await m2m.call("GET", f"/callbacks/{m2m.account}")).status_code == 200
    assert sim.state.logins == 2


async def test_session_idle_is_sliding(m2m: M2M, sim: RunningSimulator) -> None:
    await m2m.login()
    for _ in range(3):
        sim.state.advance_clock(700)  # under the 1200 s idle limit each time
        assert (await m2m.call("GET", f"/callbacks/{m2m.account}")).status_code == 200
    sim.state.advance_clock(1201)
    answer = await m2m.call("GET", f"/callbacks/{m2m.account}")
    assert answer.json()["errorCode"].endswith("SessionToken.Expired")
    assert sim.state.calls[f"GET /api/m2m/v1/callbacks/{m2m.account}"] == 4


async def test_session_header_missing_or_unknown(m2m: M2M) -> None:
    await m2m.login()
    missing = await m2m.call("GET", f"/callbacks/{m2m.account}", headers={"VZ-M2M-Token": ""})
    assert missing.status_code == 400
    assert missing.json()["errorCode"] == PREFIX + "REQUEST_FAILED.SessionToken.Format"
    unknown = await m2m.call(
        "GET",
        f"/callbacks/{m2m.account}",
        headers={"VZ-M2M-Token": "bcce3ea6-fe4f-4952-bacf-eadd80718e83"},
    )
    assert unknown.status_code == 400
    assert unknown.json()["errorCode"] == PREFIX + "INPUT_INVALID.SessionToken.Invalid"


async def test_logout_echoes_and_invalidates(m2m: M2M) -> None:
    await m2m.login()
    token = m2m.session
    answer = await m2m.call("POST", "/session/logout")
    assert answer.status_code == 200
    assert answer.json() == {"sessionToken": token}
    after = await m2m.call("GET", f"/callbacks/{m2m.account}")
    assert after.json()["errorCode"] == PREFIX + "INPUT_INVALID.SessionToken.Invalid"


async def test_login_missing_fields_does_not_count(m2m: M2M, sim: RunningSimulator) -> None:
    await m2m.login()
    answer = await m2m.http.post(
        f"{m2m.base}/api/m2m/v1/session/login",
        json={"username": "demo_uws_user"},
        headers={"Authorization": f"Bearer {m2m.bearer}"},
    )
    assert answer.status_code == 400
    assert answer.json()["errorCode"].endswith("Credentials.NotDefined")
    assert sim.state.failed_logins["demo_uws_user"] == 0
