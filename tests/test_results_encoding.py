"""Result encoding against Spark's own code, run in a local SparkSession.

Oracles (all inside the local JVM):
* ``HiveResult.hiveResultString``: Spark's Hive text of every value (for ``format_values``);
* ``RowSetUtils.toTRowSet`` + Java ``TSerializer``: the Spark Thrift Server's TRowSet bytes (for the encoder);
* ``SparkExecuteStatementOperation.toTTableSchema``: the STS result schema (for ``table_schema``);
* ``DataType.sql``: the JDBC type names.
"""

from __future__ import annotations

import json
import math
import os
import sys

import numpy as np
import pyarrow as pa
import pytest

os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

from pyspark.sql import DataFrame, SparkSession  # noqa: E402
from pyspark.sql import types as T  # noqa: E402
from thrift.protocol import TBinaryProtocol  # noqa: E402
from thrift.transport import TTransport  # noqa: E402

from gateway.results import RowSetEncoder, format_values, null_bitmap, table_schema, type_sql  # noqa: E402
from gateway.results.fast_rowset import encode_fetch_results_resp  # noqa: E402
from gateway.results.hive_format import arrow_time_zone  # noqa: E402
from gateway.results.types import jdbc_type_info, raw_field_type, ttype_id  # noqa: E402
from thrift_idl.gen.TCLIService import ttypes  # noqa: E402

V5 = ttypes.TProtocolVersion.HIVE_CLI_SERVICE_PROTOCOL_V5
V10 = ttypes.TProtocolVersion.HIVE_CLI_SERVICE_PROTOCOL_V10

# Every Arrow-convertible Spark type, with nulls, negatives, unicode, and nested values of each kind.
ALL_TYPES_SQL = r"""
SELECT
  id, cast(id AS int) i, cast(id - 1 AS smallint) s, cast(id AS tinyint) t, id % 2 = 0 b,
  if(id = 1, NULL, id * -3000000000) l, cast(id AS double) / 4 d, cast(id AS float) / 4 f,
  if(id = 2, NULL, concat('v', id, 'ünï€😀 "q"\n')) str, cast(id AS decimal(10, 3)) / 8 dec,
  cast('-12345678901234567890.123456789012345678' AS decimal(38, 18)) * (id - 1) bigdec,
  date_add(date'1999-12-31', cast(id * 37 AS int)) dt,
  timestamp_micros(1700000000123456 + id * 987654321) ts,
  timestamp_ntz'2024-02-29 23:59:59.5' + make_dt_interval(0, 0, 0, id) ntz,
  x'00ff41' bin, NULL nothing,
  make_ym_interval(cast(id AS int) - 2, 5) ym, make_dt_interval(cast(id AS int) - 2, 3, 4, 5.000678) dti,
  if(id = 3, NULL, array(id, NULL, -id)) arr,
  array(named_struct('k', concat('a', id), 'bin', x'6869', 'dt', date'2024-01-01', 'ts', timestamp_micros(id))) arr_st,
  map('b', id, 'a', NULL, 'ç', 7) m, map(id, array(cast(1.5 AS decimal(3, 2)), NULL)) m2,
  named_struct('x', if(id = 0, NULL, 'q"x'), 'y', array(map('k', true)), 'z', named_struct('ym', make_ym_interval(1, 1))) st,
  if(id = 0, NULL, named_struct('a', 1)) st_null,
  array(array('a', NULL), array(), NULL) arr2,
  array(cast(0.5 AS float), cast(-2.25 AS float), cast('NaN' AS float)) farr,
  array(0.1D, 1.0E20D, 1234567.0D, 1.0E7D, 0.001D, -0.0D, cast('Infinity' AS double)) darr,
  array(make_dt_interval(-1, 0, 0, 0.5)) dtarr,
  map(timestamp_ntz'2024-01-01 00:00:00', date'2024-01-02') mts
FROM range(0, 5, 1, 2)
"""


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    warehouse = tmp_path_factory.mktemp("warehouse")
    session = (
        SparkSession.builder.master("local[2]")
        .appName("test_results_encoding")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.datetime.java8API.enabled", "true")  # STS forces it
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(warehouse))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    # In case getOrCreate returned a session another test module built with other settings.
    session.conf.set("spark.sql.datetime.java8API.enabled", "true")
    session.conf.set("spark.sql.session.timeZone", "UTC")
    yield session
    session.stop()


