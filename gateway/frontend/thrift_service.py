"""The TCLIService handler: Thrift requests in, backend calls, Thrift responses out.

One handler per connection (it knows the connection's authenticated user). Every failure becomes an
ERROR_STATUS with a message and SQLSTATE; the connection and the server keep serving.
"""

from __future__ import annotations

import functools
import logging
import time
import uuid
from dataclasses import dataclass

from gateway.backend import Backend
from gateway.errors import GatewayError, InvalidRequest, spark_error
from gateway.frontend.getinfo import info_value
from gateway.metrics import METRICS
from gateway.operation import metadata
from gateway.operation.base import Operation
from gateway.operation.state import OperationState
from gateway.session import FETCH_SIZE_KEY, Session
from thrift_idl.gen.TCLIService import ttypes

log = logging.getLogger(__name__)

V1, V6, V10 = 0, 5, 9
MAX_PROTOCOL = V10
FETCH_NEXT, FETCH_FIRST = 0, 4
SUCCESS = ttypes.TStatus(statusCode=ttypes.TStatusCode.SUCCESS_STATUS)


@dataclass
class ConnectionInfo:
    user: str | None  # the SASL identity, or None for NOSASL (OpenSession's username is used)
    peer: str
    mechanism: str


def error_status(error: GatewayError) -> ttypes.TStatus:
    return ttypes.TStatus(
        statusCode=ttypes.TStatusCode.ERROR_STATUS,
        # Hive's "*class:message:frames:last-frame" form; ":0:-1" means no stack frames (hive-jdbc parses it).
        infoMessages=[f"*{type(error).__name__}:{error.message.splitlines()[0] if error.message else ''}:0:-1"],
        sqlState=error.sqlstate,
        errorCode=error.error_code,
        errorMessage=error.message,
    )


def rpc(response_type, **defaults):
    """Run the handler body; any exception becomes ``response_type(status=ERROR_STATUS, **defaults)``."""

    def wrap(fn):
        name = response_type.__name__[1:-4]  # TFetchResultsResp -> FetchResults

        @functools.wraps(fn)
        def inner(self, req):
            started = time.perf_counter()
            try:
                return fn(self, req)
            except Exception as exc:  # noqa: BLE001 - errors are answers, not crashes
                METRICS.add("mlsql_rpc_errors_total")
                error = spark_error(exc)
                if not isinstance(exc, GatewayError):
                    log.warning("%s failed: %s", fn.__name__, error.message.splitlines()[0] if error.message else exc,
                                exc_info=log.isEnabledFor(logging.DEBUG))
                return response_type(status=error_status(error), **{k: v() for k, v in defaults.items()})
            finally:
                METRICS.observe("mlsql_rpc_seconds", name, time.perf_counter() - started)

        return inner

    return wrap


def session_handle(session: Session) -> ttypes.TSessionHandle:
    return ttypes.TSessionHandle(sessionId=ttypes.THandleIdentifier(guid=session.guid.bytes, secret=session.secret))


def operation_handle(op: Operation) -> ttypes.TOperationHandle:
    return ttypes.TOperationHandle(
        operationId=ttypes.THandleIdentifier(guid=op.guid.bytes, secret=op.secret),
        operationType=op.op_type,
        hasResultSet=op.has_result_set,
    )


def _guid(identifier: ttypes.THandleIdentifier | None) -> tuple[uuid.UUID, bytes]:
    if identifier is None or not identifier.guid or len(identifier.guid) != 16:
        raise InvalidRequest("malformed handle")
    return uuid.UUID(bytes=bytes(identifier.guid)), bytes(identifier.secret or b"")


