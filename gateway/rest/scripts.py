"""``POST /run/script``: run an MLSQL script as a job, synchronously or with a callback.

A script runs as an ordinary ExecuteStatement in a backend session, so it is one job in the job registry
(``/runningjobs``, ``!show jobs``, ``/killjob``, ``!kill`` all see it) and its timeout cancels the Spark work
exactly as an HS2 queryTimeout does. ``sessionPerUser`` keeps one session per owner across requests (its
variables, views and registered functions persist); otherwise each request gets a fresh session.

Async: the job id comes back at once; when the job ends, its result (or error) is POSTed as JSON to the
callback URL, retried with exponential backoff up to ``maxRetries`` times on connection errors and non-2xx
answers.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import decimal
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gateway.errors import GatewayError
from gateway.metrics import METRICS
from gateway.operation.state import OperationState

if TYPE_CHECKING:
    import pyarrow as pa

    from gateway.backend import Backend
    from gateway.operation.statement import ExecuteStatement
    from gateway.session import Session

log = logging.getLogger(__name__)

PROTOCOL_V10 = 9


@dataclass
class ScriptRequest:
    sql: str
    owner: str
    job_name: str | None = None
    timeout_ms: int = -1
    run_async: bool = False
    callback: str | None = None
    max_retries: int = 3
    include_schema: bool = False
    output_size: int = 5000
    session_per_user: bool = False
    context: dict[str, str] = field(default_factory=dict)


@dataclass
class ScriptOutcome:
    """A finished job: its state, rows (JSON-ready) and schema, or its error."""

    job_id: str
    job_name: str
    owner: str
    state: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    schema: list[dict[str, str]] = field(default_factory=list)
    error: str | None = None
    sqlstate: str | None = None
    elapsed: float = 0.0

    def body(self, include_schema: bool) -> dict[str, Any]:
        out: dict[str, Any] = {"jobId": self.job_id, "jobName": self.job_name, "owner": self.owner,
                               "state": self.state, "elapsed": round(self.elapsed, 3)}
        if self.error is not None:
            out["error"] = self.error
            out["sqlstate"] = self.sqlstate
        else:
            out["data"] = self.rows
            if include_schema:
                out["schema"] = self.schema
        return out


class ScriptService:
    """Runs REST scripts through the backend; owns the per-user sessions and the callback threads."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._user_sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def _session(self, request: ScriptRequest) -> tuple[Session, bool]:
        """(session, temporary?) for the request."""
        conf = {f"set:hivevar:{k}": v for k, v in request.context.items()}
        if not request.session_per_user:
            return self.backend.open_session(request.owner, PROTOCOL_V10, conf, client="rest"), True
        with self._lock:
            session = self._user_sessions.get(request.owner)
            if session is None or session.guid not in self.backend.sessions.sessions:
                session = self.backend.open_session(request.owner, PROTOCOL_V10, {}, client="rest")
                self._user_sessions[request.owner] = session
        session.variables.update(request.context)
        return session, False

    def start(self, request: ScriptRequest) -> tuple[ExecuteStatement, Session, bool]:
        session, temporary = self._session(request)
        timeout = request.timeout_ms / 1000.0 if request.timeout_ms and request.timeout_ms > 0 else 0
        try:
            op = self.backend.execute(session, request.sql, run_async=True, query_timeout=timeout,
                                      job_name=request.job_name, source="rest")
        except BaseException:
            if temporary:
                self.backend.close_session(session)
            raise
        METRICS.add("mlsql_rest_scripts_total")
        return op, session, temporary

    def run_sync(self, request: ScriptRequest) -> ScriptOutcome:
        op, session, temporary = self.start(request)
        try:
            op.wait(float("inf"))
            return self.outcome(op, request)
        finally:
            self._finish(op, session, temporary)

    def run_async(self, request: ScriptRequest) -> str:
        op, session, temporary = self.start(request)

        def deliver() -> None:
            try:
                op.wait(float("inf"))
                outcome = self.outcome(op, request)
            except Exception as exc:  # noqa: BLE001 - report whatever happened to the callback
                outcome = ScriptOutcome(op.id, request.job_name or op.id, request.owner, "ERROR", error=str(exc))
            finally:
                self._finish(op, session, temporary)
            post_callback(request.callback or "", outcome.body(True), request.max_retries)

        threading.Thread(target=deliver, name=f"rest-job-{op.id[:8]}", daemon=True).start()
        return op.id

    def outcome(self, op: ExecuteStatement, request: ScriptRequest) -> ScriptOutcome:
        name = request.job_name or op.id
        elapsed = (op.completed or time.time()) - (op.started or op.created)
        out = ScriptOutcome(op.id, name, request.owner, op.state.name, elapsed=elapsed)
        if op.state == OperationState.FINISHED:
            try:
                out.rows, out.schema = read_rows(op, request.output_size)
                return out
            except GatewayError as exc:
                out.state, out.error, out.sqlstate = "ERROR", exc.message, exc.sqlstate
                return out
        if op.state == OperationState.TIMEDOUT:
            out.error, out.sqlstate = f"the script ran longer than its timeout ({request.timeout_ms} ms) and was " \
                                      "canceled", "HYT00"
        elif op.state == OperationState.CANCELED:
            out.error, out.sqlstate = "the job was killed", "HY008"
        else:
            error = op.error or GatewayError("the script failed")
            out.error, out.sqlstate = error.message, error.sqlstate
        return out

    def _finish(self, op: ExecuteStatement, session: Session, temporary: bool) -> None:
        if temporary:
            self.backend.close_session(session)
        else:
            self.backend.close_operation(op)

    def close(self) -> None:
        with self._lock:
            sessions, self._user_sessions = list(self._user_sessions.values()), {}
        for session in sessions:
            with contextlib.suppress(Exception):  # already expired
                self.backend.close_session(session)


