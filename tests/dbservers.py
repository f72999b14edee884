"""Private PostgreSQL and MariaDB servers on loopback for the JDBC tests (Debian packages, started here)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

PG_JAR = "/usr/share/java/postgresql.jar"
MARIADB_JAR = "/usr/share/java/mariadb-java-client.jar"


def _pg_bin() -> Path | None:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    return None


def missing() -> list[str]:
    """What is not installed (the Makefile's test-deps target installs it)."""
    out = []
    if _pg_bin() is None:
        out.append("postgresql")
    if shutil.which("mariadbd") is None or shutil.which("mariadb-install-db") is None:
        out.append("mariadb-server")
    for jar, pkg in ((PG_JAR, "libpostgresql-jdbc-java"), (MARIADB_JAR, "libmariadb-java")):
        if not os.path.exists(jar):
            out.append(pkg)
    return out


def _wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"port {port} did not open")


@dataclass
class Server:
    name: str
    port: int
    stop_cmd: list[str]

    def stop(self) -> None:
        subprocess.run(self.stop_cmd, capture_output=True, timeout=60)


def start_postgres(base: Path, port: int) -> Server:
    """initdb (as the postgres user: initdb refuses root) and start on 127.0.0.1:port; database ``postgres``."""
    bin_dir = _pg_bin()
    base.mkdir(parents=True, exist_ok=True)
    shutil.chown(base, "postgres")
    data = base / "data"
    as_pg = ["su", "postgres", "-c"]
    subprocess.run([*as_pg, f"{bin_dir}/initdb -D {data} -A trust -U postgres"], check=True, capture_output=True,
                   timeout=120)
    subprocess.run([*as_pg, f"{bin_dir}/pg_ctl -D {data} -o '-p {port} -k {base} -c listen_addresses=127.0.0.1' "
                            f"-l {base}/pg.log -w start"], check=True, capture_output=True, timeout=120)
    _wait_port(port)
    return Server("postgres", port, [*as_pg, f"{bin_dir}/pg_ctl -D {data} -m fast -w stop"])


def psql(port: int, sql: str) -> str:
    proc = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-v", "ON_ERROR_STOP=1",
                           "-qAtc", sql], capture_output=True, text=True, timeout=60, check=True)
    return proc.stdout


def start_mariadb(base: Path, port: int) -> Server:
    """A private mariadbd on 127.0.0.1:port with database ``db`` and user spark/spark."""
    base.mkdir(parents=True, exist_ok=True)
    data = base / "data"
    subprocess.run(["mariadb-install-db", "--user=root", f"--datadir={data}",
                    "--auth-root-authentication-method=normal"], check=True, capture_output=True, timeout=180)
    log = open(base / "err.log", "w")  # noqa: SIM115 - kept open for the server's lifetime
    subprocess.Popen(["mariadbd", "--no-defaults", "--user=root", f"--datadir={data}", "--bind-address=127.0.0.1",
                      f"--port={port}", f"--socket={base}/mdb.sock", f"--pid-file={base}/mdb.pid"],
                     stdout=log, stderr=log)
    _wait_port(port)
    mariadb(base, "create database db; create user 'spark'@'127.0.0.1' identified by 'spark'; "
                  "grant all on db.* to 'spark'@'127.0.0.1'")
    return Server("mariadb", port, ["sh", "-c", f"kill $(cat {base}/mdb.pid)"])


def mariadb(base: Path, sql: str) -> str:
    proc = subprocess.run(["mariadb", f"--socket={base}/mdb.sock", "-uroot", "-N", "-e", sql], capture_output=True,
                          text=True, timeout=60, check=True)
    return proc.stdout
