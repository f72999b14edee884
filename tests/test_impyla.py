"""impyla 0.24 (``impala.dbapi``) against the live gateway, over SASL PLAIN and NOSASL."""

from __future__ import annotations

import time

import pytest
from impala._thrift_gen.TCLIService.ttypes import TGetColumnsReq
from impala.dbapi import connect as impala_connect
from impala.error import HiveServer2Error, OperationalError

from tests import typecases as tc


def connect(gateway, mechanism: str = "PLAIN"):
    if mechanism == "PLAIN":
        return impala_connect(gateway.host, gateway.port, auth_mechanism="PLAIN", user="imp_user", password="pw",
                              timeout=120)
    return impala_connect(gateway.host, gateway.port, auth_mechanism="NOSASL", timeout=120)


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


def fetch_calls(connection) -> list:
    """Record the FetchResults requests the connection sends (the real RPC still runs)."""
    client = connection.service.client
    calls: list = []
    original = client.FetchResults

    def recording(req):
        calls.append(req)
        return original(req)

    client.FetchResults = recording
    return calls


def one_value(cursor, sql: str):
    cursor.execute(sql)
    rows = cursor.fetchall()
    assert len(rows) == 1 and len(rows[0]) == 1, rows
    return rows[0][0]


# ---------------------------------------------------------------- types


@pytest.mark.parametrize("mechanism", ["PLAIN", "NOSASL"])
def test_every_type(gateway, mechanism):
    connection = connect(gateway, mechanism)
    try:
        cursor = connection.cursor()
        cursor.execute(tc.types_sql(tc.IMPYLA_TYPES))
        assert cursor.description == [(c.name, c.type_name, None, None, c.precision, c.scale, None)
                                      for c in tc.IMPYLA_TYPES]
        rows = cursor.fetchall()
        expected = tc.expected_rows(tc.IMPYLA_TYPES, "impyla")
        assert len(rows) == 3
        for got, want in zip(rows, expected, strict=True):
            for col, g, w in zip(tc.IMPYLA_TYPES, got, want, strict=True):
                assert g == w and type(g) is type(w), f"{col.name}: {g!r} != {w!r}"
    finally:
        connection.close()


def test_unconverted_values_are_the_hive_text(conn):
    """With convert_types=False impyla hands back the server's strings: the Hive text forms."""
    cursor = conn.cursor(convert_types=False)
    try:
        cursor.execute("SELECT CAST(-123.45 AS DECIMAL(5, 2)) AS d, TIMESTAMP'2024-01-02 03:04:05.5' AS ts, "
                       "TIMESTAMP'2024-01-02 03:04:05' AS ts0, DATE'2024-02-29' AS dt, "
                       "CAST('0.000000000000000001' AS DECIMAL(38, 18)) AS tiny")
        assert cursor.fetchall() == [("-123.45", "2024-01-02 03:04:05.5", "2024-01-02 03:04:05", "2024-02-29",
                                      "0.000000000000000001")]
    finally:
        cursor.close()


def test_char_and_varchar_columns(cur):
    cur.execute("DROP TABLE IF EXISTS imp_chars")
    cur.execute("CREATE TABLE imp_chars (c CHAR(5), v VARCHAR(10)) USING parquet")
    cur.execute("INSERT INTO imp_chars VALUES ('ab', 'xyz'), (NULL, NULL)")
    cur.execute("SELECT c, v FROM imp_chars ORDER BY c NULLS LAST")
    assert [d[:2] for d in cur.description] == [("c", "CHAR"), ("v", "VARCHAR")]
    assert cur.fetchall() == [("ab   ", "xyz"), (None, None)]


# ---------------------------------------------------------------- larger results


