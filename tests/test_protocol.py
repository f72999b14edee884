"""Protocol-level behaviour against the live gateway, with a bare TCLIService client."""

from __future__ import annotations

import contextlib
import socket
import struct
import time
import uuid

import pytest
from thrift.protocol.TBinaryProtocol import TBinaryProtocolAccelerated
from thrift.Thrift import TApplicationException, TMessageType
from thrift.transport.TTransport import TMemoryBuffer

from tests.hs2raw import RawClient, T, column_values, recv_exact, sasl_plain_socket

V = T.TProtocolVersion
OK = T.TStatusCode.SUCCESS_STATUS
ERR = T.TStatusCode.ERROR_STATUS


@contextlib.contextmanager
def two_sessions(gateway):
    """Two open sessions on separate connections, closed afterwards."""
    a, b = RawClient(gateway.host, gateway.port), RawClient(gateway.host, gateway.port)
    try:
        a.open()
        b.open()
        yield a, b
    finally:
        a.close()
        b.close()


@pytest.fixture
def raw(gateway):
    client = RawClient(gateway.host, gateway.port)
    client.open()
    yield client
    client.close()


@pytest.mark.parametrize("version", list(range(0, 11)))
def test_version_negotiation(gateway, version):
    client = RawClient(gateway.host, gateway.port)
    try:
        resp = client.open(version)
        assert resp.status.statusCode == OK
        assert resp.serverProtocolVersion == min(version, V.HIVE_CLI_SERVICE_PROTOCOL_V10)
        assert resp.configuration["hive.server2.thrift.resultset.default.fetch.size"].isdigit()
        op = client.execute("select 7 as x, 'a' as y")
        assert op.status.statusCode == OK, op.status
        fetched = client.fetch(op.operationHandle)
        assert fetched.status.statusCode == OK
        rowset = fetched.results
        if version < V.HIVE_CLI_SERVICE_PROTOCOL_V6:
            assert rowset.columns is None or rowset.columns == []
            assert len(rowset.rows) == 1
            assert rowset.rows[0].colVals[0].i32Val.value == 7
            assert rowset.rows[0].colVals[1].stringVal.value == "a"
        else:
            assert rowset.rows == []
            assert column_values(rowset.columns[0])[0] == [7]
    finally:
        client.close()


def test_unknown_and_forged_handles(raw):
    bogus = T.TSessionHandle(T.THandleIdentifier(uuid.uuid4().bytes, uuid.uuid4().bytes))
    resp = raw.client.ExecuteStatement(T.TExecuteStatementReq(bogus, "select 1"))
    assert resp.status.statusCode == ERR and "invalid session handle" in resp.status.errorMessage
    forged = T.TSessionHandle(T.THandleIdentifier(raw.session.sessionId.guid, b"\1" * 16))
    assert raw.client.GetInfo(T.TGetInfoReq(forged, T.TGetInfoType.CLI_DBMS_NAME)).status.statusCode == ERR
    op = T.TOperationHandle(T.THandleIdentifier(uuid.uuid4().bytes, uuid.uuid4().bytes), 0, True)
    for resp in (raw.client.GetOperationStatus(T.TGetOperationStatusReq(op)), raw.fetch(op),
                 raw.client.CloseOperation(T.TCloseOperationReq(op)),
                 raw.client.CancelOperation(T.TCancelOperationReq(op))):
        assert resp.status.statusCode == ERR
        assert "invalid operation handle" in resp.status.errorMessage
    malformed = T.TOperationHandle(T.THandleIdentifier(b"short", b""), 0, True)
    assert raw.fetch(malformed).status.statusCode == ERR
    # The connection is still healthy afterwards.
    assert raw.execute("select 1").status.statusCode == OK