@pytest.fixture()
def utc(spark):
    """Run a test in UTC and restore UTC afterwards."""
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    yield spark
    spark.conf.set("spark.sql.session.timeZone", "UTC")


# ---------------------------------------------------------------- oracles and helpers


def _jvm(df: DataFrame):
    return df.sparkSession.sparkContext._jvm


def _hive_rows(df: DataFrame) -> list[str]:
    plan = df._jdf.queryExecution().executedPlan()
    seq = _jvm(df).org.apache.spark.sql.execution.HiveResult.hiveResultString(plan)
    return [seq.apply(i) for i in range(seq.length())]


def hive_strings(df: DataFrame, name: str) -> list[str]:
    """Spark's Hive text of one column (top level: NULL for nulls, strings unquoted)."""
    return _hive_rows(df.select(name))


def hive_table(df: DataFrame) -> dict[str, list[str]]:
    """Spark's Hive text of every column, from one job when no value contains a tab."""
    names = df.schema.names
    rows = [r.split("\t") for r in _hive_rows(df)]
    if all(len(r) == len(names) for r in rows):
        return {name: [r[i] for r in rows] for i, name in enumerate(names)}
    return {name: hive_strings(df, name) for name in names}


def _java_thrift_bytes(df: DataFrame, obj) -> bytes:
    jvm = _jvm(df)
    serializer = jvm.org.apache.thrift.TSerializer(jvm.org.apache.thrift.protocol.TBinaryProtocol.Factory())
    return bytes(serializer.serialize(obj))


def java_rows(df: DataFrame):
    """``df`` collected in the JVM (a Scala List of Rows, java.time values as STS gets them)."""
    return _jvm(df).scala.jdk.javaapi.CollectionConverters.asScala(df._jdf.collectAsList()).toList()


def sts_rowset_bytes(
    df: DataFrame, start: int = 0, stop: int | None = None, version: int = V10, rows=None
) -> bytes:
    """What the Spark Thrift Server sends for rows [start, stop) of ``df`` (RowSetUtils.toTRowSet)."""
    jvm = _jvm(df)
    rows = java_rows(df) if rows is None else rows
    rows = rows.slice(start, rows.length() if stop is None else stop)
    fields = df._jdf.schema().fields()
    types = df.sparkSession.sparkContext._gateway.new_array(
        jvm.org.apache.spark.sql.types.DataType, len(fields)
    )
    for i, f in enumerate(fields):
        types[i] = f.dataType()
    jversion = jvm.org.apache.hive.service.rpc.thrift.TProtocolVersion.findByValue(version)
    rowset = jvm.org.apache.spark.sql.hive.thriftserver.RowSetUtils.toTRowSet(start, rows, types, jversion)
    return _java_thrift_bytes(df, rowset)


def thrift_bytes(obj) -> bytes:
    buf = TTransport.TMemoryBuffer()
    obj.write(TBinaryProtocol.TBinaryProtocolAccelerated(buf))
    return buf.getvalue()


def decode_rowset(data: bytes) -> ttypes.TRowSet:
    out = ttypes.TRowSet()
    out.read(TBinaryProtocol.TBinaryProtocolAccelerated(TTransport.TMemoryBuffer(data)))
    return out


def arrow_batches(df: DataFrame) -> list[pa.RecordBatch]:
    """The batches Spark's JVM produces for ``df`` (one per partition; session time zone applied)."""
    return df._collect_as_arrow(empty_list_if_zero_records=False)


