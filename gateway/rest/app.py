"""The REST API (FastAPI): scripts, jobs, health, metrics and online predict.

Every endpoint takes form-encoded or JSON bodies (the reference's clients post forms). Authentication uses
the Thrift server's authenticator through HTTP Basic; with auth NONE the caller is whoever ``owner`` (or
the Basic user) says. Every error is a JSON body ``{"error": ..., "sqlstate": ...}`` with a 4xx status
for anything the request got wrong.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from gateway.auth import AnonymousAuthenticator, AuthenticationError
from gateway.errors import GatewayError
from gateway.jobs import JobForbidden, JobNotFound
from gateway.metrics import METRICS
from gateway.operation.state import OperationState
from gateway.rest import predict as online
from gateway.rest.scripts import ScriptRequest, ScriptService

if TYPE_CHECKING:
    from gateway.auth import Authenticator
    from gateway.backend import Backend
    from gateway.ml.service import MLRuntime

MAX_BODY = 32 << 20


class RunScriptBody(BaseModel):
    """Fields of POST /run/script (``context.<name>`` fields become script variables ``${name}``)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    sql: str = Field(min_length=1, description="the MLSQL script")
    owner: str | None = Field(None, max_length=128, pattern=r"^[A-Za-z0-9_.@-]+$")
    jobName: str | None = Field(None, max_length=256)
    timeout: int = Field(-1, ge=-1, description="milliseconds; -1: no timeout")
    async_: bool = Field(False, alias="async", description="return the job id at once and POST to callback")
    callback: str | None = Field(None, max_length=2048, description="http(s) URL for the async result")
    maxRetries: int = Field(3, ge=0, le=10)
    includeSchema: bool = False
    outputSize: int = Field(5000, ge=1, le=1_000_000)
    sessionPerUser: bool = False


class KillJobBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    jobId: str | None = Field(None, max_length=64)
    jobName: str | None = Field(None, max_length=256)
    owner: str | None = Field(None, max_length=128)


class PredictBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    dataType: str = Field("vector", description="vector | string | row")
    data: Any = Field(description="a JSON array of records (or its JSON text)")
    sql: str | None = Field(None, max_length=20_000, description="e.g. select rf(vec_dense(feature)) as p")
    pipeline: str | None = Field(None, max_length=2_000, description="a,b means b(a(feature))")
    owner: str | None = Field(None, max_length=128)


class ApiError(Exception):
    def __init__(self, status: int, message: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.sqlstate = status, message, sqlstate


def status_for(sqlstate: str | None) -> int:
    """HTTP status for a SQLSTATE: request errors are 4xx, server trouble 5xx."""
    state = (sqlstate or "").upper()
    if state in ("42501", "28000"):
        return 403
    if state == "HYT00":
        return 408
    if state in ("53000",):
        return 503
    if state[:2] in ("42", "22", "23", "0A", "21", "07", "HY", "3F", "25", "40", "XX") and state != "XX000":
        return 400
    return 500


class ErrorBody(BaseModel):
    error: str
    sqlstate: str | None = None


_ERROR_CODES = {400: "bad request (syntax, analysis or data error)", 401: "authentication required or failed",
                403: "not allowed for this user", 404: "no such job", 408: "the script timed out and was canceled",
                409: "the job was killed", 413: "body too large", 415: "unsupported content type",
                422: "invalid fields", 500: "server error", 503: "busy or unavailable"}
ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorBody, "description": text}
                                          for code, text in _ERROR_CODES.items()}


def _form_schema(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema(by_alias=True)
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": schema},
        "application/x-www-form-urlencoded": {"schema": schema}}}}