def test_closed_operation_and_fetch_after_close(raw):
    op = raw.execute("select * from range(10)").operationHandle
    assert raw.fetch(op, 3).status.statusCode == OK
    assert raw.client.CloseOperation(T.TCloseOperationReq(op)).status.statusCode == OK
    assert raw.fetch(op).status.statusCode == ERR
    assert raw.client.CloseOperation(T.TCloseOperationReq(op)).status.statusCode == ERR
    assert raw.client.GetOperationStatus(T.TGetOperationStatusReq(op)).status.statusCode == ERR


def test_fetch_first_rewinds_and_end_is_an_empty_batch(raw):
    op = raw.execute("select id from range(25)").operationHandle
    first = column_values(raw.fetch(op, 10).results.columns[0])[0]
    assert first == list(range(10))
    second = raw.fetch(op, 10)
    assert second.results.startRowOffset == 10
    assert column_values(second.results.columns[0])[0] == list(range(10, 20))
    again = raw.fetch(op, 7, orientation=T.TFetchOrientation.FETCH_FIRST)
    assert again.results.startRowOffset == 0
    assert column_values(again.results.columns[0])[0] == list(range(7))
    rest = raw.fetch(op, 100)
    assert column_values(rest.results.columns[0])[0] == list(range(7, 25))
    end = raw.fetch(op, 100)
    assert column_values(end.results.columns[0])[0] == [] and end.hasMoreRows is False
    prior = raw.fetch(op, 10, orientation=T.TFetchOrientation.FETCH_PRIOR)
    assert prior.status.statusCode == ERR and "orientation" in prior.status.errorMessage


def test_errors_carry_sqlstate_sync_and_async(raw):
    sync = raw.execute("select * from no_such_table_xyz")
    assert sync.status.statusCode == ERR
    assert sync.status.sqlState == "42P01"
    assert "no_such_table_xyz" in sync.status.errorMessage
    parse = raw.execute("selec 1")
    assert parse.status.statusCode == ERR and parse.status.sqlState.startswith("42")
    handle = raw.execute("select * from no_such_table_xyz", run_async=True).operationHandle
    status = raw.wait(handle)
    assert status.operationState == T.TOperationState.ERROR_STATE
    assert status.sqlState == "42P01" and "no_such_table_xyz" in status.errorMessage
    assert raw.execute("   ").status.statusCode == ERR


def _call_unknown(sock: socket.socket, name: str) -> TApplicationException:
    buf = TMemoryBuffer()
    proto = TBinaryProtocolAccelerated(buf)
    proto.writeMessageBegin(name, TMessageType.CALL, 1)
    proto.writeStructBegin("args")
    proto.writeFieldStop()
    proto.writeStructEnd()
    proto.writeMessageEnd()
    body = buf.getvalue()
    sock.sendall(struct.pack(">i", len(body)) + body)
    (length,) = struct.unpack(">i", recv_exact(sock, 4))
    reply = TBinaryProtocolAccelerated(TMemoryBuffer(recv_exact(sock, length)))
    _, kind, _ = reply.readMessageBegin()
    assert kind == TMessageType.EXCEPTION
    exc = TApplicationException()
    exc.read(reply)
    return exc


def test_getlog_is_unknown_method_and_connection_survives(gateway):
    sock = sasl_plain_socket(gateway.host, gateway.port, "u", "p")
    try:
        exc = _call_unknown(sock, "GetLog")
        assert exc.type == TApplicationException.UNKNOWN_METHOD
        assert _call_unknown(sock, "NoSuchRpc").type == TApplicationException.UNKNOWN_METHOD
    finally:
        sock.close()