def one_batch(df: DataFrame) -> pa.RecordBatch:
    batches = arrow_batches(df)
    return pa.Table.from_batches(batches, batches[0].schema).combine_chunks().to_batches()[0]


def encoder_for(df: DataFrame, batch: pa.RecordBatch) -> RowSetEncoder:
    return RowSetEncoder.for_dataframe(df, batch.schema)


def assert_matches_hive_text(df: DataFrame) -> None:
    """format_values(top level) == HiveResult for every column ('NULL' for nulls)."""
    batch = one_batch(df)
    enc = encoder_for(df, batch)
    prepared = enc._prepare(batch)
    expected = hive_table(df)
    for i, field in enumerate(df.schema.fields):
        ours = format_values(prepared.column(i), field.dataType, enc.time_zone).to_pylist()
        ours = ["NULL" if v is None else v for v in ours]
        assert ours == expected[field.name], field.name


def assert_matches_sts(df: DataFrame) -> None:
    """Our V10 bytes (fast path and thrift objects) and V5 bytes equal what STS sends, per batch and slice."""
    batches = arrow_batches(df)
    enc = encoder_for(df, batches[0])
    rows = java_rows(df)
    start = 0
    for batch in batches:
        stop = start + batch.num_rows
        expected = sts_rowset_bytes(df, start, stop, rows=rows)
        assert enc.encode_rowset(batch, start) == expected
        assert thrift_bytes(enc.rowset(batch, start, V10)) == expected
        assert thrift_bytes(enc.rowset(batch, start, V5)) == sts_rowset_bytes(df, start, stop, V5, rows)
        start = stop
    whole = pa.Table.from_batches(batches, batches[0].schema).combine_chunks().to_batches()[0]
    for a, b in [
        (0, whole.num_rows),
        (1, whole.num_rows),
        (1, 3),
        (2, 2),
        (whole.num_rows - 1, whole.num_rows),
    ]:
        part = whole.slice(a, b - a)
        expected = sts_rowset_bytes(df, a, b, rows=rows)
        assert enc.encode_rowset(part, a) == expected, (a, b)
        assert thrift_bytes(enc.rowset(part, a, V10)) == expected, (a, b)


# ---------------------------------------------------------------- schemas and JDBC metadata


def test_table_schema_matches_sts(spark):
    spark.sql("DROP TABLE IF EXISTS results_cv")
    spark.sql(
        "CREATE TABLE results_cv (c char(5), v varchar(3), s string COMMENT 'hello', "
        "d decimal(12, 4) COMMENT 'money', a array<int>) USING parquet"
    )
    try:
        frames = [spark.sql("SELECT * FROM results_cv"), spark.sql(ALL_TYPES_SQL)]
        for df in frames:
            expected = _java_thrift_bytes(
                df,
                _jvm(df).org.apache.spark.sql.hive.thriftserver.SparkExecuteStatementOperation.toTTableSchema(
                    df._jdf.schema()
                ),
            )
            assert thrift_bytes(table_schema(df.schema, first_position=0)) == expected
        cols = table_schema(frames[0].schema).columns
    finally:
        spark.sql("DROP TABLE IF EXISTS results_cv")
    assert [c.position for c in cols] == [1, 2, 3, 4, 5]
    types = [c.typeDesc.types[0].primitiveEntry for c in cols]
    assert [t.type for t in types] == [
        ttypes.TTypeId.CHAR_TYPE,
        ttypes.TTypeId.VARCHAR_TYPE,
        ttypes.TTypeId.STRING_TYPE,
        ttypes.TTypeId.DECIMAL_TYPE,
        ttypes.TTypeId.ARRAY_TYPE,
    ]
    assert types[0].typeQualifiers.qualifiers["characterMaximumLength"].i32Value == 5
    assert types[1].typeQualifiers.qualifiers["characterMaximumLength"].i32Value == 3
    assert types[3].typeQualifiers.qualifiers["precision"].i32Value == 12
    assert types[3].typeQualifiers.qualifiers["scale"].i32Value == 4
    assert [c.comment for c in cols] == ["", "", "hello", "money", ""]


