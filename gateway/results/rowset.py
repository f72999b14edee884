"""Arrow record batches to HiveServer2 TRowSets, the way the Spark Thrift Server encodes Spark rows.

Columnar (protocol V6+, ``RowSetUtils.toTColumn``): BOOLEAN/TINYINT/SMALLINT/INT/BIGINT/DOUBLE use their native
column variant; FLOAT goes as a double parsed from the float's shortest decimal text (0.1f -> 0.1; that is
Float.toString on JDK 19+, JDK 17 sometimes prints an extra digit so STS there may differ in the last bits); strings
(any collation, char, varchar) go as is; BINARY as bytes; every other type as Hive text (``hive_format``).
Null slots hold a placeholder (true/0/""/b"", as STS) and are flagged in the nulls bitmap.

Row-based (V1..V5, ``RowSetUtils.toTColumnValue``): one TColumnValue per cell with ``value`` unset for NULL;
binary and the other non-native types go as Hive text in ``stringVal``.

Deliberate difference from STS 4.3: collated strings and CHAR/VARCHAR typed columns are sent unquoted (STS
sends them through its generic path, which wraps them in double quotes).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import types as T

from gateway.results.fast_rowset import ColumnPayload, encode_columnar_rowset, null_bitmap
from gateway.results.hive_format import format_values, valid_utf8
from thrift_idl.gen.TCLIService import ttypes

FIRST_COLUMNAR_VERSION = ttypes.TProtocolVersion.HIVE_CLI_SERVICE_PROTOCOL_V6
_CANONICAL_NAN = np.frombuffer(np.array([0x7FF8000000000000], dtype=np.uint64).tobytes(), dtype=np.float64)[0]

_NATIVE_KINDS: dict[type, tuple[str, pa.DataType]] = {
    T.BooleanType: ("bool", pa.bool_()),
    T.ByteType: ("byte", pa.int8()),
    T.ShortType: ("i16", pa.int16()),
    T.IntegerType: ("i32", pa.int32()),
    T.LongType: ("i64", pa.int64()),
    T.FloatType: ("float", pa.float32()),
    T.DoubleType: ("double", pa.float64()),
    T.StringType: ("string", pa.string()),
    T.CharType: ("string", pa.string()),
    T.VarcharType: ("string", pa.string()),
    T.BinaryType: ("binary", pa.binary()),
}

# kind -> (TColumn field, T*Column class, TColumnValue field, T*Value class)
_THRIFT_CLASSES = {
    "bool": ("boolVal", ttypes.TBoolColumn, "boolVal", ttypes.TBoolValue),
    "byte": ("byteVal", ttypes.TByteColumn, "byteVal", ttypes.TByteValue),
    "i16": ("i16Val", ttypes.TI16Column, "i16Val", ttypes.TI16Value),
    "i32": ("i32Val", ttypes.TI32Column, "i32Val", ttypes.TI32Value),
    "i64": ("i64Val", ttypes.TI64Column, "i64Val", ttypes.TI64Value),
    "double": ("doubleVal", ttypes.TDoubleColumn, "doubleVal", ttypes.TDoubleValue),
    "string": ("stringVal", ttypes.TStringColumn, "stringVal", ttypes.TStringValue),
    "binary": ("binaryVal", ttypes.TBinaryColumn, "stringVal", ttypes.TStringValue),
}


def _column_kind(dt: T.DataType) -> tuple[str, pa.DataType | None]:
    while isinstance(dt, T.UserDefinedType):
        dt = dt.sqlType()
    return _NATIVE_KINDS.get(type(dt), ("text", None))


def _without_month_intervals(t: pa.DataType) -> pa.DataType:
    """``t`` with Arrow's month_interval (no pyarrow array class) replaced by int32 (same layout)."""
    if t.id == 21:  # arrow::Type::INTERVAL_MONTHS
        return pa.int32()
    if pa.types.is_map(t):
        return pa.map_(
            t.key_field.with_type(_without_month_intervals(t.key_type)),
            t.item_field.with_type(_without_month_intervals(t.item_type)),
            t.keys_sorted,
        )
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        field = t.value_field.with_type(_without_month_intervals(t.value_type))
        return pa.large_list(field) if pa.types.is_large_list(t) else pa.list_(field)
    if pa.types.is_struct(t):
        return pa.struct([f.with_type(_without_month_intervals(f.type)) for f in t])
    return t


def _float_values(arr: pa.Array) -> pa.Array:
    """FLOAT as STS sends it: Double.valueOf(Float.toString(f)), i.e. the float's shortest decimal text."""
    return arr.cast(pa.float32()).cast(pa.string()).cast(pa.float64())


