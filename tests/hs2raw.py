"""A bare TCLIService client over our generated IDL, for protocol-level tests (any version, any handle)."""

from __future__ import annotations

import socket
import struct

from thrift.protocol.TBinaryProtocol import TBinaryProtocolAccelerated
from thrift.transport.TSocket import TSocket
from thrift.transport.TTransport import TBufferedTransport, TFramedTransport

from thrift_idl.gen.TCLIService import TCLIService, ttypes

T = ttypes


def sasl_plain_socket(host: str, port: int, user: str, password: str, timeout: float = 60) -> socket.socket:
    """Open a socket and run the client side of SASL PLAIN; raises ConnectionError when refused."""
    sock = socket.create_connection((host, port), timeout=timeout)

    def send(status: int, payload: bytes) -> None:
        sock.sendall(struct.pack(">BI", status, len(payload)) + payload)

    send(1, b"PLAIN")
    send(2, b"\0" + user.encode() + b"\0" + password.encode())
    header = recv_exact(sock, 5)
    status, length = struct.unpack(">BI", header)
    payload = recv_exact(sock, length) if length else b""
    if status != 5:
        sock.close()
        raise ConnectionError(f"SASL status {status}: {payload.decode(errors='replace')}")
    return sock


def recv_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


class RawClient:
    """``TCLIService.Client`` over SASL PLAIN (framed) or NOSASL (buffered) with a chosen protocol version."""

    def __init__(self, host: str, port: int, *, sasl: bool = True, user: str = "raw", password: str = "x",
                 timeout: float = 120) -> None:
        if sasl:
            sock = sasl_plain_socket(host, port, user, password, timeout)
        else:
            sock = socket.create_connection((host, port), timeout=timeout)
        tsock = TSocket()
        tsock.setHandle(sock)
        self.sock = sock
        self.transport = TFramedTransport(tsock) if sasl else TBufferedTransport(tsock)
        self.client = TCLIService.Client(TBinaryProtocolAccelerated(self.transport))
        self.session = None
        self.protocol = None

    def open(self, version: int = T.TProtocolVersion.HIVE_CLI_SERVICE_PROTOCOL_V10, username: str | None = None,
             configuration: dict | None = None) -> T.TOpenSessionResp:
        resp = self.client.OpenSession(T.TOpenSessionReq(client_protocol=version, username=username,
                                                         configuration=configuration))
        self.session = resp.sessionHandle
        self.protocol = resp.serverProtocolVersion
        return resp

    def execute(self, sql: str, run_async: bool = False, timeout: int = 0, overlay: dict | None = None):
        return self.client.ExecuteStatement(T.TExecuteStatementReq(self.session, sql, overlay, run_async, timeout))

    def wait(self, handle, progress: bool = False, limit: float = 120) -> T.TGetOperationStatusResp:
        import time

        deadline = time.time() + limit
        while True:
            resp = self.client.GetOperationStatus(T.TGetOperationStatusReq(handle, progress))
            if resp.operationState not in (T.TOperationState.INITIALIZED_STATE, T.TOperationState.PENDING_STATE,
                                           T.TOperationState.RUNNING_STATE) or time.time() > deadline:
                return resp

    def fetch(self, handle, max_rows: int = 1000, orientation: int = T.TFetchOrientation.FETCH_NEXT,
              fetch_type: int = 0) -> T.TFetchResultsResp:
        return self.client.FetchResults(T.TFetchResultsReq(handle, orientation, max_rows, fetch_type))

    def fetch_all_columns(self, handle, max_rows: int = 1000) -> list[list]:
        """Every row of a columnar result as Python lists per column (nulls as None)."""
        columns: list[list] | None = None
        while True:
            resp = self.fetch(handle, max_rows)
            assert resp.status.statusCode == 0, resp.status
            cols = resp.results.columns or []
            if columns is None:
                columns = [[] for _ in cols]
            if not cols or not column_values(cols[0])[0]:
                return columns
            for i, col in enumerate(cols):
                values, nulls = column_values(col)
                columns[i].extend(None if is_null(nulls, j) else v for j, v in enumerate(values))

    def close(self) -> None:
        try:
            if self.session is not None:
                self.client.CloseSession(T.TCloseSessionReq(self.session))
        finally:
            self.transport.close()


def column_values(col: T.TColumn) -> tuple[list, bytes]:
    for name in ("boolVal", "byteVal", "i16Val", "i32Val", "i64Val", "doubleVal", "stringVal", "binaryVal"):
        inner = getattr(col, name)
        if inner is not None:
            return inner.values, inner.nulls
    raise AssertionError("empty TColumn")


def is_null(nulls: bytes, i: int) -> bool:
    return i // 8 < len(nulls) and bool(nulls[i // 8] & (1 << (i % 8)))
