"""The base distribution (no extras) in a clean venv: the client imports and works without pyspark.

A BI host installs ``mlsql-gateway`` without ``[server]``; this builds the project from a copy of the repo into a
fresh venv (no system site-packages), installs only the base dependencies and runs a client script in that venv
against the live gateway.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import venv
from pathlib import Path

import pytest

try:
    import tomllib
except ImportError:  # Python 3.10
    from pip._vendor import tomli as tomllib

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parent.parent
# What setuptools needs to build the distribution (packages.find includes these).
SOURCES = ("pyproject.toml", "README.md", "gateway", "dialect", "sqlalchemy_mlsql", "thrift_idl")
NETWORK_MARKERS = ("Could not find a version that satisfies", "No matching distribution found",
                   "NewConnectionError", "Temporary failure in name resolution", "Network is unreachable",
                   "ConnectTimeoutError", "ReadTimeoutError", "Max retries exceeded")

CLIENT_SCRIPT = textwrap.dedent("""
    import sys

    import sqlalchemy as sa
    import sqlalchemy_mlsql

    host, port = sys.argv[1], int(sys.argv[2])
    with sqlalchemy_mlsql.connect(host, port, username="installer", password="x") as conn:
        with conn.cursor() as cur:
            cur.execute("select 1")
            assert cur.fetchall() == [(1,)]
    engine = sa.create_engine(f"mlsql://installer@{host}:{port}/default")  # via the entry point
    with engine.connect() as c:
        assert c.execute(sa.select(sa.literal(2))).scalar() == 2
    engine.dispose()
    assert "pyspark" not in sys.modules, "the client imported pyspark"
    assert "pyarrow" not in sys.modules and "pandas" not in sys.modules
    print("client-ok", sqlalchemy_mlsql.__file__)
""")


def base_requirements() -> list[str]:
    with open(ROOT / "pyproject.toml", "rb") as fh:
        return list(tomllib.load(fh)["project"]["dependencies"])


def pip(python: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    return subprocess.run([str(python), "-m", "pip", *args], capture_output=True, text=True, timeout=timeout,
                          env=env)


def pip_or_skip(python: Path, *args: str) -> None:
    proc = pip(python, *args)
    if proc.returncode != 0:
        output = proc.stdout + proc.stderr
        if any(marker in output for marker in NETWORK_MARKERS):
            pytest.skip(f"pip cannot reach the package index: {output.strip().splitlines()[-1]}")
        pytest.fail(f"pip {' '.join(args)} failed:\n{output}")


def test_base_install_without_pyspark(gateway, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=ignore)
        else:
            shutil.copy2(path, src / name)

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=False, clear=True).create(env_dir)
    python = env_dir / "bin" / "python"
    cfg = (env_dir / "pyvenv.cfg").read_text()
    assert "include-system-site-packages = false" in cfg

    pip_or_skip(python, "install", "-q", "--no-deps", str(src))
    pip_or_skip(python, "install", "-q", *base_requirements())

    listing = pip(python, "list", "--format=freeze")
    installed = {line.split("==")[0].lower() for line in listing.stdout.splitlines()}
    assert "mlsql-gateway" in installed
    assert {"thrift", "pure-sasl", "sqlalchemy", "sqlglot"} <= installed
    assert not installed & {"pyspark", "py4j", "pyarrow", "pandas", "numpy"}, installed
    check = pip(python, "check")
    assert check.returncode == 0, check.stdout + check.stderr

    script = tmp_path / "client_check.py"
    script.write_text(CLIENT_SCRIPT)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    proc = subprocess.run([str(python), "-I", str(script), gateway.host, str(gateway.port)], capture_output=True,
                          text=True, timeout=180, cwd=str(tmp_path), env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "client-ok" in proc.stdout and str(env_dir) in proc.stdout
    assert sys.executable != str(python)
