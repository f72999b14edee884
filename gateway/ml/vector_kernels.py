"""Shared kernels of the vector/array SQL function bundle (:mod:`gateway.ml.functions`).

Holds :class:`FunctionError`, the Arrow column helpers (list lengths/offsets, numeric and integer
arguments, null masks, building list results) and the coordinate-list view of vector columns
(:class:`_Coo`: :func:`_coo` reads VectorUDT structs or number arrays into it, :func:`_vectors` and
:func:`_dense_vectors` build VectorUDT structs from it), used by both :mod:`gateway.ml.functions` and
:mod:`gateway.ml.array_functions`. Imports no pyspark.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gateway.ml.vectors import VECTOR_TYPE, VectorError, is_vector_type


class FunctionError(VectorError):
    """An argument a bundle function cannot accept (a user error, not a missing value)."""


_DOUBLES = pa.list_(pa.float64())
_STRINGS = pa.list_(pa.string())
_INDEX_LIST = VECTOR_TYPE.field("indices").type
_VALUE_LIST = VECTOR_TYPE.field("values").type
_NO_POSITION = np.iinfo(np.int64).max


# ---------------------------------------------------------------------------------------------------
# Column helpers


def _combine(array: Any) -> pa.Array:
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _nulls(array: pa.Array) -> np.ndarray:
    return array.is_null().to_numpy(zero_copy_only=False).astype(bool, copy=False)


def _is_list(kind: pa.DataType) -> bool:
    return pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind)


def _is_number(kind: pa.DataType) -> bool:
    return (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)
            or pa.types.is_null(kind))


def _as_list(array: pa.Array, name: str, arg: int) -> pa.Array:
    array = _combine(array)
    if pa.types.is_fixed_size_list(array.type):
        array = array.cast(pa.list_(array.type.value_type))
    if pa.types.is_null(array.type):
        return pa.nulls(len(array), _DOUBLES)
    if not _is_list(array.type):
        raise FunctionError(f"{name}: argument {arg} must be an array, got {array.type}")
    return array


def _lengths(lists: pa.Array) -> np.ndarray:
    """Element counts per row (0 for null rows) as int64."""
    return pc.list_value_length(lists).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)


def _starts(lengths: np.ndarray) -> np.ndarray:
    """Exclusive prefix sums: where each row's elements start in the flattened values."""
    return np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64) if len(lengths) else \
        np.zeros(0, np.int64)


