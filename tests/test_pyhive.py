"""PyHive 0.7 (``pyhive.hive``) against the live gateway: types, large results, cancel, sessions, logs, errors."""

from __future__ import annotations

import time

import pytest
from pyhive import exc, hive
from TCLIService import ttypes

from tests import typecases as tc

OpState = ttypes.TOperationState


def connect(gateway, **kwargs) -> hive.Connection:
    kwargs.setdefault("username", "ph_user")
    return hive.connect(gateway.host, gateway.port, **kwargs)


@pytest.fixture(scope="module")
def conn(gateway):
    connection = connect(gateway)
    yield connection
    connection.close()


@pytest.fixture
def cur(conn):
    cursor = conn.cursor()
    yield cursor
    cursor.close()


def fetch_calls(connection: hive.Connection) -> list[ttypes.TFetchResultsReq]:
    """Record every FetchResults request the connection sends (the real RPC still runs)."""
    client = connection.client
    calls: list[ttypes.TFetchResultsReq] = []
    original = client.FetchResults

    def recording(req):
        calls.append(req)
        return original(req)

    client.FetchResults = recording
    return calls


def wait_state(cursor, done, limit: float = 60) -> ttypes.TGetOperationStatusResp:
    deadline = time.time() + limit
    while True:
        status = cursor.poll()
        if done(status.operationState) or time.time() > deadline:
            return status
        time.sleep(0.05)


def one_value(cursor, sql: str):
    cursor.execute(sql)
    rows = cursor.fetchall()
    assert len(rows) == 1 and len(rows[0]) == 1, rows
    return rows[0][0]


# ---------------------------------------------------------------- types


@pytest.mark.parametrize("auth", ["NONE", "CUSTOM", "NOSASL"])
def test_every_type(gateway, auth):
    kwargs = {"password": "secret"} if auth == "CUSTOM" else {}
    connection = connect(gateway, auth=auth, **kwargs)
    try:
        cursor = connection.cursor()
        cursor.execute(tc.types_sql())
        assert cursor.description == [(c.name, f"{c.type_name}_TYPE", None, None, None, None, True)
                                      for c in tc.COLUMNS]
        rows = cursor.fetchall()
        expected = tc.expected_rows(tc.COLUMNS, "pyhive")
        assert len(rows) == 3
        for got, want in zip(rows, expected, strict=True):
            for col, g, w in zip(tc.COLUMNS, got, want, strict=True):
                assert g == w and type(g) is type(w), f"{col.name}: {g!r} != {w!r}"
    finally:
        connection.close()


def test_null_bitmaps_through_pyhive_transport(conn, cur):
    """The TColumn nulls bitmaps for the all-NULL third row, read over PyHive's own Thrift client."""
    cur.execute(tc.types_sql())
    resp = conn.client.FetchResults(ttypes.TFetchResultsReq(cur._operationHandle, ttypes.TFetchOrientation.FETCH_NEXT,
                                                            100))
    assert resp.status.statusCode == ttypes.TStatusCode.SUCCESS_STATUS
    assert resp.results.rows == []
    assert len(resp.results.columns) == len(tc.COLUMNS)
    for col, tcol in zip(tc.COLUMNS, resp.results.columns, strict=True):
        (kind,) = [k for k, v in tcol.__dict__.items() if v is not None]
        inner = getattr(tcol, kind)
        assert len(inner.values) == 3, col.name
        assert inner.nulls == (b"\x07" if col.name == "c_null" else b"\x04"), (col.name, inner.nulls)
        want = {"BOOLEAN": "boolVal", "TINYINT": "byteVal", "SMALLINT": "i16Val", "INT": "i32Val",
                "BIGINT": "i64Val", "FLOAT": "doubleVal", "DOUBLE": "doubleVal", "BINARY": "binaryVal"}
        assert kind == want.get(col.type_name, "stringVal"), col.name
        if kind == "stringVal" and col.name != "c_null":
            assert inner.values[:2] == list(col.text), col.name
    end = conn.client.FetchResults(ttypes.TFetchResultsReq(cur._operationHandle, ttypes.TFetchOrientation.FETCH_NEXT,
                                                           100))
    assert [len(getattr(c, k).values) for c in end.results.columns for k, v in c.__dict__.items() if v is not None] \
        == [0] * len(tc.COLUMNS)


def test_year_month_intervals(cur):
    cur.execute(tc.YM_SQL)
    assert [d[:2] for d in cur.description] == [("c_ym", "INTERVAL_YEAR_MONTH_TYPE"), ("c_ym_arr", "ARRAY_TYPE"),
                                                 ("c_ym_st", "STRUCT_TYPE")]
    assert cur.fetchall() == tc.YM_ROWS
    cur.execute(tc.YM_SQL + " LIMIT 0")
    assert cur.fetchall() == []


