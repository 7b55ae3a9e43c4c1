"""Whatever arrives, the listener answers 200 or 4xx and keeps serving."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from m2m_tui.tracking.journal.sqlite import Journal
from m2m_tui.tracking.listener_config import ListenerConfig
from tests.tracking.tracking_helpers import PASSWORD, USERNAME, listener_in_thread

SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
ENVELOPE_KEYS = st.sampled_from(
    [
        "requestId",
        "username",
        "password",
        "deviceIds",
        "deviceResponse",
        "status",
        "faultResponse",
        "comment",
        "callbackCount",
        "maxCallbackThreshold",
    ]
)
ENVELOPE_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "requestId": st.text(max_size=40) | st.integers() | st.none(),
    "username": st.just(USERNAME) | st.text(max_size=8) | st.integers(),
    "password": st.just(PASSWORD) | st.text(max_size=8) | st.none(),
    "deviceIds": st.lists(
        st.fixed_dictionaries(
            {"id": st.text(max_size=20) | st.integers(), "kind": st.text(max_size=6)}
        ),
        max_size=3,
    )
    | JSON_VALUES,
    "callbackCount": st.integers() | st.text(max_size=5),
}


@st.composite
def partial_envelopes(draw: st.DrawFn) -> dict[str, Any]:
    keys = draw(st.sets(ENVELOPE_KEYS, max_size=10))
    body = {key: draw(ENVELOPE_VALUES.get(key, JSON_VALUES)) for key in keys}
    body.update(draw(st.dictionaries(st.text(max_size=10), JSON_VALUES, max_size=3)))
    return body


def _encode(value: Any) -> bytes:
    return json.dumps(value).encode("utf-8", "surrogatepass")


BODIES = (
    st.binary(max_size=300)
    | JSON_VALUES.map(_encode)
    | partial_envelopes().map(_encode)
    | st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass"))
)


def test_fuzzed_posts_never_get_a_5xx(tmp_path: Path) -> None:
    journal = tmp_path / "fuzz.db"
    config = ListenerConfig(port=0, username=USERNAME, password=SecretStr(PASSWORD))
    statuses: list[int] = []
    with listener_in_thread(journal, config) as running, httpx.Client(timeout=10) as client:

        @settings(
            max_examples=200,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
            database=None,
        )
        @given(body=BODIES, path=st.sampled_from(["", "cb/carrier", "cb/suspension"]))
        def post(body: bytes, path: str) -> None:
            response = client.post(running.url + path, content=body)
            assert response.status_code == 200 or 400 <= response.status_code < 500, (
                response.status_code,
                response.text,
            )
            statuses.append(response.status_code)

        post()
        health = client.get(running.url + "healthz")
        assert health.status_code == 200
        counters = health.json()
        answered = counters["accepted"] + counters["duplicates"] + counters["rejected_total"]
        assert answered == len(statuses)
    with Journal.open(journal, readonly=True) as reader:
        stored = reader.counts()
    assert stored.callbacks_accepted + stored.callbacks_duplicate == statuses.count(200)
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("fuzz.db"))
    assert PASSWORD.encode() not in raw
