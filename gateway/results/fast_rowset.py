"""Direct TBinaryProtocol serialization of a columnar TRowSet from numpy/Arrow buffers.

``encode_columnar_rowset`` writes exactly the bytes that ``TBinaryProtocolAccelerated`` (thrift's
``fastbinary``) writes for the equivalent ``ttypes.TRowSet(startRowOffset, rows=[], columns=[...])``: fields in
``thrift_spec`` order, None fields skipped, big-endian numbers, ``i32`` length + bytes for strings and binaries.
No Python object is created per value.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from thrift.Thrift import TType

# Thrift wire type ids.
T_BOOL, T_BYTE, T_DOUBLE, T_I16, T_I32 = TType.BOOL, TType.BYTE, TType.DOUBLE, TType.I16, TType.I32
T_I64, T_STRING, T_STRUCT, T_LIST = TType.I64, TType.STRING, TType.STRUCT, TType.LIST

# TColumn union field id and list element type for each column kind.
COLUMN_KINDS: dict[str, tuple[int, int]] = {
    "bool": (1, T_BOOL),
    "byte": (2, T_BYTE),
    "i16": (3, T_I16),
    "i32": (4, T_I32),
    "i64": (5, T_I64),
    "double": (6, T_DOUBLE),
    "string": (7, T_STRING),
    "binary": (8, T_STRING),
}

_BIG_ENDIAN = {T_BOOL: "u1", T_BYTE: "i1", T_I16: ">i2", T_I32: ">i4", T_I64: ">i8", T_DOUBLE: ">f8"}
_HEAD = struct.Struct(">bh")
_EMPTY_BINARY = pa.scalar(b"", pa.large_binary())
_ROWSET_HEAD = struct.Struct(">bhqbhbibhbi")


@dataclass
class ColumnPayload:
    """One column ready to serialise: ``values`` is a numpy array (fixed-width kinds) or a string/binary Arrow
    array whose null slots are treated as empty; ``nulls`` is the trimmed LSB-first null bitmap."""

    kind: str
    values: np.ndarray | pa.Array
    nulls: bytes


def null_bitmap(arr: pa.Array) -> bytes:
    """The HS2 nulls bitmap of ``arr``: bit i set when row i is null, LSB first, trailing zero bytes trimmed.

    Built from the Arrow validity bitmap (inverted, shifted by the array offset, bits past the end cleared).
    """
    n = len(arr)
    if n == 0 or arr.null_count == 0:
        return b""
    validity = arr.buffers()[0]
    if validity is None:  # a NullArray: every slot is null
        bits = np.packbits(np.ones(n, dtype=bool), bitorder="little")
    else:
        first, shift = divmod(arr.offset, 8)
        raw = np.frombuffer(validity, dtype=np.uint8)[first : first + (shift + n + 7) // 8]
        if shift:
            valid = np.unpackbits(raw, bitorder="little")[shift : shift + n]
            bits = np.packbits(valid == 0, bitorder="little")
        else:
            bits = ~raw
            if n % 8:
                bits[-1] &= (1 << (n % 8)) - 1
    nonzero = np.flatnonzero(bits)
    return bits[: nonzero[-1] + 1].tobytes() if nonzero.size else b""


def _string_list_body(values: pa.Array) -> bytes:
    """The list body for strings/binaries: per value a big-endian i32 length then the bytes (nulls: empty)."""
    n = len(values)
    if n == 0:
        return b""
    values = values.cast(pa.large_binary())
    lengths = pc.binary_length(values).fill_null(0).to_numpy().astype(">i4")
    # Arrow concatenates "length header + value" per row; its data buffer is then exactly the list body.
    headers = pa.Array.from_buffers(
        pa.large_binary(),
        n,
        [None, pa.py_buffer(np.arange(0, 4 * n + 1, 4, dtype=np.int64)), pa.py_buffer(lengths)],
    )
    joined = pc.binary_join_element_wise(
        headers, values, _EMPTY_BINARY, null_handling="replace", null_replacement=""
    )
    offsets = np.frombuffer(joined.buffers()[1], dtype=np.int64)[joined.offset : joined.offset + n + 1]
    return memoryview(joined.buffers()[2])[int(offsets[0]) : int(offsets[-1])].tobytes()


def encode_column(payload: ColumnPayload) -> bytes:
    """One TColumn union (field header, the T*Column struct, the union's stop byte)."""
    field_id, elem_type = COLUMN_KINDS[payload.kind]
    values = payload.values
    if elem_type == T_STRING:
        assert isinstance(values, (pa.Array, pa.ChunkedArray))
        count = len(values)
        body = _string_list_body(values)
    else:
        assert isinstance(values, np.ndarray)
        count = len(values)
        body = values.astype(_BIG_ENDIAN[elem_type]).tobytes()
    nulls = payload.nulls
    return b"".join(
        (
            _HEAD.pack(T_STRUCT, field_id),
            _HEAD.pack(T_LIST, 1),
            struct.pack(">bi", elem_type, count),
            body,
            _HEAD.pack(T_STRING, 2),
            struct.pack(">i", len(nulls)),
            nulls,
            b"\x00\x00",  # end of T*Column, end of the TColumn union
        )
    )


def encode_columnar_rowset(columns: list[ColumnPayload], start_row_offset: int) -> bytes:
    """A whole TRowSet{startRowOffset, rows=[], columns} as TBinaryProtocol bytes."""
    head = _ROWSET_HEAD.pack(
        T_I64, 1, start_row_offset, T_LIST, 2, T_STRUCT, 0, T_LIST, 3, T_STRUCT, len(columns)
    )
    return b"".join([head, *(encode_column(c) for c in columns), b"\x00"])


def encode_fetch_results_resp(status_bytes: bytes, has_more_rows: bool, rowset_bytes: bytes) -> bytes:
    """A TFetchResultsResp{status, hasMoreRows, results} around pre-serialised TStatus and TRowSet bytes."""
    return b"".join(
        (
            _HEAD.pack(T_STRUCT, 1),
            status_bytes,
            _HEAD.pack(T_BOOL, 2),
            b"\x01" if has_more_rows else b"\x00",
            _HEAD.pack(T_STRUCT, 3),
            rowset_bytes,
            b"\x00",
        )
    )