class RowSetEncoder:
    """Encodes the record batches of one result set. Build it once per result."""

    def __init__(self, schema: T.StructType, arrow_schema: pa.Schema | None, time_zone: str) -> None:
        """``schema``: the Spark schema; ``arrow_schema``: the batches' Arrow schema (None: take it from the
        first batch); ``time_zone``: the session time zone used to print TIMESTAMP values."""
        self.schema = schema
        self.time_zone = time_zone
        self.kinds = [_column_kind(f.dataType) for f in schema.fields]
        self._import_schemas: dict[pa.Schema, pa.Schema | None] = {}
        if arrow_schema is not None:
            self._import_schema(arrow_schema)

    @classmethod
    def for_dataframe(cls, df: DataFrame, arrow_schema: pa.Schema | None = None) -> RowSetEncoder:
        """An encoder for ``df``'s result in its session's time zone."""
        return cls(df.schema, arrow_schema, df.sparkSession.conf.get("spark.sql.session.timeZone") or "UTC")

    def _import_schema(self, schema: pa.Schema) -> pa.Schema | None:
        if schema not in self._import_schemas:
            fixed = pa.schema([f.with_type(_without_month_intervals(f.type)) for f in schema], metadata=None)
            self._import_schemas[schema] = None if fixed.types == schema.types else fixed
        return self._import_schemas[schema]

    def _prepare(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """Re-read month-interval columns as int32 through the Arrow C data interface (zero copy)."""
        if batch.num_columns != len(self.kinds):
            raise ValueError(f"batch has {batch.num_columns} columns, schema has {len(self.kinds)}")
        fixed = self._import_schema(batch.schema)
        if fixed is None:
            return batch
        _, array_capsule = batch.__arrow_c_array__()
        return pa.RecordBatch._import_from_c_capsule(fixed.__arrow_c_schema__(), array_capsule)

    # -- column payloads shared by the object and the fast byte paths --

    def _payload(self, i: int, arr: pa.Array) -> ColumnPayload:
        kind, arrow_type = self.kinds[i]
        nulls = null_bitmap(arr)
        if kind in ("string", "binary", "text"):
            if kind == "text":
                values = format_values(arr, self.schema.fields[i].dataType, self.time_zone)
                kind = "string"
            elif kind == "string":
                values = valid_utf8(arr)
            else:
                values = arr.cast(pa.binary()) if not pa.types.is_large_binary(arr.type) else arr
            return ColumnPayload(kind, values, nulls)
        if kind == "float":
            arr, kind = _float_values(arr), "double"
        elif arrow_type is not None and arr.type != arrow_type:
            arr = arr.cast(arrow_type)
        # STS's placeholder for a null BOOLEAN is true (RowSetUtils passes `true` to getOrSetAsNull).
        placeholder: bool | int = True if kind == "bool" else 0
        filled = arr.fill_null(placeholder) if arr.null_count else arr
        values = filled.to_numpy(zero_copy_only=False)
        if kind == "double":
            values = np.where(np.isnan(values), _CANONICAL_NAN, values)
        return ColumnPayload(kind, values, nulls)

    def payloads(self, batch: pa.RecordBatch) -> list[ColumnPayload]:
        """Every column of ``batch`` as a ColumnPayload."""
        batch = self._prepare(batch)
        return [self._payload(i, batch.column(i)) for i in range(batch.num_columns)]

    # -- thrift objects --

    def columns(self, batch: pa.RecordBatch) -> list[ttypes.TColumn]:
        """The V6+ columnar encoding of ``batch``."""
        out = []
        for p in self.payloads(batch):
            column_field, column_cls, _, _ = _THRIFT_CLASSES[p.kind]
            if isinstance(p.values, np.ndarray):
                values = p.values.tolist()
            else:
                values = p.values.fill_null(b"" if p.kind == "binary" else "").to_pylist()
            out.append(ttypes.TColumn(**{column_field: column_cls(values=values, nulls=p.nulls)}))
        return out

    def _cell_values(self, i: int, arr: pa.Array) -> tuple[str, list]:
        """(kind, Python values with None for NULL) of one column for the row-based encoding."""
        kind, arrow_type = self.kinds[i]
        if kind == "float":
            return "double", _float_values(arr).to_pylist()
        if kind == "string":
            return kind, valid_utf8(arr).to_pylist()
        if kind in ("binary", "text"):
            return "string", format_values(arr, self.schema.fields[i].dataType, self.time_zone).to_pylist()
        if arrow_type is not None and arr.type != arrow_type:
            arr = arr.cast(arrow_type)
        return kind, arr.to_pylist()

    def rows(self, batch: pa.RecordBatch) -> list[ttypes.TRow]:
        """The V1..V5 row-based encoding of ``batch`` (a TColumnValue with unset value is NULL)."""
        batch = self._prepare(batch)
        makers = []
        for i in range(batch.num_columns):
            kind, values = self._cell_values(i, batch.column(i))
            _, _, value_field, value_cls = _THRIFT_CLASSES[kind]
            makers.append((value_field, value_cls, values))
        return [
            ttypes.TRow(colVals=[ttypes.TColumnValue(**{f: cls(value=vals[r])}) for f, cls, vals in makers])
            for r in range(batch.num_rows)
        ]

    def rowset(self, batch: pa.RecordBatch, start_row_offset: int, protocol_version: int) -> ttypes.TRowSet:
        """A TRowSet for ``batch``: columnar for V6+, row-based below."""
        if protocol_version >= FIRST_COLUMNAR_VERSION:
            return ttypes.TRowSet(startRowOffset=start_row_offset, rows=[], columns=self.columns(batch))
        return ttypes.TRowSet(startRowOffset=start_row_offset, rows=self.rows(batch))

    # -- fast path --

    def encode_rowset(self, batch: pa.RecordBatch, start_row_offset: int) -> bytes:
        """TBinaryProtocol bytes of ``rowset(batch, start_row_offset, V6+)``, written straight from buffers."""
        return encode_columnar_rowset(self.payloads(batch), start_row_offset)
