"""Process helpers for benchmarks and tests: start/stop Spark's Thrift server (STS) and our gateway.

Every server is bound to 127.0.0.1, started in its own session (process group) and tracked in a
module-level registry so that ``stop_all()`` (also registered with ``atexit``) can shut it down.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

LOCALHOST = "127.0.0.1"
STS_MAIN_CLASS = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"
STS_START_TIMEOUT = 180.0
GATEWAY_START_TIMEOUT = 180.0
STOP_GRACE_SECONDS = 15.0

_LIVE: list[Peer] = []
_LIVE_LOCK = threading.Lock()


# --------------------------------------------------------------------------------------------------
# Ports
# --------------------------------------------------------------------------------------------------


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOCALHOST, 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """True if a TCP connection to host:port succeeds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_port(
    host: str, port: int, timeout: float, proc: subprocess.Popen[bytes] | None = None, interval: float = 0.25
) -> float:
    """Wait until host:port accepts connections; return the seconds waited.

    Raises TimeoutError after ``timeout`` seconds, or RuntimeError as soon as ``proc`` exits.
    """
    start = time.monotonic()
    deadline = start + timeout
    while time.monotonic() < deadline:
        if port_open(host, port):
            return time.monotonic() - start
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(
                f"process {proc.pid} exited with code {proc.returncode} before port {port} opened"
            )
        time.sleep(interval)
    raise TimeoutError(f"{host}:{port} did not accept connections within {timeout:.0f} s")


# --------------------------------------------------------------------------------------------------
# Locating the venv and Spark
# --------------------------------------------------------------------------------------------------


def venv_bin_dir() -> Path:
    """Directory holding the venv's executables (python, mlsql-gateway).

    Prefers the directory of ``sys.executable`` (unresolved, so a venv symlink keeps pointing into the
    venv); falls back to ``<repo>/.venv/bin``.
    """
    here = Path(sys.executable).parent
    if (here / "mlsql-gateway").exists() or (here / "pyspark").exists():
        return here
    repo_venv = Path(__file__).resolve().parents[1] / ".venv" / "bin"
    if repo_venv.is_dir():
        return repo_venv
    return here


def venv_python() -> Path:
    """The venv's python interpreter."""
    bindir = venv_bin_dir()
    for name in ("python", "python3"):
        if (bindir / name).exists():
            return bindir / name
    return Path(sys.executable)


def spark_home() -> Path:
    """SPARK_HOME = the installed pyspark package directory (the wheel ships bin/ and jars/)."""
    env = os.environ.get("SPARK_HOME")
    if env and (Path(env) / "bin" / "spark-submit").exists():
        return Path(env)
    spec = importlib.util.find_spec("pyspark")
    if spec is not None and spec.origin:
        return Path(spec.origin).parent
    lib = venv_bin_dir().parent / "lib"
    for candidate in sorted(lib.glob("python3*/site-packages/pyspark")):
        return candidate
    raise RuntimeError("cannot locate the pyspark package (SPARK_HOME)")


# --------------------------------------------------------------------------------------------------
# Peer
# --------------------------------------------------------------------------------------------------