def test_type_ids():
    ids = ttypes.TTypeId
    assert ttype_id(T.NullType()) == ids.NULL_TYPE
    assert ttype_id(T.TimestampNTZType()) == ids.TIMESTAMP_TYPE
    assert ttype_id(T.DayTimeIntervalType(1, 2)) == ids.INTERVAL_DAY_TIME_TYPE
    assert ttype_id(T.YearMonthIntervalType()) == ids.INTERVAL_YEAR_MONTH_TYPE
    assert ttype_id(T.CalendarIntervalType()) == ids.STRING_TYPE
    assert ttype_id(T.VariantType()) == ids.STRING_TYPE
    assert ttype_id(T.StringType("UNICODE_CI")) == ids.STRING_TYPE
    assert ttype_id(T.MapType(T.StringType(), T.IntegerType())) == ids.MAP_TYPE
    field = T.StructField("c", T.StringType(), metadata={"__CHAR_VARCHAR_TYPE_STRING": "varchar(7)"})
    assert raw_field_type(field) == T.VarcharType(7)


def test_type_sql_matches_spark(spark):
    ddl = (
        "a int, b bigint, c decimal(10,2), d array<map<string,int>>, "
        "e struct<x: int, `y z`: string comment 'it''s', `1`: date, a1: timestamp_ntz>, "
        "f interval day to second, g interval year, h void, i char(5), j varchar(3), "
        "k string collate unicode_ci, l binary, m timestamp, n tinyint, o struct<`a``b`: float, _c: double>, "
        "p interval hour to minute, q variant, r boolean, s smallint"
    )
    jschema = spark._jvm.org.apache.spark.sql.types.StructType.fromDDL(ddl)
    schema = T.StructType.fromJson(json.loads(jschema.json()))
    for jfield, field in zip(jschema.fields(), schema.fields, strict=True):
        assert type_sql(field.dataType) == jfield.dataType().sql()


def test_jdbc_type_info():
    info = jdbc_type_info(T.DecimalType(20, 3))
    assert (info.data_type, info.type_name, info.column_size, info.decimal_digits, info.num_prec_radix) == (
        3,
        "DECIMAL(20,3)",
        16,
        3,
        10,
    )
    cases = {
        T.IntegerType(): (4, "INT", 4, 0),
        T.LongType(): (-5, "BIGINT", 8, 0),
        T.ByteType(): (-6, "TINYINT", 1, 0),
        T.ShortType(): (5, "SMALLINT", 2, 0),
        T.FloatType(): (6, "FLOAT", 4, 7),
        T.DoubleType(): (8, "DOUBLE", 8, 15),
        T.BooleanType(): (16, "BOOLEAN", 1, 0),
        T.StringType(): (12, "STRING", None, None),
        T.CharType(4): (1, "CHAR(4)", 4, None),
        T.VarcharType(4): (12, "VARCHAR(4)", None, None),
        T.BinaryType(): (-2, "BINARY", None, None),
        T.DateType(): (91, "DATE", 4, None),
        T.TimestampType(): (93, "TIMESTAMP", 8, 6),
        T.TimestampNTZType(): (93, "TIMESTAMP_NTZ", 8, 6),
        T.NullType(): (0, "VOID", 1, None),
        T.ArrayType(T.IntegerType()): (2003, "ARRAY<INT>", None, None),
        T.MapType(T.StringType(), T.IntegerType()): (2000, "MAP<STRING, INT>", None, None),
        T.StructType([T.StructField("a", T.IntegerType()), T.StructField("b", T.DoubleType())]): (
            2002,
            "STRUCT<a: INT, b: DOUBLE>",
            12,
            None,
        ),
        T.DayTimeIntervalType(0, 3): (1111, "INTERVAL DAY TO SECOND", 8, None),
        T.YearMonthIntervalType(0, 1): (1111, "INTERVAL YEAR TO MONTH", 4, None),
    }
    for dt, expected in cases.items():
        info = jdbc_type_info(dt)
        assert (info.data_type, info.type_name, info.column_size, info.decimal_digits) == expected, dt