def test_char_and_varchar_columns(cur):
    cur.execute("DROP TABLE IF EXISTS ph_chars")
    cur.execute("CREATE TABLE ph_chars (c CHAR(5), v VARCHAR(10), s STRING) USING parquet")
    cur.execute("INSERT INTO ph_chars VALUES ('ab', 'xyz', 'q'), (NULL, NULL, NULL)")
    cur.execute("SELECT c, v, s, length(c) AS n FROM ph_chars ORDER BY s NULLS LAST")
    assert [d[:2] for d in cur.description] == [("c", "CHAR_TYPE"), ("v", "VARCHAR_TYPE"), ("s", "STRING_TYPE"),
                                                 ("n", "INT_TYPE")]
    assert cur.fetchall() == [("ab   ", "xyz", "q", 5), (None, None, None, None)]
    # A CAST to CHAR/VARCHAR yields a plain STRING in Spark.
    cur.execute("SELECT CAST('ab' AS CHAR(5)) AS c, CAST('xyz' AS VARCHAR(10)) AS v")
    assert [d[:2] for d in cur.description] == [("c", "STRING_TYPE"), ("v", "STRING_TYPE")]
    assert cur.fetchall() == [("ab", "xyz")]


def test_session_time_zone_drives_timestamps(gateway):
    connection = connect(gateway, configuration={"spark.sql.session.timeZone": "America/Los_Angeles"})
    try:
        cursor = connection.cursor()
        assert one_value(cursor, "SELECT current_timezone()") == "America/Los_Angeles"
        cursor.execute("SELECT timestamp_micros(0) AS ts, TIMESTAMP_NTZ'2024-05-06 07:08:09' AS ntz")
        assert cursor.fetchall() == [(tc.dt.datetime(1969, 12, 31, 16, 0), tc.dt.datetime(2024, 5, 6, 7, 8, 9))]
    finally:
        connection.close()


# ---------------------------------------------------------------- larger results


@pytest.mark.slow
def test_large_result_fetchall(gateway):
    connection = connect(gateway)
    try:
        calls = fetch_calls(connection)
        cursor = connection.cursor()
        cursor.execute(tc.BIG_SQL)
        assert [d[:2] for d in cursor.description] == [("id", "BIGINT_TYPE"), ("name", "STRING_TYPE"),
                                                        ("quarter", "DOUBLE_TYPE")]
        rows = cursor.fetchall()
        assert len(rows) == tc.BIG_ROWS
        assert sum(r[0] for r in rows) == tc.BIG_ID_SUM
        assert sum(r[2] for r in rows) == tc.BIG_QUARTER_SUM
        for i in (0, 1, 999, 1000, 1001, 123_457, tc.BIG_ROWS - 1):
            assert rows[i] == tc.big_row(i)
        assert all(r[0] == i for i, r in enumerate(rows))
        # arraysize 1000: 250 full batches, then the empty batch that ends the result.
        assert [c.maxRows for c in calls] == [1000] * 251
    finally:
        connection.close()


@pytest.mark.slow
def test_large_result_fetchmany_sizes(cur):
    cur.arraysize = 4096
    cur.execute(tc.BIG_SQL)
    sizes = [1, 2, 999, 1001, 4095, 4097, 10_000, 65_536]
    got: list[tuple] = []
    i = 0
    while True:
        size = sizes[i % len(sizes)]
        batch = cur.fetchmany(size)
        if not batch:
            break
        assert len(batch) == size or len(got) + len(batch) == tc.BIG_ROWS
        got.extend(batch)
        i += 1
    assert len(got) == tc.BIG_ROWS
    assert got[0] == tc.big_row(0) and got[-1] == tc.big_row(tc.BIG_ROWS - 1)
    assert sum(r[0] for r in got) == tc.BIG_ID_SUM
    assert [r[0] for r in got] == list(range(tc.BIG_ROWS))
    assert cur.fetchone() is None and cur.fetchmany(5) == []


def test_order_by_desc_keeps_order(cur):
    cur.arraysize = 3000
    cur.execute("SELECT id, concat('v', CAST(id AS STRING)) AS s FROM range(0, 40000, 1, 4) ORDER BY id DESC")
    rows = cur.fetchall()
    assert rows == [(i, f"v{i}") for i in range(39_999, -1, -1)]


# ---------------------------------------------------------------- execution control


@pytest.mark.slow
def test_cancel_async_query(gateway):
    connection = connect(gateway)
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT count(*) FROM range(100000000000)", async_=True)
        status = wait_state(cursor, lambda s: s != OpState.PENDING_STATE and s != OpState.INITIALIZED_STATE)
        assert status.operationState == OpState.RUNNING_STATE
        time.sleep(1)
        assert cursor.poll().operationState == OpState.RUNNING_STATE
        start = time.time()
        cursor.cancel()
        status = wait_state(cursor, lambda s: s != OpState.RUNNING_STATE, limit=30)
        assert status.operationState == OpState.CANCELED_STATE
        assert time.time() - start < 5
        with pytest.raises(exc.OperationalError):
            cursor.fetchall()
        # The cores are free again: a real query completes promptly on the same connection.
        begin = time.time()
        assert one_value(connection.cursor(), "SELECT count(*) FROM range(20000000)") == 20_000_000
        assert time.time() - begin < 20
    finally:
        connection.close()