@pytest.mark.slow
def test_large_result_fetchall_and_batches(gateway):
    connection = connect(gateway, "NOSASL")
    try:
        calls = fetch_calls(connection)
        cursor = connection.cursor()
        cursor.arraysize = 1000  # impyla fetches ``arraysize`` rows per FetchResults (default 10240)
        cursor.execute(tc.BIG_SQL)
        assert [d[:2] for d in cursor.description] == [("id", "BIGINT"), ("name", "STRING"), ("quarter", "DOUBLE")]
        rows = cursor.fetchall()
        assert len(rows) == tc.BIG_ROWS
        assert sum(r[0] for r in rows) == tc.BIG_ID_SUM
        assert sum(r[2] for r in rows) == tc.BIG_QUARTER_SUM
        for i in (0, 1, 999, 1000, 1001, 200_001, tc.BIG_ROWS - 1):
            assert rows[i] == tc.big_row(i)
        assert all(r[0] == i for i, r in enumerate(rows))
        # 250 full batches; impyla stops at an empty batch once hasMoreRows is false.
        result_calls = [c for c in calls if not c.fetchType]
        assert 250 <= len(result_calls) <= 251
        assert {c.maxRows for c in result_calls} == {1000}
    finally:
        connection.close()


@pytest.mark.slow
def test_large_result_fetchmany_and_iteration(cur):
    cur.execute(tc.BIG_SQL)
    got: list[tuple] = []
    for size in (1, 7, 1023, 1025, 50_000):
        got.extend(cur.fetchmany(size))
    assert len(got) == 1 + 7 + 1023 + 1025 + 50_000
    got.extend(cur)  # the cursor is an iterator over the remaining rows
    assert len(got) == tc.BIG_ROWS
    assert [r[0] for r in got] == list(range(tc.BIG_ROWS))
    assert got[123_456] == tc.big_row(123_456)
    assert sum(r[2] for r in got) == tc.BIG_QUARTER_SUM
    assert cur.fetchone() is None


def test_order_by_desc_keeps_order(cur):
    cur.execute("SELECT id, concat('v', CAST(id AS STRING)) AS s FROM range(0, 40000, 1, 4) ORDER BY id DESC")
    assert cur.fetchall() == [(i, f"v{i}") for i in range(39_999, -1, -1)]


# ---------------------------------------------------------------- metadata

META_DDL = "CREATE TABLE IF NOT EXISTS imp_meta (id INT, name STRING, price DECIMAL(10, 2)) USING parquet"


@pytest.fixture(scope="module")
def meta_table(conn):
    cursor = conn.cursor()
    cursor.execute(META_DDL)
    cursor.close()
    return "imp_meta"


def test_metadata_with_jdbc_like_patterns(conn, meta_table):
    """impyla's session-level calls take the server's JDBC LIKE patterns directly."""
    cursor = conn.cursor()
    session = cursor.session
    try:
        assert list(session.get_databases("def%").fetch()) == [("default", "")]
        rows = list(session.get_tables("default", "imp\\_meta%").fetch())
        assert [row[:4] for row in rows] == [("", "default", "imp_meta", "TABLE")]
        request = TGetColumnsReq(sessionHandle=session.handle, schemaName="default", tableName="imp_meta",
                                 columnName="%")
        rows = list(session._operation("GetColumns", request, True).fetch())
        assert [(r[3], r[4], r[5], r[16]) for r in rows] == [("id", 4, "INT", 1), ("name", 12, "STRING", 2),
                                                            ("price", 3, "DECIMAL(10,2)", 3)]
        assert [(r[1], r[2], r[8]) for r in rows] == [("default", "imp_meta", 0), ("default", "imp_meta", None),
                                                     ("default", "imp_meta", 2)]
        cursor.execute("CREATE OR REPLACE TEMPORARY VIEW imp_meta_view AS SELECT 1 AS k")
        rows = list(session.get_tables("%", "imp\\_meta\\_view").fetch())
        assert [(row[2], row[3]) for row in rows] == [("imp_meta_view", "VIEW")]
    finally:
        cursor.close()


def test_metadata_cursor_api(conn, meta_table):
    """impyla's cursor-level helpers send Impala-style ``.*`` patterns, which HS2 and Spark's Thrift server match
    as regular expressions (every schema/table/column/function)."""
    cursor = conn.cursor()
    try:
        cursor.get_databases()
        assert [d[0] for d in cursor.description] == ["TABLE_SCHEM", "TABLE_CATALOG"]
        assert {"default", "global_temp"} <= {row[0] for row in cursor.fetchall()}
        cursor.get_tables("default")
        tables = {row[2]: row[:4] for row in cursor.fetchall()}
        assert tables.get("imp_meta") == ("", "default", "imp_meta", "TABLE")
        assert cursor.get_table_schema("imp_meta") == [("id", "INT"), ("name", "STRING"), ("price", "DECIMAL(10,2)")]
        assert cursor.table_exists("imp_meta") is True
        assert cursor.table_exists("imp_no_such_table") is False
        assert cursor.database_exists("default") is True
        assert cursor.database_exists("imp_no_such_db") is False
        cursor.get_functions()
        names = {row[2] for row in cursor.fetchall()}
        assert {"date_add", "concat", "count"} <= names and len(names) > 300
    finally:
        cursor.close()