# ---------------------------------------------------------------- Hive text


def test_hive_text_all_types(utc):
    assert_matches_hive_text(utc.sql(ALL_TYPES_SQL))


def test_hive_text_edge_values(utc):
    df = utc.sql(
        r"""SELECT cast('0.00000010' AS decimal(10, 8)) a, cast('-1E-38' AS decimal(38, 38)) b,
          cast('99999999999999999999999999999999999999' AS decimal(38, 0)) c, cast(0 AS decimal(10, 5)) d,
          date'0001-01-01' e, date_add(date'9999-12-31', 1) f, make_date(-1, 1, 1) g,
          timestamp_micros(253402300800000000 + 123000) h, timestamp'0001-01-01 00:00:00' i,
          timestamp'1969-12-31 23:59:59.999999' j, timestamp_ntz'0001-01-01 00:00:00.000001' k,
          make_ym_interval(-178956970, -8) l, make_ym_interval(0, -1) m,
          make_dt_interval(106751991, 4, 0, 54.775807) n,
          -make_dt_interval(106751991, 4, 0, 54.775807) - interval '0.000001' second o,
          interval '3' hour p, interval '5' year q, 9223372036854775807L r, -9223372036854775808L s,
          cast('ab' AS char(5)) u, array(x'ff00', cast(NULL AS binary)) v"""
    )
    assert_matches_hive_text(df)


def test_hive_text_time_zones(spark):
    # Random instants from year 1 to 9999 (and a few beyond) in zones with LMT, DST, half-hour and odd offsets.
    df_sql = """SELECT timestamp_micros(-62135596800000000 + pmod(xxhash64(id), 315537897600000000)) ts,
                       array(timestamp_micros(pmod(xxhash64(id, 1), 4102444800000000))) arr,
                       timestamp_micros(253402300800000000 + id * 86400000000000) far
                FROM range(400)"""
    try:
        for tz in [
            "America/Los_Angeles",
            "Asia/Kolkata",
            "Australia/Lord_Howe",
            "Europe/London",
            "+05:45",
            "GMT-3",
            "PST",
        ]:
            spark.conf.set("spark.sql.session.timeZone", tz)
            assert_matches_hive_text(spark.sql(df_sql))
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")
    assert arrow_time_zone("GMT+8") == "+08:00"
    assert arrow_time_zone("UTC-03:30") == "-03:30"
    assert arrow_time_zone("Z") == "UTC"
    assert arrow_time_zone("Europe/Paris") == "Europe/Paris"


def test_hive_text_random_numbers(utc):
    df = utc.sql(
        """SELECT cast(substr(concat(abs(xxhash64(id)), abs(xxhash64(id, 2))), 1, 30) AS decimal(38, 8))
                    * if(id % 2 = 0, 1, -1) a,
                  cast(xxhash64(id) % 1000000000 AS decimal(18, 0)) / 1000 b,
                  cast(xxhash64(id, 3) % 100000 AS int) * interval '1' month c,
                  xxhash64(id, 4) % 9000000000000000 * interval '0.000001' second d,
                  array(cast(xxhash64(id) % 100000 AS double) / 64, cast(xxhash64(id) % 1000 AS float) / 8) e
           FROM range(500)"""
    )
    assert_matches_hive_text(df)


