"""Spark SQL types as HiveServer2 sees them: result-set schemas (TTypeDesc) and JDBC metadata.

The rules follow the Spark Thrift Server (STS) of Spark 4.3:

* ``SparkExecuteStatementOperation.toTTypeId``: one ``primitiveEntry`` per column, even for ARRAY/MAP/STRUCT;
  DECIMAL carries ``precision``/``scale`` qualifiers, CHAR/VARCHAR ``characterMaximumLength``; every other type
  gets an empty qualifier map. Char/varchar columns reach us as ``StringType`` with the raw type kept in the
  ``__CHAR_VARCHAR_TYPE_STRING`` field metadata (STS restores it with ``CharVarcharUtils.getRawSchema``).
* ``SparkGetColumnsOperation``: the ``java.sql.Types`` code, ``dataType.sql`` as the type name, the column size
  and the decimal digits.

Types that Arrow cannot carry (CalendarInterval, Variant, Geometry, Geography, Time) are cast to strings by the
caller before conversion; here they map to STRING_TYPE like STS does for the ones it knows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pyspark.sql import types as T

from thrift_idl.gen.TCLIService import ttypes

CHAR_VARCHAR_KEY = "__CHAR_VARCHAR_TYPE_STRING"
_CHAR_VARCHAR_RE = re.compile(r"^\s*(char|varchar)\s*\(\s*(\d+)\s*\)\s*$", re.IGNORECASE)
_PLAIN_NAME_RE = re.compile(r"^[A-Za-z0-9_]+$")

TTypeId = ttypes.TTypeId

# java.sql.Types codes used by STS.
JDBC_NULL = 0
JDBC_CHAR = 1
JDBC_DECIMAL = 3
JDBC_INTEGER = 4
JDBC_SMALLINT = 5
JDBC_FLOAT = 6
JDBC_DOUBLE = 8
JDBC_VARCHAR = 12
JDBC_BOOLEAN = 16
JDBC_DATE = 91
JDBC_TIMESTAMP = 93
JDBC_OTHER = 1111
JDBC_JAVA_OBJECT = 2000
JDBC_STRUCT = 2002
JDBC_ARRAY = 2003
JDBC_BIGINT = -5
JDBC_TINYINT = -6
JDBC_BINARY = -2

_SIMPLE_TTYPE: dict[type, int] = {
    T.NullType: TTypeId.NULL_TYPE,
    T.BooleanType: TTypeId.BOOLEAN_TYPE,
    T.ByteType: TTypeId.TINYINT_TYPE,
    T.ShortType: TTypeId.SMALLINT_TYPE,
    T.IntegerType: TTypeId.INT_TYPE,
    T.LongType: TTypeId.BIGINT_TYPE,
    T.FloatType: TTypeId.FLOAT_TYPE,
    T.DoubleType: TTypeId.DOUBLE_TYPE,
    T.CharType: TTypeId.CHAR_TYPE,
    T.VarcharType: TTypeId.VARCHAR_TYPE,
    T.StringType: TTypeId.STRING_TYPE,
    T.DecimalType: TTypeId.DECIMAL_TYPE,
    T.DateType: TTypeId.DATE_TYPE,
    T.TimestampType: TTypeId.TIMESTAMP_TYPE,
    T.TimestampNTZType: TTypeId.TIMESTAMP_TYPE,
    T.BinaryType: TTypeId.BINARY_TYPE,
    T.DayTimeIntervalType: TTypeId.INTERVAL_DAY_TIME_TYPE,
    T.YearMonthIntervalType: TTypeId.INTERVAL_YEAR_MONTH_TYPE,
    T.ArrayType: TTypeId.ARRAY_TYPE,
    T.MapType: TTypeId.MAP_TYPE,
    T.StructType: TTypeId.STRUCT_TYPE,
}

_SIMPLE_JDBC: dict[type, int] = {
    T.NullType: JDBC_NULL,
    T.BooleanType: JDBC_BOOLEAN,
    T.ByteType: JDBC_TINYINT,
    T.ShortType: JDBC_SMALLINT,
    T.IntegerType: JDBC_INTEGER,
    T.LongType: JDBC_BIGINT,
    T.FloatType: JDBC_FLOAT,
    T.DoubleType: JDBC_DOUBLE,
    T.DecimalType: JDBC_DECIMAL,
    T.VarcharType: JDBC_VARCHAR,
    T.CharType: JDBC_CHAR,
    T.StringType: JDBC_VARCHAR,
    T.BinaryType: JDBC_BINARY,
    T.DateType: JDBC_DATE,
    T.TimestampType: JDBC_TIMESTAMP,
    T.TimestampNTZType: JDBC_TIMESTAMP,
    T.ArrayType: JDBC_ARRAY,
    T.MapType: JDBC_JAVA_OBJECT,
    T.StructType: JDBC_STRUCT,
    T.CalendarIntervalType: JDBC_OTHER,
    T.DayTimeIntervalType: JDBC_OTHER,
    T.YearMonthIntervalType: JDBC_OTHER,
}

# Spark's DataType.defaultSize for the types whose JDBC COLUMN_SIZE is reported.
_DEFAULT_SIZE: dict[type, int] = {
    T.BooleanType: 1,
    T.ByteType: 1,
    T.ShortType: 2,
    T.IntegerType: 4,
    T.LongType: 8,
    T.FloatType: 4,
    T.DoubleType: 8,
    T.DateType: 4,
    T.TimestampType: 8,
    T.TimestampNTZType: 8,
    T.CalendarIntervalType: 16,
    T.NullType: 1,
    T.YearMonthIntervalType: 4,
    T.DayTimeIntervalType: 8,
}


def _unwrap_udt(dt: T.DataType) -> T.DataType:
    """A user-defined type travels (and is described) as its underlying SQL type."""
    while isinstance(dt, T.UserDefinedType):
        dt = dt.sqlType()
    return dt


def raw_field_type(field: T.StructField) -> T.DataType:
    """The field's type with CHAR(n)/VARCHAR(n) restored from ``__CHAR_VARCHAR_TYPE_STRING`` metadata.

    Only a top-level char/varchar is restored; nested ones (``array<char(3)>``) stay strings.
    """
    raw = (field.metadata or {}).get(CHAR_VARCHAR_KEY)
    if isinstance(raw, str) and isinstance(field.dataType, T.StringType):
        m = _CHAR_VARCHAR_RE.match(raw)
        if m:
            length = int(m.group(2))
            return T.CharType(length) if m.group(1).lower() == "char" else T.VarcharType(length)
    return field.dataType


def ttype_id(dt: T.DataType) -> int:
    """The TTypeId STS reports for ``dt``; anything not in its table is STRING_TYPE."""
    dt = _unwrap_udt(dt)
    return _SIMPLE_TTYPE.get(type(dt), TTypeId.STRING_TYPE)


def _i32(v: int) -> ttypes.TTypeQualifierValue:
    return ttypes.TTypeQualifierValue(i32Value=v)


def type_qualifiers(dt: T.DataType) -> ttypes.TTypeQualifiers:
    """DECIMAL: precision/scale; CHAR/VARCHAR: characterMaximumLength; otherwise an empty map (as STS)."""
    dt = _unwrap_udt(dt)
    if isinstance(dt, T.DecimalType):
        quals = {"precision": _i32(dt.precision), "scale": _i32(dt.scale)}
    elif isinstance(dt, (T.CharType, T.VarcharType)):
        quals = {"characterMaximumLength": _i32(dt.length)}
    else:
        quals = {}
    return ttypes.TTypeQualifiers(qualifiers=quals)


def type_desc(dt: T.DataType) -> ttypes.TTypeDesc:
    """A TTypeDesc with a single primitive entry (what HS2/STS emit, and what impyla requires)."""
    entry = ttypes.TPrimitiveTypeEntry(type=ttype_id(dt), typeQualifiers=type_qualifiers(dt))
    return ttypes.TTypeDesc(types=[ttypes.TTypeEntry(primitiveEntry=entry)])


def field_comment(field: T.StructField) -> str:
    """The column comment from the field metadata ('' when absent, as STS sends)."""
    comment = (field.metadata or {}).get("comment")
    return comment if isinstance(comment, str) else ""


def column_desc(field: T.StructField, position: int) -> ttypes.TColumnDesc:
    """One TColumnDesc; char/varchar restored from metadata."""
    return ttypes.TColumnDesc(
        columnName=field.name,
        typeDesc=type_desc(raw_field_type(field)),
        position=position,
        comment=field_comment(field),
    )


def table_schema(schema: T.StructType, first_position: int = 1) -> ttypes.TTableSchema:
    """The GetResultSetMetadata schema. Positions start at ``first_position`` (STS 4.3 itself uses 0)."""
    return ttypes.TTableSchema(
        columns=[column_desc(f, i + first_position) for i, f in enumerate(schema.fields)]
    )


def _quote_if_needed(name: str) -> str:
    """Spark's ``QuotingUtils.quoteIfNeeded``."""
    if _PLAIN_NAME_RE.match(name) and not name.isdigit():
        return name
    return "`" + name.replace("`", "``") + "`"