def test_async_execute_then_poll_and_fetch(cur):
    cur.execute("SELECT k, count(*) AS n FROM (SELECT id % 3 AS k FROM range(300000)) GROUP BY k ORDER BY k",
                async_=True)
    status = wait_state(cur, lambda s: s not in (OpState.INITIALIZED_STATE, OpState.PENDING_STATE,
                                                 OpState.RUNNING_STATE))
    assert status.operationState == OpState.FINISHED_STATE
    assert cur.fetchall() == [(0, 100000), (1, 100000), (2, 100000)]


def test_fetch_logs(cur):
    cur.execute("SELECT count(*) AS n FROM range(123456)")
    assert cur.fetchall() == [(123456,)]
    logs = cur.fetch_logs()
    assert logs and all(isinstance(line, str) for line in logs)
    assert any("range(123456)" in line for line in logs), logs
    assert cur.fetch_logs() == []  # incremental: nothing new since the last call


# ---------------------------------------------------------------- sessions


def test_sessions_are_isolated(gateway):
    a, b = connect(gateway, username="ph_a"), connect(gateway, username="ph_b")
    try:
        ca, cb = a.cursor(), b.cursor()
        cb.execute("SET spark.sql.shuffle.partitions")
        before = cb.fetchall()
        ca.execute("CREATE OR REPLACE TEMPORARY VIEW ph_only_in_a AS SELECT 1 AS x")
        ca.execute("SET spark.sql.shuffle.partitions=3")
        ca.execute("SET spark.sql.shuffle.partitions")
        assert ca.fetchall() == [("spark.sql.shuffle.partitions", "3")]
        assert one_value(ca, "SELECT x FROM ph_only_in_a") == 1
        with pytest.raises(exc.OperationalError) as err:
            cb.execute("SELECT x FROM ph_only_in_a")
        assert err.value.args[0].status.sqlState == "42P01"
        cb.execute("SET spark.sql.shuffle.partitions")
        assert cb.fetchall() == before != [("spark.sql.shuffle.partitions", "3")]
        assert one_value(ca, "SELECT current_user()") == "ph_a"
        assert one_value(cb, "SELECT current_user()") == "ph_b"
    finally:
        a.close()
        b.close()


def test_configuration_raw_keys_are_applied(gateway):
    connection = connect(gateway, configuration={
        "spark.sql.shuffle.partitions": "7",
        "set:hiveconf:spark.sql.ansi.enabled": "false",
        "set:hivevar:answer": "41",
    })
    try:
        cursor = connection.cursor()
        cursor.execute("SET spark.sql.shuffle.partitions")
        assert cursor.fetchall() == [("spark.sql.shuffle.partitions", "7")]
        cursor.execute("SET spark.sql.ansi.enabled")
        assert cursor.fetchall() == [("spark.sql.ansi.enabled", "false")]
        assert one_value(cursor, "SELECT 1 / 0") is None  # non-ANSI division by zero
        assert one_value(cursor, "SELECT ${answer} + 1") == 42
    finally:
        connection.close()


def test_nosasl_and_database_argument(gateway):
    setup = connect(gateway)
    try:
        setup.cursor().execute("CREATE DATABASE IF NOT EXISTS ph_db")
    finally:
        setup.close()
    connection = connect(gateway, auth="NOSASL", username="ph_nosasl", database="ph_db")
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT current_user(), current_database()")
        assert cursor.fetchall() == [("ph_nosasl", "ph_db")]
    finally:
        connection.close()


# ---------------------------------------------------------------- errors


def test_errors_raise_operational_error(cur):
    with pytest.raises(exc.OperationalError) as err:
        cur.execute("SELECT * FROM ph_no_such_table")
    status = err.value.args[0].status
    assert status.sqlState == "42P01"
    assert "TABLE_OR_VIEW_NOT_FOUND" in status.errorMessage and "ph_no_such_table" in status.errorMessage

    with pytest.raises(exc.OperationalError) as err:
        cur.execute("SELEC 1")
    assert err.value.args[0].status.sqlState == "42601"
    assert "PARSE_SYNTAX_ERROR" in err.value.args[0].status.errorMessage

    with pytest.raises(exc.OperationalError) as err:
        cur.execute("SELECT 1 / 0")
        cur.fetchall()
    assert err.value.args[0].status.sqlState == "22012"
    assert "DIVIDE_BY_ZERO" in err.value.args[0].status.errorMessage

    # A failure after the first rows were produced still reaches the client as an error, not as short results.
    with pytest.raises(exc.OperationalError) as err:
        cur.execute("SELECT if(id = 150000, raise_error('boom in partition'), id) FROM range(0, 200000, 1, 4)")
        cur.fetchall()
    assert err.value.args[0].status.sqlState == "P0001"
    assert "boom in partition" in err.value.args[0].status.errorMessage

    # The cursor and session are still usable.
    assert one_value(cur, "SELECT 'still alive'") == "still alive"
