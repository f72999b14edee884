"""Run SQLAlchemy's dialect compliance suite against the mlsql dialect and print the outcome counts.

    .venv/bin/python tests/sa_suite/run_suite.py                 # starts its own gateway (about 30 s)
    .venv/bin/python tests/sa_suite/run_suite.py --port 10000    # uses a gateway already listening there
    .venv/bin/python tests/sa_suite/run_suite.py -- -k Limit      # extra pytest arguments after --

The suite runs in a separate pytest process with its own configuration (setup.cfg here): SQLAlchemy's pytest
plugin rewrites collection (it keeps only test classes), so it cannot share a process with the main test run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SCHEMAS = ("test_schema", "test_schema_2")


def prepare_schemas(host: str, port: int) -> None:
    """The suite expects the schemas test_schema and test_schema_2 to exist."""
    sys.path.insert(0, str(ROOT))
    import sqlalchemy_mlsql

    with sqlalchemy_mlsql.connect(host, port, username="suite") as conn, conn.cursor() as cur:
        for name in SCHEMAS:
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS `{name}`")


# Suite cases that fail today, by "Class::test[params]" (the dialect suffix such as "_mlsql+mlsql_4_3_0" removed).
# Empty: every case passes or is skipped with a stated reason (requirements.py, sa_plugin.UNSUPPORTED).
KNOWN_FAILURES: frozenset[str] = frozenset()


def outcomes(path: Path) -> dict[str, str]:
    """Outcome ("passed", "failed", "error", "skipped") per test id ("Class::test[params]") of a junit file."""
    out: dict[str, str] = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        kinds = {child.tag for child in case}
        cls = case.get("classname", "").rpartition(".")[2].split("_mlsql+")[0]
        key = f"{cls}::{case.get('name', '')}"
        if "failure" in kinds:
            out[key] = "failed"
        elif "error" in kinds:
            out[key] = "error" if out.get(key) != "failed" else "failed"
        elif "skipped" in kinds:
            out[key] = "skipped"
        else:
            out.setdefault(key, "passed")
    return out


def count_junit(path: Path) -> dict[str, int]:
    counts = {"passed": 0, "failed": 0, "error": 0, "skipped": 0}
    for case in ET.parse(path).getroot().iter("testcase"):
        kinds = {child.tag for child in case}
        if "failure" in kinds:
            counts["failed"] += 1
        elif "error" in kinds:
            counts["error"] += 1
        elif "skipped" in kinds:
            counts["skipped"] += 1
        else:
            counts["passed"] += 1
    return counts


def unexpected_failures(path: Path) -> list[str]:
    """Failed or errored test ids that are not in KNOWN_FAILURES."""
    return sorted(k for k, v in outcomes(path).items() if v in ("failed", "error") and k not in KNOWN_FAILURES)


def run(host: str, port: int, extra: list[str], junit: Path, timeout: float = 900) -> tuple[int, dict[str, int]]:
    """Run the suite against host:port; return (pytest exit code, counts)."""
    prepare_schemas(host, port)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    cmd = [sys.executable, "-m", "pytest", "-c", str(HERE / "setup.cfg"), "--rootdir", str(HERE),
           "-p", "no:cacheprovider", "--dburi", f"mlsql://suite@{host}:{port}/default",
           f"--junitxml={junit}", "-q", "-rfE", str(HERE / "suite_sa.py"), *extra]
    proc = subprocess.run(cmd, cwd=str(HERE), env=env, timeout=timeout)
    counts = count_junit(junit) if junit.exists() else {}
    return proc.returncode, counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, help="use a running gateway instead of starting one")
    parser.add_argument("--junit", type=Path, help="keep the junit XML report at this path")
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="sa_suite_") as tmp:
        junit = args.junit or Path(tmp) / "junit.xml"
        peer = None
        port = args.port
        if port is None:
            sys.path.insert(0, str(ROOT))
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
            from bench.peers import free_port, start_gateway

            port = free_port()
            scratch = Path(tmp) / "gateway"
            peer = start_gateway(port, scratch, extra_args=[
                "--data-root", str(scratch / "data"), "--script-root", str(scratch / "scripts")])
        try:
            code, counts = run(args.host, port, args.pytest_args, junit)
        finally:
            if peer is not None:
                peer.stop()
        unexpected = unexpected_failures(junit) if junit.exists() else []
    counts["seconds"] = round(time.monotonic() - started, 1)
    print("SA suite counts:", json.dumps(counts))
    if unexpected:
        print("failures not in KNOWN_FAILURES:", *unexpected, sep="\n  ")
    return code


if __name__ == "__main__":
    sys.exit(main())