def type_sql(dt: T.DataType) -> str:
    """Spark's ``DataType.sql`` (e.g. ``DECIMAL(10,2)``, ``ARRAY<INT>``, ``STRUCT<a: INT>``)."""
    dt = _unwrap_udt(dt)
    if isinstance(dt, T.ArrayType):
        return f"ARRAY<{type_sql(dt.elementType)}>"
    if isinstance(dt, T.MapType):
        return f"MAP<{type_sql(dt.keyType)}, {type_sql(dt.valueType)}>"
    if isinstance(dt, T.StructType):
        parts = []
        for f in dt.fields:
            part = f"{_quote_if_needed(f.name)}: {type_sql(f.dataType)}"
            comment = (f.metadata or {}).get("comment")
            if isinstance(comment, str):
                escaped = comment.replace("\\", "\\\\").replace("'", "\\'")
                part += f" COMMENT '{escaped}'"
            parts.append(part)
        return f"STRUCT<{', '.join(parts)}>"
    if isinstance(dt, T.StringType):
        collation = getattr(dt, "collation", "UTF8_BINARY")
        return "STRING" if collation == "UTF8_BINARY" else f"STRING COLLATE {collation}"
    if isinstance(dt, T.DecimalType):
        return f"DECIMAL({dt.precision},{dt.scale})"
    if isinstance(dt, T.NullType):
        return "VOID"
    return dt.simpleString().upper()


