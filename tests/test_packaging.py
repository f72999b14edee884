"""Packaging facts that need no server: the Dockerfile, the console script, the IDL and its generated code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from Python 3.11")

ROOT = Path(__file__).resolve().parent.parent


def _instructions(text: str) -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", text)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def test_dockerfile_is_well_formed_and_names_the_entry_point():
    steps = _instructions((ROOT / "Dockerfile").read_text())
    known = {"FROM", "RUN", "ENV", "WORKDIR", "COPY", "USER", "EXPOSE", "HEALTHCHECK", "ENTRYPOINT", "CMD", "ARG"}
    assert all(keyword in known for keyword, _ in steps), steps
    assert steps[0][0] == "FROM" and steps[0][1].startswith("python:3.1")
    body = dict(steps)
    assert "openjdk-17-jre-headless" in next(rest for k, rest in steps if k == "RUN")
    assert "10000" in body["EXPOSE"].split()
    assert body["ENTRYPOINT"] == '["mlsql-gateway"]'
    users = [rest for k, rest in steps if k == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert "gateway.healthcheck" in body["HEALTHCHECK"]
    assert any(k == "RUN" and "pip install" in rest and ".[server]" in rest for k, rest in steps)


def test_console_script_and_dialect_entry_point():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["mlsql-gateway"] == "gateway.cli:main"
    from gateway import cli

    assert callable(cli.main)
    assert not any("pyspark" in dep for dep in project["dependencies"])  # the client installs without Spark
    assert any(dep.startswith("pyspark") for dep in project["optional-dependencies"]["server"])


def test_generated_idl_matches_the_wire_values():
    from thrift_idl.gen.TCLIService import constants, ttypes

    assert ttypes.TProtocolVersion.HIVE_CLI_SERVICE_PROTOCOL_V1 == 0
    assert ttypes.TProtocolVersion.HIVE_CLI_SERVICE_PROTOCOL_V10 == 9
    assert ttypes.TProtocolVersion.HIVE_CLI_SERVICE_PROTOCOL_V11 == 10
    assert ttypes.TTypeId.TIMESTAMPLOCALTZ_TYPE == 22 and ttypes.TTypeId.INTERVAL_DAY_TIME_TYPE == 21
    assert ttypes.TOperationState.TIMEDOUT_STATE == 8 and ttypes.TOperationState.PENDING_STATE == 7
    assert ttypes.TGetInfoType.CLI_ODBC_KEYWORDS == 10006 and ttypes.TGetInfoType.CLI_OJ_CAPABILITIES == 115
    assert ttypes.TStatusCode.INVALID_HANDLE_STATUS == 4
    assert ttypes.TFetchOrientation.FETCH_FIRST == 4
    assert constants.TYPE_NAMES[ttypes.TTypeId.TIMESTAMPLOCALTZ_TYPE] == "TIMESTAMP WITH LOCAL TIME ZONE"
    spec = {f[2]: f[0] for f in ttypes.TGetOperationStatusResp.thrift_spec if f}
    assert spec["numModifiedRows"] == 11 and spec["progressUpdateResponse"] == 10
    assert {f[2]: f[0] for f in ttypes.TExecuteStatementReq.thrift_spec if f}["queryTimeout"] == 5


def test_healthcheck_module_imports_without_pyspark_side_effects():
    import gateway.healthcheck as hc

    assert callable(hc.check)
