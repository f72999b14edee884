"""sqlalchemy_mlsql's DB-API driver against the live gateway (and a few offline unit checks)."""

from __future__ import annotations

import datetime as dt
import math
import subprocess
import sys
import time
from decimal import Decimal

import pytest

import sqlalchemy_mlsql as db
from sqlalchemy_mlsql.escape import batched_inserts, interpolate, render_literal
from sqlalchemy_mlsql.hivetext import parse_hive_text
from tests import typecases as tc

pytestmark = pytest.mark.timeout(300)

# What our driver returns for the typecases query (rows 0 and 1); row 2 is all NULL.
COMPLEX_EXPECTED = {
    "c_arr": ([1, None, 3], []),
    "c_map": ({"k": 1, "n": None}, {}),
    "c_struct": ({"a": 'x"y', "b": [{"c": None, "d": {1: "v"}}]}, {"a": "", "b": []}),
    "c_nested": ([["a", None], None], [[], ["tab\there", ""]]),
    "c_map_ts": ({"n": None, "t": "2024-01-02 03:04:05.5"}, {"z": "2000-01-01 00:00:00"}),
    "c_mix": ({"b": "hi", "d": "2024-01-01", "ts": "2024-01-02 03:04:05.5", "dec": 1.5, "f": 0.1,
               "ntz": "2000-01-01 00:00:00", "dt": "-1 00:00:00.500000000"},) * 2,
}


def expected_value(col: tc.Col, row: int):
    if col.name in COMPLEX_EXPECTED:
        return COMPLEX_EXPECTED[col.name][row]
    if col.type_name == "DATE":
        return dt.date.fromisoformat(col.text[row])
    return col.pyhive[row]


@pytest.fixture(scope="module")
def conn(gateway):
    c = db.connect(gateway.host, gateway.port, username="tester", password="any")
    yield c
    c.close()


@pytest.fixture(scope="module")
def nosasl(gateway):
    c = db.connect(gateway.host, gateway.port, auth="NOSASL")
    yield c
    c.close()


def scalar(conn, sql, params=None):
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()[0]


# -- offline ----------------------------------------------------------------------------------------------


def test_module_globals_and_exceptions():
    assert (db.apilevel, db.threadsafety, db.paramstyle) == ("2.0", 1, "pyformat")
    assert issubclass(db.ProgrammingError, db.DatabaseError) and issubclass(db.DatabaseError, db.Error)
    for name in ("DataError", "OperationalError", "IntegrityError", "InternalError", "NotSupportedError"):
        assert issubclass(getattr(db, name), db.DatabaseError)
    assert issubclass(db.InterfaceError, db.Error) and issubclass(db.Warning, Exception)
    assert db.NUMBER == "DECIMAL" and db.STRING == "VARCHAR" and db.DATETIME == "TIMESTAMP" and db.BINARY == "BINARY"
    assert db.NUMBER != "STRING"


def test_render_literals():
    assert render_literal("O'Hara") == "'O\\'Hara'"
    assert render_literal("a\\b") == "'a\\\\b'"
    assert render_literal(None) == "NULL" and render_literal(True) == "TRUE"
    assert render_literal(Decimal("1.50")) == "1.50BD"
    assert render_literal(dt.date(2024, 1, 2)) == "DATE'2024-01-02'"
    assert render_literal(dt.datetime(2024, 1, 2, 3, 4, 5)) == "TIMESTAMP'2024-01-02 03:04:05'"
    assert render_literal(b"\x00\xff") == "X'00FF'"
    assert render_literal([1, "a"]) == "array(1, 'a')"
    assert render_literal(float("nan")) == "CAST('NaN' AS DOUBLE)"
    with pytest.raises(db.NotSupportedError):
        render_literal(object())