class ThriftHandler:
    """Implements TCLIService.Iface on top of the Backend."""

    def __init__(self, backend: Backend, conn: ConnectionInfo) -> None:
        self.backend = backend
        self.conn = conn

    # -- handles --------------------------------------------------------------------------------------
    def _session(self, handle: ttypes.TSessionHandle | None) -> Session:
        if handle is None:
            raise InvalidRequest("missing session handle")
        return self.backend.session(*_guid(handle.sessionId))

    def _op(self, handle: ttypes.TOperationHandle | None) -> Operation:
        if handle is None:
            raise InvalidRequest("missing operation handle")
        op = self.backend.operation(*_guid(handle.operationId))
        op.session.touch()
        return op

    def _op_resp(self, resp_type, op: Operation):
        return resp_type(status=SUCCESS, operationHandle=operation_handle(op))

    # -- sessions -------------------------------------------------------------------------------------
    @rpc(ttypes.TOpenSessionResp, serverProtocolVersion=lambda: MAX_PROTOCOL)
    def OpenSession(self, req: ttypes.TOpenSessionReq) -> ttypes.TOpenSessionResp:
        client = req.client_protocol if req.client_protocol is not None else MAX_PROTOCOL
        protocol = max(V1, min(int(client), MAX_PROTOCOL))
        user = self.conn.user or req.username or "anonymous"
        if self.conn.user is None and self.backend.config.auth.upper() == "CUSTOM":
            raise GatewayError("authentication required", "28000")
        configuration = dict(req.configuration or {})
        session = self.backend.open_session(user, protocol, configuration, self.conn.peer)
        return ttypes.TOpenSessionResp(
            status=SUCCESS,
            serverProtocolVersion=protocol,
            sessionHandle=session_handle(session),
            configuration={FETCH_SIZE_KEY: str(self.backend.config.default_fetch_size)},
        )

    @rpc(ttypes.TCloseSessionResp)
    def CloseSession(self, req):
        self.backend.close_session(self._session(req.sessionHandle))
        return ttypes.TCloseSessionResp(status=SUCCESS)

    @rpc(ttypes.TGetInfoResp, infoValue=lambda: ttypes.TGetInfoValue(stringValue=""))
    def GetInfo(self, req):
        session = self._session(req.sessionHandle)
        return ttypes.TGetInfoResp(status=SUCCESS, infoValue=info_value(req.infoType, session.user))

    @rpc(ttypes.TSetClientInfoResp)
    def SetClientInfo(self, req):
        session = self._session(req.sessionHandle)
        session.client_info.update(req.configuration or {})
        if "ApplicationName" in session.client_info:
            log.info("session %s: client application %s", session.id, session.client_info["ApplicationName"])
        return ttypes.TSetClientInfoResp(status=SUCCESS)

    # -- statements -----------------------------------------------------------------------------------
    @rpc(ttypes.TExecuteStatementResp)
    def ExecuteStatement(self, req):
        session = self._session(req.sessionHandle)
        if not req.statement or not req.statement.strip():
            raise GatewayError("empty statement", "42000")
        op = self.backend.execute(session, req.statement, req.confOverlay, bool(req.runAsync),
                                  float(req.queryTimeout or 0))
        if not req.runAsync and op.state == OperationState.ERROR and op.error is not None:
            # Synchronous callers (PyHive's default) learn of the failure right away, like HS2 does.
            self.backend.close_operation(op)
            raise op.error
        return self._op_resp(ttypes.TExecuteStatementResp, op)

    @rpc(ttypes.TGetOperationStatusResp)
    def GetOperationStatus(self, req):
        op = self._op(req.operationHandle)
        state = self.backend.wait_status(op)
        resp = ttypes.TGetOperationStatusResp(
            status=SUCCESS,
            operationState=int(state),
            hasResultSet=op.has_result_set,
            operationStarted=int((op.started or op.created) * 1000),
            operationCompleted=int(op.completed * 1000) if op.completed else 0,
        )
        if op.modified_rows is not None:
            resp.numModifiedRows = op.modified_rows
        if state in (OperationState.ERROR, OperationState.TIMEDOUT) and op.error is not None:
            resp.sqlState = op.error.sqlstate
            resp.errorCode = op.error.error_code
            resp.errorMessage = op.error.message
        if req.getProgressUpdate and op.session.protocol >= V10:
            progress = op.progress()
            if progress is not None:
                resp.progressUpdateResponse = progress
        return resp

    @rpc(ttypes.TCancelOperationResp)
    def CancelOperation(self, req):
        self.backend.cancel(self._op(req.operationHandle))
        return ttypes.TCancelOperationResp(status=SUCCESS)

    @rpc(ttypes.TCloseOperationResp)
    def CloseOperation(self, req):
        self.backend.close_operation(self._op(req.operationHandle))
        return ttypes.TCloseOperationResp(status=SUCCESS)

    @rpc(ttypes.TGetResultSetMetadataResp)
    def GetResultSetMetadata(self, req):
        from gateway.results.types import table_schema

        op = self._op(req.operationHandle)
        if not op.state.terminal:
            op.wait(float("inf"))
        result = op.require_results()
        return ttypes.TGetResultSetMetadataResp(status=SUCCESS, schema=table_schema(result.spark_schema))

    def FetchResults(self, req):
        """The object form (the processor uses ``fetch_results_fast`` to skip building objects)."""
        return self.fetch_results_fast(req, encoded=False)

    @rpc(ttypes.TFetchResultsResp)
    def fetch_results_fast(self, req, encoded: bool = True):
        """FetchResults; on the columnar path with ``encoded`` the reply is TFetchResultsResp bytes."""
        op = self._op(req.operationHandle)
        orientation = req.orientation if req.orientation is not None else FETCH_NEXT
        if orientation not in (FETCH_NEXT, FETCH_FIRST):
            raise InvalidRequest(f"fetch orientation {orientation} is not supported (use FETCH_NEXT or FETCH_FIRST)")
        protocol = op.session.protocol
        max_rows = req.maxRows if req.maxRows and req.maxRows > 0 else self.backend.config.default_fetch_size
        if req.fetchType == 1:
            lines = self.backend.fetch_log(op, max_rows, orientation == FETCH_FIRST)
            return ttypes.TFetchResultsResp(status=SUCCESS, hasMoreRows=False, results=log_rowset(lines, protocol))
        if not op.state.terminal:
            op.wait(float("inf"))
        batch, start = self.backend.fetch(op, max_rows, orientation == FETCH_FIRST)
        encoder = _encoder(op)
        more = batch.num_rows >= min(max_rows, self.backend.config.max_fetch_rows)
        METRICS.add("mlsql_fetched_rows_total", batch.num_rows)
        if encoded and protocol >= V6:
            reply = b"".join((_RESP_PREFIX, b"\x01" if more else b"\x00", b"\x0c\x00\x03",
                              encoder.encode_rowset(batch, start), b"\x00"))
            METRICS.add("mlsql_fetched_bytes_total", len(reply))
            return reply
        return ttypes.TFetchResultsResp(status=SUCCESS, hasMoreRows=more, results=encoder.rowset(batch, start, protocol))

    # -- metadata -------------------------------------------------------------------------------------
    def _meta(self, resp_type, req, kind, **request):
        op = self.backend.metadata(self._session(req.sessionHandle), kind, **request)
        if op.state == OperationState.ERROR and op.error is not None:
            self.backend.close_operation(op)
            raise op.error
        return self._op_resp(resp_type, op)

    @rpc(ttypes.TGetTypeInfoResp)
    def GetTypeInfo(self, req):
        return self._meta(ttypes.TGetTypeInfoResp, req, metadata.GetTypeInfo)

    @rpc(ttypes.TGetCatalogsResp)
    def GetCatalogs(self, req):
        return self._meta(ttypes.TGetCatalogsResp, req, metadata.GetCatalogs)

    @rpc(ttypes.TGetSchemasResp)
    def GetSchemas(self, req):
        return self._meta(ttypes.TGetSchemasResp, req, metadata.GetSchemas, schema=req.schemaName)

    @rpc(ttypes.TGetTablesResp)
    def GetTables(self, req):
        return self._meta(ttypes.TGetTablesResp, req, metadata.GetTables, schema=req.schemaName,
                          table=req.tableName, table_types=req.tableTypes)

    @rpc(ttypes.TGetTableTypesResp)
    def GetTableTypes(self, req):
        return self._meta(ttypes.TGetTableTypesResp, req, metadata.GetTableTypes)

    @rpc(ttypes.TGetColumnsResp)
    def GetColumns(self, req):
        return self._meta(ttypes.TGetColumnsResp, req, metadata.GetColumns, schema=req.schemaName,
                          table=req.tableName, column=req.columnName)

    @rpc(ttypes.TGetFunctionsResp)
    def GetFunctions(self, req):
        return self._meta(ttypes.TGetFunctionsResp, req, metadata.GetFunctions, schema=req.schemaName,
                          function=req.functionName)

    @rpc(ttypes.TGetPrimaryKeysResp)
    def GetPrimaryKeys(self, req):
        return self._meta(ttypes.TGetPrimaryKeysResp, req, metadata.GetPrimaryKeys, schema=req.schemaName,
                          table=req.tableName)

    @rpc(ttypes.TGetCrossReferenceResp)
    def GetCrossReference(self, req):
        return self._meta(ttypes.TGetCrossReferenceResp, req, metadata.GetCrossReference,
                          parent=req.parentTableName, foreign=req.foreignTableName)

    # -- misc -----------------------------------------------------------------------------------------
    def GetQueryId(self, req):
        try:
            return ttypes.TGetQueryIdResp(queryId=self._op(req.operationHandle).id)
        except Exception:  # noqa: BLE001 - this response has no status field
            return ttypes.TGetQueryIdResp(queryId="")

    @rpc(ttypes.TGetDelegationTokenResp)
    def GetDelegationToken(self, req):
        raise GatewayError("delegation tokens need Kerberos authentication, which this server does not use")

    @rpc(ttypes.TCancelDelegationTokenResp)
    def CancelDelegationToken(self, req):
        raise GatewayError("delegation tokens need Kerberos authentication, which this server does not use")

    @rpc(ttypes.TRenewDelegationTokenResp)
    def RenewDelegationToken(self, req):
        raise GatewayError("delegation tokens need Kerberos authentication, which this server does not use")

    @rpc(ttypes.TUploadDataResp, operationHandle=lambda: _NO_OP)
    def UploadData(self, req):
        raise GatewayError("UploadData is not supported; use load statements or INSERT")

    @rpc(ttypes.TDownloadDataResp, operationHandle=lambda: _NO_OP)
    def DownloadData(self, req):
        raise GatewayError("DownloadData is not supported; use save statements or SELECT")


