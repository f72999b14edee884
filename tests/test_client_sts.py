"""sqlalchemy_mlsql (DB-API + SQLAlchemy dialect) against Spark's own Thrift server (STS) from the pyspark wheel.

The client is meant for any Spark HS2 server, not just our gateway. STS differs in a few ways: it accepts SASL
only (no NOSASL), reports errors at execute time, sends no progress, and answers DDL with an empty result set.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from decimal import Decimal

import pytest
import sqlalchemy as sa

import sqlalchemy_mlsql as db
from bench.peers import free_port, start_sts
from tests import typecases as tc
from tests.test_client_dbapi import HOSTILE, expected_value

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]


@dataclass
class _Running:
    host: str
    port: int


@pytest.fixture(scope="module")
def sts(tmp_path_factory):
    if os.environ.get("MLSQL_TEST_STS_PORT"):  # reuse an already running STS while developing
        yield _Running("127.0.0.1", int(os.environ["MLSQL_TEST_STS_PORT"]))
        return
    scratch = tmp_path_factory.mktemp("sts")
    port = free_port()
    peer = start_sts(port, scratch)
    try:
        yield peer
    finally:
        peer.stop()


@pytest.fixture(scope="module")
def conn(sts):
    c = db.connect(sts.host, sts.port, username="tester", password="any", timeout=120)
    yield c
    c.close()


def scalar(conn, sql, params=None):
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()[0]


def test_sasl_connect_and_nosasl_rejected(sts, conn):
    assert conn.server_protocol_version >= db.dbapi.ttypes.TProtocolVersion.HIVE_CLI_SERVICE_PROTOCOL_V6
    assert conn.ping()
    assert scalar(conn, "select 1") == 1
    with pytest.raises(db.OperationalError):
        db.connect(sts.host, sts.port, auth="NOSASL", timeout=20)


def test_every_type(conn):
    with conn.cursor() as cur:
        cur.execute(tc.types_sql())
        desc = cur.description
        rows = cur.fetchall()
    assert [d[0] for d in desc] == [col.name for col in tc.COLUMNS]
    assert [d[1] for d in desc] == [col.type_name for col in tc.COLUMNS]
    for d, col in zip(desc, tc.COLUMNS, strict=True):
        assert len(d) == 7
        assert (d[4], d[5]) == (col.precision, col.scale), col.name
    assert len(rows) == 3
    for r in (0, 1):
        for i, col in enumerate(tc.COLUMNS):
            assert rows[r][i] == expected_value(col, r), col.name
            assert type(rows[r][i]) is type(expected_value(col, r)), col.name
    assert rows[2] == tuple(None for _ in tc.COLUMNS)


def test_hostile_strings_round_trip(conn):
    for value in HOSTILE:
        assert scalar(conn, "select %(p)s as v", {"p": value}) == value, repr(value)
        assert scalar(conn, "select %s as v", (value,)) == value, repr(value)


def test_typed_parameters_round_trip(conn):
    values = [None, True, 0, -(2 ** 63), 1.5, 1e300, Decimal("1.50"), dt.date(2024, 2, 29),
              dt.datetime(2024, 1, 2, 3, 4, 5, 123456), b"\x00\xffA", [1, 2, 3], {"k": 1}]
    for value in values:
        assert scalar(conn, "select %(p)s as v", {"p": value}) == value, repr(value)


def test_fetch_paths_and_description(conn):
    with conn.cursor() as cur:
        cur.execute("select id, cast(id as string) as s from range(25) order by id")
        assert [d[:2] for d in cur.description] == [("id", "BIGINT"), ("s", "STRING")]
        assert cur.fetchone() == (0, "0")
        cur.arraysize = 4
        assert cur.fetchmany() == [(1, "1"), (2, "2"), (3, "3"), (4, "4")]
        assert [r[0] for r in cur] == list(range(5, 25))
        assert cur.fetchone() is None
        cur.execute("select 1 as a where false")
        assert cur.description[0][:2] == ("a", "INT") and cur.fetchall() == []
        cur.execute("create or replace temp view sts_v as select 1 as x")
        assert cur.description is None or [d[0] for d in cur.description] == ["Result"]
        assert cur.fetchall() in ([], [("",)])


def test_small_fetch_size_paging(sts):
    with db.connect(sts.host, sts.port, fetch_size=7) as c, c.cursor() as cur:
        cur.execute("select id from range(100)")
        assert sorted(r[0] for r in cur) == list(range(100))


def test_fetch_arrow_and_pandas_match_fetchall(conn):
    pa = pytest.importorskip("pyarrow")
    pd = pytest.importorskip("pandas")
    sql = tc.types_sql([c for c in tc.COLUMNS if c.type_name not in ("ARRAY", "MAP", "STRUCT")])
    with conn.cursor() as cur:
        cur.execute(sql)
        rows = cur.fetchall()
        cur.execute(sql)
        table = cur.fetch_arrow()
    assert isinstance(table, pa.Table) and table.num_rows == 3
    as_rows = list(zip(*[table.column(i).to_pylist() for i in range(table.num_columns)], strict=True))
    assert as_rows == rows
    big = "select id, concat('r', cast(id as string)) as s, if(id % 3 = 0, null, id / 4) as q from range(30000) order by id"
    with conn.cursor() as cur:
        cur.execute(big)
        big_rows = cur.fetchall()
        cur.execute(big)
        frame = cur.fetch_pandas()
    assert isinstance(frame, pd.DataFrame) and len(frame) == 30000
    got = [(int(a), b, None if pd.isna(c) else c) for a, b, c in frame.itertuples(index=False, name=None)]
    assert got == big_rows


@pytest.mark.parametrize("sql,cls", [
    ("select * from no_such_table_xyz", db.ProgrammingError),
    ("selec 1", db.ProgrammingError),
])
def test_errors_at_execute(conn, sql, cls):
    with conn.cursor() as cur:
        with pytest.raises(cls) as info:
            cur.execute(sql)
            cur.fetchall()
        assert info.value.sqlstate
        cur.execute("select 2")
        assert cur.fetchall() == [(2,)]


def test_async_execute_and_poll(conn):
    S = db.dbapi.ttypes.TOperationState
    with conn.cursor() as cur:
        cur.execute("select count(*) from range(1000)", async_=True)
        assert cur.poll().operationState in (S.FINISHED_STATE, S.RUNNING_STATE, S.PENDING_STATE,
                                             S.INITIALIZED_STATE)
        assert cur.fetchall() == [(1000,)]
        assert isinstance(cur.fetch_logs(), list)


def test_sqlalchemy_engine_and_reflection(sts):
    eng = sa.create_engine(f"mlsql://tester:pw@{sts.host}:{sts.port}/default?auth=NONE")
    try:
        with eng.connect() as c:
            c.exec_driver_sql("CREATE SCHEMA IF NOT EXISTS sts_sa")
            c.exec_driver_sql("DROP TABLE IF EXISTS sts_sa.t1")
            c.exec_driver_sql("CREATE TABLE sts_sa.t1 (id INT COMMENT 'the id', name STRING, amount DECIMAL(10,2), "
                              "p STRING) USING parquet PARTITIONED BY (p)")
            c.exec_driver_sql("INSERT INTO sts_sa.t1 VALUES (1, 'a', 1.50, 'x'), (2, NULL, NULL, 'y')")
            assert c.execute(sa.select(sa.literal(1))).scalar() == 1
            assert c.execute(sa.text("select count(*) from sts_sa.t1")).scalar() == 2
        assert eng.dialect.server_version_info and eng.dialect.server_version_info[0] >= 3
        insp = sa.inspect(eng)
        assert "sts_sa" in insp.get_schema_names()
        assert insp.get_table_names(schema="sts_sa") == ["t1"]
        assert insp.has_table("t1", schema="sts_sa")
        assert not insp.has_table("nope", schema="sts_sa")
        assert not insp.has_table("nope", schema="no_such_schema_xyz")
        cols = insp.get_columns("t1", schema="sts_sa")
        assert [c["name"] for c in cols] == ["id", "name", "amount", "p"]
        assert isinstance(cols[0]["type"], sa.Integer) and cols[0]["comment"] == "the id"
        assert isinstance(cols[2]["type"], sa.Numeric) and (cols[2]["type"].precision, cols[2]["type"].scale) == (10, 2)
        assert insp.get_indexes("t1", schema="sts_sa") == [{"name": "partition", "column_names": ["p"],
                                                             "unique": False}]
        t1 = sa.Table("t1", sa.MetaData(), autoload_with=eng, schema="sts_sa")
        with eng.connect() as c:
            rows = c.execute(sa.select(t1.c.id, t1.c.name, t1.c.amount).order_by(t1.c.id)).all()
            assert rows == [(1, "a", Decimal("1.50")), (2, None, None)]
    finally:
        with eng.connect() as c:
            c.exec_driver_sql("DROP SCHEMA IF EXISTS sts_sa CASCADE")
        eng.dispose()
