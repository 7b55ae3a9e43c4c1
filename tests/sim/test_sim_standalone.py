"""The standalone runner (``m2m-tui sim`` / ``python -m m2m_tui.sim``) and import hygiene."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from m2m_tui.sim.standalone import add_sim_arguments, config_from_args

ROOT = Path(__file__).resolve().parents[2]


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_sim_arguments(parser)
    return parser.parse_args(list(argv))


def test_flags_map_to_config() -> None:
    cfg = config_from_args(
        parse(
            "--account", "0000111111-00001", "--secondary-account", "", "--seed", "9",
            "--devices", "50", "--token-ttl", "5", "--session-idle", "3",
            "--processing-delay", "0", "--callback-retry-interval", "1", "--latency", "0.1",
            "--error-rate", "0.1", "--rate-429", "0.2", "--drop-rate", "0.3",
            "--duplicate-rate", "0.4", "--reorder", "--early-callbacks",
            "--app-key", "k", "--app-secret", "s", "--username", "u", "--password", "p",
        )
    )  # fmt: skip
    assert [a.name for a in cfg.accounts] == ["0000111111-00001"]
    assert cfg.accounts[0].suspension_status
    assert (cfg.seed, cfg.inventory_size, cfg.token_ttl, cfg.session_idle) == (9, 50, 5.0, 3.0)
    assert (cfg.processing_delay, cfg.callback_retry_interval) == (0.0, 1.0)
    assert (cfg.app_key, cfg.app_secret, cfg.username, cfg.password) == ("k", "s", "u", "p")
    f = cfg.faults
    assert (f.latency, f.error_rate, f.rate_429, f.drop_rate, f.duplicate_rate) == (
        0.1,
        0.1,
        0.2,
        0.3,
        0.4,
    )
    assert f.reorder and f.early_callbacks


def test_defaults() -> None:
    cfg = config_from_args(parse())
    assert [(a.name, a.suspension_status) for a in cfg.accounts] == [
        ("0000123456-00001", True),
        ("0000654321-00001", False),
    ]
    assert cfg.app_key == "demo-app-key" and cfg.password == "Demo#Pass1"
    assert cfg.list_extended_attributes
    assert not config_from_args(parse("--no-list-attributes")).list_extended_attributes


async def test_runs_until_sigint() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "m2m_tui.sim", "--port", "0", "--devices", "20",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env, cwd=ROOT,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        first = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
        assert first.startswith("ThingSpace simulator listening on http://127.0.0.1:")
        base = first.rsplit(" ", 1)[1].strip()
        async with httpx.AsyncClient() as http:
            answer = await http.post(
                f"{base}/api/ts/v1/oauth2/token",
                data={"grant_type": "client_credentials"},
                auth=("demo-app-key", "demo-app-secret"),
            )
        assert answer.status_code == 200
        proc.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(proc.communicate(), 20)
        assert proc.returncode == 0, err.decode()
        assert "demo_uws_user / Demo#Pass1" in out.decode()
        assert "stopped" in out.decode()
        assert b"Traceback" not in err
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def test_sim_imports_no_ui_or_client() -> None:
    code = (
        "import sys, m2m_tui.sim, m2m_tui.sim.standalone;"
        "bad = [m for m in sys.modules if m.startswith(('textual', 'm2m_tui.ui', "
        "'m2m_tui.api.client', 'httpx', 'pydantic'))];"
        "print(bad); raise SystemExit(1 if bad else 0)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
