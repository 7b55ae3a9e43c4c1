"""``m2m-tui sim`` / ``python -m m2m_tui.sim``: run the simulator until SIGINT or SIGTERM.

Lets people try the app, a curl walkthrough or another client against a faithful ThingSpace
without Verizon credentials. The CLI wires :func:`add_sim_arguments` and
:func:`run_sim_command` into its ``sim`` subcommand.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence
from dataclasses import replace

from m2m_tui.sim.config import (
    PRIMARY_ACCOUNT,
    SECONDARY_ACCOUNT,
    AccountSpec,
    FaultConfig,
    SimConfig,
)
from m2m_tui.sim.server import RunningSimulator, start_simulator
from m2m_tui.sim.wellknown import DEMO_IMEI, DEMO_MDN, SUSPENDED_MDN

DEFAULT_PORT = 8765


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 1")
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative")
    return value


def add_sim_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the simulator's flags (defaults are those of :class:`SimConfig`)."""
    d = SimConfig()
    net = parser.add_argument_group("listening")
    net.add_argument("--host", default="127.0.0.1", help="address to bind (default %(default)s)")
    net.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help="port, 0 for any free one (default %(default)s)",
    )
    net.add_argument("-v", "--verbose", action="store_true", help="log every call and callback")
    creds = parser.add_argument_group("credentials and inventory")
    creds.add_argument("--app-key", default=d.app_key, help="OAuth app key (default %(default)s)")
    creds.add_argument("--app-secret", default=d.app_secret, help="OAuth app secret")
    creds.add_argument("--username", default=d.username, help="UWS user (default %(default)s)")
    creds.add_argument("--password", default=d.password, help="UWS password")
    creds.add_argument(
        "--account", default=PRIMARY_ACCOUNT, help="primary account, suspension status enabled"
    )
    creds.add_argument(
        "--secondary-account",
        default=SECONDARY_ACCOUNT,
        help="second account, suspension status NOT enabled ('' for none)",
    )
    creds.add_argument("--seed", type=int, default=d.seed, help="random seed (default %(default)s)")
    creds.add_argument(
        "--devices", type=int, default=d.inventory_size, help="inventory size (default %(default)s)"
    )
    creds.add_argument("--page-size", type=int, default=d.page_size, help="devices per list page")
    creds.add_argument(
        "--no-list-attributes",
        action="store_true",
        help="device-list pages without extendedAttributes (clients page by date added)",
    )
    creds.add_argument(
        "--daily-action-limit", type=int, default=d.daily_action_limit, help="actions/line/day"
    )
    creds.add_argument(
        "--lockout-after", type=int, default=d.lockout_after, help="failed logins before lockout"
    )
    clocks = parser.add_argument_group("clocks (seconds)")
    clocks.add_argument("--token-ttl", type=_seconds, default=d.token_ttl)
    clocks.add_argument("--session-idle", type=_seconds, default=d.session_idle)
    clocks.add_argument("--processing-delay", type=_seconds, default=d.processing_delay)
    clocks.add_argument("--carrier-callback-delay", type=_seconds, default=d.carrier_callback_delay)
    clocks.add_argument(
        "--callback-retry-interval", type=_seconds, default=d.callback_retry_interval
    )
    clocks.add_argument("--max-callback-sends", type=int, default=d.max_callback_sends)
    faults = parser.add_argument_group("faults")
    faults.add_argument("--latency", type=_seconds, default=0.0, help="seconds added to each call")
    faults.add_argument("--error-rate", type=_fraction, default=0.0, help="fraction answered 500")
    faults.add_argument("--rate-429", type=_fraction, default=0.0, help="fraction answered 429")
    faults.add_argument("--drop-rate", type=_fraction, default=0.0, help="callbacks never sent")
    faults.add_argument(
        "--duplicate-rate", type=_fraction, default=0.0, help="callbacks sent twice"
    )
    faults.add_argument("--reorder", action="store_true", help="shuffle per-device callbacks")
    faults.add_argument(
        "--early-callbacks", action="store_true", help="callbacks before the requestId response"
    )


def config_from_args(args: argparse.Namespace) -> SimConfig:
    """The :class:`SimConfig` described by parsed :func:`add_sim_arguments` flags."""
    accounts = [AccountSpec(args.account, suspension_status=True, organization="Acme Telemetry")]
    if args.secondary_account and args.secondary_account != args.account:
        accounts.append(
            AccountSpec(
                args.secondary_account, suspension_status=False, organization="Acme Field Ops"
            )
        )
    return replace(
        SimConfig(),
        app_key=args.app_key,
        app_secret=args.app_secret,
        username=args.username,
        password=args.password,
        accounts=accounts,
        seed=args.seed,
        inventory_size=args.devices,
        page_size=args.page_size,
        list_extended_attributes=not args.no_list_attributes,
        daily_action_limit=args.daily_action_limit,
        lockout_after=args.lockout_after,
        token_ttl=args.token_ttl,
        session_idle=args.session_idle,
        processing_delay=args.processing_delay,
        callback_retry_interval=args.callback_retry_interval,
        carrier_callback_delay=args.carrier_callback_delay,
        max_callback_sends=args.max_callback_sends,
        faults=FaultConfig(
            latency=args.latency,
            error_rate=args.error_rate,
            rate_429=args.rate_429,
            drop_rate=args.drop_rate,
            duplicate_rate=args.duplicate_rate,
            reorder=args.reorder,
            early_callbacks=args.early_callbacks,
        ),
    )


def banner(sim: RunningSimulator) -> str:
    """What to tell the user: where it listens and which credentials work."""
    cfg = sim.config
    accounts = ", ".join(
        f"{a.name} (suspension status {'enabled' if a.suspension_status else 'NOT enabled'})"
        for a in cfg.accounts
    )
    return "\n".join(
        [
            f"ThingSpace simulator listening on {sim.base_url}",
            f"  OAuth token   POST {sim.base_url}/api/ts/v1/oauth2/token",
            f"  app key/secret  {cfg.app_key} / {cfg.app_secret}",
            f"  M2M base      {sim.base_url}/api/m2m",
            f"  UWS login     {cfg.username} / {cfg.password}",
            f"  accounts      {accounts}",
            f"  devices       {len(sim.state.devices)} (try IMEI {DEMO_IMEI}, MDN {DEMO_MDN}, "
            f"suspended MDN {SUSPENDED_MDN})",
            "Press Ctrl+C to stop.",
        ]
    )


async def _serve(config: SimConfig, host: str, port: int, verbose: bool) -> int:
    access = logging.getLogger("aiohttp.access") if verbose else None
    try:
        sim = await start_simulator(config, host=host, port=port, access_log=access)
    except OSError as exc:
        print(f"m2m-tui sim: cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    print(banner(sim), flush=True)
    try:
        await stop.wait()
    finally:
        await sim.close()
    print("ThingSpace simulator stopped.", flush=True)
    return 0


def run_sim_command(args: argparse.Namespace) -> int:
    """Run the simulator described by ``args`` until SIGINT/SIGTERM; return the exit code."""
    if args.verbose:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        return asyncio.run(_serve(config_from_args(args), args.host, args.port, args.verbose))
    except KeyboardInterrupt:  # platforms without loop signal handlers
        return 0


def run_standalone(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` with the sim flags and run (``python -m m2m_tui.sim``)."""
    parser = argparse.ArgumentParser(
        prog="m2m-tui sim", description="Run the ThingSpace simulator until interrupted."
    )
    add_sim_arguments(parser)
    return run_sim_command(parser.parse_args(argv))
