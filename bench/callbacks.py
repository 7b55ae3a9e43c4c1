"""How many ThingSpace callbacks per second `m2m-tui listen` acknowledges, journaled.

Starts the listener (``python -m m2m_tui.tracking.listen_command --quiet``) on a temporary
journal and, for comparison, a bare aiohttp server that answers 200 and does nothing (this
script with ``--serve-bare``), each in its own process. Drives both with the same concurrent
POSTs of realistic suspension-status callbacks (distinct requestIds), and prints callbacks/s,
p50/p99 latency, server CPU, the listener/bare ratio, and checks that the journal holds exactly
one row per 200 answered.

Design targets (design.md): >= 5,000 callbacks/s journaled, p99 < 50 ms, and >= 35% of the
bare server's rate on 2 cores. The client runs on the same machine and costs CPU too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
USERNAME = "tui"
PASSWORD = "bench-s3cr3t"


def body_for(
    index: int,
    request_id: str | None = None,
    *,
    username: str = USERNAME,
    password: str = PASSWORD,
    mdn_prefix: str = "555",
) -> bytes:
    """One per-device DeviceSuspensionStatus callback (``thingspace-api.md`` §10)."""
    body = {
        "username": username,
        "password": password,
        "requestId": request_id or str(uuid.UUID(int=index + 1)),
        "deviceResponse": {
            "deviceSuspensionStatusResponse": [
                {
                    "deviceIds": [{"id": f"{mdn_prefix}{index % 10_000_000:07d}", "kind": "mdn"}],
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
    return json.dumps(body).encode()


# --- the bare server ------------------------------------------------------------------------


def serve_bare(port: int) -> None:
    from aiohttp import web

    async def ok(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=b'{"status":"ok"}', content_type="application/json")

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", ok)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port)
        await site.start()
        print(f"listening on http://127.0.0.1:{runner.addresses[0][1]}/", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        await stop.wait()
        await runner.cleanup()

    asyncio.run(main())


# --- driving --------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    ok: int
    errors: int
    seconds: float
    latencies: list[float]
    cpu_seconds: float

    @property
    def rate(self) -> float:
        return self.ok / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    def line(self) -> str:
        return (
            f"{self.name:<9} {self.rate:>9,.0f} callbacks/s  p50 {self.percentile(0.5):6.2f} ms"
            f"  p99 {self.percentile(0.99):6.2f} ms  ok {self.ok}  errors {self.errors}"
            f"  server CPU {self.cpu_seconds / self.seconds * 100:5.0f}%"
        )


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc (0 where /proc is missing)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class _Connection(asyncio.Protocol):
    """A keep-alive HTTP/1.1 connection that sends one request at a time, for the raw client.

    Much cheaper per request than aiohttp's client, so the figures measure the server rather
    than the load generator (both share the same 2 cores).
    """

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[int] | None = None
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0 or self.waiter is None:
            return
        head = bytes(self.buffer[:end]).lower()
        marker = head.find(b"content-length:")
        length = int(head[marker + 15 :].split(b"\r\n", 1)[0]) if marker >= 0 else 0
        if len(self.buffer) < end + 4 + length:
            return
        status = int(head[9:12])
        del self.buffer[: end + 4 + length]
        waiter, self.waiter = self.waiter, None
        if not waiter.done():
            waiter.set_result(status)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(0)
        if not self.lost.done():
            self.lost.set_result(None)

    async def post(self, request: bytes) -> int:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return await self.waiter


def raw_request(host: str, path: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def drive(
    name: str, url: str, bodies: list[bytes], concurrency: int, pid: int, client: str
) -> Result:
    """POST every body, ``concurrency`` at a time, timing each request."""
    if client == "aiohttp":
        return await drive_aiohttp(name, url, bodies, concurrency, pid)
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    requests = [raw_request(f"{host}:{port}", parts.path or "/", body) for body in bodies]
    latencies: list[float] = []
    counts = {"ok": 0, "errors": 0}
    position = 0
    loop = asyncio.get_running_loop()

    async def worker() -> None:
        nonlocal position
        _, connection = await loop.create_connection(_Connection, host, port)
        try:
            while position < len(requests):
                request = requests[position]
                position += 1
                started = time.perf_counter()
                status = await connection.post(request)
                latencies.append(time.perf_counter() - started)
                counts["ok" if status == 200 else "errors"] += 1
                if status == 0:
                    return
        finally:
            if connection.transport is not None:
                connection.transport.close()

    cpu_before = cpu_seconds(pid)
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return Result(
        name, counts["ok"], counts["errors"], elapsed, latencies, cpu_seconds(pid) - cpu_before
    )


async def drive_aiohttp(
    name: str, url: str, bodies: list[bytes], concurrency: int, pid: int
) -> Result:
    import aiohttp

    latencies: list[float] = []
    counts = {"ok": 0, "errors": 0}
    position = 0
    headers = {"Content-Type": "application/json"}

    async def worker(http: aiohttp.ClientSession) -> None:
        nonlocal position
        while position < len(bodies):
            body = bodies[position]
            position += 1
            started = time.perf_counter()
            try:
                async with http.post(url, data=body, headers=headers) as response:
                    await response.read()
                    status = response.status
            except aiohttp.ClientError:
                status = 0
            latencies.append(time.perf_counter() - started)
            counts["ok" if status == 200 else "errors"] += 1

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        cpu_before = cpu_seconds(pid)
        started = time.perf_counter()
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds(pid) - cpu_before
    return Result(name, counts["ok"], counts["errors"], elapsed, latencies, cpu)


def spawn(command: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    assert process.stdout is not None
    line = process.stdout.readline()
    if "listening on " not in line:
        process.kill()
        raise SystemExit(f"server did not start: {line!r}")
    return process, line.split("listening on ", 1)[1].split()[0]


def stop(process: subprocess.Popen[str]) -> str:
    """SIGTERM, wait, and return what the process printed after its first line."""
    process.send_signal(signal.SIGTERM)
    try:
        out, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        out, _ = process.communicate()
    return out.strip()


def median_by_rate(results: list[Result]) -> Result:
    return sorted(results, key=lambda r: r.rate)[len(results) // 2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--requests", type=int, default=12_000, help="POSTs per round")
    parser.add_argument("-c", "--concurrency", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=5, help="alternating listener/bare runs")
    parser.add_argument("--warmup", type=int, default=1_000)
    parser.add_argument(
        "--client",
        choices=["raw", "aiohttp"],
        default="raw",
        help="load generator: a minimal keep-alive HTTP/1.1 client (default), or aiohttp's",
    )
    parser.add_argument("--serve-bare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.port)
        return 0

    command = (
        f"cd {shlex.quote(str(ROOT))} && PYTHONPATH=. {shlex.quote(sys.executable)} "
        f"bench/callbacks.py -n {args.requests} -c {args.concurrency} --rounds {args.rounds}"
        f" --warmup {args.warmup} --client {args.client}"
    )
    print(f"# reproduce: {command}")
    cpus = os.cpu_count()
    print(f"# {cpus} CPUs, Python {sys.version.split()[0]}, sqlite {sqlite3.sqlite_version}")
    env = dict(os.environ, PYTHONPATH=str(ROOT), M2M_TUI_CALLBACK_PASSWORD=PASSWORD)
    total = args.warmup + args.requests * args.rounds
    bodies = [body_for(i) for i in range(total)]
    warm = bodies[: args.warmup]

    def timed(round_index: int) -> list[bytes]:
        start = args.warmup + round_index * args.requests
        return bodies[start : start + args.requests]

    listener_runs: list[Result] = []
    bare_runs: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="m2m-bench-") as tmp:
        journal = Path(tmp) / "bench.db"
        listener, listener_url = spawn(
            [sys.executable, "-m", "m2m_tui.tracking.listen_command", "--journal", str(journal),
             "--port", "0", "--quiet", "--callback-username", USERNAME],
            env,
        )  # fmt: skip
        bare, bare_url = spawn([sys.executable, __file__, "--serve-bare"], env)
        listener_out = ""
        try:
            c, client = args.concurrency, args.client
            listener_url += "cb/suspension"
            warmed = asyncio.run(drive("warmup", listener_url, warm, c, listener.pid, client))
            asyncio.run(drive("warmup", bare_url, warm, c, bare.pid, client))
            for index in range(args.rounds):
                batch = timed(index)
                # Alternate which server goes first, so a machine that speeds up or slows
                # down during the run (shared hosts do) does not favour one side.
                order = ("listener", "bare") if index % 2 == 0 else ("bare", "listener")
                for name in order:
                    if name == "listener":
                        run = asyncio.run(drive(name, listener_url, batch, c, listener.pid, client))
                        listener_runs.append(run)
                    else:
                        bare_runs.append(
                            asyncio.run(drive(name, bare_url, batch, c, bare.pid, client))
                        )
                print(f"round {index + 1}: {listener_runs[-1].line()}")
                print(f"round {index + 1}: {bare_runs[-1].line()}")
        finally:
            listener_out = stop(listener)
            stop(bare)
        conn = sqlite3.connect(f"{journal.as_uri()}?mode=ro", uri=True)
        rows = conn.execute("SELECT count(*) FROM callbacks").fetchone()[0]
        conn.close()

    listened, bare_result = median_by_rate(listener_runs), median_by_rate(bare_runs)
    print(f"median   {listened.line()}")
    print(f"median   {bare_result.line()}")
    print(f"ratio    listener/bare = {listened.rate / bare_result.rate:.0%} (medians)")
    paired = sorted(
        run.rate / bare.rate for run, bare in zip(listener_runs, bare_runs, strict=True)
    )
    print(
        f"         per round (back to back): median {paired[len(paired) // 2]:.0%},"
        f" range {paired[0]:.0%}-{paired[-1]:.0%}"
    )
    listener_cpu = listened.cpu_seconds / listened.ok * 1e6
    bare_cpu = bare_result.cpu_seconds / bare_result.ok * 1e6
    print(
        f"         server CPU per callback: listener {listener_cpu:.0f} us, bare {bare_cpu:.0f} us"
    )
    for line in listener_out.splitlines():
        print(f"listener {line}")
    answered = warmed.ok + sum(run.ok for run in listener_runs)
    verdict = "OK" if rows == answered else "MISMATCH"
    print(f"journal  {rows} rows for {answered} answered 200 (warm-up included): {verdict}")
    return 0 if rows == answered else 1


if __name__ == "__main__":
    sys.exit(main())
