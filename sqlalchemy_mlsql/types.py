"""Spark SQL types for SQLAlchemy: parsing Spark type strings, complex types, and Spark-escaped literals."""

from __future__ import annotations

import re
import warnings
from typing import Any

from sqlalchemy import types as sqltypes
from sqlalchemy.sql.type_api import TypeEngine

from .escape import quote_string, render_literal


class TINYINT(sqltypes.SmallInteger):
    __visit_name__ = "TINYINT"


class STRING(sqltypes.String):
    """Spark's unbounded STRING."""

    __visit_name__ = "STRING"


class BINARY(sqltypes.LargeBinary):
    __visit_name__ = "BINARY"


class TIMESTAMP_NTZ(sqltypes.DateTime):  # noqa: N801 - Spark's type name
    __visit_name__ = "TIMESTAMP_NTZ"


class INTERVAL(sqltypes.TypeEngine):
    """A Spark ANSI interval (``interval day to second`` ...); values arrive as Hive text strings."""

    __visit_name__ = "INTERVAL"
    cache_ok = True

    def __init__(self, qualifier: str = "") -> None:
        self.qualifier = qualifier

    @property
    def python_type(self) -> type:
        return str


class ARRAY(sqltypes.ARRAY):
    """``array<T>``; values arrive as Python lists."""

    cache_ok = True

    def __init__(self, item_type: Any) -> None:
        super().__init__(item_type)


class MAP(sqltypes.TypeEngine):
    """``map<K,V>``; values arrive as Python dicts."""

    __visit_name__ = "MAP"
    cache_ok = True

    def __init__(self, key_type: Any, value_type: Any) -> None:
        self.key_type = sqltypes.to_instance(key_type)
        self.value_type = sqltypes.to_instance(value_type)

    @property
    def python_type(self) -> type:
        return dict


class STRUCT(sqltypes.TypeEngine):
    """``struct<name:T,...>``; values arrive as Python dicts. ``fields`` is a tuple of (name, type) pairs."""

    __visit_name__ = "STRUCT"
    cache_ok = True

    def __init__(self, fields: tuple[tuple[str, Any], ...] = ()) -> None:
        self.fields = tuple((name, sqltypes.to_instance(t)) for name, t in fields)

    @property
    def python_type(self) -> type:
        return dict


# -- literal rendering that matches Spark's lexer ----------------------------------------------------------


def _percent_safe(dialect: Any, text: str) -> str:
    return text.replace("%", "%%") if dialect.identifier_preparer._double_percents else text


class SparkString(sqltypes.String):
    """String impl whose literals use backslash escaping (``'O\\'Hara'``), never quote doubling."""

    def literal_processor(self, dialect: Any):
        def process(value: Any) -> str:
            return _percent_safe(dialect, quote_string(str(value)))

        return process


class SparkDate(sqltypes.Date):
    def literal_processor(self, dialect: Any):
        return render_literal


class SparkDateTime(sqltypes.DateTime):
    def literal_processor(self, dialect: Any):
        return render_literal


class SparkBinary(sqltypes.LargeBinary):
    def literal_processor(self, dialect: Any):
        return render_literal


COLSPECS: dict[type[TypeEngine[Any]], type[TypeEngine[Any]]] = {
    sqltypes.String: SparkString,
    sqltypes.Date: SparkDate,
    sqltypes.DateTime: SparkDateTime,
    sqltypes._Binary: SparkBinary,
}


# -- parsing Spark type strings ----------------------------------------------------------------------------

_SIMPLE: dict[str, Any] = {
    "boolean": sqltypes.BOOLEAN,
    "tinyint": TINYINT, "byte": TINYINT,
    "smallint": sqltypes.SMALLINT, "short": sqltypes.SMALLINT,
    "int": sqltypes.INTEGER, "integer": sqltypes.INTEGER,
    "bigint": sqltypes.BIGINT, "long": sqltypes.BIGINT,
    "float": sqltypes.REAL, "real": sqltypes.REAL,
    "double": sqltypes.DOUBLE,
    "string": STRING,
    "binary": BINARY,
    "date": sqltypes.DATE,
    "timestamp": sqltypes.TIMESTAMP, "timestamp_ltz": sqltypes.TIMESTAMP,
    "timestamp_ntz": TIMESTAMP_NTZ,
    "void": sqltypes.NullType,
}


def _split_top(text: str, sep: str = ",") -> list[str]:
    """Split on ``sep`` outside <...> and (...)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "<(":
            depth += 1
        elif ch in ">)":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


_NAME_ARGS = re.compile(r"^(\w+)\s*(?:\((.*)\))?$", re.S)


def parse_spark_type(text: str) -> TypeEngine[Any]:
    """A SQLAlchemy type for a Spark type string (``decimal(10,2)``, ``map<string,array<int>>``...).

    Unknown types give NullType with a warning, never an exception.
    """
    raw = text.strip()
    low = raw.lower()
    if low.startswith("array<") and low.endswith(">"):
        return ARRAY(parse_spark_type(raw[6:-1]))
    if low.startswith("map<") and low.endswith(">"):
        parts = _split_top(raw[4:-1])
        if len(parts) == 2:
            return MAP(parse_spark_type(parts[0]), parse_spark_type(parts[1]))
    if low.startswith("struct<") and low.endswith(">"):
        fields = []
        for part in _split_top(raw[7:-1]):
            name, _, ftype = part.partition(":")
            ftype = re.sub(r"\s+(not\s+null|comment\s+'.*')\s*$", "", ftype.strip(), flags=re.I | re.S)
            fields.append((name.strip().strip("`"), parse_spark_type(ftype)))
        return STRUCT(tuple(fields))
    if low.startswith("interval"):
        return INTERVAL(low[len("interval"):].strip())
    match = _NAME_ARGS.match(low)
    if match:
        name, args = match.group(1), match.group(2)
        nums = [int(a) for a in re.findall(r"\d+", args or "")]
        if name in ("decimal", "dec", "numeric"):
            precision, scale = (nums + [10, 0])[:2] if nums else (10, 0)
            return sqltypes.DECIMAL(precision, scale)
        if name == "varchar":
            return sqltypes.VARCHAR(nums[0] if nums else None)
        if name in ("char", "character"):
            return sqltypes.CHAR(nums[0] if nums else None)
        if name in _SIMPLE:
            return _SIMPLE[name]()
    warnings.warn(f"mlsql: unknown Spark type {raw!r}; reflected as NullType", stacklevel=2)
    return sqltypes.NullType()