# ---------------------------------------------------------------- execution control


@pytest.mark.slow
def test_cancel_async_query(gateway):
    connection = connect(gateway)
    try:
        cursor = connection.cursor()
        cursor.execute_async("SELECT count(*) FROM range(100000000000)")
        deadline = time.time() + 30
        while cursor.status() != "RUNNING_STATE" and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(1)
        assert cursor.is_executing() and cursor.status() == "RUNNING_STATE"
        op = cursor._last_operation
        start = time.time()
        cursor.cancel_operation(reset_state=False)
        while op.get_status() == "RUNNING_STATE" and time.time() - start < 30:
            time.sleep(0.05)
        assert op.get_status() == "CANCELED_STATE"
        assert time.time() - start < 5
        begin = time.time()
        assert one_value(cursor, "SELECT count(*) FROM range(20000000)") == 20_000_000
        assert time.time() - begin < 20
    finally:
        connection.close()


def test_get_log(cur):
    cur.execute("SELECT count(*) AS n FROM range(654321)")
    assert cur.fetchall() == [(654321,)]
    log = cur.get_log()
    assert isinstance(log, str) and log
    assert "range(654321)" in log


def test_statement_configuration_overlay(cur):
    cur.execute("SET spark.sql.shuffle.partitions")
    default = cur.fetchall()
    cur.execute("SET spark.sql.shuffle.partitions", configuration={"spark.sql.shuffle.partitions": "9"})
    assert cur.fetchall() == [("spark.sql.shuffle.partitions", "9")]
    cur.execute("SET spark.sql.shuffle.partitions")
    assert cur.fetchall() == default  # the overlay applied to one statement only


def test_nosasl_user_and_session_configuration(gateway):
    connection = connect(gateway, "NOSASL")
    try:
        cursor = connection.cursor(user="imp_nosasl", configuration={"spark.sql.shuffle.partitions": "5"})
        assert one_value(cursor, "SELECT current_user()") == "imp_nosasl"
        cursor.execute("SET spark.sql.shuffle.partitions")
        assert cursor.fetchall() == [("spark.sql.shuffle.partitions", "5")]
    finally:
        connection.close()


def test_ddl_and_dml(cur):
    cur.execute("DROP TABLE IF EXISTS imp_dml")
    cur.execute("CREATE TABLE imp_dml (id BIGINT, tag STRING) USING parquet")
    cur.execute("INSERT INTO imp_dml SELECT id, concat('t', CAST(id % 3 AS STRING)) FROM range(10)")
    cur.execute("SELECT tag, count(*) AS n, sum(id) AS s FROM imp_dml GROUP BY tag ORDER BY tag")
    assert cur.fetchall() == [("t0", 4, 18), ("t1", 3, 12), ("t2", 3, 15)]


def test_errors_raise_with_message(cur):
    with pytest.raises(OperationalError) as err:
        cur.execute("SELECT * FROM imp_no_such_table")
    assert "TABLE_OR_VIEW_NOT_FOUND" in str(err.value) and "imp_no_such_table" in str(err.value)
    with pytest.raises(OperationalError, match="PARSE_SYNTAX_ERROR"):
        cur.execute("SELEC 1")
    with pytest.raises(OperationalError, match="DIVIDE_BY_ZERO"):
        cur.execute("SELECT 1 / 0")
        cur.fetchall()
    # A failure after the first rows are ready may come with a FetchResults reply instead of the status.
    with pytest.raises((OperationalError, HiveServer2Error), match="late boom"):
        cur.execute("SELECT if(id = 150000, raise_error('late boom'), id) FROM range(0, 200000, 1, 4)")
        cur.fetchall()
    assert one_value(cur, "SELECT 'still alive'") == "still alive"
