"""Spark SQL types for SQLAlchemy: parsing Spark type strings, complex types, and Spark-escaped literals."""

from __future__ import annotations

import datetime as dt
import re
import warnings
from typing import Any

from sqlalchemy.sql import sqltypes, type_api
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


_DAY_TIME = re.compile(r"^\s*(-?)(\d+)(?: (\d+):(\d+):(\d+)(?:\.(\d{1,9}))?)?\s*$")


def parse_day_time_interval(text: Any) -> Any:
    """Spark's day-time interval text (``'-1 02:03:04.500000000'``, ``'7'``) -> timedelta; anything else as is."""
    if not isinstance(text, str):
        return text
    match = _DAY_TIME.match(text)
    if match is None:
        return text
    sign, days, hours, minutes, seconds, frac = match.groups()
    value = dt.timedelta(days=int(days), hours=int(hours or 0), minutes=int(minutes or 0),
                         seconds=int(seconds or 0), microseconds=int((frac or "")[:6].ljust(6, "0")))
    return -value if sign else value


class SparkInterval(type_api.NativeForEmulated, sqltypes._AbstractInterval):
    """The impl of ``sqlalchemy.Interval``: a native Spark day-time interval. timedelta parameters render as
    ``INTERVAL '7' DAY`` / ``INTERVAL 'd hh:mm:ss.ffffff' DAY TO SECOND`` (the DB-API's literals), results are
    parsed back to timedelta. (Without it Interval would be emulated as an epoch-based DATETIME.)"""

    __visit_name__ = "INTERVAL"
    native = True
    cache_ok = True
    qualifier = "day to second"

    def __init__(self, second_precision: int | None = None) -> None:
        self.second_precision = second_precision

    @classmethod
    def adapt_emulated_to_native(cls, interval: Any, **kw: Any) -> SparkInterval:  # type: ignore[override]
        return cls(second_precision=interval.second_precision)

    @property
    def _type_affinity(self) -> type:
        return sqltypes.Interval

    def as_generic(self, allow_nulltype: bool = False) -> sqltypes.Interval:
        return sqltypes.Interval(native=True, second_precision=self.second_precision)

    @property
    def python_type(self) -> type:
        return dt.timedelta

    def literal_processor(self, dialect: Any):
        return render_literal

    def result_processor(self, dialect: Any, coltype: Any):
        return parse_day_time_interval


class ARRAY(sqltypes.ARRAY):
    """``array<T>``; values arrive as Python lists. Also the impl of ``sqlalchemy.ARRAY`` on this dialect (its
    literals render as ``array(...)``). Spark's ``arr[i]`` is 0-based, hence ``zero_indexes=True``."""

    cache_ok = True

    def __init__(self, item_type: Any, as_tuple: bool = False, dimensions: int | None = None,
                 zero_indexes: bool = True) -> None:
        super().__init__(item_type, as_tuple=as_tuple, dimensions=dimensions, zero_indexes=zero_indexes)

    def literal_processor(self, dialect: Any):
        item_proc = self.item_type.dialect_impl(dialect).literal_processor(dialect)

        def item(value: Any) -> str:
            if value is None:
                return "NULL"
            return item_proc(value) if item_proc is not None else render_literal(value)

        def process(value: Any) -> str:
            return self._apply_item_processor(value, item, self.dimensions,
                                              lambda parts: "array(" + ", ".join(parts) + ")")

        return process


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


class SparkEnum(sqltypes.Enum):
    """Enum impl (a STRING column on Spark, which has no ENUM type) with Spark-escaped literals. Without it the
    Enum would be adapted to :class:`SparkString` (Enum is a String subclass), which cannot take Enum's
    constructor arguments."""

    def literal_processor(self, dialect: Any):
        def process(value: Any) -> str:
            return _percent_safe(dialect, quote_string(str(self._db_value_for_elem(value))))

        return process


def _as_date(value: Any) -> Any:
    return value.date() if isinstance(value, dt.datetime) else value


class SparkDate(sqltypes.Date):
    """DATE: a datetime parameter is coerced to its date (as DB-API drivers commonly do), not sent as a
    TIMESTAMP that would compare unequal to the stored date."""

    def bind_processor(self, dialect: Any):
        return _as_date

    def literal_processor(self, dialect: Any):
        return lambda value: render_literal(_as_date(value))


class SparkDateTime(sqltypes.DateTime):
    def literal_processor(self, dialect: Any):
        return render_literal


class SparkBinary(sqltypes.LargeBinary):
    def literal_processor(self, dialect: Any):
        return render_literal


COLSPECS: dict[type[TypeEngine[Any]], type[TypeEngine[Any]]] = {
    sqltypes.String: SparkString,
    sqltypes.Enum: SparkEnum,
    sqltypes.Date: SparkDate,
    sqltypes.DateTime: SparkDateTime,
    sqltypes._Binary: SparkBinary,
    sqltypes.ARRAY: ARRAY,
    sqltypes.Interval: SparkInterval,
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
