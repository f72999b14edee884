"""The REST API on the session gateway: scripts (sync, async + callbacks, timeouts), the job registry across
front doors, ownership, health and metrics."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from pyhive import hive
from TCLIService.ttypes import TOperationState

from bench.peers import spark_home

SLOW = "select sum(id % 7) as s from range(0, 200000000000, 1, 2)"


@pytest.fixture(scope="module")
def api(gateway):
    with httpx.Client(base_url=gateway.rest_url, timeout=120) as client:
        yield client


class CallbackSink:
    """A local HTTP server that records POSTed JSON bodies; answers ``fail_first`` requests with 500."""

    def __init__(self, fail_first: int = 0) -> None:
        self.bodies: list[dict] = []
        self.attempts = 0
        self.fail_first = fail_first
        self.event = threading.Event()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                sink.attempts += 1
                if sink.attempts <= sink.fail_first:
                    self.send_response(500)
                    self.end_headers()
                    return
                sink.bodies.append(body)
                self.send_response(200)
                self.end_headers()
                sink.event.set()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/done"

    def close(self) -> None:
        self.server.shutdown()


def test_sync_script_returns_the_last_table(api):
    resp = api.post("/run/script", data={"sql": "select 1 as a, 'x' as b as t1;\nselect a + 1 as c, b from t1;",
                                         "owner": "alice"})
    assert resp.status_code == 200, resp.text
    assert resp.json() == [{"c": 2, "b": "x"}]
    resp = api.post("/run/script", json={"sql": "select explode(sequence(1, 10)) as n", "owner": "alice",
                                         "includeSchema": True, "outputSize": 3})
    body = resp.json()
    assert body["data"] == [{"n": 1}, {"n": 2}, {"n": 3}] and body["schema"] == [{"name": "n", "type": "int"}]
    assert body["state"] == "FINISHED" and body["owner"] == "alice"
    # context.* fields become ${} variables.
    resp = api.post("/run/script", data={"sql": "select '${city}' as city, ${n} * 2 as twice", "context.city": "Oslo",
                                         "context.n": "21"})
    assert resp.json() == [{"city": "Oslo", "twice": 42}]


def test_session_per_user_keeps_the_mlsql_context(api):
    first = api.post("/run/script", data={"sql": "select 7 as v as kept_view;", "owner": "carol",
                                          "sessionPerUser": "true"})
    assert first.status_code == 200, first.text
    again = api.post("/run/script", data={"sql": "select v from kept_view", "owner": "carol",
                                          "sessionPerUser": "true"})
    assert again.json() == [{"v": 7}]
    fresh = api.post("/run/script", data={"sql": "select v from kept_view", "owner": "carol"})
    assert fresh.status_code == 400 and "kept_view" in fresh.json()["error"]


def test_bad_requests_are_clear_4xx(api):
    resp = api.post("/run/script", data={"sql": "select 1 as a as t;\nload csv.`x` as;"})
    assert resp.status_code == 400 and "line 2" in resp.json()["error"] and resp.json()["sqlstate"] == "42000"
    assert api.post("/run/script", data={}).status_code == 422
    assert api.post("/run/script", content=b"{not json", headers={"content-type": "application/json"}
                    ).status_code == 400
    resp = api.post("/run/script", data={"sql": "select 1", "async": "true"})
    assert resp.status_code == 400 and "callback" in resp.json()["error"]
    resp = api.post("/run/script", data={"sql": "select 1", "async": "true", "callback": "file:///etc/passwd"})
    assert resp.status_code == 400
    resp = api.post("/run/script", data={"sql": "select 1", "timeout": "soon"})
    assert resp.status_code == 422 and "timeout" in resp.json()["error"]
    assert api.post("/killjob", data={}).status_code == 404
    assert api.get("/nope").status_code == 404


def test_async_with_callback_success_failure_and_retries(api):
    sink = CallbackSink(fail_first=2)
    try:
        resp = api.post("/run/script", data={"sql": "select 40 + 2 as answer", "async": "true", "owner": "dave",
                                             "callback": sink.url, "maxRetries": "3", "jobName": "nightly"})
        assert resp.status_code == 200
        job_id = resp.json()["jobId"]
        assert sink.event.wait(60)
        assert sink.attempts == 3  # two 500s, then success: retried with backoff
        body = sink.bodies[0]
        assert body["jobId"] == job_id and body["jobName"] == "nightly" and body["state"] == "FINISHED"
        assert body["data"] == [{"answer": 42}] and body["schema"] == [{"name": "answer", "type": "int"}]
    finally:
        sink.close()
    sink = CallbackSink()
    try:
        api.post("/run/script", data={"sql": "select * from no_such_table_anywhere", "async": "true",
                                      "callback": sink.url})
        assert sink.event.wait(60)
        assert sink.bodies[0]["state"] == "ERROR" and "no_such_table_anywhere" in sink.bodies[0]["error"]
    finally:
        sink.close()
    # A callback that never succeeds is given up after maxRetries + 1 attempts.
    sink = CallbackSink(fail_first=100)
    try:
        api.post("/run/script", data={"sql": "select 1", "async": "true", "callback": sink.url, "maxRetries": "1"})
        deadline = time.monotonic() + 30
        while sink.attempts < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(2)
        assert sink.attempts == 2
    finally:
        sink.close()


def test_timeout_cancels_the_spark_work(api):
    started = time.monotonic()
    resp = api.post("/run/script", data={"sql": SLOW, "timeout": "2000", "owner": "erin"})
    assert resp.status_code == 408, resp.text
    assert resp.json()["state"] == "TIMEDOUT" and "timeout" in resp.json()["error"]
    assert time.monotonic() - started < 30
    # Both local cores are free again: the job was really cancelled.
    quick = time.monotonic()
    resp = api.post("/run/script", data={"sql": "select count(*) as n from range(1000000, 0, -1, 2)"})
    assert resp.json() == [{"n": 1000000}] and time.monotonic() - quick < 30


def _wait_job(api, owner: str, predicate, limit: float = 60) -> dict | None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        for job in api.get("/runningjobs", params={"owner": owner}).json():
            if predicate(job):
                return job
        time.sleep(0.2)
    return None


def test_kill_from_rest_of_a_beeline_query(api, gateway):
    url = f"jdbc:hive2://{gateway.host}:{gateway.port}/default"
    proc = subprocess.Popen([str(spark_home() / "bin" / "beeline"), "-u", url, "-n", "frank", "-p", "x", "-e", SLOW],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**__import__("os").environ, "SPARK_HOME": str(spark_home())})
    try:
        job = _wait_job(api, "frank", lambda j: j["statement"] == SLOW and j["state"] == "RUNNING", 120)
        assert job is not None and job["source"] == "thrift" and job["owner"] == "frank"
        # Another user may neither see nor kill it; an administrator may see it.
        assert all(j["id"] != job["id"] for j in api.get("/runningjobs", params={"owner": "mallory"}).json())
        denied = api.post("/killjob", data={"jobId": job["id"], "owner": "mallory"})
        assert denied.status_code == 403
        assert any(j["id"] == job["id"] for j in api.get("/runningjobs", params={"owner": "admin"}).json())
        killed = api.post("/killjob", data={"jobId": job["id"], "owner": "frank"})
        assert killed.status_code == 200 and killed.json()["killed"][0]["killed"] is True
        output, _ = proc.communicate(timeout=120)
        assert proc.returncode != 0
        assert "cancel" in output.lower() or "CANCELED" in output
    finally:
        if proc.poll() is None:
            proc.kill()


def test_one_job_registry_across_front_doors(api, gateway):
    sink = CallbackSink()
    conn = hive.connect(host=gateway.host, port=gateway.port, username="gina")
    try:
        resp = api.post("/run/script", data={"sql": SLOW, "async": "true", "callback": sink.url, "owner": "gina",
                                             "jobName": "long-rest-job"})
        job_id = resp.json()["jobId"]
        cursor = conn.cursor()
        deadline = time.monotonic() + 60
        row = None
        while row is None and time.monotonic() < deadline:
            cursor.execute("!show jobs;")
            row = next((r for r in cursor.fetchall() if r[0] == job_id and r[2] == "RUNNING"), None)
            time.sleep(0.2)
        assert row is not None and row[6] == "long-rest-job" and row[7] == "rest"
        cursor.execute(f"load _mlsql_.`jobs` as j;\nselect id, name, source from j where id = '{job_id}'")
        assert cursor.fetchall() == [(job_id, "long-rest-job", "rest")]
        # Killed by name from REST; the callback reports the cancellation.
        assert api.post("/killjob", json={"jobName": "long-rest-job", "owner": "gina"}).status_code == 200
        assert sink.event.wait(60) and sink.bodies[0]["state"] == "CANCELED"
        # !kill from PyHive cancels a REST job of the same owner as well.
        api.post("/run/script", data={"sql": SLOW, "async": "true", "callback": sink.url, "owner": "gina",
                                      "jobName": "second"})
        job = _wait_job(api, "gina", lambda j: j["name"] == "second" and j["state"] == "RUNNING")
        assert job is not None
        cursor.execute(f"!kill {job['id']};")
        assert cursor.fetchall() == [(job["id"], True)]
        async_cursor = conn.cursor()
        async_cursor.execute(SLOW, async_=True)
        job = _wait_job(api, "gina", lambda j: j["source"] == "thrift" and j["statement"] == SLOW
                        and j["state"] == "RUNNING")
        api.post("/killjob", data={"jobId": job["id"], "owner": "gina"})
        assert async_cursor.poll().operationState == TOperationState.CANCELED_STATE
    finally:
        conn.close()
        sink.close()


def test_health_and_metrics(api):
    api.post("/run/script", data={"sql": "select 1"})
    health = api.get("/health").json()
    assert health["status"] == "ok" and health["uptime"] > 0
    text = api.get("/metrics").text
    for needle in ("mlsql_sessions ", 'mlsql_operations{state="FINISHED"}', "mlsql_rest_scripts_total",
                   'mlsql_http_seconds_count{method="/run/script"}', "mlsql_jobs_running"):
        assert needle in text, needle
    schema = api.get("/openapi.json").json()
    assert {"/run/script", "/runningjobs", "/killjob", "/health", "/metrics", "/model/predict"} <= set(schema["paths"])