def test_getinfo_queryid_clientinfo(raw):
    name = raw.client.GetInfo(T.TGetInfoReq(raw.session, T.TGetInfoType.CLI_DBMS_NAME))
    assert name.infoValue.stringValue == "Spark SQL"
    ver = raw.client.GetInfo(T.TGetInfoReq(raw.session, T.TGetInfoType.CLI_DBMS_VER)).infoValue.stringValue
    assert ver.startswith("4.")
    quote = raw.client.GetInfo(T.TGetInfoReq(raw.session, T.TGetInfoType.CLI_IDENTIFIER_QUOTE_CHAR))
    assert quote.infoValue.stringValue == "`"
    length = raw.client.GetInfo(T.TGetInfoReq(raw.session, T.TGetInfoType.CLI_MAX_TABLE_NAME_LEN))
    assert length.infoValue.lenValue == 128
    op = raw.execute("select 1").operationHandle
    query_id = raw.client.GetQueryId(T.TGetQueryIdReq(op)).queryId
    assert str(uuid.UUID(bytes=op.operationId.guid)) == query_id
    resp = raw.client.SetClientInfo(T.TSetClientInfoReq(raw.session, {"ApplicationName": "pytest"}))
    assert resp.status.statusCode == OK


def _server_still_serves(gateway) -> None:
    client = RawClient(gateway.host, gateway.port)
    try:
        client.open()
        op = client.execute("select 42")
        assert column_values(client.fetch(op.operationHandle).results.columns[0])[0] == [42]
    finally:
        client.close()


def _assert_dropped(sock: socket.socket) -> None:
    sock.settimeout(30)
    with contextlib.suppress(ConnectionResetError):
        assert sock.recv(1024) == b""


def test_garbage_bytes_are_dropped(gateway):
    sock = socket.create_connection((gateway.host, gateway.port), timeout=30)
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    _assert_dropped(sock)
    _server_still_serves(gateway)


def test_garbage_after_sasl_is_dropped(gateway):
    sock = sasl_plain_socket(gateway.host, gateway.port, "u", "p")
    sock.sendall(struct.pack(">i", 12) + b"\xff" * 12)
    _assert_dropped(sock)
    _server_still_serves(gateway)


def test_oversized_frame_is_dropped(gateway):
    sock = sasl_plain_socket(gateway.host, gateway.port, "u", "p")
    sock.sendall(struct.pack(">i", 2_000_000_000))
    _assert_dropped(sock)
    negative = sasl_plain_socket(gateway.host, gateway.port, "u", "p")
    negative.sendall(struct.pack(">i", -5))
    _assert_dropped(negative)
    _server_still_serves(gateway)


def test_nosasl_huge_string_length_is_dropped(gateway):
    sock = socket.create_connection((gateway.host, gateway.port), timeout=30)
    # Strict binary message header followed by a method-name length of 1.9 GB.
    sock.sendall(struct.pack(">I", 0x80010001) + struct.pack(">i", 1_900_000_000) + b"abc")
    _assert_dropped(sock)
    _server_still_serves(gateway)


def test_client_vanishing_mid_frame(gateway):
    for _ in range(5):
        sock = sasl_plain_socket(gateway.host, gateway.port, "u", "p")
        sock.sendall(struct.pack(">i", 1000) + b"\x80\x01\x00\x01" + b"\0" * 20)
        sock.close()
        half = socket.create_connection((gateway.host, gateway.port), timeout=30)
        half.sendall(b"\x01\x00\x00")  # half a SASL header
        half.close()
    _server_still_serves(gateway)


def test_bad_sasl_mechanism(gateway):
    sock = socket.create_connection((gateway.host, gateway.port), timeout=30)
    sock.sendall(struct.pack(">BI", 1, 6) + b"GSSAPI")
    status = recv_exact(sock, 1)[0]
    assert status == 3  # BAD
    _server_still_serves(gateway)


def test_query_timeout_gives_timedout(raw):
    start = time.time()
    handle = raw.execute("select count(*) from range(100000000000)", run_async=True, timeout=2).operationHandle
    status = raw.wait(handle, limit=60)
    assert status.operationState == T.TOperationState.TIMEDOUT_STATE
    assert time.time() - start < 30
    assert raw.fetch(handle).status.statusCode == ERR