def test_interpolate_rules():
    assert interpolate("select '%'", None) == "select '%'"
    assert interpolate("select '%%', %(a)s", {"a": 1}) == "select '%', 1"
    assert interpolate("select %s, %s", (1, "x")) == "select 1, 'x'"
    assert interpolate("select '%'", {}) == "select '%'"
    with pytest.raises(db.ProgrammingError):
        interpolate("select %(a)s", {})
    with pytest.raises(db.ProgrammingError):
        interpolate("select %s", (1, 2))
    stmts = batched_inserts("INSERT INTO t (a, b) VALUES (%(a)s, %(b)s)", [{"a": i, "b": "x"} for i in range(3)])
    assert stmts == ["INSERT INTO t (a, b) VALUES (0, 'x'), (1, 'x'), (2, 'x')"]
    assert batched_inserts("UPDATE t SET a = %(a)s", [{"a": 1}]) is None


def test_hive_text_parser():
    assert parse_hive_text('{"a":"x"y","b":[1,null]}') == {"a": 'x"y', "b": [1, None]}
    assert parse_hive_text("[2024-01-01,null]") == ["2024-01-01", None]
    assert parse_hive_text("[unbalanced") == "[unbalanced"
    assert parse_hive_text("plain") == "plain"


def _encoded_fetch_reply(resp) -> bytes:
    from thrift.protocol.TBinaryProtocol import TBinaryProtocol
    from thrift.Thrift import TMessageType
    from thrift.transport.TTransport import TMemoryBuffer

    from thrift_idl.gen.TCLIService import TCLIService

    buf = TMemoryBuffer()
    proto = TBinaryProtocol(buf)
    proto.writeMessageBegin("FetchResults", TMessageType.REPLY, 7)
    TCLIService.FetchResults_result(success=resp).write(proto)
    proto.writeMessageEnd()
    return buf.getvalue()


def test_fastfetch_reads_what_the_generated_code_reads():
    np = pytest.importorskip("numpy")
    pa = pytest.importorskip("pyarrow")
    from thrift.protocol.TBinaryProtocol import TBinaryProtocolAccelerated
    from thrift.transport.TTransport import TMemoryBuffer

    from sqlalchemy_mlsql import fastfetch
    from sqlalchemy_mlsql import results as res
    from thrift_idl.gen.TCLIService import TCLIService
    from thrift_idl.gen.TCLIService import ttypes as t

    n = 11
    nulls = bytes([0b00100101, 0b00000100])  # rows 0, 2, 5 and 10 are NULL
    cols = [
        t.TColumn(boolVal=t.TBoolColumn(values=[i % 3 == 0 for i in range(n)], nulls=nulls)),
        t.TColumn(byteVal=t.TByteColumn(values=[(-1) ** i * i for i in range(n)], nulls=b"")),
        t.TColumn(i16Val=t.TI16Column(values=[-(2 ** 15) + i for i in range(n)], nulls=nulls)),
        t.TColumn(i32Val=t.TI32Column(values=[2 ** 31 - 1 - i for i in range(n)], nulls=b"\x00\x00")),
        t.TColumn(i64Val=t.TI64Column(values=[-(2 ** 63) + i for i in range(n)], nulls=nulls)),
        t.TColumn(doubleVal=t.TDoubleColumn(values=[i / 3 if i != 4 else math.inf for i in range(n)], nulls=nulls)),
        t.TColumn(stringVal=t.TStringColumn(values=[f"s{i}é" for i in range(n)], nulls=nulls)),
        t.TColumn(binaryVal=t.TBinaryColumn(values=[bytes([i]) for i in range(n)], nulls=b"")),
    ]
    infos = [res.ColumnInfo(f"c{i}", code) for i, code in
             enumerate(["BOOLEAN", "TINYINT", "SMALLINT", "INT", "BIGINT", "DOUBLE", "STRING", "BINARY"])]
    resp = t.TFetchResultsResp(status=t.TStatus(statusCode=0), hasMoreRows=True,
                               results=t.TRowSet(startRowOffset=0, rows=[], columns=cols, columnCount=len(cols)))
    data = _encoded_fetch_reply(resp)
    fast = fastfetch.recv_fetch_results(TBinaryProtocolAccelerated(TMemoryBuffer(data)))
    slow = TCLIService.Client(TBinaryProtocolAccelerated(TMemoryBuffer(data))).recv_FetchResults()
    assert fast.hasMoreRows is True and fast.status.statusCode == 0
    assert isinstance(fast.results.columns[4].i64Val.values, np.ndarray)
    fast_raw, fast_n = res.rowset_columns(fast.results)
    slow_raw, slow_n = res.rowset_columns(slow.results)
    assert fast_n == slow_n == n
    for (fv, fnl), (sv, snl), info in zip(fast_raw, slow_raw, infos, strict=True):
        got, want = res.python_column(fv, fnl, info), res.python_column(sv, snl, info)
        assert got == want and [type(v) for v in got] == [type(v) for v in want], info
        assert res.arrow_column(fv, fnl, info).equals(res.arrow_column(sv, snl, info)), info
    assert res.arrow_column(fast_raw[4][0], fast_raw[4][1], infos[4]).null_count == 4
    empty = t.TFetchResultsResp(status=t.TStatus(statusCode=0), hasMoreRows=False, results=t.TRowSet(
        startRowOffset=0, rows=[], columns=[t.TColumn(i64Val=t.TI64Column(values=[], nulls=b""))]))
    got = fastfetch.recv_fetch_results(TBinaryProtocolAccelerated(TMemoryBuffer(_encoded_fetch_reply(empty))))
    assert len(got.results.columns[0].i64Val.values) == 0
    assert pa.array(got.results.columns[0].i64Val.values).type == pa.int64()


