"""Client fetch benchmark: PyHive vs impyla vs sqlalchemy_mlsql (fetchall and fetch_arrow) on one gateway.

Starts ONE gateway with ``bench.peers.start_gateway`` and fetches the same N-row x 3-column result (bigint,
string, double) through each client, interleaving the clients per repetition. Prints a Markdown table with the
median wall time (execute + full fetch), rows/s and the ratio to PyHive.

    .venv/bin/python bench/bench_client.py                 # 1M rows, 3 repetitions
    .venv/bin/python bench/bench_client.py --rows 200000 --reps 1
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.peers import Peer, free_port, start_gateway  # noqa: E402

USER = "bench"


def query(rows: int) -> str:
    return f"select id, cast(id as string) s, cast(id as double) * 1.5 d from range({rows})"


def run_pyhive(peer: Peer, sql: str) -> int:
    from pyhive import hive

    conn = hive.connect(host=peer.host, port=peer.port, username=USER)
    try:
        cur = conn.cursor()
        cur.arraysize = 10_000
        cur.execute(sql)
        return len(cur.fetchall())
    finally:
        conn.close()


def run_impyla(peer: Peer, sql: str) -> int:
    from impala.dbapi import connect

    conn = connect(host=peer.host, port=peer.port, auth_mechanism="PLAIN", user=USER, password="x", timeout=900)
    try:
        cur = conn.cursor()
        cur.execute(sql)
        return len(cur.fetchall())
    finally:
        conn.close()


def run_ours(peer: Peer, sql: str) -> int:
    import sqlalchemy_mlsql

    with sqlalchemy_mlsql.connect(peer.host, peer.port, username=USER) as conn, conn.cursor() as cur:
        cur.execute(sql)
        return len(cur.fetchall())


def run_ours_arrow(peer: Peer, sql: str) -> int:
    import sqlalchemy_mlsql

    with sqlalchemy_mlsql.connect(peer.host, peer.port, username=USER) as conn, conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetch_arrow().num_rows


CLIENTS: dict[str, Callable[[Peer, str], int]] = {
    "PyHive 0.7 `fetchall`": run_pyhive,
    "impyla 0.24 `fetchall`": run_impyla,
    "sqlalchemy_mlsql `fetchall`": run_ours,
    "sqlalchemy_mlsql `fetch_arrow`": run_ours_arrow,
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--scratch", type=Path, default=None)
    args = ap.parse_args(argv)
    scratch = args.scratch or Path(tempfile.mkdtemp(prefix="bench-client-"))
    sql = query(args.rows)
    print(f"starting gateway in {scratch} ...", file=sys.stderr, flush=True)
    peer = start_gateway(free_port(), scratch)
    samples: dict[str, list[float]] = {name: [] for name in CLIENTS}
    try:
        for fn in CLIENTS.values():  # warm-up: sessions, JIT, first Spark job
            fn(peer, query(20_000))
        names = list(CLIENTS)
        for rep in range(args.reps):
            order = names if rep % 2 == 0 else names[::-1]
            for name in order:
                t0 = time.perf_counter()
                n = CLIENTS[name](peer, sql)
                elapsed = time.perf_counter() - t0
                if n != args.rows:
                    raise RuntimeError(f"{name} fetched {n} rows, expected {args.rows}")
                samples[name].append(elapsed)
                print(f"rep {rep}: {name}: {elapsed:.2f} s", file=sys.stderr, flush=True)
    finally:
        peer.stop()
    base = statistics.median(samples[names[0]])
    print(f"\n{args.rows:,} rows x 3 columns (bigint, string, double), one gateway (local[2]), "
          f"median of {args.reps}, execute + full fetch:\n")
    print("| Client | Time (s) | Rows/s | vs PyHive |")
    print("|---|---:|---:|---:|")
    for name, values in samples.items():
        med = statistics.median(values)
        print(f"| {name} | {med:.2f} | {args.rows / med:,.0f} | {base / med:.1f}x faster |"
              if name != names[0] else f"| {name} | {med:.2f} | {args.rows / med:,.0f} | 1.0x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