def test_cancel_stops_a_long_query(raw):
    handle = raw.execute("select count(*) from range(100000000000)", run_async=True).operationHandle
    time.sleep(2)
    assert raw.client.GetOperationStatus(T.TGetOperationStatusReq(handle)).operationState == \
        T.TOperationState.RUNNING_STATE
    start = time.time()
    assert raw.client.CancelOperation(T.TCancelOperationReq(handle)).status.statusCode == OK
    status = raw.wait(handle, limit=30)
    assert status.operationState == T.TOperationState.CANCELED_STATE
    assert time.time() - start < 5
    # Spark's cores are free again: a real query finishes promptly.
    begin = time.time()
    op = raw.execute("select count(*) from range(10000000)")
    assert column_values(raw.fetch(op.operationHandle).results.columns[0])[0] == [10000000]
    assert time.time() - begin < 20


def test_long_poll_does_not_spin(raw):
    handle = raw.execute("select count(*) from range(100000000000)", run_async=True, timeout=4).operationHandle
    calls = 0
    start = time.time()
    while time.time() - start < 30:
        calls += 1
        state = raw.client.GetOperationStatus(T.TGetOperationStatusReq(handle)).operationState
        if state == T.TOperationState.TIMEDOUT_STATE:
            break
    assert calls <= 12, f"{calls} status calls in {time.time() - start:.1f} s: the server does not long-poll"


def test_progress_and_operation_log(raw):
    handle = raw.execute("select count(*) from range(300000000)", run_async=True).operationHandle
    saw_progress = False
    deadline = time.time() + 120
    while time.time() < deadline:
        status = raw.client.GetOperationStatus(T.TGetOperationStatusReq(handle, True))
        progress = status.progressUpdateResponse
        assert progress is not None
        assert progress.headerNames[0] == "STAGES"
        if progress.rows:
            saw_progress = True
            assert progress.rows[0][0].startswith("Stage-")
        if status.operationState == T.TOperationState.FINISHED_STATE:
            break
    assert saw_progress
    assert status.progressUpdateResponse.progressedPercentage == 1.0
    logs = raw.fetch(handle, 1000, fetch_type=1)
    lines = column_values(logs.results.columns[0])[0]
    text = "\n".join(lines)
    assert "Running statement" in text and "Stage" in text
    assert raw.fetch(handle, 1000, fetch_type=1).results.columns[0].stringVal.values == []  # incremental
    again = raw.fetch(handle, 1000, T.TFetchOrientation.FETCH_FIRST, fetch_type=1)
    assert again.results.columns[0].stringVal.values[: len(lines)] == lines


def test_session_configuration_is_applied(gateway):
    client = RawClient(gateway.host, gateway.port)
    try:
        resp = client.open(configuration={
            "use:database": "default",
            "set:hiveconf:spark.sql.shuffle.partitions": "7",
            "set:hivevar:answer": "41",
            "spark.sql.ansi.enabled": "false",
        })
        assert resp.status.statusCode == OK
        op = client.execute("select ${answer} + 1 as a, ${hivevar:answer} as b").operationHandle
        assert client.fetch_all_columns(op) == [[42], [41]]
        op = client.execute("set spark.sql.shuffle.partitions").operationHandle
        assert client.fetch_all_columns(op)[1] == ["7"]
        op = client.execute("set spark.sql.ansi.enabled").operationHandle
        assert client.fetch_all_columns(op)[1] == ["false"]
        overlay = client.execute("set spark.sql.shuffle.partitions", overlay={"spark.sql.shuffle.partitions": "3"})
        assert client.fetch_all_columns(overlay.operationHandle)[1] == ["3"]
        op = client.execute("set spark.sql.shuffle.partitions").operationHandle
        assert client.fetch_all_columns(op)[1] == ["7"]  # the overlay was for one statement only
    finally:
        client.close()
    bad = RawClient(gateway.host, gateway.port)
    try:
        resp = bad.open(configuration={"use:database": "no_such_db_xyz"})
        assert resp.status.statusCode == ERR and "no_such_db_xyz" in resp.status.errorMessage
        resp = bad.open(configuration={"hive.server2.proxy.user": "root"})
        assert resp.status.statusCode == ERR and "impersonation" in resp.status.errorMessage
    finally:
        bad.transport.close()


