"""Team mode on one PostgreSQL: two `m2m-tui listen` processes, and ten followers (issue 11).

1. The single sqlite listener (today's default), for comparison, then two listener processes
   writing one PostgreSQL journal, driven at once with distinct callbacks: callbacks/s
   acknowledged (200 = committed) in total, p50/p99 latency. Targets: >= 3,000/s, p99 < 50 ms.
   While they run, the server's ``pg_stat_activity`` is sampled: how often a listener waited
   on the append lock, and how often its holder was then waiting for its own client
   (ClientRead) rather than working: what the lock costs, and why.
2. Ten followers attached (headless: the LISTEN/NOTIFY follower the UI's tracking runs, in a
   process of their own) while the two listeners take a steady stream: the time from each 200
   to each follower holding the row (p50/p99/max; target p99 < 300 ms), and what following
   costs the database (the followers' queries/s).

Needs a server: ``--postgres URL`` or ``$M2M_TUI_TEST_POSTGRES`` (``bash .ci/postgres-up``
starts a throwaway one). Runs in a fresh schema, dropped at the end. The client, the
listeners, the followers and PostgreSQL share this machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from callbacks import PASSWORD, ROOT, USERNAME, Result, body_for, drive, spawn, stop

FOLLOWERS = 10


def with_schema(url: str, schema: str) -> str:
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}options={quote(f'-csearch_path={schema}')}"


def listen_command(journal: str) -> list[str]:
    return [sys.executable, "-m", "m2m_tui.tracking.listen_command", "--journal", journal,
            "--port", "0", "--quiet", "--callback-username", USERNAME]  # fmt: skip


def combined(name: str, results: list[Result]) -> Result:
    """Several listeners driven at once, as one: all answers over the longest run."""
    return Result(
        name,
        sum(r.ok for r in results),
        sum(r.errors for r in results),
        max(r.seconds for r in results),
        [x for r in results for x in r.latencies],
        sum(r.cpu_seconds for r in results),
    )


async def drive_both(urls: list[str], pids: list[int], bodies: list[bytes], c: int) -> Result:
    halves = [bodies[i :: len(urls)] for i in range(len(urls))]
    runs = await asyncio.gather(
        *(
            drive(f"pg-{i}", url, half, max(1, c // len(urls)), pid, "raw")
            for i, (url, pid, half) in enumerate(zip(urls, pids, halves, strict=True))
        )
    )
    return combined("2 x pg", list(runs))


# --- the followers' process -------------------------------------------------------------


def run_followers(url: str, count: int, seconds: float) -> None:
    """Attach ``count`` followers; print when each saw each requestId (one JSON document)."""
    from m2m_tui.tracking.journal.pg_follow import FollowBatch, JournalFollower

    async def main() -> None:
        seen: list[dict[str, float]] = [{} for _ in range(count)]

        def sink(index: int) -> Callable[[FollowBatch], None]:
            def on_batch(batch: FollowBatch) -> None:
                now = time.time()
                for row in batch.callbacks:
                    seen[index].setdefault(row.request_id, now)

            return on_batch

        followers = [JournalFollower(url, sink(i), retry_interval=0.2) for i in range(count)]
        for follower in followers:
            follower.start()
        await asyncio.gather(*(f.wait_connected() for f in followers))
        queries_before = sum(f.queries for f in followers)
        print("followers ready", flush=True)
        started = time.perf_counter()
        await asyncio.sleep(seconds)
        elapsed = time.perf_counter() - started
        queries = sum(f.queries for f in followers) - queries_before
        for follower in followers:
            await follower.stop()
        print(json.dumps({"seen": seen, "queries": queries, "seconds": elapsed}), flush=True)

    asyncio.run(main())


async def steady(urls: list[str], bodies: list[bytes], rate: float) -> dict[str, float]:
    """POST ``bodies`` round-robin at about ``rate``/s; returns requestId -> time of its 200."""
    import aiohttp

    acked: dict[str, float] = {}
    interval = 1.0 / rate

    async def one(http: aiohttp.ClientSession, url: str, body: bytes) -> None:
        async with http.post(url, data=body, headers={"Content-Type": "application/json"}) as r:
            await r.read()
            if r.status == 200:
                acked[json.loads(body)["requestId"]] = time.time()

    async with aiohttp.ClientSession() as http:
        tasks = []
        start = time.perf_counter()
        for index, body in enumerate(bodies):
            delay = start + index * interval - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(http, urls[index % len(urls)], body)))
        await asyncio.gather(*tasks)
    return acked


class LockSampler:
    """Samples ``pg_stat_activity`` in a thread: appends waiting on the advisory lock, and
    what the other backends were doing meanwhile (a holder in ClientRead waits for its client)."""

    def __init__(self, url: str) -> None:
        import threading

        self.url = url
        self.samples = self.waiting = self.holder_waits_client = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> LockSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._stop.is_set():
                rows = conn.execute(
                    "SELECT state, wait_event FROM pg_stat_activity WHERE datname ="
                    " current_database() AND pid <> pg_backend_pid() AND backend_type ="
                    " 'client backend' AND state IN ('active', 'idle in transaction')"
                ).fetchall()
                self.samples += 1
                if any(event == "advisory" for _, event in rows):
                    self.waiting += 1
                    if any(event == "ClientRead" for _, event in rows):
                        self.holder_waits_client += 1
                time.sleep(0.002)

    def line(self) -> str:
        share = self.waiting / max(1, self.samples)
        client = self.holder_waits_client / max(1, self.waiting)
        return (
            f"append lock waited on in {self.waiting} of {self.samples} samples ({share:.0%});"
            f" its holder waiting for its own client in {client:.0%} of those"
        )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("M2M_TUI_TEST_POSTGRES"))
    parser.add_argument("-n", "--requests", type=int, default=12_000, help="POSTs per listener run")
    parser.add_argument("-c", "--concurrency", type=int, default=64)
    parser.add_argument("--follow-rate", type=float, default=500.0, help="callbacks/s, step 2")
    parser.add_argument("--follow-seconds", type=float, default=6.0)
    parser.add_argument("--followers-process", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.followers_process:
        run_followers(args.postgres, FOLLOWERS, args.follow_seconds + 3.0)
        return 0
    if not args.postgres:
        raise SystemExit("no server: --postgres URL or $M2M_TUI_TEST_POSTGRES (.ci/postgres-up)")
    import psycopg
    from psycopg import sql

    from m2m_tui.tracking.journal.interface import safe_location

    command = (
        f"cd {shlex.quote(str(ROOT))} && PYTHONPATH=. {shlex.quote(sys.executable)} bench/team.py"
        f" --postgres '{safe_location(args.postgres)}' -n {args.requests} -c {args.concurrency}"
        f" --follow-rate {args.follow_rate:g} --follow-seconds {args.follow_seconds:g}"
    )
    print(f"# reproduce: {command}")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"# {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, load average {load}")
    env = dict(os.environ, PYTHONPATH=str(ROOT), M2M_TUI_CALLBACK__PASSWORD=PASSWORD)
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(args.postgres, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        version = conn.execute("SHOW server_version").fetchone()
    print(f"# PostgreSQL {version[0] if version else '?'}, schema {schema}")
    url = with_schema(args.postgres, schema)
    n, c = args.requests, args.concurrency
    bodies = [body_for(i) for i in range(2 * n + 1_000)]
    try:
        # 1. sqlite alone, then two listeners on PostgreSQL.
        with tempfile.TemporaryDirectory(prefix="m2m-team-") as tmp:
            lite, lite_url = spawn(listen_command(str(Path(tmp) / "bench.db")), env)
            try:
                lite_url += "cb/suspension"
                asyncio.run(drive("warmup", lite_url, bodies[:500], c, lite.pid, "raw"))
                sqlite_run = asyncio.run(drive("sqlite", lite_url, bodies[:n], c, lite.pid, "raw"))
            finally:
                stop(lite)
        listeners = [spawn(listen_command(url), env) for _ in range(2)]
        urls = [u + "cb/suspension" for _, u in listeners]
        pids = [p.pid for p, _ in listeners]
        try:
            asyncio.run(drive_both(urls, pids, bodies[n : n + 500], c))
            with LockSampler(args.postgres) as sampler:
                team_run = asyncio.run(drive_both(urls, pids, bodies[n + 500 : 2 * n + 500], c))
            print(f"listen   {sqlite_run.line()}")
            print(f"listen   {team_run.line()}")
            print(
                f"         2 x PostgreSQL: {team_run.rate:,.0f}/s (target >= 3,000), "
                f"p99 {team_run.percentile(0.99):.1f} ms (target < 50); sqlite alone "
                f"{sqlite_run.rate:,.0f}/s"
            )
            print(f"         {sampler.line()}")

            # 2. Ten followers while the listeners take a steady stream.
            followers = subprocess.Popen(
                [sys.executable, __file__, "--followers-process", "--postgres", url,
                 "--follow-seconds", str(args.follow_seconds)],
                stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT,
            )  # fmt: skip
            assert followers.stdout is not None
            ready = followers.stdout.readline()
            assert ready.startswith("followers ready"), ready
            stream = [
                body_for(i, str(uuid.uuid4()))
                for i in range(int(args.follow_rate * args.follow_seconds))
            ]
            acked = asyncio.run(steady(urls, stream, args.follow_rate))
            report = json.loads(followers.stdout.readline())
            followers.wait(timeout=30)
        finally:
            for process, _ in listeners:
                stop(process)
        delays: list[float] = []
        missed = 0
        for seen in report["seen"]:
            for request_id, at in acked.items():
                if request_id in seen:
                    delays.append(max(0.0, seen[request_id] - at) * 1000)
                else:
                    missed += 1
        print(
            f"follow   {FOLLOWERS} followers, {len(acked)} callbacks at "
            f"{args.follow_rate:g}/s: 200 -> follower p50 {percentile(delays, 0.5):.1f} ms  "
            f"p99 {percentile(delays, 0.99):.1f} ms (target < 300)  max {max(delays):.1f} ms  "
            f"missed {missed}"
        )
        print(
            f"         followers' queries: {report['queries'] / report['seconds']:.1f}/s in "
            f"total ({report['queries']} in {report['seconds']:.1f} s, LISTEN/NOTIFY; "
            "no query while nothing arrives)"
        )
    finally:
        with psycopg.connect(args.postgres, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