@dataclass(eq=False)
class Peer:
    """A started server process (STS or gateway) listening on ``host:port``."""

    name: str
    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path
    scratch_dir: Path
    host: str = LOCALHOST
    startup_seconds: float = 0.0
    _stopped: bool = field(default=False, repr=False)

    @property
    def pid(self) -> int:
        """PID of the launched process (for STS this is the JVM: spark-submit execs java)."""
        return self.proc.pid

    def alive(self) -> bool:
        """True while the launched process has not exited."""
        return self.proc.poll() is None

    def processes(self) -> list[psutil.Process]:
        """The launched process plus all its descendants (e.g. the gateway's JVM and Python workers)."""
        try:
            root = psutil.Process(self.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def tree_rss(self) -> int:
        """Resident set size in bytes summed over the whole process tree."""
        total = 0
        for p in self.processes():
            with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                total += p.memory_info().rss
        return total

    def log_tail(self, lines: int = 40) -> str:
        """Last ``lines`` lines of the server log."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """SIGTERM the process, SIGKILL it (and any leftover descendants) after ``grace`` seconds."""
        if self._stopped:
            return
        self._stopped = True
        descendants = self.processes()[1:]
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(timeout=5)
        # Children that outlived their parent (e.g. a JVM whose Python driver was killed).
        _, still_alive = psutil.wait_procs(descendants, timeout=3)
        for p in still_alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                p.kill()
        with _LIVE_LOCK:
            if self in _LIVE:
                _LIVE.remove(self)

    def __enter__(self) -> Peer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def stop_all() -> None:
    """Stop every peer started by this module that is still registered."""
    with _LIVE_LOCK:
        peers = list(_LIVE)
    for peer in peers:
        with contextlib.suppress(Exception):
            peer.stop()


atexit.register(stop_all)


def _launch(
    name: str,
    cmd: Sequence[str],
    env: dict[str, str],
    port: int,
    scratch_dir: Path,
    log_name: str,
    timeout: float,
) -> Peer:
    """Start ``cmd`` in its own session with output to a log file, then wait for ``port``."""
    logs = scratch_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / log_name
    with open(log_path, "ab") as log:
        log.write(f"\n==== {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(cmd)}\n".encode())
        log.flush()
        proc = subprocess.Popen(
            list(cmd),
            cwd=scratch_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    peer = Peer(name=name, proc=proc, port=port, log_path=log_path, scratch_dir=scratch_dir)
    with _LIVE_LOCK:
        _LIVE.append(peer)
    try:
        peer.startup_seconds = wait_port(LOCALHOST, port, timeout, proc=proc)
    except BaseException as exc:
        tail = peer.log_tail()
        peer.stop()
        if isinstance(exc, (TimeoutError, RuntimeError)):
            raise RuntimeError(f"{name} failed to start: {exc}\n--- {log_path} (tail) ---\n{tail}") from exc
        raise
    return peer


def _base_env(scratch_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["SPARK_LOCAL_IP"] = LOCALHOST
    env["SPARK_HOME"] = str(spark_home())
    env["PYSPARK_PYTHON"] = str(venv_python())
    env["PYSPARK_DRIVER_PYTHON"] = str(venv_python())
    env.setdefault("TMPDIR", str(scratch_dir / "spark-tmp"))
    return env


def start_sts(
    port: int,
    scratch_dir: str | os.PathLike[str],
    master: str = "local[2]",
    driver_memory: str = "2g",
    extra_conf: dict[str, str] | None = None,
    timeout: float = STS_START_TIMEOUT,
) -> Peer:
    """Start Spark's own HiveThriftServer2 from the pyspark wheel on 127.0.0.1:``port``.

    ``scratch_dir`` holds the warehouse, the Derby metastore, temp files and ``logs/sts.out``.
    Blocks until the port accepts connections (first start with an empty dir takes about a minute).
    """
    scratch = Path(scratch_dir).resolve()
    (scratch / "spark-tmp").mkdir(parents=True, exist_ok=True)
    home = spark_home()
    conf = {
        "spark.hadoop.hive.server2.thrift.port": str(port),
        "spark.hadoop.hive.server2.thrift.bind.host": LOCALHOST,
        "spark.hadoop.hive.server2.transport.mode": "binary",
        "spark.driver.host": LOCALHOST,
        "spark.driver.bindAddress": LOCALHOST,
        "spark.ui.enabled": "false",
        "spark.sql.warehouse.dir": str(scratch / "warehouse"),
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={scratch / 'metastore_db'};create=true"
        ),
        "spark.local.dir": str(scratch / "spark-tmp"),
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={scratch} -Djava.io.tmpdir={scratch / 'spark-tmp'}",
    }
    conf.update(extra_conf or {})
    cmd = [
        str(home / "bin" / "spark-submit"),
        "--class",
        STS_MAIN_CLASS,
        "--name",
        "sts",
        "--master",
        master,
        "--driver-memory",
        driver_memory,
    ]
    for key, value in conf.items():
        cmd += ["--conf", f"{key}={value}"]
    cmd.append("spark-internal")
    env = _base_env(scratch)
    return _launch("sts", cmd, env, port, scratch, "sts.out", timeout)


def gateway_executable() -> Path:
    """Path of the ``mlsql-gateway`` console script in the venv."""
    return venv_bin_dir() / "mlsql-gateway"


def start_gateway(
    port: int,
    scratch_dir: str | os.PathLike[str],
    extra_args: Iterable[str] = (),
    master: str = "local[2]",
    timeout: float = GATEWAY_START_TIMEOUT,
    rest_port: int = 0,
) -> Peer:
    """Start our gateway (``mlsql-gateway``) on 127.0.0.1:``port`` with cwd = ``scratch_dir``.

    The REST API listens on ``rest_port`` (0, the default here: no REST API, so gateways never collide on
    the default 9003) unless ``extra_args`` sets ``--rest-port`` itself.

    Output goes to ``scratch_dir/logs/gateway.log``. Blocks until the port accepts connections
    (the gateway only listens once its Spark session is ready).
    """
    scratch = Path(scratch_dir).resolve()
    (scratch / "spark-tmp").mkdir(parents=True, exist_ok=True)
    cmd = [
        str(gateway_executable()),
        "--host",
        LOCALHOST,
        "--port",
        str(port),
        "--master",
        master,
        *([] if "--rest-port" in extra_args else ["--rest-port", str(rest_port)]),
        *extra_args,
    ]
    env = _base_env(scratch)
    return _launch("gateway", cmd, env, port, scratch, "gateway.log", timeout)


# --------------------------------------------------------------------------------------------------
# RSS sampling
# --------------------------------------------------------------------------------------------------


class RssSampler:
    """Samples a peer's process-tree RSS in a background thread (default every 100 ms)."""

    def __init__(self, peer: Peer, interval: float = 0.1, max_seconds: float = 3600.0) -> None:
        self.peer = peer
        self.interval = interval
        self.max_seconds = max_seconds
        self.baseline = 0
        self.peak = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"rss-{peer.name}", daemon=True)

    def _run(self) -> None:
        deadline = time.monotonic() + self.max_seconds
        while not self._stop.is_set() and time.monotonic() < deadline:
            rss = self.peer.tree_rss()
            self.peak = max(self.peak, rss)
            self.samples += 1
            self._stop.wait(self.interval)

    def start(self) -> RssSampler:
        """Record the baseline RSS and start sampling."""
        self.baseline = self.peer.tree_rss()
        self.peak = self.baseline
        self._thread.start()
        return self

    def stop(self) -> int:
        """Stop sampling and return peak minus baseline in bytes."""
        self._stop.set()
        self._thread.join(timeout=5)
        self.peak = max(self.peak, self.peer.tree_rss())
        return self.growth

    @property
    def growth(self) -> int:
        """Peak minus baseline RSS in bytes."""
        return self.peak - self.baseline

    def __enter__(self) -> RssSampler:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