def jdbc_type(dt: T.DataType) -> int:
    """The ``java.sql.Types`` code STS reports in GetColumns.DATA_TYPE (OTHER for anything unknown)."""
    dt = _unwrap_udt(dt)
    return _SIMPLE_JDBC.get(type(dt), JDBC_OTHER)


def default_size(dt: T.DataType) -> int | None:
    """Spark's ``defaultSize`` for the fixed-size types STS reports, else None."""
    dt = _unwrap_udt(dt)
    if isinstance(dt, T.DecimalType):
        return 8 if dt.precision <= 18 else 16
    return _DEFAULT_SIZE.get(type(dt))


def column_size(dt: T.DataType) -> int | None:
    """GetColumns.COLUMN_SIZE: the default size of fixed-size types, n for CHAR(n), the sum for a struct of
    fixed-size fields, else None (strings, binary, arrays, maps)."""
    dt = _unwrap_udt(dt)
    if isinstance(dt, T.CharType):
        return dt.length
    if isinstance(dt, T.StructType):
        sizes = [column_size(f.dataType) for f in dt.fields]
        return None if any(s is None for s in sizes) else sum(s for s in sizes if s is not None)
    return default_size(dt)


def decimal_digits(dt: T.DataType) -> int | None:
    """GetColumns.DECIMAL_DIGITS: integral and boolean 0, float 7, double 15, decimal scale, timestamps 6.

    (STS 4.3 matches only IntegerType for the 0, so it reports null for tinyint/smallint/bigint.)
    """
    dt = _unwrap_udt(dt)
    if isinstance(dt, (T.BooleanType, T.IntegralType)):
        return 0
    if isinstance(dt, T.FloatType):
        return 7
    if isinstance(dt, T.DoubleType):
        return 15
    if isinstance(dt, T.DecimalType):
        return dt.scale
    if isinstance(dt, (T.TimestampType, T.TimestampNTZType)):
        return 6
    return None


def num_prec_radix(dt: T.DataType) -> int | None:
    """GetColumns.NUM_PREC_RADIX: 10 for numeric types, else None."""
    return 10 if isinstance(_unwrap_udt(dt), T.NumericType) else None


@dataclass(frozen=True)
class JdbcTypeInfo:
    """What GetColumns/GetTypeInfo report for one Spark type."""

    data_type: int
    type_name: str
    column_size: int | None
    decimal_digits: int | None
    num_prec_radix: int | None


def jdbc_type_info(dt: T.DataType) -> JdbcTypeInfo:
    """All JDBC metadata of ``dt`` at once."""
    return JdbcTypeInfo(jdbc_type(dt), type_sql(dt), column_size(dt), decimal_digits(dt), num_prec_radix(dt))