def test_import_without_pyspark():
    code = "import sys; sys.modules['pyspark']=None; import sqlalchemy_mlsql, sqlalchemy_mlsql.dialect; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(tc_root()))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def tc_root():
    from pathlib import Path

    return Path(__file__).resolve().parent.parent


# -- live: types ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["sasl", "nosasl"])
def test_every_type(conn, nosasl, which):
    c = conn if which == "sasl" else nosasl
    with c.cursor() as cur:
        cur.execute(tc.types_sql())
        desc = cur.description
        rows = cur.fetchall()
    assert [d[0] for d in desc] == [col.name for col in tc.COLUMNS]
    assert [d[1] for d in desc] == [col.type_name for col in tc.COLUMNS]
    for d, col in zip(desc, tc.COLUMNS, strict=True):
        assert len(d) == 7
        assert (d[4], d[5]) == (col.precision, col.scale)
    assert len(rows) == 3
    for r in (0, 1):
        for i, col in enumerate(tc.COLUMNS):
            assert rows[r][i] == expected_value(col, r), col.name
            assert type(rows[r][i]) is type(expected_value(col, r)), col.name
    assert rows[2] == tuple(None for _ in tc.COLUMNS)


def test_year_month_intervals_stay_strings(conn):
    with conn.cursor() as cur:
        cur.execute(tc.YM_SQL)
        assert [d[1] for d in cur.description] == ["INTERVAL_YEAR_MONTH", "ARRAY", "STRUCT"]
        assert cur.fetchall() == [("1-2", ["10-0", None], {"m": "1-1"}), ("-0-3", None, {"m": "1-1"}),
                                  (None, None, {"m": "1-1"})]


def test_complex_types_as_text(gateway):
    with db.connect(gateway.host, gateway.port, complex_types=False) as c, c.cursor() as cur:
        cur.execute("select array(1, 2) as a, map('k', 'v') as m")
        assert cur.fetchall() == [("[1,2]", '{"k":"v"}')]


# -- live: parameters -------------------------------------------------------------------------------------

