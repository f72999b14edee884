"""Columnar TRowSet decoding: whole columns to Python values, pyarrow arrays or pandas frames.

Each ``TColumn`` arrives (decoded in C by ``TBinaryProtocolAccelerated``) as a list of values plus an LSB-first
null bitmap. Nulls are located with ``numpy.unpackbits(..., bitorder="little")`` when numpy is installed; the
conversions run per column (``map`` over C-level constructors, or pyarrow casts), never per row.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from thrift_idl.gen.TCLIService import ttypes

from .hivetext import parse_hive_text

try:  # numpy is optional: used for the null bitmaps when present
    import numpy as np
except ImportError:  # pragma: no cover - exercised only without numpy
    np = None  # type: ignore[assignment]

_TYPE_NAMES = {
    **{v: k[:-5] for k, v in ttypes.TTypeId._NAMES_TO_VALUES.items()},
    ttypes.TTypeId.UNION_TYPE: "UNIONTYPE",
    ttypes.TTypeId.TIMESTAMPLOCALTZ_TYPE: "TIMESTAMP WITH LOCAL TIME ZONE",
}
COMPLEX = frozenset({"ARRAY", "MAP", "STRUCT", "UNIONTYPE"})
_VALUE_ATTRS = ("i64Val", "stringVal", "i32Val", "doubleVal", "boolVal", "binaryVal", "i16Val", "byteVal")


@dataclass(frozen=True)
class ColumnInfo:
    """One result column: name, type code (e.g. ``'DECIMAL'``) and its qualifiers."""

    name: str
    type_code: str
    precision: int | None = None
    scale: int | None = None
    max_length: int | None = None

    def description(self) -> tuple:
        """The PEP 249 7-tuple."""
        return (self.name, self.type_code, None, self.max_length, self.precision, self.scale, True)


def schema_columns(schema: ttypes.TTableSchema | None) -> list[ColumnInfo]:
    """ColumnInfo for each column of a TTableSchema (unknown type ids degrade to ``'STRING'``)."""
    out: list[ColumnInfo] = []
    for col in (schema.columns if schema and schema.columns else []):
        entry = col.typeDesc.types[0].primitiveEntry if col.typeDesc and col.typeDesc.types else None
        type_id = entry.type if entry is not None else ttypes.TTypeId.STRING_TYPE
        quals = {}
        if entry is not None and entry.typeQualifiers and entry.typeQualifiers.qualifiers:
            quals = {k: v.i32Value for k, v in entry.typeQualifiers.qualifiers.items()}
        out.append(ColumnInfo(col.columnName, _TYPE_NAMES.get(type_id, "STRING"), quals.get("precision"),
                              quals.get("scale"), quals.get("characterMaximumLength")))
    return out


def column_payload(col: ttypes.TColumn) -> tuple[list[Any], bytes]:
    """The (values, nulls bitmap) pair of whichever TColumn variant is set."""
    for attr in _VALUE_ATTRS:
        part = getattr(col, attr)
        if part is not None:
            return part.values, part.nulls or b""
    return [], b""


def null_mask(nulls: bytes, n: int) -> Any:
    """A boolean mask (numpy array, or list without numpy) of the null rows, or None when there are none."""
    if not nulls or nulls.count(0) == len(nulls):
        return None
    if np is not None:
        bits = np.unpackbits(np.frombuffer(nulls, dtype=np.uint8), bitorder="little")[:n]
        if len(bits) < n:
            bits = np.concatenate([bits, np.zeros(n - len(bits), dtype=np.uint8)])
        return bits.astype(bool)
    return [bool(nulls[i >> 3] >> (i & 7) & 1) if (i >> 3) < len(nulls) else False for i in range(n)]


def _null_positions(mask: Any) -> list[int]:
    if np is not None and isinstance(mask, np.ndarray):
        return np.flatnonzero(mask).tolist()
    return [i for i, m in enumerate(mask) if m]


_FRACTION = re.compile(r"^(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?$")


def parse_timestamp(text: str) -> dt.datetime | str:
    """``yyyy-MM-dd HH:mm:ss[.fffffffff]`` -> datetime (nanoseconds truncated); unparsable text stays a str."""
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        pass
    match = _FRACTION.match(text)
    if match is None:
        return text
    frac = (match.group(2) or "")[:6].ljust(6, "0")
    try:
        return dt.datetime.fromisoformat(f"{match.group(1)}.{frac}")
    except ValueError:
        return text


def parse_date(text: str) -> dt.date | str:
    """``yyyy-MM-dd`` -> date; out-of-range text stays a str."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return text


def python_converter(type_code: str, complex_types: bool = True) -> Callable[[Any], Any] | None:
    """The per-value converter for a type code (None when the decoded value is already right)."""
    if type_code == "DECIMAL":
        return Decimal
    if type_code == "DATE":
        return parse_date
    if type_code.startswith("TIMESTAMP"):
        return parse_timestamp
    if type_code in COMPLEX and complex_types:
        return parse_hive_text
    return None


