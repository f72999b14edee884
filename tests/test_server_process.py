"""A second gateway process: CUSTOM auth, a tiny worker pool, idle expiry, and a clean SIGTERM shutdown."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from bench.peers import free_port, start_gateway
from gateway.auth import write_user
from tests.hs2raw import RawClient, T, sasl_plain_socket

pytestmark = pytest.mark.slow

SECRET = "Tr0ub4dor&3-not-logged"


@pytest.fixture(scope="module")
def custom_gateway(tmp_path_factory):
    scratch = tmp_path_factory.mktemp("custom")
    users = scratch / "users"
    write_user(users, "alice", SECRET)
    port, rest_port = free_port(), free_port()
    os.environ["MLSQL_GATEWAY_EXPIRY_CHECK_INTERVAL"] = "1"
    try:
        peer = start_gateway(port, scratch, rest_port=rest_port, extra_args=[
            "--auth", "CUSTOM", "--users-file", str(users), "--workers", "1", "--queue-size", "1",
            "--idle-session-timeout", "4"])
    finally:
        os.environ.pop("MLSQL_GATEWAY_EXPIRY_CHECK_INTERVAL", None)
    peer.rest_port = rest_port
    yield peer, port, scratch
    peer.stop()


def _log(scratch) -> str:
    return (scratch / "logs" / "gateway.log").read_text(errors="replace")


def test_rest_uses_the_same_authenticator(custom_gateway):
    """HTTP Basic against the users file: no or wrong credentials -> 401, acting as another user -> 403."""
    import httpx

    peer, _port, scratch = custom_gateway
    with httpx.Client(base_url=f"http://127.0.0.1:{peer.rest_port}", timeout=120) as api:
        assert api.get("/runningjobs").status_code == 401
        assert api.get("/runningjobs", auth=("alice", "wrong")).status_code == 401
        assert api.get("/runningjobs", auth=("alice", SECRET)).json() == []
        assert api.post("/run/script", data={"sql": "select 1", "owner": "bob"},
                        auth=("alice", SECRET)).status_code == 403
        resp = api.post("/run/script", data={"sql": "select 'ok' as s"}, auth=("alice", SECRET))
        assert resp.status_code == 200 and resp.json() == [{"s": "ok"}]
    assert SECRET not in _log(scratch)


def test_wrong_password_is_refused_and_not_logged(custom_gateway):
    peer, port, scratch = custom_gateway
    with pytest.raises(ConnectionError, match="status 3"):
        sasl_plain_socket("127.0.0.1", port, "alice", "wrong-" + SECRET)
    with pytest.raises(ConnectionError):
        sasl_plain_socket("127.0.0.1", port, "mallory", SECRET)
    time.sleep(0.5)
    log = _log(scratch)
    assert "SASL authentication failed" in log
    assert SECRET not in log


def test_right_password_opens_a_session_as_that_user(custom_gateway):
    _, port, _ = custom_gateway
    client = RawClient("127.0.0.1", port, user="alice", password=SECRET)
    try:
        assert client.open(username="someone-else").status.statusCode == 0
        handle = client.execute("select current_user()").operationHandle
        assert client.fetch_all_columns(handle) == [["alice"]]  # the SASL identity wins
    finally:
        client.close()


def test_nosasl_is_refused_under_custom_auth(custom_gateway):
    _, port, _ = custom_gateway
    client = RawClient("127.0.0.1", port, sasl=False)
    with pytest.raises(Exception):  # noqa: B017 - the server drops the connection: any transport error
        client.open(username="alice")


def test_saturated_pool_gives_a_clear_error(custom_gateway):
    _, port, _ = custom_gateway
    client = RawClient("127.0.0.1", port, user="alice", password=SECRET)
    try:
        client.open()
        long_sql = "select count(*) from range(100000000000)"
        running = client.execute(long_sql, run_async=True)
        queued = client.execute(long_sql, run_async=True)
        assert running.status.statusCode == 0 and queued.status.statusCode == 0
        rejected = client.execute("select 1", run_async=True)
        assert rejected.status.statusCode == T.TStatusCode.ERROR_STATUS
        assert "pool is full" in rejected.status.errorMessage
        for resp in (running, queued):
            client.client.CancelOperation(T.TCancelOperationReq(resp.operationHandle))
        deadline = time.time() + 30
        while time.time() < deadline:  # slots come back once the canceled work unwinds
            resp = client.execute("select 1")
            if resp.status.statusCode == 0:
                break
            time.sleep(0.5)
        assert resp.status.statusCode == 0
    finally:
        client.close()


def test_idle_sessions_expire(custom_gateway):
    _, port, _ = custom_gateway
    client = RawClient("127.0.0.1", port, user="alice", password=SECRET)
    try:
        client.open()
        assert client.execute("select 1").status.statusCode == 0
        time.sleep(7)
        resp = client.execute("select 1")
        assert resp.status.statusCode == T.TStatusCode.ERROR_STATUS
        assert "invalid session handle" in resp.status.errorMessage
    finally:
        client.session = None
        client.close()


def test_sigterm_cancels_and_stops_cleanly(custom_gateway):
    peer, port, scratch = custom_gateway
    client = RawClient("127.0.0.1", port, user="alice", password=SECRET)
    client.open()
    client.execute("select count(*) from range(100000000000)", run_async=True)
    time.sleep(1)
    start = time.time()
    os.kill(peer.pid, signal.SIGTERM)
    peer.proc.wait(timeout=60)
    assert peer.proc.returncode == 0
    assert time.time() - start < 30
    log = _log(scratch)
    assert "stopping: cancelling operations" in log and "stopped" in log
    client.transport.close()


def test_passwd_subcommand_and_help():
    proc = subprocess.run([sys.executable, "-m", "gateway.cli", "--help"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0
    for flag in ("--host", "--port", "--master", "--auth", "--users-file", "--conf"):
        assert flag in proc.stdout
    bad = subprocess.run([sys.executable, "-m", "gateway.cli", "--auth", "CUSTOM", "--port", str(free_port())],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "users-file" in bad.stderr