def test_sessions_are_isolated(gateway):
    a, b = RawClient(gateway.host, gateway.port), RawClient(gateway.host, gateway.port)
    try:
        a.open()
        b.open()
        a.execute("create or replace temp view only_in_a as select 1 as x")
        a.execute("set spark.sql.shuffle.partitions=3")
        a.execute("create database if not exists iso_db")
        a.execute("use iso_db")
        assert b.execute("select * from only_in_a").status.sqlState == "42P01"
        assert b.fetch_all_columns(b.execute("set spark.sql.shuffle.partitions").operationHandle)[1] != ["3"]
        assert b.fetch_all_columns(b.execute("select current_database()").operationHandle) == [["default"]]
        assert a.fetch_all_columns(a.execute("select current_database()").operationHandle) == [["iso_db"]]
        assert a.fetch_all_columns(a.execute("select x from only_in_a").operationHandle) == [[1]]
    finally:
        a.close()
        b.close()


def test_close_session_cancels_running_operations(gateway):
    a = RawClient(gateway.host, gateway.port)
    a.open()
    handle = a.execute("select count(*) from range(100000000000)", run_async=True).operationHandle
    time.sleep(1.5)
    assert a.client.CloseSession(T.TCloseSessionReq(a.session)).status.statusCode == OK
    status = a.client.GetOperationStatus(T.TGetOperationStatusReq(handle))
    assert status.status.statusCode == ERR  # closed with its session
    a.session = None
    a.close()
    _server_still_serves(gateway)


def test_nosasl_client_on_the_same_port(gateway):
    client = RawClient(gateway.host, gateway.port, sasl=False)
    try:
        resp = client.open(username="nosasl_user")
        assert resp.status.statusCode == OK
        op = client.execute("select current_user()").operationHandle
        assert client.fetch_all_columns(op) == [["nosasl_user"]]
    finally:
        client.close()


def test_get_functions_lists_builtins_and_session_functions(gateway):
    with two_sessions(gateway) as (a, b):
        made = a.execute("create temporary function plus_one_fn(x int) returns int return x + 1")
        assert made.status.statusCode == OK, made.status
        assert a.fetch_all_columns(a.execute("select plus_one_fn(41)").operationHandle) == [[42]]
        resp = a.client.GetFunctions(T.TGetFunctionsReq(a.session, None, None, "plus_one%"))
        cols = a.fetch_all_columns(resp.operationHandle)
        assert cols[2] == ["plus_one_fn"]
        other = b.client.GetFunctions(T.TGetFunctionsReq(b.session, None, None, "plus_one%"))
        assert b.fetch_all_columns(other.operationHandle)[2] == []  # session functions stay in their session
        builtin = a.client.GetFunctions(T.TGetFunctionsReq(a.session, None, None, "date_add"))
        names, remarks = (lambda c: (c[2], c[3]))(a.fetch_all_columns(builtin.operationHandle))
        assert names == ["date_add"] and "num_days" in remarks[0]


def test_other_sessions_see_recreated_tables(gateway):
    with two_sessions(gateway) as (a, b):
        assert a.execute("create table recreated_t (x int) using parquet").status.statusCode == OK
        a.execute("insert into recreated_t values (1)")
        assert b.fetch_all_columns(b.execute("select * from recreated_t").operationHandle) == [[1]]
        a.execute("drop table recreated_t")
        a.execute("create table recreated_t (y string) using parquet")
        a.execute("insert into recreated_t values ('new')")
        # b cached the old relation (schema and files); it must not read stale metadata.
        assert b.fetch_all_columns(b.execute("select * from recreated_t").operationHandle) == [["new"]]
        a.execute("insert into recreated_t values ('more')")
        assert b.fetch_all_columns(b.execute("select count(*) from recreated_t").operationHandle) == [[2]]
        a.execute("drop table if exists recreated_t")