def python_column(values: list[Any], nulls: bytes, info: ColumnInfo, complex_types: bool = True) -> list[Any]:
    """Convert a decoded TColumn to a list of Python values (None for nulls)."""
    n = len(values)
    if info.type_code == "NULL":
        return [None] * n
    if np is not None and isinstance(values, np.ndarray):  # fixed-width column read by fastfetch
        values = values.tolist()
    conv = python_converter(info.type_code, complex_types)
    mask = null_mask(nulls, n)
    if mask is None:
        return values if conv is None else list(map(conv, values))
    positions = _null_positions(mask)
    if conv is None:
        out = list(values)
        for i in positions:
            out[i] = None
        return out
    if len(positions) == n:
        return [None] * n
    out = list(values)
    for i in positions:
        out[i] = None
    return [None if v is None else conv(v) for v in out]


def rowset_columns(rowset: ttypes.TRowSet | None) -> tuple[list[tuple[list[Any], bytes]], int]:
    """Raw (values, nulls) per column and the row count of a columnar TRowSet."""
    if rowset is None or not rowset.columns:
        if rowset is not None and rowset.rows:
            from .exc import NotSupportedError

            raise NotSupportedError("the server sent a row-based (pre-V6) result set; this client reads columnar "
                                    "result sets (HiveServer2 protocol V6 or later)")
        return [], 0
    cols = [column_payload(c) for c in rowset.columns]
    return cols, (len(cols[0][0]) if cols else 0)


# ----------------------------------------------------------------------------------------------------------
# pyarrow / pandas
# ----------------------------------------------------------------------------------------------------------


def require_pyarrow() -> Any:
    """Import pyarrow or raise an ImportError that says how to get it."""
    try:
        import pyarrow
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("fetch_arrow()/fetch_pandas() need pyarrow: pip install 'pyarrow>=15' (and pandas for "
                          "fetch_pandas)") from exc
    return pyarrow


def arrow_type(info: ColumnInfo) -> Any:
    """The pyarrow type a column is delivered as (FLOAT as float64: the server sends the float's shortest
    decimal value as a double, so 0.1f stays 0.1 as in the row path)."""
    pa = require_pyarrow()
    code = info.type_code
    simple = {"BOOLEAN": pa.bool_(), "TINYINT": pa.int8(), "SMALLINT": pa.int16(), "INT": pa.int32(),
              "BIGINT": pa.int64(), "FLOAT": pa.float64(), "DOUBLE": pa.float64(), "BINARY": pa.binary(),
              "DATE": pa.date32(), "TIMESTAMP": pa.timestamp("us"), "NULL": pa.null()}
    if code in simple:
        return simple[code]
    if code == "DECIMAL":
        p, s = info.precision or 38, info.scale or 0
        return pa.decimal128(p, s) if p <= 38 else pa.decimal256(p, s)
    return pa.string()


_STRING_SOURCED = frozenset({"DECIMAL", "DATE", "TIMESTAMP"})


def arrow_column(values: list[Any], nulls: bytes, info: ColumnInfo) -> Any:
    """A pyarrow Array for one decoded TColumn, built in bulk (casts from the Hive text where needed)."""
    pa = require_pyarrow()
    n = len(values)
    target = arrow_type(info)
    if info.type_code == "NULL":
        return pa.nulls(n)
    if np is not None and isinstance(values, np.ndarray):  # fixed-width column read by fastfetch
        if pa.types.is_boolean(target) or pa.types.is_integer(target) or pa.types.is_floating(target):
            return _arrow_from_numpy(pa, values, nulls, n, target)
        values = values.tolist()
    mask = null_mask(nulls, n)
    if mask is not None and np is None:
        values = [None if m else v for v, m in zip(values, mask, strict=False)]
        mask = None
    if info.type_code in _STRING_SOURCED:
        text = pa.array(values, type=pa.string(), mask=mask)
        try:
            return text.cast(target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            conv = python_converter(info.type_code)
            return pa.array([conv(v) for v in text.to_pylist()] if conv else text.to_pylist(), type=target)
    return pa.array(values, type=target, mask=mask)


def _validity(nulls: bytes, n: int) -> Any:
    """An Arrow validity bitmap (1 = valid, LSB first) from an HS2 nulls bitmap (1 = null, LSB first), or None
    when no row is null."""
    if not nulls or nulls.count(0) == len(nulls):
        return None
    need = (n + 7) // 8
    bits = np.full(need, 0xFF, dtype=np.uint8)
    have = np.frombuffer(nulls, dtype=np.uint8)[:need]
    bits[:len(have)] = ~have
    return bits


def _arrow_from_numpy(pa: Any, values: Any, nulls: bytes, n: int, target: Any) -> Any:
    """A fixed-width column (numpy values from fastfetch) as an Arrow array without per-value work: the values
    buffer is the numpy memory (booleans are bit-packed), the validity bitmap is the inverted nulls bitmap."""
    arr = pa.array(values)
    if arr.type != target:
        arr = arr.cast(target)
    validity = _validity(nulls, n)
    if validity is None:
        return arr
    return pa.Array.from_buffers(target, n, [pa.py_buffer(validity), arr.buffers()[1]])


def arrow_schema(columns: list[ColumnInfo]) -> Any:
    pa = require_pyarrow()
    return pa.schema([pa.field(c.name, arrow_type(c)) for c in columns])