HOSTILE = [
    "'; drop table x; --", "\\'", "\\", "\\\\'; select 1; --", "a\nb\r\tc", "nul\x00012", "héllo ünï€😀",
    "%s %(x)s %% %", "\\u0041", "${spark.app.name}", "$$", '"double"', "`back`tick`", "/* c */ --", "${var}", "'' ''", "",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_strings_round_trip(conn, value):
    assert scalar(conn, "select %(p)s as v", {"p": value}) == value
    assert scalar(conn, "select %s as v", (value,)) == value


@pytest.mark.parametrize("value", [
    None, True, False, 0, -(2 ** 63), 2 ** 63 - 1, 1.5, -0.0025, 1e300, float("inf"), float("-inf"),
    Decimal("1.50"), Decimal("-12345678901234567890.123456789012345678"), dt.date(1, 1, 1), dt.date(2024, 2, 29),
    dt.datetime(2024, 1, 2, 3, 4, 5, 123456), b"\x00\xffA", b"", [1, 2, 3], ["a", None], {"k": 1},
])
def test_typed_parameters_round_trip(conn, value):
    assert scalar(conn, "select %(p)s as v", {"p": value}) == value


def test_nan_parameter(conn):
    assert math.isnan(scalar(conn, "select %(p)s", {"p": float("nan")}))


def test_literal_percent_without_params(conn):
    with conn.cursor() as cur:
        cur.execute("select '100%' as a, 'x%%' as b, 'a' like '%' as c")
        assert cur.fetchall() == [("100%", "x%%", True)]
        cur.execute("select '%%' as a, %(p)s as b", {"p": "%"})
        assert cur.fetchall() == [("%", "%")]


def test_executemany_insert_and_loop(conn):
    with conn.cursor() as cur:
        cur.execute("drop table if exists client_em")
        cur.execute("create table client_em (a int, b string) using parquet")
        rows = [{"a": i, "b": f"it's {i}"} for i in range(250)]
        cur.executemany("INSERT INTO client_em (a, b) VALUES (%(a)s, %(b)s)", rows)
        assert cur.rowcount == 250
        cur.executemany("insert into client_em values (%s, %s)", [(1000, None), (1001, "x")])
        cur.executemany("select %(a)s", [{"a": 1}, {"a": 2}])
        assert cur.fetchall() == [(2,)]
        cur.execute("select count(*), sum(a), count(b), max(b) from client_em")
        assert cur.fetchone() == (252, sum(range(250)) + 2001, 251, "x")
        cur.execute("drop table client_em")


# -- live: cursor contract --------------------------------------------------------------------------------


def test_fetch_methods_and_arraysize(conn):
    cur = conn.cursor()
    assert cur.description is None and cur.rowcount == -1
    with pytest.raises(db.ProgrammingError):
        cur.fetchone()
    cur.execute("select id from range(25) order by id")
    assert cur.fetchone() == (0,)
    cur.arraysize = 4
    assert cur.fetchmany() == [(1,), (2,), (3,), (4,)]
    assert cur.fetchmany(3) == [(5,), (6,), (7,)]
    assert [r[0] for r in cur] == list(range(8, 25))
    assert cur.fetchone() is None and cur.fetchall() == [] and cur.fetchmany() == []
    cur.execute("select 1 as a where false")
    assert cur.description[0][:2] == ("a", "INT") and cur.fetchall() == []
    cur.execute("create or replace temp view client_v as select 1 as x")
    # DDL: no result set, or an STS-style (empty) "Result" column, depending on the server
    assert cur.description is None or [d[0] for d in cur.description] == ["Result"]
    assert cur.fetchall() in ([], [("",)])
    assert cur.callproc is not None and cur.nextset() is None
    cur.close()
    with pytest.raises(db.InterfaceError):
        cur.execute("select 1")


def test_small_fetch_size_paging(gateway):
    with db.connect(gateway.host, gateway.port, fetch_size=7) as c, c.cursor() as cur:
        cur.execute("select id from range(100)")
        assert sorted(r[0] for r in cur) == list(range(100))


def test_large_fetch_exact(conn):
    with conn.cursor() as cur:
        cur.execute(tc.BIG_SQL)
        rows = cur.fetchall()
    assert len(rows) == tc.BIG_ROWS
    assert sum(r[0] for r in rows) == tc.BIG_ID_SUM
    assert sum(r[2] for r in rows) == tc.BIG_QUARTER_SUM
    assert rows[12345] == tc.big_row(12345)


def test_context_managers_and_closed_connection(gateway):
    with db.connect(gateway.host, gateway.port) as c:
        with c.cursor() as cur:
            cur.execute("select 1")
            assert cur.fetchall() == [(1,)]
        c.commit()
        c.rollback()
        assert c.ping()
    assert c.closed
    with pytest.raises(db.InterfaceError):
        c.cursor()


def test_database_and_configuration(gateway, conn):
    with conn.cursor() as cur:
        cur.execute("create database if not exists client_db")
    with db.connect(gateway.host, gateway.port, database="client_db",
                    configuration={"spark.sql.shuffle.partitions": "3"}) as c:
        assert scalar(c, "select current_database()") == "client_db"
        assert scalar(c, "set spark.sql.shuffle.partitions") == "spark.sql.shuffle.partitions"
        with c.cursor() as cur:
            cur.execute("set spark.sql.shuffle.partitions")
            assert cur.fetchone()[1] == "3"


# -- live: errors -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("sql,cls,state", [
    ("select * from no_such_table_xyz", db.ProgrammingError, "42P01"),
    ("selec 1", db.ProgrammingError, "42601"),
    ("select 1/0", db.DataError, "22012"),
    ("select cast('x' as int)", db.DataError, "22018"),
])
def test_error_mapping(conn, sql, cls, state):
    with conn.cursor() as cur:
        with pytest.raises(cls) as info:
            cur.execute(sql)
            cur.fetchall()
        assert info.value.sqlstate == state
        assert 'errorMessage="' in str(info.value)
        cur.execute("select 2")  # the cursor stays usable
        assert cur.fetchall() == [(2,)]