def test_map_entries_sorted_in_java_string_order(utc):
    # Java compares UTF-16 code units: U+E000 sorts after U+1F600 (a surrogate pair), unlike code points.
    df = utc.sql(
        "SELECT map('\ue000', 1, '😀', 2, 'a', 3, '10', 4, '1', 5) m, map(10, 'x', 9, 'y', -1, 'z') n"
    )
    assert_matches_hive_text(df)
    assert hive_strings(df, "m") == ['{"1":5,"10":4,"a":3,"😀":2,"\ue000":1}']


def test_java_float_text_is_shortest_round_trip(spark):
    """Nested floats/doubles use Java's notation with the shortest digits (what JDK 19+ prints).

    JDK 17 sometimes prints more digits than needed, or another last digit; it must still be the same number.
    """
    rng = np.random.default_rng(7)
    doubles = np.concatenate(
        [
            rng.standard_normal(2000) * 10.0 ** rng.integers(-30, 30, 2000),
            rng.integers(-(10**9), 10**9, 500) / 8.0,
        ]
    )
    floats = doubles.astype(np.float32)
    schema = T.StructType(
        [T.StructField("d", T.ArrayType(T.DoubleType())), T.StructField("f", T.ArrayType(T.FloatType()))]
    )
    chunks = [
        (doubles[i : i + 100].tolist(), floats[i : i + 100].astype(float).tolist())
        for i in range(0, len(doubles), 100)
    ]
    df = spark.createDataFrame(chunks, schema)
    batch = one_batch(df)
    for name, np_type in [("d", np.float64), ("f", np.float32)]:
        ours = format_values(batch.column(name), df.schema[name].dataType, "UTC").to_pylist()
        java = hive_strings(df, name)
        same = longer = 0
        for ours_list, java_list in zip(ours, java, strict=True):
            for a, b in zip(ours_list[1:-1].split(","), java_list[1:-1].split(","), strict=True):
                if a == b:
                    same += 1
                    continue
                assert np_type(a) == np_type(b), (a, b)
                assert len(a) <= len(b), (a, b)
                longer += 1
        assert same > 0.8 * (same + longer)


# ---------------------------------------------------------------- TRowSet encoding


def test_rowsets_match_sts_all_types(utc):
    assert_matches_sts(utc.sql(ALL_TYPES_SQL))


def test_rowsets_match_sts_large_var_types(utc):
    utc.conf.set("spark.sql.execution.arrow.useLargeVarTypes", "true")
    try:
        df = utc.sql(ALL_TYPES_SQL)
        assert arrow_batches(df)[0].schema.field("str").type == pa.large_string()
        assert_matches_sts(df)
    finally:
        utc.conf.unset("spark.sql.execution.arrow.useLargeVarTypes")


def test_rowsets_match_sts_time_zone(spark):
    spark.conf.set("spark.sql.session.timeZone", "America/Los_Angeles")
    try:
        assert_matches_sts(spark.sql(ALL_TYPES_SQL))
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")


def test_rowsets_match_sts_nulls_and_strings(utc):
    # 21 rows so that null bitmaps span several bytes; every column has nulls somewhere.
    df = utc.sql(
        r"""SELECT if(id % 3 = 0, NULL, id % 2 = 0) b, if(id % 5 = 0, NULL, cast(id AS tinyint)) t,
                  if(id = 20, NULL, cast(id AS short)) s, if(id % 8 = 7, NULL, cast(id AS int)) i,
                  if(id > 15, NULL, id) l, if(id % 4 = 1, NULL, id / 3) d, if(id % 2 = 0, NULL, cast(id AS float)) f,
                  if(id % 6 = 0, NULL, repeat('ü€😀\tx', cast(id AS int))) str, if(id % 7 = 0, NULL, unhex(hex(id))) bin,
                  if(id % 3 = 1, NULL, cast(x'61ff62eda080c0af' AS string)) bad_utf8,
                  array(cast(x'e282' AS string)) bad_nested, named_struct('b', x'f09f98') bad_bin,
                  if(id % 9 = 0, NULL, date'2000-01-01') dt, CAST(NULL AS string) allnull, NULL v
           FROM range(0, 21, 1, 1)"""
    )
    assert_matches_sts(df)


