"""Fuzz the REST API with schemathesis against its own OpenAPI schema: malformed input never gets a 5xx,
and every error is a JSON body."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_schemathesis_finds_no_server_errors(gateway, tmp_path):
    st = Path(sys.executable).with_name("st")
    cmd = [str(st), "run", f"{gateway.rest_url}/openapi.json",
           "--checks", "not_a_server_error,status_code_conformance,content_type_conformance",
           "--max-examples", "40", "--seed", "20261127", "--request-timeout", "120",
           "--phases", "examples,coverage,fuzzing", "--exclude-path", "/metrics"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1200, cwd=tmp_path)
    report = proc.stdout[-6000:] + proc.stderr[-2000:]
    assert proc.returncode == 0, report
    assert "/run/script" in proc.stdout and "/model/predict" in proc.stdout, report