def test_async_error_is_raised_on_fetch(conn):
    with conn.cursor() as cur:
        cur.execute("select * from no_such_table_xyz", async_=True)
        with pytest.raises(db.ProgrammingError):
            cur.fetchall()


def test_connect_refused():
    from bench.peers import free_port

    with pytest.raises(db.OperationalError):
        db.connect("127.0.0.1", free_port(), timeout=5)


# -- live: async, cancel, logs ----------------------------------------------------------------------------


def test_async_poll_and_logs(conn):
    S = db.dbapi.ttypes.TOperationState
    with conn.cursor() as cur:
        cur.execute("select count(*) from range(1000)", **{"async": True})  # Superset's keyword
        state = cur.poll().operationState
        deadline = time.monotonic() + 60
        while state in (S.INITIALIZED_STATE, S.RUNNING_STATE, S.PENDING_STATE) and time.monotonic() < deadline:
            state = cur.poll().operationState
        assert state == S.FINISHED_STATE
        assert cur.fetchall() == [(1000,)]
        logs = cur.fetch_logs()
        assert isinstance(logs, list) and all(isinstance(line, str) for line in logs)
        assert any("count(*) from range(1000)" in line for line in logs)
        assert cur.fetch_logs() == []  # incremental
        assert cur.query_id and len(cur.query_id) == 36


def test_cancel_async_query(conn):
    S = db.dbapi.ttypes.TOperationState
    with conn.cursor() as cur:
        cur.execute("select count(*) from range(100000000000)", async_=True)
        time.sleep(1.0)
        assert cur.poll().operationState in (S.RUNNING_STATE, S.PENDING_STATE, S.INITIALIZED_STATE)
        started = time.monotonic()
        cur.cancel()
        state = cur.poll().operationState
        while state == S.RUNNING_STATE and time.monotonic() - started < 30:
            state = cur.poll().operationState
        assert state == S.CANCELED_STATE
        with pytest.raises(db.OperationalError, match="cancel"):
            cur.fetchall()
    assert scalar(conn, "select 3") == 3