def test_invalid_utf8_replaced_like_java(utc):
    crafted = [
        "eda080",
        "eda041",
        "61eda0",
        "f4908080",
        "e08080",
        "f09f98",
        "f09f9841",
        "c0af",
        "e282",
        "ff",
        "efbfbd",
        "f0908080",
        "eda0bf80",
        "c2",
        "e2828241",
    ]
    values = ", ".join(f"(unhex('{h}'))" for h in crafted)
    df = utc.sql(
        f"""SELECT cast(b AS string) s, named_struct('b', b) st FROM VALUES {values} AS t(b)
            UNION ALL
            SELECT cast(unhex(substr(sha2(cast(id AS string), 256), 1, 2 + 2 * (id % 20))) AS string),
                   named_struct('b', unhex(substr(sha2(cast(id AS string), 512), 1, 40)))
            FROM range(300)"""
    ).coalesce(1)
    assert_matches_sts(df)


def test_rowsets_match_sts_empty_and_single(utc):
    assert_matches_sts(utc.sql("SELECT 1 a, 'x' b, array(1) c FROM range(1)"))
    df = utc.sql(ALL_TYPES_SQL).where("id < 0")
    batch = arrow_batches(utc.sql(ALL_TYPES_SQL))[0].slice(0, 0)
    enc = encoder_for(df, batch)
    expected = sts_rowset_bytes(df)
    assert enc.encode_rowset(batch, 0) == expected
    assert thrift_bytes(enc.rowset(batch, 0, V10)) == expected
    assert thrift_bytes(enc.rowset(batch, 0, V5)) == sts_rowset_bytes(df, version=V5)


def test_decoded_values_match_spark_rows(utc):
    df = utc.sql(
        """SELECT id, if(id % 3 = 0, NULL, cast(id AS int)) i, cast(id AS double) / 10 d,
                  cast(id AS float) / 10 f, if(id % 2 = 0, NULL, concat('s', id)) s, id % 2 = 0 b,
                  unhex(hex(id)) bin, cast(id AS decimal(5, 2)) dec FROM range(0, 37, 1, 3)"""
    )
    batches = arrow_batches(df)
    enc = encoder_for(df, batches[0])
    rows = df.collect()
    offset = 0
    for batch in batches:
        decoded = decode_rowset(enc.encode_rowset(batch, offset))
        assert decoded.startRowOffset == offset and decoded.rows == []
        cols = decoded.columns
        for r in range(batch.num_rows):
            row = rows[offset + r]
            i_nulls = cols[1].i32Val.nulls
            i_is_null = r // 8 < len(i_nulls) and bool(i_nulls[r // 8] & (1 << (r % 8)))
            assert cols[0].i64Val.values[r] == row.id
            assert (None if i_is_null else cols[1].i32Val.values[r]) == row.i
            assert cols[2].doubleVal.values[r] == row.d
            assert cols[3].doubleVal.values[r] == float(repr(row.f)) or math.isclose(
                cols[3].doubleVal.values[r], row.f, rel_tol=1e-6
            )
            assert cols[4].stringVal.values[r] == (row.s or "")
            assert cols[5].boolVal.values[r] == row.b
            assert cols[6].binaryVal.values[r] == bytes(row.bin)
            assert cols[7].stringVal.values[r] == f"{row.dec:.2f}"
        offset += batch.num_rows


def test_float_column_uses_decimal_text(utc):
    df = utc.sql("SELECT cast(0.1 AS float) f, cast(NULL AS float) n, cast(3.4028235E38 AS float) big")
    batch = one_batch(df)
    cols = encoder_for(df, batch).columns(batch)
    assert cols[0].doubleVal.values == [0.1]
    assert cols[1].doubleVal.values == [0.0] and cols[1].doubleVal.nulls == b"\x01"
    assert cols[2].doubleVal.values == [3.4028235e38]


