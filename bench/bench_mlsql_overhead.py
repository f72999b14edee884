"""Overhead of the MLSQL path versus raw Spark SQL for plain SELECTs through one gateway.

Two PyHive sessions on the same gateway: one with the default MLSQL runner, one opened with
``mlsql.dialect=sparksql`` (statements go straight to spark.sql). The same queries alternate between them;
the script prints per-query medians and the ratio (goal: the MLSQL path costs < 5 % more).

    .venv/bin/python bench/bench_mlsql_overhead.py [--reps 40]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pyhive import hive  # noqa: E402

from bench.peers import free_port, start_gateway  # noqa: E402

QUERIES = [
    "select 1",
    "select count(*) from range(1000)",
    "select id, cast(id as string) s, id * 1.5 d from range(20000)",
    "with t as (select id % 7 as k, id from range(10000)) select k, count(*) c from t group by k order by k",
]


def timed(cursor, sql: str) -> float:
    start = time.perf_counter()
    cursor.execute(sql)
    cursor.fetchall()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mlsql-overhead-") as scratch:
        port = free_port()
        peer = start_gateway(port, scratch)
        try:
            mlsql = hive.connect(host="127.0.0.1", port=port, username="bench").cursor()
            raw = hive.connect(host="127.0.0.1", port=port, username="bench",
                               configuration={"mlsql.dialect": "sparksql"}).cursor()
            print("| query | raw Spark SQL (ms) | MLSQL path (ms) | MLSQL / raw |")
            print("|---|---:|---:|---:|")
            ratios = []
            for sql in QUERIES:
                for cur in (mlsql, raw, mlsql, raw):  # warm-up
                    timed(cur, sql)
                a, b = [], []
                for rep in range(args.reps):
                    order = (mlsql, raw) if rep % 2 == 0 else (raw, mlsql)
                    for cur in order:
                        (a if cur is mlsql else b).append(timed(cur, sql))
                m, r = statistics.median(a), statistics.median(b)
                ratios.append(m / r)
                print(f"| `{sql[:60]}` | {r * 1000:.1f} | {m * 1000:.1f} | {m / r:.3f} |")
            print(f"\ngeometric-mean ratio: {statistics.geometric_mean(ratios):.3f} (goal < 1.05)")
        finally:
            peer.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
