"""Shared fixtures: a real gateway process (local Spark) and real clients against it."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

from bench.peers import free_port, spark_home, start_gateway  # noqa: E402


@dataclass
class GatewayInfo:
    host: str
    port: int
    peer: object
    scratch: Path
    rest_port: int = 0

    @property
    def rest_url(self) -> str:
        return f"http://{self.host}:{self.rest_port}"

    def log_text(self) -> str:
        return (self.scratch / "logs" / "gateway.log").read_text(errors="replace")


@pytest.fixture(scope="session")
def gateway(tmp_path_factory) -> GatewayInfo:
    """The gateway under test: auth NONE (SASL PLAIN and NOSASL on one port), local[2] Spark, the REST API on
    ``rest_port``, and ``admin`` as its administrator."""
    scratch = tmp_path_factory.mktemp("gateway")
    port, rest_port = free_port(), free_port()
    peer = start_gateway(port, scratch, rest_port=rest_port, extra_args=[
        "--idle-operation-timeout", "600", "--admin", "admin",
        "--data-root", str(scratch / "data"), "--script-root", str(scratch / "scripts")])
    try:
        yield GatewayInfo("127.0.0.1", port, peer, scratch, rest_port)
    finally:
        peer.stop()


@dataclass
class BeelineResult:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_beeline(url: str, *args: str, user: str = "tester", password: str = "x", timeout: float = 180,
                input_text: str | None = None) -> BeelineResult:
    """Run the beeline shipped in the pyspark wheel (Hive JDBC 2.3.10) against ``url``."""
    beeline = spark_home() / "bin" / "beeline"
    env = dict(os.environ, SPARK_HOME=str(spark_home()))
    cmd = [str(beeline), "-u", url, "-n", user, "-p", password, *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, input=input_text)
    return BeelineResult(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture(scope="session")
def beeline(gateway):
    """``beeline(*args, url_suffix="")`` against the session gateway."""

    def run(*args: str, url_suffix: str = "", **kwargs) -> BeelineResult:
        url = f"jdbc:hive2://{gateway.host}:{gateway.port}/default{url_suffix}"
        return run_beeline(url, *args, **kwargs)

    return run