# -- live: Arrow / pandas ---------------------------------------------------------------------------------


def test_fetch_arrow_matches_fetchall(conn):
    pa = pytest.importorskip("pyarrow")
    sql = tc.types_sql([c for c in tc.COLUMNS if c.type_name not in ("ARRAY", "MAP", "STRUCT")])
    with conn.cursor() as cur:
        cur.execute(sql)
        rows = cur.fetchall()
        cur.execute(sql)
        table = cur.fetch_arrow()
    assert isinstance(table, pa.Table) and table.num_rows == 3
    assert table.schema.field("c_dec38").type == pa.decimal128(38, 18)
    assert table.schema.field("c_ts").type == pa.timestamp("us")
    assert table.schema.field("c_date").type == pa.date32()
    as_rows = list(zip(*[table.column(i).to_pylist() for i in range(table.num_columns)], strict=True))
    assert as_rows == rows


def test_fetch_arrow_and_pandas_big(conn):
    pytest.importorskip("pyarrow")
    pd = pytest.importorskip("pandas")
    sql = tc.BIG_SQL.replace(str(tc.BIG_ROWS), "60000") + " order by id"
    with conn.cursor() as cur:
        cur.execute(sql)
        rows = cur.fetchall()
        cur.execute(sql)
        first = cur.fetchmany(10)  # mixing row and Arrow fetches continues where the rows stopped
        table = cur.fetch_arrow()
        cur.execute(sql)
        frame = cur.fetch_pandas()
    assert first == rows[:10]
    assert table.num_rows == 60000 - 10 and table.column("id").to_pylist() == [r[0] for r in rows[10:]]
    assert isinstance(frame, pd.DataFrame) and len(frame) == 60000
    assert list(frame.itertuples(index=False, name=None)) == rows


def test_prefetched_batches_and_early_stop(conn, monkeypatch):
    pytest.importorskip("pyarrow")
    from sqlalchemy_mlsql import cursor as cursor_mod

    monkeypatch.setattr(cursor_mod, "ARROW_FETCH_SIZE", 1000)  # many batches: the helper thread fetches ahead
    monkeypatch.setattr(cursor_mod, "BULK_FETCH_SIZE", 1000)
    sql = "select id, cast(id as string) as s from range(5500) order by id"
    expected = [(i, str(i)) for i in range(5500)]
    with conn.cursor() as cur:
        cur.fetch_size = 1000
        cur.execute(sql)
        assert cur.fetchall() == expected
        cur.execute(sql)
        assert cur.fetch_arrow().column("id").to_pylist() == list(range(5500))
        cur.execute(sql)
        batches = cur.fetch_arrow_batches()
        first = next(batches)
        batches.close()  # stop early: the batch already fetched ahead is not lost
        rest = cur.fetchall()
        assert list(zip(first.column("id").to_pylist(), first.column("s").to_pylist(), strict=True)) + rest == \
            expected


def test_fetch_pandas_nulls(conn):
    pytest.importorskip("pandas")
    with conn.cursor() as cur:
        cur.execute("select if(id % 3 = 0, null, id) as a, if(id % 2 = 0, null, cast(id as string)) as s "
                    "from range(20) order by id")
        rows = cur.fetchall()
        cur.execute("select if(id % 3 = 0, null, id) as a, if(id % 2 = 0, null, cast(id as string)) as s "
                    "from range(20) order by id")
        table = cur.fetch_arrow()
    assert table.column("a").null_count == 7 and table.column("s").null_count == 10
    assert list(zip(table.column("a").to_pylist(), table.column("s").to_pylist(), strict=True)) == rows
