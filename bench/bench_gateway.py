"""Benchmark mlsql-gateway against Spark's own Thrift server (STS), side by side on 127.0.0.1.

Run: ``.venv/bin/python bench/bench_gateway.py [--rows 1000000] [--rss-rows 10000000] [--skip-sts]``.
Both servers run with ``local[2]``; workloads alternate between the peers on every repetition so that
drift and noise hit both equally. The result is printed as a Markdown table (see bench/README.md).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import logging
import os
import platform
import signal
import statistics
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.peers import (  # noqa: E402
    Peer,
    RssSampler,
    free_port,
    start_gateway,
    start_sts,
    stop_all,
)

STS = "sts"
GATEWAY = "gateway"
USER = "bench"
MB = 1024 * 1024
SELECT1 = "SELECT 1"


def wide_query(rows: int) -> str:
    """The 3-column fetch workload query."""
    return f"select id, cast(id as string) s, cast(id as double) * 1.5 d from range({rows})"


def log(msg: str) -> None:
    """Progress line on stderr (stdout is reserved for the result table)."""
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------------
# Clients
# --------------------------------------------------------------------------------------------------


def pyhive_connect(peer: Peer) -> Any:
    """Open a PyHive connection (SASL PLAIN via pure-sasl, protocol V6)."""
    from pyhive import hive

    return hive.connect(host=peer.host, port=peer.port, username=USER)


def impyla_connect(peer: Peer, timeout: float = 900.0) -> Any:
    """Open an impyla connection (SASL PLAIN)."""
    from impala.dbapi import connect

    return connect(
        host=peer.host, port=peer.port, auth_mechanism="PLAIN", user=USER, password="x", timeout=timeout
    )


CLIENTS: dict[str, Callable[[Peer], Any]] = {"pyhive": pyhive_connect, "impyla": impyla_connect}


def close_quietly(*objs: Any) -> None:
    """Close cursors/connections, ignoring errors."""
    for obj in objs:
        if obj is not None:
            with contextlib.suppress(Exception):
                obj.close()


# --------------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------------


@dataclass
class Target:
    """A goal: ``ratio`` compares gateway/STS, ``absolute`` compares the gateway value itself."""

    op: str  # "<=" or ">="
    value: float
    kind: str = "ratio"

    def describe(self) -> str:
        return f"{self.op} {self.value:g}x" if self.kind == "ratio" else f"{self.op} {self.value:g}"

    def met(self, value: float) -> bool:
        return value <= self.value if self.op == "<=" else value >= self.value


@dataclass
class Metric:
    """One row of the result table: raw samples per peer, summarised by the median."""

    label: str
    unit: str
    samples: dict[str, list[float]] = field(default_factory=dict)
    target: Target | None = None
    errors: dict[str, str] = field(default_factory=dict)

    def add(self, peer: str, value: float) -> None:
        self.samples.setdefault(peer, []).append(value)

    def median(self, peer: str) -> float | None:
        values = self.samples.get(peer)
        return statistics.median(values) if values else None

    def ratio(self) -> float | None:
        if self.errors:  # a failed run's partial value is not comparable
            return None
        gw, sts = self.median(GATEWAY), self.median(STS)
        if gw is None or sts is None or sts == 0:
            return None
        return gw / sts


def interleave(names: Sequence[str], reps: int) -> Iterator[tuple[int, str]]:
    """Yield (rep, peer) alternating the peer order every repetition (A B, B A, A B, ...)."""
    for rep in range(reps):
        order = list(names) if rep % 2 == 0 else list(reversed(names))
        for name in order:
            yield rep, name


# --------------------------------------------------------------------------------------------------
# Workloads
# --------------------------------------------------------------------------------------------------


def warm_up(peer: Peer) -> None:
    """A few queries through both clients so that sessions, metastore client and JIT are warm."""
    t0 = time.perf_counter()
    conn = pyhive_connect(peer)
    cur = conn.cursor()
    try:
        for _ in range(5):
            cur.execute(SELECT1)
            cur.fetchall()
        for _ in range(3):
            cur.execute("select count(*) from range(1000)")
            cur.fetchall()
        cur.execute(wide_query(20000))
        assert len(cur.fetchall()) == 20000
    finally:
        close_quietly(cur, conn)
    conn = impyla_connect(peer)
    cur = conn.cursor()
    try:
        for _ in range(3):
            cur.execute(SELECT1)
            cur.fetchall()
        cur.execute(wide_query(20000))
        assert len(cur.fetchall()) == 20000
    finally:
        close_quietly(cur, conn)
    log(f"warm-up {peer.name}: {time.perf_counter() - t0:.1f} s")


def bench_select1(peers: dict[str, Peer], reps: int) -> Metric:
    """SELECT 1 round trip (execute + fetchall) on an already open PyHive connection."""
    m = Metric(f"`SELECT 1` on an open connection (PyHive, median of {reps})", "ms", target=Target("<=", 0.5))
    conns = {name: pyhive_connect(p) for name, p in peers.items()}
    curs = {name: c.cursor() for name, c in conns.items()}
    try:
        for _, name in interleave(list(peers), reps):
            cur = curs[name]
            t0 = time.perf_counter()
            cur.execute(SELECT1)
            rows = cur.fetchall()
            m.add(name, (time.perf_counter() - t0) * 1000)
            assert rows and rows[0][0] == 1, rows
    finally:
        close_quietly(*curs.values(), *conns.values())
    return m


def bench_connect(peers: dict[str, Peer], reps: int) -> Metric:
    """Connect (OpenSession + PyHive's USE default) + SELECT 1 + close, timed end to end."""
    m = Metric(f"connect + `SELECT 1` + close (PyHive, median of {reps})", "ms")
    for _, name in interleave(list(peers), reps):
        t0 = time.perf_counter()
        conn = pyhive_connect(peers[name])
        cur = conn.cursor()
        cur.execute(SELECT1)
        cur.fetchall()
        cur.close()
        conn.close()
        m.add(name, (time.perf_counter() - t0) * 1000)
    return m


def bench_fetch(peers: dict[str, Peer], rows: int, reps: int, client: str) -> tuple[Metric, Metric]:
    """Fetch ``rows`` x 3 columns with fetchall; returns (time to first row, total time).

    Time to first row = from the execute() call until fetchone() has returned the first row
    (includes ExecuteStatement, any status polling and the first FetchResults).
    Total = from execute() until fetchall() has returned the last row. The connection is opened
    before the clock starts.
    """
    ttfr_target = Target("<=", 0.5)
    total_target = Target("<=", 0.8) if client == "impyla" else None
    label = f"{rows:,} rows x 3 cols"
    ttfr = Metric(f"{label}: time to first row ({client}, median of {reps})", "ms", target=ttfr_target)
    total = Metric(f"{label}: total fetchall ({client}, median of {reps})", "s", target=total_target)
    sql = wide_query(rows)
    for rep, name in interleave(list(peers), reps):
        conn = CLIENTS[client](peers[name])
        cur = conn.cursor()
        try:
            t0 = time.perf_counter()
            cur.execute(sql)
            first = cur.fetchone()
            t1 = time.perf_counter()
            rest = cur.fetchall()
            t2 = time.perf_counter()
            got = (1 if first is not None else 0) + len(rest)
            if got != rows:
                raise AssertionError(f"{name}/{client}: expected {rows} rows, got {got}")
            del rest
        finally:
            close_quietly(cur, conn)
        ttfr.add(name, (t1 - t0) * 1000)
        total.add(name, t2 - t0)
        log(f"  fetch {client} rep {rep} {name}: first row {(t1 - t0) * 1000:.0f} ms, total {t2 - t0:.2f} s")
    return ttfr, total


def _concurrent_round(peer: Peer, clients: int, queries: int, sql: str, time_limit: float) -> float:
    """One round: ``clients`` threads with their own connection run ``queries`` each; returns q/s."""
    conns = [pyhive_connect(peer) for _ in range(clients)]
    barrier = threading.Barrier(clients + 1, timeout=120)
    deadline = time.monotonic() + time_limit

    def worker(conn: Any) -> int:
        cur = conn.cursor()
        done = 0
        try:
            barrier.wait()
            for _ in range(queries):
                if time.monotonic() > deadline:
                    raise TimeoutError("concurrency round exceeded its time limit")
                cur.execute(sql)
                cur.fetchall()
                done += 1
        finally:
            close_quietly(cur)
        return done

    try:
        with ThreadPoolExecutor(max_workers=clients) as pool:
            futures = [pool.submit(worker, c) for c in conns]
            barrier.wait()
            t0 = time.perf_counter()
            done = sum(f.result() for f in futures)
            elapsed = time.perf_counter() - t0
    finally:
        close_quietly(*conns)
    return done / elapsed


def bench_concurrency(
    peers: dict[str, Peer], clients: int, queries: int, reps: int, sql: str, time_limit: float
) -> Metric:
    """Throughput of ``clients`` concurrent PyHive connections x ``queries`` small queries each."""
    m = Metric(
        f"{clients} concurrent clients x {queries} x `{sql}` (PyHive, median of {reps})",
        "q/s",
        target=Target(">=", 1.5),
    )
    for rep, name in interleave(list(peers), reps):
        qps = _concurrent_round(peers[name], clients, queries, sql, time_limit)
        m.add(name, qps)
        log(f"  concurrency rep {rep} {name}: {qps:.1f} q/s")
    return m


def _log_size(peer: Peer) -> int:
    """Current size of the peer's log file (0 if missing)."""
    try:
        return peer.log_path.stat().st_size
    except OSError:
        return 0


def _log_mentions(peer: Peer, offset: int, needle: str) -> bool:
    """True if the peer's log contains ``needle`` after byte ``offset``."""
    try:
        with open(peer.log_path, "rb") as f:
            f.seek(offset)
            return needle.encode() in f.read()
    except OSError:
        return False


def bench_rss(peers: dict[str, Peer], rows: int, batch: int, time_limit: float) -> list[Metric]:
    """RSS growth of each server's process tree while impyla streams ``rows`` rows (fetchmany, discarded)."""
    growth = Metric(
        f"server RSS growth, {rows:,} rows streamed (impyla fetchmany({batch}))",
        "MB",
        target=Target("<=", 500, kind="absolute"),
    )
    base = Metric("server RSS before that fetch (whole process tree)", "MB")
    peak = Metric("server RSS peak during that fetch", "MB")
    secs = Metric(f"{rows:,}-row streamed fetch time (impyla)", "s")
    sql = wide_query(rows)
    for name, peer in peers.items():
        conn = impyla_connect(peer)
        cur = conn.cursor()
        time.sleep(1.0)
        log_offset = _log_size(peer)
        sampler = RssSampler(peer, interval=0.1, max_seconds=time_limit + 60).start()
        t0 = time.perf_counter()
        got = 0
        try:
            cur.execute(sql)
            deadline = time.monotonic() + time_limit
            while time.monotonic() < deadline:
                chunk = cur.fetchmany(batch)
                if not chunk:
                    break
                got += len(chunk)
            if got != rows:
                raise AssertionError(f"expected {rows} rows, got {got}")
            secs.add(name, time.perf_counter() - t0)
        except Exception as exc:  # a server may die (e.g. driver OOM); report instead of aborting
            msg = f"{type(exc).__name__}: {str(exc)[:200]}"
            log(f"  rss {name}: FAILED after {got} rows: {msg}")
            reason = "failed" if peer.alive() else "server died"
            if _log_mentions(peer, log_offset, "OutOfMemoryError"):
                reason = "server OOM"
            for metric in (growth, secs):
                metric.errors[name] = reason
        finally:
            sampler.stop()
            close_quietly(cur, conn)
        growth.add(name, sampler.growth / MB)
        base.add(name, sampler.baseline / MB)
        peak.add(name, sampler.peak / MB)
        log(
            f"  rss {name}: baseline {sampler.baseline / MB:.0f} MB, peak {sampler.peak / MB:.0f} MB, "
            f"growth {sampler.growth / MB:.0f} MB, {got} rows, {sampler.samples} samples"
        )
    return [growth, base, peak, secs]


# --------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "ms":
        return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "q/s":
        return f"{value:.1f} q/s"
    if unit == "MB":
        return f"{value:.0f} MB"
    return f"{value:g} {unit}"


def render_table(metrics: list[Metric]) -> str:
    """Markdown table: per-peer medians, gateway/STS ratio, target and whether it is met."""
    lines = [
        "| Workload | STS | Gateway | Gateway / STS | Target | Met |",
        "|---|---:|---:|---:|---|:---:|",
    ]
    for m in metrics:
        cells = []
        for peer in (STS, GATEWAY):
            text = _fmt(m.median(peer), m.unit)
            if peer in m.errors:
                text = f"{text} ({m.errors[peer]})"
            cells.append(text)
        ratio = m.ratio()
        ratio_text = f"{ratio:.2f}x" if ratio is not None else "n/a"
        target_text, met_text = "", ""
        if m.target is not None:
            target_text = m.target.describe() + (" MB" if m.target.kind == "absolute" else "")
            value = ratio if m.target.kind == "ratio" else m.median(GATEWAY)
            if GATEWAY in m.errors or value is None:
                met_text = "n/a"
            else:
                met_text = "yes" if m.target.met(value) else "**no**"
        lines.append(f"| {m.label} | {cells[0]} | {cells[1]} | {ratio_text} | {target_text} | {met_text} |")
    return "\n".join(lines)


def environment_line(peers: dict[str, Peer]) -> str:
    """One-line description of the machine and setup, printed above the table."""
    cpus = os.cpu_count()
    try:
        import psutil

        mem = f"{psutil.virtual_memory().total / 1024**3:.0f} GB RAM"
    except Exception:
        mem = "? RAM"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    started = ", ".join(f"{n} ready in {p.startup_seconds:.0f} s" for n, p in peers.items())
    return (
        f"{platform.system()} {platform.machine()}, {cpus} CPUs, {mem}, Python {platform.python_version()}; "
        f"load average {load} at the end; both servers local[2] on 127.0.0.1; {started}."
    )


# --------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------


def start_peers(args: argparse.Namespace, scratch: Path) -> dict[str, Peer]:
    """Start the requested servers in parallel; stop everything if one fails."""
    jobs: dict[str, Callable[[], Peer]] = {}
    if not args.skip_sts:
        sts_port = args.sts_port or free_port()
        jobs[STS] = lambda: start_sts(sts_port, scratch / "sts", master=args.master)
    if not args.skip_gateway:
        gw_port = args.gateway_port or free_port()
        jobs[GATEWAY] = lambda: start_gateway(
            gw_port, scratch / "gateway", extra_args=args.gateway_arg, master=args.master
        )
    if not jobs:
        raise SystemExit("nothing to benchmark: both --skip-sts and --skip-gateway given")
    log(f"starting {', '.join(jobs)} (scratch {scratch})")
    pool = ThreadPoolExecutor(max_workers=len(jobs))
    futures = {name: pool.submit(fn) for name, fn in jobs.items()}
    peers: dict[str, Peer] = {}
    try:
        names = {fut: name for name, fut in futures.items()}
        for fut in as_completed(names):
            name = names[fut]
            peers[name] = fut.result()
            log(
                f"{name} listening on 127.0.0.1:{peers[name].port} (pid {peers[name].pid}), "
                f"{peers[name].startup_seconds:.1f} s; log {peers[name].log_path}"
            )
    except BaseException:
        stop_all()
        raise
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    # Stable order: STS first in the interleaving.
    return {name: peers[name] for name in (STS, GATEWAY) if name in peers}


def run(args: argparse.Namespace) -> int:
    """Start the peers, run all workloads, print the table; always stop the servers."""
    scratch = Path(args.scratch or tempfile.mkdtemp(prefix="mlsql-bench-")).resolve()
    scratch.mkdir(parents=True, exist_ok=True)
    metrics: list[Metric] = []
    peers: dict[str, Peer] = {}
    try:
        peers = start_peers(args, scratch)
        for peer in peers.values():
            try:
                warm_up(peer)
            except Exception as exc:
                raise RuntimeError(f"{peer.name} warm-up failed: {type(exc).__name__}: {exc}") from exc
        steps: list[tuple[str, Callable[[], list[Metric]]]] = [
            ("select1", lambda: [bench_select1(peers, args.select1_reps)]),
            ("connect", lambda: [bench_connect(peers, args.connect_reps)]),
            ("fetch-pyhive", lambda: list(bench_fetch(peers, args.rows, args.fetch_reps, "pyhive"))),
            ("fetch-impyla", lambda: list(bench_fetch(peers, args.rows, args.fetch_reps, "impyla"))),
            (
                "concurrency",
                lambda: [
                    bench_concurrency(
                        peers, args.clients, args.queries, args.conc_reps, args.conc_sql, args.step_timeout
                    )
                ],
            ),
            ("rss", lambda: bench_rss(peers, args.rss_rows, args.rss_batch, args.step_timeout)),
        ]
        for name, step in steps:
            if name in args.skip:
                continue
            dead = [p.name for p in peers.values() if not p.alive()]
            if dead:
                log(f"skipping workload {name}: {', '.join(dead)} not running")
                continue
            log(f"workload {name}")
            t0 = time.perf_counter()
            try:
                metrics.extend(step())
            except Exception:  # keep going: a partial table beats none
                log(f"workload {name} FAILED:\n{traceback.format_exc()}")
                continue
            log(f"workload {name} done in {time.perf_counter() - t0:.1f} s")
        for peer in peers.values():
            if not peer.alive():
                log(f"WARNING: {peer.name} exited during the benchmark; see {peer.log_path}")
    finally:
        rss_at_end = {n: p.tree_rss() / MB for n, p in peers.items()}
        gc.collect()  # let abandoned client objects close their sessions while the servers are up
        stop_all()
        logging.getLogger("thrift").setLevel(logging.CRITICAL)  # no reconnect noise from late __del__s
    print()
    print(environment_line(peers))
    print()
    print(render_table(metrics))
    print()
    print("Ratios are gateway / STS medians: lower is better for times, higher for throughput.")
    if args.json:
        payload = {
            "args": vars(args),
            "peers": {
                n: {"port": p.port, "startup_s": p.startup_seconds, "rss_end_mb": rss_at_end.get(n)}
                for n, p in peers.items()
            },
            "metrics": [asdict(m) for m in metrics],
        }
        Path(args.json).write_text(json.dumps(payload, indent=2, default=str))
        log(f"wrote {args.json}")
    return 0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000, help="rows in the fetch workload")
    p.add_argument("--rss-rows", type=int, default=10_000_000, help="rows streamed in the RSS workload")
    p.add_argument("--rss-batch", type=int, default=10240, help="fetchmany size in the RSS workload")
    p.add_argument("--skip-sts", action="store_true", help="benchmark the gateway alone")
    p.add_argument("--skip-gateway", action="store_true", help="benchmark STS alone")
    p.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=["select1", "connect", "fetch-pyhive", "fetch-impyla", "concurrency", "rss"],
        help="skip a workload (repeatable)",
    )
    p.add_argument("--select1-reps", type=int, default=30)
    p.add_argument("--connect-reps", type=int, default=10)
    p.add_argument("--fetch-reps", type=int, default=3)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--queries", type=int, default=20, help="queries per concurrent client")
    p.add_argument("--conc-reps", type=int, default=3)
    p.add_argument("--conc-sql", default="select count(*) from range(1000)")
    p.add_argument("--master", default="local[2]")
    p.add_argument("--sts-port", type=int, default=0, help="default: a free port")
    p.add_argument("--gateway-port", type=int, default=0, help="default: a free port")
    p.add_argument(
        "--gateway-arg", action="append", default=[], help="extra mlsql-gateway argument (repeatable)"
    )
    p.add_argument(
        "--scratch", help="scratch dir (default: a new temp dir); reuse it to skip metastore creation"
    )
    p.add_argument("--step-timeout", type=float, default=900.0, help="time limit of one long fetch/round, s")
    p.add_argument("--max-seconds", type=float, default=3600.0, help="hard limit for the whole run, s")
    p.add_argument("--json", help="also write all raw samples to this JSON file")
    return p.parse_args(argv)


def _install_guards(max_seconds: float) -> None:
    """Turn SIGTERM/SIGHUP into SystemExit (so finally blocks run) and arm a whole-run watchdog."""

    def on_signal(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)

    def watchdog() -> None:
        log(f"watchdog: run exceeded {max_seconds:.0f} s; stopping servers")
        stop_all()
        os._exit(3)

    timer = threading.Timer(max_seconds, watchdog)
    timer.daemon = True
    timer.start()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    args = parse_args(argv)
    _install_guards(args.max_seconds)
    try:
        return run(args)
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    except RuntimeError as exc:  # a server failed to start; the message carries its log tail
        log(f"ERROR: {exc}")
        return 2
    finally:
        stop_all()


if __name__ == "__main__":
    sys.exit(main())
