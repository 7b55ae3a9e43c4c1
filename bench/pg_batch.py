"""Where a PostgreSQL writer batch spends its time, without trusting wall-clock rates.

For a batch of N callbacks written by :meth:`PgJournalWriter._transaction`: the round trips
(ReadyForQuery messages in the libpq trace: one per Sync / simple query), and the time in the
writer thread per batch, with one writer and with two (two threads, two connections)
contending for the append lock. Then EXPLAIN ANALYZE of one insert.

    M2M_TUI_TEST_POSTGRES=postgresql://... .venv/bin/python bench/pg_batch.py --n 50
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg

from m2m_tui.tracking.journal import pg_store
from m2m_tui.tracking.journal.pg_writer import PgJournalWriter
from m2m_tui.tracking.records import CallbackRecord
from tests.tracking.tracking_helpers import suspension_body


def _records(n: int, tag: str) -> list[CallbackRecord]:
    return [
        CallbackRecord(
            f"{tag}-{i}", "suspension_status", suspension_body(f"{tag}-{i}"), "mdn:5551234567", 1
        )
        for i in range(n)
    ]


def _round_trips(writer: PgJournalWriter, n: int) -> int:
    conn = writer._conn
    assert conn is not None
    with tempfile.TemporaryFile("w+") as trace:
        conn.pgconn.trace(trace.fileno())
        writer._transaction(conn, _records(n, uuid.uuid4().hex), [])
        conn.pgconn.untrace()
        trace.seek(0)
        # A round trip: the client sends, then waits for the server (an F... then B... run).
        trips, last = 0, ""
        for line in trace:
            direction = line.split("\t")[1] if "\t" in line else ""
            if direction == "B" and last == "F":
                trips += 1
            last = direction or last
        return trips


def _run(writer: PgJournalWriter, n: int, batches: int, out: list[float]) -> None:
    conn = writer._conn
    assert conn is not None
    for _ in range(batches):
        records = _records(n, uuid.uuid4().hex)
        start = time.perf_counter()
        writer._transaction(conn, records, [])
        out.append(time.perf_counter() - start)


def _summary(label: str, samples: list[float]) -> None:
    total = [s * 1000 for s in samples]
    print(
        f"{label}: batches={len(samples)} ms/batch in the writer thread"
        f" median={statistics.median(total):.2f} p90={statistics.quantiles(total, n=10)[-1]:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--batches", type=int, default=200)
    args = parser.parse_args()
    base = os.environ["M2M_TUI_TEST_POSTGRES"]
    name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {name}")
    url = f"{base}?options={quote(f'-csearch_path={name}')}"
    try:
        one, two = PgJournalWriter(url), PgJournalWriter(url)
        one.start()
        two.start()
        print(f"load average: {os.getloadavg()}")
        print(f"round trips per batch of {args.n}: {_round_trips(one, args.n)}")
        print(f"round trips per batch of 1: {_round_trips(one, 1)}")
        alone: list[float] = []
        _run(one, args.n, args.batches, alone)
        _summary(f"one writer, N={args.n}", alone)
        a: list[float] = []
        b: list[float] = []
        threads = [
            threading.Thread(target=_run, args=(w, args.n, args.batches, out))
            for w, out in ((one, a), (two, b))
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        _summary(f"two writers, N={args.n}", a + b)
        conn = one._conn
        assert conn is not None
        params = pg_store.callback_params(_records(1, uuid.uuid4().hex)[0])
        with conn.transaction(force_rollback=True):
            plan = conn.execute(
                "EXPLAIN (ANALYZE, BUFFERS) " + pg_store.INSERT_CALLBACK, params
            ).fetchall()
        print("EXPLAIN ANALYZE of one insert:")
        for (line,) in plan:
            print("   ", line)
        one.close()
        two.close()
    finally:
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {name} CASCADE")


if __name__ == "__main__":
    main()
