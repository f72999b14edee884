"""The ``mlsql://`` SQLAlchemy dialect against the live gateway: reflection, DDL/literals, pandas round trips."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy import types as sqltypes

from sqlalchemy_mlsql import types as mtypes
from sqlalchemy_mlsql.dialect import MLSQLDialect

pytestmark = pytest.mark.timeout(300)
SCHEMA = "client_sa"


@pytest.fixture(scope="module")
def engine(gateway):
    eng = sa.create_engine(f"mlsql://tester:pw@{gateway.host}:{gateway.port}/default?auth=NONE")
    with eng.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {SCHEMA}.typed")
        conn.exec_driver_sql(
            f"CREATE TABLE {SCHEMA}.typed (id INT COMMENT 'the id', amount DECIMAL(12,3), name VARCHAR(20), "
            "code CHAR(3), tags ARRAY<STRING>, attrs MAP<STRING, ARRAY<INT>>, "
            "info STRUCT<x: INT, y: STRUCT<z: STRING>>, ts TIMESTAMP, ntz TIMESTAMP_NTZ, d DATE, "
            "f FLOAT, dbl DOUBLE, b BOOLEAN, bin BINARY, ym INTERVAL YEAR TO MONTH, p STRING) "
            "USING parquet PARTITIONED BY (p) COMMENT 'typed table'")
        conn.exec_driver_sql(f"CREATE OR REPLACE VIEW {SCHEMA}.typed_view AS SELECT id FROM {SCHEMA}.typed")
    yield eng
    with eng.connect() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    eng.dispose()


def test_dialect_basics(engine):
    d = engine.dialect
    assert isinstance(d, MLSQLDialect) and (d.name, d.driver) == ("mlsql", "mlsql")
    assert d.supports_statement_cache is True
    assert MLSQLDialect.import_dbapi().paramstyle == "pyformat"
    assert d.server_version_info and d.server_version_info[0] >= 3
    assert d.default_schema_name == "default"
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.literal(1))).scalar() == 1
    url = sa.engine.make_url("mlsql://u:p@h:10001/db?auth=LDAP&timeout=5&conf_spark.sql.x=1")
    _, kwargs = d.create_connect_args(url)
    assert kwargs == {"host": "h", "port": 10001, "username": "u", "password": "p", "database": "db",
                      "auth": "LDAP", "timeout": 5.0, "configuration": {"spark.sql.x": "1"}}


def test_pool_pre_ping(gateway):
    eng = sa.create_engine(f"mlsql://{gateway.host}:{gateway.port}/default", pool_pre_ping=True)
    for _ in range(2):
        with eng.connect() as conn:
            assert conn.exec_driver_sql("select 1").scalar() == 1
    eng.dispose()


def test_reflection_names(engine):
    insp = sa.inspect(engine)
    assert SCHEMA in insp.get_schema_names()
    assert insp.get_table_names(SCHEMA) == ["typed"]
    assert insp.get_view_names(SCHEMA) == ["typed_view"]
    assert insp.has_table("typed", SCHEMA) is True
    assert insp.has_table("typed_view", SCHEMA) is True
    assert insp.has_table("no_such_table", SCHEMA) is False
    assert insp.has_table("no_such_table", "no_such_schema") is False
    with pytest.raises(sa.exc.NoSuchTableError):
        insp.get_columns("no_such_table", SCHEMA)


def test_temp_views_per_connection(engine):
    with engine.connect() as conn:
        conn.exec_driver_sql("CREATE OR REPLACE TEMP VIEW client_tmp AS SELECT 1 AS x")
        insp = sa.inspect(conn)
        assert "client_tmp" in insp.get_temp_view_names()
        assert "client_tmp" not in insp.get_table_names()


def test_reflect_columns_and_types(engine):
    cols = {c["name"]: c for c in sa.inspect(engine).get_columns("typed", SCHEMA)}
    assert list(cols) == ["id", "amount", "name", "code", "tags", "attrs", "info", "ts", "ntz", "d", "f", "dbl",
                          "b", "bin", "ym", "p"]
    assert cols["id"]["comment"] == "the id" and cols["amount"]["comment"] is None
    t = {k: v["type"] for k, v in cols.items()}
    assert isinstance(t["id"], sqltypes.INTEGER)
    assert isinstance(t["amount"], sqltypes.DECIMAL) and (t["amount"].precision, t["amount"].scale) == (12, 3)
    assert isinstance(t["name"], sqltypes.VARCHAR) and t["name"].length == 20
    assert isinstance(t["code"], sqltypes.CHAR) and t["code"].length == 3
    assert isinstance(t["tags"], mtypes.ARRAY) and isinstance(t["tags"].item_type, mtypes.STRING)
    assert isinstance(t["attrs"], mtypes.MAP) and isinstance(t["attrs"].value_type, mtypes.ARRAY)
    assert isinstance(t["info"], mtypes.STRUCT) and [n for n, _ in t["info"].fields] == ["x", "y"]
    assert isinstance(t["ts"], sqltypes.TIMESTAMP) and isinstance(t["ntz"], mtypes.TIMESTAMP_NTZ)
    assert isinstance(t["d"], sqltypes.DATE) and isinstance(t["f"], sqltypes.REAL)
    assert isinstance(t["dbl"], sqltypes.DOUBLE) and isinstance(t["b"], sqltypes.BOOLEAN)
    assert isinstance(t["bin"], mtypes.BINARY) and isinstance(t["ym"], mtypes.INTERVAL)


def test_reflect_partition_comment_constraints(engine):
    insp = sa.inspect(engine)
    (index,) = insp.get_indexes("typed", SCHEMA)
    assert (index["name"], index["column_names"], index["unique"]) == ("partition", ["p"], False)
    assert insp.get_indexes("typed_view", SCHEMA) == []
    assert insp.get_pk_constraint("typed", SCHEMA)["constrained_columns"] == []
    assert insp.get_foreign_keys("typed", SCHEMA) == []
    assert insp.get_table_comment("typed", SCHEMA)["text"] == "typed table"
    assert "SELECT id" in insp.get_view_definition("typed_view", SCHEMA)
    table = sa.Table("typed", sa.MetaData(), schema=SCHEMA, autoload_with=engine)
    assert len(table.columns) == 16


def test_type_compiler_and_ddl(engine):
    md = sa.MetaData()
    t = sa.Table("ddl_t", md, sa.Column("a", sa.Integer, primary_key=True), sa.Column("f", sa.Float),
                 sa.Column("f32", sa.Float(precision=23)), sa.Column("n", sa.Numeric(10, 2)),
                 sa.Column("s", sa.String(30)), sa.Column("tx", sa.Text), sa.Column("u", sa.Unicode(5)),
                 sa.Column("v", sa.VARCHAR(7)), sa.Column("d", sa.Date), sa.Column("dt", sa.DateTime),
                 sa.Column("b", sa.Boolean), sa.Column("lb", sa.LargeBinary), sa.Column("bi", sa.BigInteger),
                 sa.Column("arr", mtypes.ARRAY(sa.Integer), comment="it's an array"),
                 sa.Column("p", sa.String), schema=SCHEMA, comment="ddl table",
                 mlsql_using="parquet", mlsql_partitioned_by=["p"])
    ddl = str(sa.schema.CreateTable(t).compile(engine)).strip()
    for frag in ("a INT NOT NULL", "f DOUBLE", "f32 FLOAT", "n DECIMAL(10, 2)", "s VARCHAR(30)", "tx STRING",
                 "u VARCHAR(5)", "v VARCHAR(7)", "d DATE", "dt TIMESTAMP", "b BOOLEAN", "lb BINARY",
                 "bi BIGINT", "arr ARRAY<INT> COMMENT 'it\\'s an array'", "p STRING", "USING parquet",
                 "PARTITIONED BY (p)", "COMMENT 'ddl table'"):
        assert frag in ddl, frag
    assert "PRIMARY KEY" not in ddl
    md.create_all(engine)
    try:
        reflected = sa.inspect(engine).get_columns("ddl_t", SCHEMA)
        cols = {c["name"]: c["type"] for c in reflected}
        assert isinstance(cols["n"], sqltypes.DECIMAL) and cols["n"].scale == 2
        assert isinstance(cols["s"], sqltypes.VARCHAR) and cols["s"].length == 30
        assert all("autoincrement" not in c for c in reflected)  # Spark has none; the key is left out
        assert isinstance(cols["d"], sqltypes.DATE) and isinstance(cols["f"], sqltypes.DOUBLE)
        with engine.connect() as conn:
            conn.execute(t.insert().values(a=1, s="x", d=dt.date(2024, 1, 2), p="k"))  # partial column list
            row = conn.execute(sa.select(t.c.a, t.c.s, t.c.d, t.c.n, t.c.p)).one()
            assert tuple(row) == (1, "x", dt.date(2024, 1, 2), None, "k")
    finally:
        md.drop_all(engine)
    assert sa.inspect(engine).has_table("ddl_t", SCHEMA) is False


def test_dml_returns_no_rows_and_reflection_details(engine):
    md = sa.MetaData()
    t = sa.Table("dml_t", md, sa.Column("id", sa.Integer, primary_key=True),
                 sa.Column("n", sa.Integer, server_default=sa.text("5")), sa.Column("e", sa.Enum("a", "b")),
                 schema=SCHEMA)
    md.create_all(engine)
    try:
        with engine.connect() as conn:
            result = conn.execute(t.insert(), [{"id": 1, "e": "a"}, {"id": 2, "e": "b"}])
            assert not result.returns_rows  # Spark's empty "Result" placeholder is not a result set
            assert not conn.execute(sa.text(f"INSERT INTO {SCHEMA}.dml_t (id) VALUES (3)")).returns_rows
            assert conn.execute(sa.select(t.c.id, t.c.n, t.c.e).order_by(t.c.id)).all() == \
                [(1, 5, "a"), (2, 5, "b"), (3, 5, None)]
            week = conn.execute(sa.select(sa.literal(dt.timedelta(days=7, seconds=1.5), sa.Interval()))).scalar()
            assert week == dt.timedelta(days=7, seconds=1.5)
        cols = {c["name"]: c for c in sa.inspect(engine).get_columns("dml_t", SCHEMA)}
        assert cols["n"]["default"] == "5" and cols["id"]["default"] is None
        assert all("autoincrement" not in c for c in cols.values())
        # parquet tables keep no NOT NULL (Spark stores every column as nullable); views report what Spark knows
        assert cols["id"]["nullable"] is True
        view_cols = sa.inspect(engine).get_columns("typed_view", SCHEMA)
        assert [c["name"] for c in view_cols] == ["id"]
    finally:
        md.drop_all(engine)


def test_identifier_quoting_and_literals(engine):
    t = sa.table("we`ird", sa.column("sel ect"), sa.column("name"))
    sql = str(sa.select(t).where(t.c.name == "O'Hara \\ 100%").compile(engine, compile_kwargs={"literal_binds": True}))
    assert "`we``ird`" in sql and "`sel ect`" in sql and "`we``ird`.name =" in sql  # plain names stay bare
    assert "'O\\'Hara \\\\ 100%%'" in sql  # SQLAlchemy doubles % for pyformat; the driver undoes it
    lit = sa.select(sa.literal("O'Hara"), sa.literal(dt.date(2024, 1, 2)), sa.literal(Decimal("1.5")))
    with engine.connect() as conn:
        rendered = str(lit.compile(engine, compile_kwargs={"literal_binds": True}))
        assert "'O\\'Hara'" in rendered
        assert tuple(conn.execute(sa.text(rendered.replace("%%", "%"))).one()) == ("O'Hara", dt.date(2024, 1, 2),
                                                                                 Decimal("1.5"))
        assert conn.execute(sa.select(sa.literal("a'%b"))).scalar() == "a'%b"
        assert conn.execute(sa.text("select 'x%' as v, :p as w"), {"p": "'; drop table x; --"}).one() == \
            ("x%", "'; drop table x; --")
        assert conn.execute(sa.select(sa.func.char_length("abc"))).scalar() == 3


def test_limit_offset(engine):
    q = sa.select(sa.column("id")).select_from(sa.text("range(10)")).order_by(sa.column("id"))
    with engine.connect() as conn:
        assert conn.execute(q.limit(3).offset(2)).scalars().all() == [2, 3, 4]
        assert conn.execute(q.offset(8)).scalars().all() == [8, 9]


def test_text_passes_statements_through(engine):
    with engine.connect() as conn:
        conn.execute(sa.text("SET spark.sql.client.marker = on"))
        assert conn.execute(sa.text("SET spark.sql.client.marker")).one()[1] == "on"
        rows = conn.execute(sa.text("select id, :name as n from range(3) order by id"), {"name": "x"}).all()
        assert [tuple(r) for r in rows] == [(0, "x"), (1, "x"), (2, "x")]
        conn.commit()
        conn.rollback()


def _frame():
    pd = pytest.importorskip("pandas")
    return pd.DataFrame({
        "i": pd.array([1, None, -(2 ** 62)], dtype="Int64"),
        "f": [1.5, None, -2.25e-10],
        "dec": [Decimal("1.50"), None, Decimal("-12345.67")],
        "s": ["O'Hara \\ 100%", None, "héllo 😀\nline"],
        "d": [dt.date(2024, 2, 29), None, dt.date(1, 1, 1)],
        "ts": pd.to_datetime(["2024-01-02 03:04:05.123456", None, "1969-12-31 23:59:59.000001"]),
        "n": [None, None, None],
    })


def _read_back(engine, table, pd):
    out = pd.read_sql(f"select * from {SCHEMA}.{table} order by s nulls first, i", engine, coerce_float=False)
    out["i"] = out["i"].astype("Int64")
    out["ts"] = out["ts"].astype("datetime64[ns]")
    return out


def test_pandas_to_sql_read_sql_round_trip(engine):
    pd = pytest.importorskip("pandas")
    df = _frame()
    dtype = {"dec": sa.Numeric(10, 2)}
    assert df.to_sql("frame", engine, schema=SCHEMA, if_exists="replace", index=False, dtype=dtype) == 3
    expected = df.iloc[[1, 0, 2]].reset_index(drop=True)
    back = _read_back(engine, "frame", pd)
    pd.testing.assert_frame_equal(back, expected, check_dtype=False)
    assert [type(v) for v in back["dec"].dropna()] == [Decimal, Decimal]
    assert back["d"].iloc[1] == dt.date(2024, 2, 29)
    # append doubles the rows, replace resets them
    df.to_sql("frame", engine, schema=SCHEMA, if_exists="append", index=False, dtype=dtype)
    assert pd.read_sql(f"select count(*) as c from {SCHEMA}.frame", engine)["c"][0] == 6
    with pytest.raises(ValueError):
        df.to_sql("frame", engine, schema=SCHEMA, if_exists="fail", index=False)
    df.to_sql("frame", engine, schema=SCHEMA, if_exists="replace", index=False, dtype=dtype)
    pd.testing.assert_frame_equal(_read_back(engine, "frame", pd), expected, check_dtype=False)
    cols = {c["name"]: c["type"] for c in sa.inspect(engine).get_columns("frame", SCHEMA)}
    assert isinstance(cols["f"], sqltypes.DOUBLE) and isinstance(cols["d"], sqltypes.DATE)
    assert isinstance(cols["ts"], sqltypes.TIMESTAMP) and isinstance(cols["i"], sqltypes.BIGINT)


def test_pandas_read_sql_chunks_and_table(engine):
    pd = pytest.importorskip("pandas")
    chunks = list(pd.read_sql("select id from range(2500) order by id", engine, chunksize=1000))
    assert [len(c) for c in chunks] == [1000, 1000, 500]
    assert pd.concat(chunks)["id"].tolist() == list(range(2500))
    _frame().to_sql("frame2", engine, schema=SCHEMA, if_exists="replace", index=True)
    table = pd.read_sql_table("frame2", engine, schema=SCHEMA)
    assert sorted(table["index"].tolist()) == [0, 1, 2] and len(table.columns) == 8