def _offsets(lengths: np.ndarray) -> pa.Array:
    return pa.array(np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32), pa.int32())


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + c)`` for every (start, count) pair, without a Python loop."""
    counts = np.asarray(counts, np.int64)
    total = int(counts.sum())
    if not total:
        return np.zeros(0, np.int64)
    begin = np.repeat(np.asarray(starts, np.int64) - _starts(counts), counts)
    return begin + np.arange(total, dtype=np.int64)


def _flat_doubles(lists: pa.Array) -> np.ndarray:
    """All elements of a list-of-numbers array (null rows skipped) as float64; null elements -> NaN."""
    flat = lists.flatten()
    if pa.types.is_null(flat.type):
        return np.full(len(flat), np.nan)
    return flat.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False).astype(np.float64)


def _numbers(column: pa.Array, name: str, arg: int) -> tuple[np.ndarray, np.ndarray]:
    """A numeric column as (float64 values with 0 at nulls, null mask)."""
    column = _combine(column)
    if not _is_number(column.type):
        raise FunctionError(f"{name}: argument {arg} must be a number, got {column.type}")
    nulls = _nulls(column)
    values = column.cast(pa.float64()).fill_null(0.0).to_numpy(zero_copy_only=False).astype(np.float64)
    return values, nulls


def _integers(column: pa.Array, name: str, arg: int) -> tuple[np.ndarray, np.ndarray]:
    values, nulls = _numbers(column, name, arg)
    bad = ~nulls & ~(np.isfinite(values) & (values == np.floor(values)))
    if bad.any():
        raise FunctionError(f"{name}: argument {arg} must be an integer, got {float(values[bad][0])!r}")
    return values.astype(np.int64), nulls


def _doubles_out(values: np.ndarray, nulls: np.ndarray) -> pa.Array:
    return pa.array(np.where(nulls, 0.0, values), pa.float64(), mask=nulls if nulls.any() else None)


def _ints_out(values: np.ndarray, nulls: np.ndarray) -> pa.Array:
    return pa.array(np.where(nulls, 0, values).astype(np.int32), pa.int32(), mask=nulls if nulls.any() else None)


def _lists_out(flat: pa.Array | np.ndarray, lengths: np.ndarray, nulls: np.ndarray,
               kind: pa.DataType = _DOUBLES) -> pa.ListArray:
    values = flat if isinstance(flat, pa.Array) else pa.array(flat, kind.value_type)
    lengths = np.where(nulls, 0, lengths)
    return pa.ListArray.from_arrays(_offsets(lengths), values, type=kind,
                                    mask=pa.array(nulls, pa.bool_()) if nulls.any() else None)


# ---------------------------------------------------------------------------------------------------
# Vectors as coordinate lists: one entry per stored value, rows of any size, dense and sparse alike


@dataclass
class _Coo:
    """A column of vectors as entries ``(row, col, val)``, sorted by row then col, plus per-row facts.

    Dense rows store every position; sparse rows only their explicit entries (the rest are zeros).
    Null rows have size 0 and no entries.
    """

    nulls: np.ndarray   # bool (rows,)
    sizes: np.ndarray   # int64 (rows,)
    sparse: np.ndarray  # bool (rows,): row stored sparse (may have implicit zeros)
    row: np.ndarray     # int64 (entries,)
    col: np.ndarray     # int64 (entries,)
    val: np.ndarray     # float64 (entries,)

    @property
    def rows(self) -> int:
        return len(self.nulls)

    def counts(self) -> np.ndarray:
        """Stored entries per row."""
        return np.bincount(self.row, minlength=self.rows).astype(np.int64)

    def sums(self, weights: np.ndarray) -> np.ndarray:
        return np.bincount(self.row, weights=weights, minlength=self.rows)

    def positions(self) -> np.ndarray:
        """Each entry's position among its row's stored entries."""
        return np.arange(len(self.row), dtype=np.int64) - np.repeat(_starts(self.counts()), self.counts())

    def drop_rows(self, extra_nulls: np.ndarray) -> _Coo:
        """The same vectors with the rows in ``extra_nulls`` made null as well."""
        nulls = self.nulls | extra_nulls
        if not (nulls & ~self.nulls).any():
            return self
        keep = ~nulls[self.row]
        return _Coo(nulls, np.where(nulls, 0, self.sizes), self.sparse & ~nulls, self.row[keep], self.col[keep],
                    self.val[keep])

    def dense(self) -> tuple[np.ndarray, np.ndarray]:
        """Every row densified: (flat float64 values, lengths)."""
        if not self.sparse.any():
            return self.val, self.sizes
        out = np.zeros(int(self.sizes.sum()))
        out[_starts(self.sizes)[self.row] + self.col] = self.val
        return out, self.sizes

    def keys(self) -> tuple[np.ndarray, int]:
        """A sortable int64 key per entry (row-major) and the row stride used."""
        stride = int(self.sizes.max()) + 1 if self.rows else 1
        return self.row * stride + self.col, stride


def _coo(array: pa.Array, name: str, arg: int) -> _Coo:
    """Vectors (VectorUDT structs, dense or sparse) or arrays of numbers as a :class:`_Coo`."""
    array = _combine(array)
    kind = array.type
    rows = len(array)
    if pa.types.is_null(kind):
        empty = np.zeros(0, np.int64)
        return _Coo(np.ones(rows, bool), np.zeros(rows, np.int64), np.zeros(rows, bool), empty, empty,
                    np.zeros(0))
    if is_vector_type(kind):
        return _vector_coo(array, name, arg)
    if _is_list(kind):
        array = _as_list(array, name, arg)
        if not _is_number(array.type.value_type):
            raise FunctionError(f"{name}: argument {arg} must be a vector or an array of numbers, got {kind}")
        nulls = _nulls(array)
        lengths = _lengths(array)
        val = _flat_doubles(array)
        row = np.repeat(np.arange(rows, dtype=np.int64), lengths)
        col = np.arange(len(val), dtype=np.int64) - np.repeat(_starts(lengths), lengths)
        return _Coo(nulls, lengths, np.zeros(rows, bool), row, col, val)
    raise FunctionError(f"{name}: argument {arg} must be a vector or an array of numbers, got {kind}")


def _vector_coo(array: pa.StructArray, name: str, arg: int) -> _Coo:
    rows = len(array)
    # StructArray.flatten merges the struct's validity into its children: null rows drop out below.
    child = dict(zip([f.name for f in array.type], array.flatten(), strict=True))
    nulls = _nulls(array)
    kinds = child["type"].fill_null(1).to_numpy(zero_copy_only=False)
    sparse = (kinds == 0) & ~nulls
    values = child["values"]
    lengths = _lengths(values)
    val = _flat_doubles(values)
    row = np.repeat(np.arange(rows, dtype=np.int64), lengths)
    col = np.arange(len(val), dtype=np.int64) - np.repeat(_starts(lengths), lengths)
    sizes = lengths.copy()
    if not sparse.any():
        return _Coo(nulls, sizes, sparse, row, col, val)
    size_field = child["size"].fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    if (size_field[sparse] < 0).any():
        raise FunctionError(f"{name}: argument {arg} has a sparse vector without a size")
    index_lists = child["indices"]
    index_lengths = _lengths(index_lists)
    if (index_lengths[sparse] != lengths[sparse]).any():
        raise FunctionError(f"{name}: argument {arg} has a sparse vector whose indices and values differ in length")
    indices = index_lists.flatten().fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    index_rows = np.repeat(np.arange(rows, dtype=np.int64), index_lengths)
    # Entries of sparse rows appear in the same order in the indices and values lists.
    col[sparse[row]] = indices[sparse[index_rows]]
    sizes[sparse] = size_field[sparse]
    out_of_range = (col < 0) | (col >= sizes[row])
    if out_of_range.any():
        i = int(np.flatnonzero(out_of_range)[0])
        raise FunctionError(f"{name}: argument {arg} has a sparse vector of size {sizes[row[i]]} with index {col[i]}")
    coo = _Coo(nulls, sizes, sparse, row, col, val)
    keys, _ = coo.keys()
    if len(keys) > 1 and not (np.diff(keys) > 0).all():
        order = np.argsort(keys, kind="stable")
        coo = _Coo(nulls, sizes, sparse, row[order], col[order], val[order])
        keys = keys[order]
        if (np.diff(keys) == 0).any():
            raise FunctionError(f"{name}: argument {arg} has a sparse vector with a repeated index")
    return coo


def _vectors(coo: _Coo, as_sparse: np.ndarray | bool) -> pa.StructArray:
    """VectorUDT structs from entries: rows flagged in ``as_sparse`` sparse, the others dense."""
    rows = coo.rows
    nulls = coo.nulls
    as_sparse = np.broadcast_to(np.asarray(as_sparse, bool), (rows,)) & ~nulls
    counts = coo.counts()
    value_lengths = np.where(nulls, 0, np.where(as_sparse, counts, coo.sizes))
    entry_sparse = as_sparse[coo.row]
    target = _starts(value_lengths)[coo.row] + np.where(entry_sparse, coo.positions(), coo.col)
    values = np.zeros(int(value_lengths.sum()))
    values[target] = coo.val
    index_lengths = np.where(as_sparse, counts, 0)
    dense_mask = pa.array(~as_sparse, pa.bool_()) if (~as_sparse).any() else None
    indices = pa.ListArray.from_arrays(_offsets(index_lengths), pa.array(coo.col[entry_sparse], pa.int32()),
                                       type=_INDEX_LIST, mask=dense_mask)
    value_lists = pa.ListArray.from_arrays(_offsets(value_lengths), pa.array(values, pa.float64()),
                                           type=_VALUE_LIST)
    return pa.StructArray.from_arrays(
        [pa.array(np.where(as_sparse, 0, 1).astype(np.int8), pa.int8()),
         pa.array(coo.sizes.astype(np.int32), pa.int32(), mask=~as_sparse if (~as_sparse).any() else None),
         indices, value_lists],
        fields=list(VECTOR_TYPE), mask=pa.array(nulls, pa.bool_()) if nulls.any() else None)


def _dense_vectors(flat: np.ndarray, lengths: np.ndarray, nulls: np.ndarray) -> pa.StructArray:
    lengths = np.where(nulls, 0, lengths)
    row = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    col = np.arange(len(flat), dtype=np.int64) - np.repeat(_starts(lengths), lengths)
    return _vectors(_Coo(nulls, lengths, np.zeros(len(lengths), bool), row, col, np.asarray(flat, np.float64)),
                    False)