def test_collated_strings_are_sent_plain(utc):
    # STS 4.3 quotes collated strings ("a"); we send the value itself.
    df = utc.sql("SELECT 'a' COLLATE UNICODE_CI c, array('b' COLLATE UNICODE_CI) arr")
    batch = one_batch(df)
    cols = encoder_for(df, batch).columns(batch)
    assert cols[0].stringVal.values == ["a"]
    assert cols[1].stringVal.values == ['["b"]']


def test_null_bitmap_offsets_and_padding():
    values = [None if i % 3 == 0 or i == 17 else i for i in range(29)]
    arr = pa.array(values, pa.int64())
    for start in range(0, 12):
        for length in (0, 1, 7, 8, 9, 16, 29 - start):
            part = arr.slice(start, length)
            expected = bytearray((length + 7) // 8)
            for r, v in enumerate(values[start : start + length]):
                if v is None:
                    expected[r // 8] |= 1 << (r % 8)
            assert null_bitmap(part) == bytes(expected).rstrip(b"\x00"), (start, length)
    assert null_bitmap(pa.array([1, 2, 3])) == b""
    assert null_bitmap(pa.nulls(9)) == b"\xff\x01"


def test_fast_path_matches_thrift_objects_on_arrow_edge_cases():
    schema = T.StructType(
        [
            T.StructField("s", T.StringType()),
            T.StructField("b", T.BinaryType()),
            T.StructField("l", T.LongType()),
            T.StructField("d", T.DoubleType()),
            T.StructField("arr", T.ArrayType(T.StringType())),
        ]
    )
    # Null slots with non-empty data, large offsets, NaN payloads, sliced children.
    strings = pa.Array.from_buffers(
        pa.string(),
        3,
        [
            pa.py_buffer(bytes([0b101])),
            pa.py_buffer(np.array([0, 2, 5, 6], np.int32).tobytes()),
            pa.py_buffer(b"abXYZc"),
        ],
    )
    nan_payload = np.frombuffer(np.array([0x7FF0000000000001], np.uint64).tobytes(), np.float64)
    batch = pa.RecordBatch.from_arrays(
        [
            strings,
            pa.array([b"\x00", None, b"\xff" * 300], pa.large_binary()),
            pa.array([2**63 - 1, None, -(2**63)], pa.int64()),
            pa.array(np.concatenate([nan_payload, [-0.0, 1e308]])),
            pa.array([["x"], None, ["y", None]], pa.list_(pa.large_string())).slice(0, 3),
        ],
        names=["s", "b", "l", "d", "arr"],
    )
    enc = RowSetEncoder(schema, batch.schema, "UTC")
    for part in (batch, batch.slice(1), batch.slice(1, 1), batch.slice(3)):
        data = enc.encode_rowset(part, 42)
        assert data == thrift_bytes(enc.rowset(part, 42, V10))
        decoded = decode_rowset(data)
        assert decoded.startRowOffset == 42
    cols = enc.columns(batch)
    assert cols[0].stringVal.values == ["ab", "", "c"] and cols[0].stringVal.nulls == b"\x02"
    assert cols[4].stringVal.values == ['["x"]', "", '["y",null]']


def test_fetch_results_response_bytes():
    schema = T.StructType([T.StructField("x", T.LongType())])
    batch = pa.RecordBatch.from_arrays([pa.array([1, None, 3])], names=["x"])
    enc = RowSetEncoder(schema, batch.schema, "UTC")
    status = ttypes.TStatus(statusCode=ttypes.TStatusCode.SUCCESS_STATUS)
    resp = ttypes.TFetchResultsResp(status=status, hasMoreRows=True, results=enc.rowset(batch, 0, V10))
    assert encode_fetch_results_resp(thrift_bytes(status), True, enc.encode_rowset(batch, 0)) == thrift_bytes(
        resp
    )