def create_app(backend: Backend, authenticator: Authenticator, ml: MLRuntime | None) -> FastAPI:
    app = FastAPI(title="mlsql-gateway REST API", version="1.0",
                  description="Run MLSQL scripts, manage jobs, and score registered models online.")
    scripts = ScriptService(backend)
    cache = online.QueryCache()
    app.state.scripts = scripts

    # -- plumbing -----------------------------------------------------------------------------------
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError):
        return JSONResponse({"error": exc.message, "sqlstate": exc.sqlstate}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError):
        return JSONResponse({"error": _validation_text(exc.errors()), "sqlstate": "42000"}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException):
        return JSONResponse({"error": str(exc.detail), "sqlstate": None}, status_code=exc.status_code)

    app.add_middleware(_TimingMiddleware)

    async def body_fields(request: Request) -> dict[str, Any]:
        raw = await request.body()
        if len(raw) > MAX_BODY:
            raise ApiError(413, f"request body over {MAX_BODY} bytes")
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        fields: dict[str, Any] = dict(request.query_params)
        if not raw:
            return fields
        if content_type == "application/json":
            try:
                parsed = json.loads(raw)
            except ValueError as exc:
                raise ApiError(400, f"body is not valid JSON: {exc}", "42000") from None
            if not isinstance(parsed, dict):
                raise ApiError(400, "the JSON body must be an object", "42000")
            fields.update(parsed)
            return fields
        if content_type in ("application/x-www-form-urlencoded", "multipart/form-data", ""):
            try:
                form = await request.form()
            except Exception as exc:  # noqa: BLE001 - malformed form data
                raise ApiError(400, f"cannot read the form body: {exc}", "42000") from None
            fields.update({k: v for k, v in form.items() if isinstance(v, str)})
            return fields
        raise ApiError(415, f"unsupported content type {content_type!r} (use JSON or a form)")

    def parse(model: type[BaseModel], fields: dict[str, Any]):
        try:
            return model.model_validate(fields)
        except ValidationError as exc:
            raise ApiError(422, _validation_text(exc.errors()), "42000") from None

    def caller(request: Request, owner: str | None) -> str:
        """The authenticated user (HTTP Basic); with auth NONE, the owner field or the Basic user."""
        header = request.headers.get("authorization", "")
        user = password = None
        if header.lower().startswith("basic "):
            try:
                user, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                raise ApiError(401, "malformed Basic authorization header") from None
        if not isinstance(authenticator, AnonymousAuthenticator):
            if user is None:
                raise ApiError(401, "authentication required (HTTP Basic)")
            try:
                authenticator.authenticate(user, password or "")
            except AuthenticationError:
                raise ApiError(401, "invalid user name or password") from None
            if owner and owner != user and not backend.jobs.is_admin(user):
                raise ApiError(403, f"{user} may not act as {owner}", "42501")
            return owner or user
        who = owner or user or "anonymous"
        if not _valid_user(who):
            raise ApiError(400, f"owner {who!r} is not a valid user name", "42000")
        return who

    # -- endpoints ----------------------------------------------------------------------------------
    @app.post("/run/script", responses=ERRORS, openapi_extra=_form_schema(RunScriptBody), summary="Run an MLSQL script")
    async def run_script(request: Request):
        fields = await body_fields(request)
        body = parse(RunScriptBody, fields)
        owner = caller(request, body.owner)
        context = {k[len("context."):]: str(v) for k, v in fields.items()
                   if isinstance(k, str) and k.startswith("context.") and len(k) > len("context.")}
        if body.async_:
            if not body.callback:
                raise ApiError(400, "async=true needs a callback URL", "42000")
            if urlparse(body.callback).scheme not in ("http", "https") or not urlparse(body.callback).netloc:
                raise ApiError(400, "callback must be an http(s) URL", "42000")
        script = ScriptRequest(sql=body.sql, owner=owner, job_name=body.jobName, timeout_ms=body.timeout,
                               run_async=body.async_, callback=body.callback, max_retries=body.maxRetries,
                               include_schema=body.includeSchema, output_size=body.outputSize,
                               session_per_user=body.sessionPerUser, context=context)
        from starlette.concurrency import run_in_threadpool

        try:
            if body.async_:
                job_id = await run_in_threadpool(scripts.run_async, script)
                return {"jobId": job_id, "jobName": body.jobName or job_id, "owner": owner, "state": "RUNNING"}
            outcome = await run_in_threadpool(scripts.run_sync, script)
        except GatewayError as exc:
            raise ApiError(status_for(exc.sqlstate), exc.message, exc.sqlstate) from None
        if outcome.error is not None:
            status = {"TIMEDOUT": 408, "CANCELED": 409}.get(outcome.state) or status_for(outcome.sqlstate)
            return JSONResponse(outcome.body(body.includeSchema), status_code=status)
        if body.includeSchema:
            return outcome.body(True)
        return outcome.rows

    @app.get("/runningjobs", responses=ERRORS, summary="Running jobs visible to the caller")
    async def running_jobs(request: Request, owner: str | None = None):
        viewer = caller(request, owner)
        return backend.jobs.describe(viewer, running_only=True)

    @app.post("/killjob", responses=ERRORS, openapi_extra=_form_schema(KillJobBody), summary="Kill a job by id or jobName")
    async def kill_job(request: Request):
        body = parse(KillJobBody, await body_fields(request))
        viewer = caller(request, body.owner)
        try:
            killed = backend.jobs.kill(viewer, job_id=body.jobId, job_name=body.jobName)
        except JobNotFound as exc:
            raise ApiError(404, exc.message, exc.sqlstate) from None
        except JobForbidden as exc:
            raise ApiError(403, exc.message, exc.sqlstate) from None
        return {"killed": killed}

    @app.get("/health", responses=ERRORS, summary="Liveness")
    async def health():
        return {"status": "ok", "sessions": len(backend.sessions.sessions),
                "uptime": round(time.time() - backend.started, 3)}

    @app.get("/metrics", response_class=PlainTextResponse, summary="Prometheus metrics")
    async def metrics():
        by_state = backend.operations.count_by_state()
        gauges = {
            "mlsql_sessions": [({}, len(backend.sessions.sessions))],
            "mlsql_operations": [({"state": s.name}, by_state.get(s.name, 0)) for s in OperationState],
            "mlsql_jobs_running": [({}, _running(backend))],
        }
        return PlainTextResponse(METRICS.render(gauges), media_type="text/plain; version=0.0.4")

    @app.post("/model/predict", responses=ERRORS, openapi_extra=_form_schema(PredictBody), summary="Online predict")
    async def model_predict(request: Request):
        fields = await body_fields(request)
        body = parse(PredictBody, fields)
        owner = caller(request, body.owner)
        if ml is None:
            raise ApiError(503, "the ML runtime is not available")
        if bool(body.sql) == bool(body.pipeline):
            raise ApiError(400, "give exactly one of sql or pipeline", "42000")
        data = body.data
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError as exc:
                raise ApiError(400, f"data is not valid JSON: {exc}", "42000") from None
        if not isinstance(data, list):
            raise ApiError(400, "data must be a JSON array of records", "42000")
        text = body.sql or body.pipeline or ""
        key = (owner, "sql" if body.sql else "pipeline", text, ml.version)
        try:
            def build():
                compiler = online.Compiler(ml.callables(owner))
                return compiler.query(text) if body.sql else compiler.pipeline(text)

            query = cache.get(key, build)
            columns = online.input_columns(body.dataType, data)
            rows = query.run(columns, len(data))
        except GatewayError as exc:
            raise ApiError(status_for(exc.sqlstate), exc.message, exc.sqlstate) from None
        METRICS.add("mlsql_predict_rows_total", len(data))
        return JSONResponse(rows)  # plain JSON values already: skip FastAPI's generic encoder

    return app


class _TimingMiddleware:
    """Per-route latency histogram (a plain ASGI middleware: BaseHTTPMiddleware costs a task per request)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            route = scope.get("route")
            METRICS.observe("mlsql_http_seconds", getattr(route, "path", "other"), time.perf_counter() - started)


def _running(backend: Backend) -> int:
    from gateway.operation.statement import ExecuteStatement

    return sum(1 for op in backend.operations.all() if isinstance(op, ExecuteStatement) and not op.state.terminal)


def _valid_user(user: str) -> bool:
    import re

    return bool(re.match(r"^[A-Za-z0-9_.@-]{1,128}$", user))


def _validation_text(errors: list[dict[str, Any]]) -> str:
    parts = []
    for error in errors[:5]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
        parts.append(f"{where or 'body'}: {error.get('msg', 'invalid')}")
    return "invalid request: " + "; ".join(parts)