def read_rows(op: ExecuteStatement, limit: int) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Up to ``limit`` rows of a finished job as JSON-ready dicts, and its schema (name, Spark type)."""
    from gateway.errors import spark_error

    result = op.require_results()
    schema = [{"name": f.name, "type": f.dataType.simpleString()} for f in result.spark_schema.fields]
    rows: list[dict[str, Any]] = []
    try:
        while len(rows) < limit:
            batch = result.fetch(min(10_000, limit - len(rows)))
            if batch.num_rows == 0:
                break
            rows.extend(batch_rows(batch))
    except GatewayError:
        raise
    except Exception as exc:
        raise spark_error(exc) from None
    return rows, schema


def batch_rows(batch: pa.RecordBatch) -> list[dict[str, Any]]:
    names = batch.schema.names
    columns = [[jsonable(v) for v in column.to_pylist()] for column in batch.columns]
    return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)] if columns else []


def jsonable(value: Any) -> Any:
    """A value JSON can carry: dates/times as ISO text, decimals as strings, bytes as base64."""
    if value is None or isinstance(value, (bool, int, float, str)):
        if isinstance(value, float) and value != value:  # NaN
            return None
        return value
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(p, tuple) and len(p) == 2 for p in value):  # Arrow maps
            return {str(k): jsonable(v) for k, v in value}
        return [jsonable(v) for v in value]
    return str(value)


def post_callback(url: str, body: dict[str, Any], max_retries: int, base_delay: float = 0.5) -> bool:
    """POST ``body`` as JSON; retry with exponential backoff on failure. True once a 2xx answer came back."""
    data = json.dumps(body).encode()
    for attempt in range(max(0, max_retries) + 1):
        request = urllib.request.Request(url, data=data, method="POST",
                                         headers={"Content-Type": "application/json", "User-Agent": "mlsql-gateway"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - http(s) checked by the API
                if 200 <= response.status < 300:
                    METRICS.add("mlsql_rest_callbacks_total")
                    return True
        except (urllib.error.URLError, OSError, ValueError) as exc:
            log.info("callback to %s failed (attempt %d): %s", url, attempt + 1, exc)
        if attempt < max_retries:
            time.sleep(base_delay * (2 ** attempt))
    METRICS.add("mlsql_rest_callback_failures_total")
    log.warning("callback to %s failed after %d attempts", url, max_retries + 1)
    return False