def _serialize(obj) -> bytes:
    from thrift.protocol.TBinaryProtocol import TBinaryProtocolAccelerated
    from thrift.transport.TTransport import TMemoryBuffer

    buf = TMemoryBuffer()
    obj.write(TBinaryProtocolAccelerated(buf))
    return buf.getvalue()


# TFetchResultsResp up to the hasMoreRows value: field 1 (status, STRUCT) = SUCCESS, then field 2 header (BOOL).
_RESP_PREFIX = b"\x0c\x00\x01" + _serialize(SUCCESS) + b"\x02\x00\x02"

_NO_OP = ttypes.TOperationHandle(
    operationId=ttypes.THandleIdentifier(guid=b"\0" * 16, secret=b"\0" * 16),
    operationType=ttypes.TOperationType.UNKNOWN, hasResultSet=False)


def _encoder(op: Operation):
    from gateway.results.rowset import RowSetEncoder

    result = op.require_results()
    encoder = getattr(result, "encoder", None)
    if encoder is None:
        tz = op.session.spark.conf.get("spark.sql.session.timeZone")
        encoder = RowSetEncoder(result.spark_schema, result.arrow_schema, tz)
        result.encoder = encoder
    return encoder


def log_rowset(lines: list[str], protocol: int) -> ttypes.TRowSet:
    """Operation log lines as a one-STRING-column rowset."""
    if protocol >= V6:
        column = ttypes.TColumn(stringVal=ttypes.TStringColumn(values=lines, nulls=b""))
        return ttypes.TRowSet(startRowOffset=0, rows=[], columns=[column])
    rows = [ttypes.TRow(colVals=[ttypes.TColumnValue(stringVal=ttypes.TStringValue(value=line))]) for line in lines]
    return ttypes.TRowSet(startRowOffset=0, rows=rows)


__all__ = ["ThriftHandler", "ConnectionInfo"]
