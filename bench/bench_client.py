"""Client fetch benchmark: PyHive vs impyla vs sqlalchemy_mlsql (fetchall and fetch_arrow) on one server.

Starts ONE server (our gateway with ``bench.peers.start_gateway``, or Spark's own Thrift server from the pyspark
wheel with ``--server sts``) and fetches the same N-row x 3-column result (bigint, string, double) through each
client, interleaving the clients per repetition. Prints a Markdown table with the median wall time (execute +
full fetch), rows/s and the ratio to PyHive.

    .venv/bin/python bench/bench_client.py                 # gateway, 1M rows, 3 repetitions
    .venv/bin/python bench/bench_client.py --server sts    # Spark's Thrift server (STS)
    .venv/bin/python bench/bench_client.py --rows 200000 --reps 1 --clients arrow,pyhive
    .venv/bin/python bench/bench_client.py --port 10000    # a server already listening on 127.0.0.1:10000
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

from bench.peers import Peer, free_port, start_gateway, start_sts  # noqa: E402

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


def run_floor(peer: Peer, sql: str) -> int:
    """The server's share: execute, then FetchResults replies read off the socket and thrown away undecoded (the
    reply of one FetchResults is one SASL frame on STS and on the gateway). No client can be faster than this
    against the same server. Returns -1: rows are not counted."""
    import sqlalchemy_mlsql
    from thrift_idl.gen.TCLIService import ttypes

    with sqlalchemy_mlsql.connect(peer.host, peer.port, username=USER) as conn, conn.cursor() as cur:
        cur.execute(sql)
        assert cur.description is not None
        while True:
            req = ttypes.TFetchResultsReq(operationHandle=cur._op, orientation=ttypes.TFetchOrientation.FETCH_NEXT,
                                          maxRows=100_000, fetchType=0)
            conn._client.send_FetchResults(req)
            if len(conn._transport._next_chunk()) < 1024:  # a reply without rows: the end
                return -1


CLIENTS: dict[str, tuple[str, Callable[[Peer, str], int]]] = {
    "pyhive": ("PyHive 0.7 `fetchall`", run_pyhive),
    "impyla": ("impyla 0.24 `fetchall`", run_impyla),
    "fetchall": ("sqlalchemy_mlsql `fetchall`", run_ours),
    "arrow": ("sqlalchemy_mlsql `fetch_arrow`", run_ours_arrow),
    "floor": ("server only (replies read, not decoded)", run_floor),
}


class _Running:
    """A server that this benchmark did not start (``--port``)."""

    def __init__(self, port: int) -> None:
        self.host, self.port = "127.0.0.1", port

    def stop(self) -> None:
        pass


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--server", choices=("gateway", "sts"), default="gateway",
                    help="gateway: our mlsql-gateway; sts: Spark's own Thrift server (pyspark wheel)")
    ap.add_argument("--port", type=int, default=None, help="use a server already listening on 127.0.0.1:PORT")
    ap.add_argument("--clients", default="pyhive,impyla,fetchall,arrow,floor",
                    help=f"comma-separated subset of {','.join(CLIENTS)} (the first one is the baseline)")
    ap.add_argument("--scratch", type=Path, default=None)
    args = ap.parse_args(argv)
    keys = [k.strip() for k in args.clients.split(",") if k.strip()]
    unknown = [k for k in keys if k not in CLIENTS]
    if unknown or not keys:
        ap.error(f"unknown clients {unknown}; choose from {list(CLIENTS)}")
    clients = {CLIENTS[k][0]: CLIENTS[k][1] for k in keys}
    sql = query(args.rows)
    if args.port is not None:
        peer: Peer | _Running = _Running(args.port)
    else:
        scratch = args.scratch or Path(tempfile.mkdtemp(prefix="bench-client-"))
        print(f"starting {args.server} in {scratch} ...", file=sys.stderr, flush=True)
        start = start_sts if args.server == "sts" else start_gateway
        peer = start(free_port(), scratch)
    names = list(clients)
    samples: dict[str, list[float]] = {name: [] for name in names}
    try:
        for fn in clients.values():  # warm-up: sessions, JIT, first Spark job
            fn(peer, query(20_000))
        for rep in range(args.reps):
            order = names if rep % 2 == 0 else names[::-1]
            for name in order:
                t0 = time.perf_counter()
                n = clients[name](peer, sql)
                elapsed = time.perf_counter() - t0
                if n not in (args.rows, -1):
                    raise RuntimeError(f"{name} fetched {n} rows, expected {args.rows}")
                samples[name].append(elapsed)
                print(f"rep {rep}: {name}: {elapsed:.2f} s", file=sys.stderr, flush=True)
    finally:
        peer.stop()
    base = statistics.median(samples[names[0]])
    server = "Spark's Thrift server (STS)" if args.server == "sts" else "one gateway"
    print(f"\n{args.rows:,} rows x 3 columns (bigint, string, double), {server} (local[2]), "
          f"median of {args.reps}, execute + full fetch:\n")
    print(f"| Client | Time (s) | Rows/s | vs {names[0].split(' `')[0]} |")
    print("|---|---:|---:|---:|")
    for name, values in samples.items():
        med = statistics.median(values)
        print(f"| {name} | {med:.2f} | {args.rows / med:,.0f} | {base / med:.1f}x faster |"
              if name != names[0] else f"| {name} | {med:.2f} | {args.rows / med:,.0f} | 1.0x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
