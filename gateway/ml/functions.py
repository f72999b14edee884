"""The vector/array SQL function bundle (``vec_*``, ``onehot``, ``array_*``, ``ngram``) over whole Arrow columns.

Every function takes Arrow arrays, one per SQL argument (Spark broadcasts literal arguments, so they
arrive as full columns too), and returns one Arrow array of the same length. The work is vectorized
with numpy / pyarrow.compute over the whole column; the only Python loop is in :func:`ngram`, over the
*distinct* values of ``n`` (normally one), never over rows.

Inputs
    Wherever a vector is expected, a Spark ML vector (VectorUDT, which reaches Arrow as the struct
    ``<type, size, indices, values>``, see :mod:`gateway.ml.vectors`) or an array of numbers is
    accepted. Sparse vectors are processed without densifying them except where the result is dense
    (``vec_array``, ``vec_dense``, ``array_concat``). Number arrays may be ``array<double>``, integer or
    decimal arrays (``array(1.0, 2.0)`` is ``array<decimal(2,1)>`` in Spark SQL).

Nulls and errors
    A null argument gives a null result row. A null *element* inside a number array becomes NaN (a
    vector cannot hold a null). Results that are undefined for a row are null: ``vec_mean`` of an empty
    vector, ``vec_stddev`` of fewer than two entries, ``vec_cosine`` with a zero vector. Inputs that are
    wrong rather than missing raise :class:`FunctionError` (a ``ValueError``), which fails the query with
    a clear message: vectors of different sizes in a two-vector function, ``onehot`` labels outside
    ``[0, n)``, ``vec_slice`` indices outside the vector, ``vec_norm`` with ``p < 1``, ``ngram`` with
    ``n < 1``, strings that are not numbers in ``array_string_to_double``.

The module imports no pyspark (it also runs in the gateway process for online predict and inside
Spark's Python workers): :func:`register_all` imports it when it registers the functions in a Spark
session, and :func:`call` applies a function to Arrow arrays directly, without Spark.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gateway.ml.vectors import VECTOR_TYPE, VectorError, is_vector_type

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = [
    "FUNCTIONS", "BundleFunction", "FunctionError", "array_concat", "array_index", "array_slice",
    "array_string_to_double", "call", "ngram", "onehot", "register_all", "vec_argmax", "vec_array",
    "vec_concat", "vec_cosine", "vec_dense", "vec_mean", "vec_norm", "vec_slice", "vec_sparse",
    "vec_sqdist", "vec_stddev",
]


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


def _pair(a: pa.Array, b: pa.Array, name: str) -> tuple[_Coo, _Coo]:
    """Two vector columns with a common null mask, checked to have equal sizes row by row."""
    left, right = _coo(a, name, 1), _coo(b, name, 2)
    nulls = left.nulls | right.nulls
    left, right = left.drop_rows(nulls), right.drop_rows(nulls)
    differ = left.sizes != right.sizes
    if differ.any():
        i = int(np.flatnonzero(differ)[0])
        raise FunctionError(f"{name}: vectors of different sizes ({left.sizes[i]} and {right.sizes[i]}) in row {i}")
    return left, right


def _merged(left: _Coo, right: _Coo) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The entries of both sides sorted by (row, col): rows, values, and ``first`` = positions i where
    entries i and i + 1 are the same coordinate (one from each side)."""
    stride = int(max(left.sizes.max(initial=0), right.sizes.max(initial=0))) + 1
    keys = np.concatenate([left.row * stride + left.col, right.row * stride + right.col])
    values = np.concatenate([left.val, right.val])
    order = np.argsort(keys, kind="stable")
    keys, values = keys[order], values[order]
    first = np.flatnonzero(keys[1:] == keys[:-1])
    return keys // stride, values, first


def _dot(left: _Coo, right: _Coo) -> np.ndarray:
    if not left.sparse.any() and not right.sparse.any():
        return left.sums(left.val * right.val)  # dense rows of equal sizes: entries line up
    rows, values, first = _merged(left, right)
    return np.bincount(rows[first], weights=values[first] * values[first + 1], minlength=left.rows)


# ---------------------------------------------------------------------------------------------------
# Vector functions


def vec_dense(values: pa.Array) -> pa.StructArray:
    """``vec_dense(array<double>) -> vector``: a dense vector (a vector argument is densified)."""
    coo = _coo(values, "vec_dense", 1)
    flat, lengths = coo.dense()
    return _dense_vectors(flat, lengths, coo.nulls)


def vec_sparse(size: pa.Array, entries: pa.Array) -> pa.StructArray:
    """``vec_sparse(size int, map<int,double>) -> vector``: a sparse vector from ``{index: value}``."""
    sizes, size_nulls = _integers(size, "vec_sparse", 1)
    entries = _combine(entries)
    if pa.types.is_null(entries.type):
        entries = pa.nulls(len(entries), pa.map_(pa.int32(), pa.float64()))
    if not pa.types.is_map(entries.type):
        raise FunctionError(f"vec_sparse: argument 2 must be a map<int,double>, got {entries.type}")
    rows = len(entries)
    map_nulls = _nulls(entries)
    nulls = size_nulls | map_nulls
    if (sizes[~nulls] < 0).any():
        raise FunctionError(f"vec_sparse: negative size {int(sizes[~nulls].min())}")
    offsets = entries.offsets.to_numpy(zero_copy_only=False)
    lengths = np.where(map_nulls, 0, np.diff(offsets))
    # The map as a list of <key, value> structs (offsets are absolute into the unsliced child).
    pairs = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), entries.values,
                                     mask=pa.array(map_nulls, pa.bool_()) if map_nulls.any() else None).flatten()
    keys = pairs.field("key")
    if not _is_number(keys.type):
        raise FunctionError(f"vec_sparse: map keys must be integers, got {keys.type}")
    col = keys.cast(pa.float64()).to_numpy(zero_copy_only=False)
    items = pairs.field("value")
    val = (np.full(len(items), np.nan) if pa.types.is_null(items.type) else
           items.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False).astype(np.float64))
    row = np.repeat(np.arange(rows, dtype=np.int64), lengths.astype(np.int64))
    keep = ~nulls[row]
    row, col, val = row[keep], col[keep], val[keep]
    if not (col == np.floor(col)).all():
        raise FunctionError("vec_sparse: map keys must be integers")
    col = col.astype(np.int64)
    sizes = np.where(nulls, 0, sizes)
    bad = (col < 0) | (col >= sizes[row])
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise FunctionError(f"vec_sparse: index {col[i]} outside a vector of size {sizes[row[i]]}")
    order = np.lexsort((col, row))
    row, col, val = row[order], col[order], val[order]
    if len(row) > 1 and ((row[1:] == row[:-1]) & (col[1:] == col[:-1])).any():
        raise FunctionError("vec_sparse: repeated index")
    return _vectors(_Coo(nulls, sizes, ~nulls, row, col, val), True)


def vec_array(vector: pa.Array) -> pa.ListArray:
    """``vec_array(vector) -> array<double>``: the vector's values, densified."""
    coo = _coo(vector, "vec_array", 1)
    flat, lengths = coo.dense()
    return _lists_out(flat, lengths, coo.nulls)


def vec_argmax(vector: pa.Array) -> pa.Int32Array:
    """``vec_argmax(vector) -> int``: index of the largest entry, the first one on ties (like numpy's
    argmax; the first NaN if any). An empty vector gives -1 (as Spark ML's ``Vector.argmax``)."""
    coo = _coo(vector, "vec_argmax", 1)
    rows = coo.rows
    counts = coo.counts()
    best = np.full(rows, -np.inf)
    with np.errstate(invalid="ignore"):
        np.maximum.at(best, coo.row, coo.val)  # NaN propagates, as in numpy's argmax
    implicit = counts < coo.sizes  # sparse rows with implicit zeros
    best = np.where(implicit, np.maximum(best, 0.0), best)
    hit = (coo.val == best[coo.row]) | np.isnan(coo.val)
    out = np.full(rows, _NO_POSITION, np.int64)
    np.minimum.at(out, coo.row[hit], coo.col[hit])
    zero_best = implicit & (best == 0.0)
    if zero_best.any():
        # Indices are sorted, so the first implicit zero is the first position k whose index is not k.
        positions = coo.positions()
        gap = counts.copy()
        missing = coo.col != positions
        np.minimum.at(gap, coo.row[missing], positions[missing])
        out = np.where(zero_best, np.minimum(out, gap), out)
    out[coo.sizes == 0] = -1
    return _ints_out(out, coo.nulls)


def vec_norm(vector: pa.Array, p: pa.Array) -> pa.DoubleArray:
    """``vec_norm(vector, p double) -> double``: the p-norm, ``p >= 1`` (``double('inf')``: max |x|)."""
    coo = _coo(vector, "vec_norm", 1)
    ps, p_nulls = _numbers(p, "vec_norm", 2)
    coo = coo.drop_rows(p_nulls)
    nulls = coo.nulls
    if (~nulls & ~(ps >= 1)).any():
        raise FunctionError(f"vec_norm: p must be >= 1, got {float(ps[~nulls & ~(ps >= 1)][0])!r}")
    magnitude = np.abs(coo.val)
    entry_p = ps[coo.row]
    finite = np.isfinite(entry_p)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        total = np.bincount(coo.row[finite], weights=magnitude[finite] ** entry_p[finite], minlength=coo.rows)
        out = np.where(ps == 1, total, np.where(ps == 2, np.sqrt(total), total ** (1.0 / np.where(ps == 0, 1, ps))))
    infinite = np.isinf(ps) & ~nulls
    if infinite.any():
        peak = np.zeros(coo.rows)
        with np.errstate(invalid="ignore"):
            np.maximum.at(peak, coo.row[~finite], magnitude[~finite])
        out = np.where(infinite, peak, out)
    return _doubles_out(out, nulls)


def vec_cosine(a: pa.Array, b: pa.Array) -> pa.DoubleArray:
    """``vec_cosine(vector, vector) -> double``: cosine similarity; null when either vector is all zeros."""
    left, right = _pair(a, b, "vec_cosine")
    norms = np.sqrt(left.sums(left.val ** 2)) * np.sqrt(right.sums(right.val ** 2))
    undefined = left.nulls | (norms == 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = _dot(left, right) / np.where(undefined, 1.0, norms)
    return _doubles_out(out, undefined)


def vec_sqdist(a: pa.Array, b: pa.Array) -> pa.DoubleArray:
    """``vec_sqdist(vector, vector) -> double``: squared Euclidean distance."""
    left, right = _pair(a, b, "vec_sqdist")
    if not left.sparse.any() and not right.sparse.any():
        out = left.sums((left.val - right.val) ** 2)
    else:
        rows, values, first = _merged(left, right)
        contribution = values ** 2
        contribution[first] = (values[first] - values[first + 1]) ** 2
        contribution[first + 1] = 0.0
        out = np.bincount(rows, weights=contribution, minlength=left.rows)
    return _doubles_out(out, left.nulls)


def vec_slice(vector: pa.Array, indices: pa.Array) -> pa.StructArray:
    """``vec_slice(vector, array<int>) -> vector``: dense vector of the entries at ``indices``, in order."""
    coo = _coo(vector, "vec_slice", 1)
    wanted = _as_list(indices, "vec_slice", 2)
    if not _is_number(wanted.type.value_type):
        raise FunctionError(f"vec_slice: argument 2 must be an array of ints, got {wanted.type}")
    coo = coo.drop_rows(_nulls(wanted))
    nulls = coo.nulls
    lengths = _lengths(wanted)
    flat = wanted.flatten()
    want_row = np.repeat(np.arange(coo.rows, dtype=np.int64), lengths)
    keep = ~nulls[want_row]
    if flat.null_count and (_nulls(flat) & keep).any():
        raise FunctionError("vec_slice: null index")
    want = flat.cast(pa.float64()).fill_null(0).to_numpy(zero_copy_only=False)[keep]
    want_row = want_row[keep]
    bad = (want < 0) | (want >= coo.sizes[want_row]) | (want != np.floor(want))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise FunctionError(f"vec_slice: index {want[i]:g} outside a vector of size {coo.sizes[want_row[i]]}")
    keys, stride = coo.keys()
    query = want_row * stride + want.astype(np.int64)
    found_at = np.searchsorted(keys, query)
    clipped = np.minimum(found_at, max(len(keys) - 1, 0))
    found = (found_at < len(keys)) & (keys[clipped] == query) if len(keys) else np.zeros(len(query), bool)
    out = np.where(found, coo.val[clipped] if len(keys) else 0.0, 0.0)
    return _dense_vectors(out, np.where(nulls, 0, lengths), nulls)


def vec_concat(vectors: pa.Array) -> pa.StructArray:
    """``vec_concat(array<vector>) -> vector``: the vectors end to end (as VectorAssembler). The result
    is sparse when any part is sparse, else dense; a null part makes the row null."""
    outer = _as_list(vectors, "vec_concat", 1)
    rows = len(outer)
    part_counts = _lengths(outer)
    parts = _coo(outer.flatten(), "vec_concat", 1)
    parent = np.repeat(np.arange(rows, dtype=np.int64), part_counts)
    nulls = _nulls(outer)
    nulls[parent[parts.nulls]] = True
    part_kept = ~nulls[parent]
    part_sizes = np.where(part_kept, parts.sizes, 0)
    before = np.concatenate([[0], np.cumsum(part_sizes)]).astype(np.int64)
    first_part = _starts(part_counts)
    shift = before[:-1] - before[first_part[parent]] if len(parent) else np.zeros(0, np.int64)
    entry_kept = part_kept[parts.row]
    part_of_entry = parts.row[entry_kept]
    sizes = np.bincount(parent, weights=part_sizes, minlength=rows).astype(np.int64)
    sparse = np.bincount(parent, weights=(parts.sparse & part_kept), minlength=rows) > 0
    coo = _Coo(nulls, sizes, sparse, parent[part_of_entry], parts.col[entry_kept] + shift[part_of_entry],
               parts.val[entry_kept])
    return _vectors(coo, sparse)


def vec_mean(vector: pa.Array) -> pa.DoubleArray:
    """``vec_mean(vector) -> double``: mean of all entries (implicit zeros count); null when empty."""
    coo = _coo(vector, "vec_mean", 1)
    empty = coo.nulls | (coo.sizes == 0)
    return _doubles_out(coo.sums(coo.val) / np.where(empty, 1, coo.sizes), empty)


def vec_stddev(vector: pa.Array) -> pa.DoubleArray:
    """``vec_stddev(vector) -> double``: SAMPLE standard deviation (3, 4, 5 -> 1.0); null below 2 entries."""
    coo = _coo(vector, "vec_stddev", 1)
    undefined = coo.nulls | (coo.sizes < 2)
    sizes = np.where(undefined, 2, coo.sizes)
    mean = coo.sums(coo.val) / sizes
    squares = coo.sums((coo.val - mean[coo.row]) ** 2) + (sizes - coo.counts()) * mean ** 2
    return _doubles_out(np.sqrt(squares / (sizes - 1)), undefined)


def onehot(label: pa.Array, n: pa.Array) -> pa.StructArray:
    """``onehot(label int, n int) -> vector``: sparse vector of size n with 1.0 at ``label``. A label
    outside ``[0, n)`` is an error (as OneHotEncoder's default ``handleInvalid=error``)."""
    labels, label_nulls = _integers(label, "onehot", 1)
    sizes, size_nulls = _integers(n, "onehot", 2)
    nulls = label_nulls | size_nulls
    bad = ~nulls & ((labels < 0) | (labels >= sizes))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise FunctionError(f"onehot: label {labels[i]} outside [0, {sizes[i]})")
    row = np.flatnonzero(~nulls).astype(np.int64)
    return _vectors(_Coo(nulls, np.where(nulls, 0, sizes), ~nulls, row, labels[row], np.ones(len(row))), True)


# ---------------------------------------------------------------------------------------------------
# Array functions


def array_slice(values: pa.Array, start: pa.Array, stop: pa.Array) -> pa.ListArray:
    """``array_slice(array<double>, from int, to int) -> array<double>``: elements ``from`` (inclusive,
    0-based) to ``to`` (exclusive); ``to = -1`` means to the end. Bounds are clamped as Scala's
    ``slice`` does (the reference's implementation): from < 0 is 0, to past the end is the end, and
    to <= from (or any other negative to) gives an empty array."""
    array = _as_list(values, "array_slice", 1)
    if not _is_number(array.type.value_type):
        raise FunctionError(f"array_slice: argument 1 must be an array of numbers, got {array.type}")
    starts, start_nulls = _integers(start, "array_slice", 2)
    stops, stop_nulls = _integers(stop, "array_slice", 3)
    nulls = _nulls(array) | start_nulls | stop_nulls
    lengths = _lengths(array)
    stops = np.where(stops == -1, lengths, stops)
    low = np.clip(starts, 0, lengths)
    high = np.maximum(np.clip(stops, 0, lengths), low)
    counts = np.where(nulls, 0, high - low)
    flat = _flat_doubles(array)
    return _lists_out(flat[_ranges(_starts(lengths) + low, counts)], counts, nulls)


def array_index(values: pa.Array, item: pa.Array) -> pa.Int32Array:
    """``array_index(array<string>, string) -> int``: 0-based position of the first element equal to
    ``item``, -1 if absent (null elements never match)."""
    array = _as_list(values, "array_index", 1)
    item = _combine(item)
    rows = len(array)
    nulls = _nulls(array) | _nulls(item)
    lengths = _lengths(array)
    flat = array.flatten()
    row = np.repeat(np.arange(rows, dtype=np.int64), lengths)
    needles = item.take(pa.array(row, pa.int64()))
    if needles.type != flat.type:
        try:
            needles = needles.cast(flat.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            flat, needles = flat.cast(pa.string()), needles.cast(pa.string())
    equal = pc.equal(flat, needles).fill_null(False).to_numpy(zero_copy_only=False).astype(bool)
    position = np.arange(len(row), dtype=np.int64) - np.repeat(_starts(lengths), lengths)
    out = np.full(rows, _NO_POSITION, np.int64)
    np.minimum.at(out, row[equal], position[equal])
    return _ints_out(np.where(out == _NO_POSITION, -1, out), nulls)


def array_concat(arrays: pa.Array) -> pa.ListArray:
    """``array_concat(array<array<double>>) -> array<double>``: the inner arrays flattened, in order.
    Inner vectors are accepted too (densified). A null inner array makes the row null (as Spark's
    ``flatten``)."""
    outer = _as_list(arrays, "array_concat", 1)
    rows = len(outer)
    part_counts = _lengths(outer)
    parts = _coo(outer.flatten(), "array_concat", 1)
    flat, part_lengths = parts.dense()
    parent = np.repeat(np.arange(rows, dtype=np.int64), part_counts)
    nulls = _nulls(outer)
    nulls[parent[parts.nulls]] = True
    part_kept = ~nulls[parent]
    kept = np.repeat(part_kept, part_lengths)
    lengths = np.bincount(parent, weights=np.where(part_kept, part_lengths, 0), minlength=rows).astype(np.int64)
    return _lists_out(flat[kept], lengths, nulls)


def array_string_to_double(values: pa.Array) -> pa.ListArray:
    """``array_string_to_double(array<string>) -> array<double>``: each element parsed as a number
    (surrounding blanks ignored; null elements stay null). A non-number is an error."""
    array = _as_list(values, "array_string_to_double", 1)
    flat = array.flatten()
    if pa.types.is_string(flat.type) or pa.types.is_large_string(flat.type):
        trimmed = pc.utf8_trim_whitespace(flat)
        try:
            doubles = trimmed.cast(pa.float64())
        except pa.ArrowInvalid:
            bad = next(v for v in trimmed.to_pylist() if v is not None and not _parses(v))
            raise FunctionError(f"array_string_to_double: {bad!r} is not a number") from None
    elif _is_number(flat.type):
        doubles = flat.cast(pa.float64())
    else:
        raise FunctionError(f"array_string_to_double: argument 1 must be an array of strings, got {array.type}")
    return _lists_out(doubles, _lengths(array), _nulls(array))


def _parses(text: str) -> bool:
    try:
        pa.scalar(text).cast(pa.float64())
    except pa.ArrowInvalid:
        return False
    return True


def ngram(tokens: pa.Array, n: pa.Array) -> pa.ListArray:
    """``ngram(array<string>, n int) -> array<string>``: the space-joined runs of ``n`` consecutive
    tokens (Spark ML's NGram); empty when the array has fewer than ``n`` tokens. A gram containing a
    null token is null. ``n < 1`` is an error."""
    array = _as_list(tokens, "ngram", 1)
    sizes, n_nulls = _integers(n, "ngram", 2)
    nulls = _nulls(array) | n_nulls
    if (~nulls & (sizes < 1)).any():
        raise FunctionError(f"ngram: n must be >= 1, got {int(sizes[~nulls & (sizes < 1)][0])}")
    lengths = _lengths(array)
    flat = array.flatten()
    if not (pa.types.is_string(flat.type) or pa.types.is_large_string(flat.type)):
        flat = flat.cast(pa.string())
    counts = np.where(nulls, 0, np.maximum(lengths - sizes + 1, 0))
    out_starts = _starts(counts)
    pieces: list[pa.Array] = []
    slots: list[np.ndarray] = []
    # One vectorized pass per distinct n (a literal: normally exactly one).
    for size in np.unique(sizes[counts > 0]):
        rows = np.flatnonzero((sizes == size) & (counts > 0))
        gram_starts = pa.array(_ranges(_starts(lengths)[rows], counts[rows]), pa.int64())
        words = [flat.take(pc.add(gram_starts, j)) for j in range(int(size))]
        pieces.append(words[0] if size == 1 else pc.binary_join_element_wise(*words, " "))
        slots.append(_ranges(out_starts[rows], counts[rows]))
    if not pieces:
        grams = pa.array([], pa.string())
    elif len(pieces) == 1:
        grams = pieces[0]
    else:
        grams = pa.concat_arrays(pieces).take(pa.array(np.argsort(np.concatenate(slots), kind="stable")))
    return _lists_out(grams.cast(pa.string()), counts, nulls, _STRINGS)


# ---------------------------------------------------------------------------------------------------
# The bundle


@dataclass(frozen=True)
class BundleFunction:
    """One SQL function of the bundle: ``fn(*arrow columns) -> arrow column`` of ``return_type``
    (Spark DDL, or ``vector`` for Spark ML's VectorUDT)."""

    fn: Callable[..., pa.Array]
    return_type: str
    arity: int
    doc: str
    example: str


FUNCTIONS: dict[str, BundleFunction] = {
    "vec_dense": BundleFunction(vec_dense, "vector", 1, "array<double> (or vector) -> dense vector",
                                "select vec_dense(array(1.0, 3.0, 2.0))"),
    "vec_sparse": BundleFunction(vec_sparse, "vector", 2, "(size int, map<int,double>) -> sparse vector",
                                 "select vec_sparse(4, map(0, 1.0, 3, 2.0))"),
    "vec_array": BundleFunction(vec_array, "array<double>", 1, "vector -> array<double> (densified)",
                                "select vec_array(vec_sparse(3, map(1, 2.0)))"),
    "vec_argmax": BundleFunction(vec_argmax, "int", 1,
                                 "vector -> index of the largest entry (first on ties; -1 if empty)",
                                 "select vec_argmax(vec_dense(array(1.0, 3.0, 2.0)))"),
    "vec_norm": BundleFunction(vec_norm, "double", 2, "(vector, p double) -> p-norm, p >= 1 or infinity",
                               "select vec_norm(vec_dense(array(3.0, 4.0)), 2)"),
    "vec_cosine": BundleFunction(vec_cosine, "double", 2,
                                 "(vector, vector) -> cosine similarity (null for a zero vector)",
                                 "select vec_cosine(vec_dense(array(1.0, 2.0)), vec_dense(array(1.0, 1.0)))"),
    "vec_sqdist": BundleFunction(vec_sqdist, "double", 2, "(vector, vector) -> squared Euclidean distance",
                                 "select vec_sqdist(vec_dense(array(1.0, 2.0)), vec_dense(array(2.0, 0.0)))"),
    "vec_slice": BundleFunction(vec_slice, "vector", 2, "(vector, array<int>) -> dense vector of those entries",
                                "select vec_slice(vec_dense(array(1.0, 2.0, 3.0)), array(0, 2))"),
    "vec_concat": BundleFunction(vec_concat, "vector", 1, "array<vector> -> the vectors end to end",
                                 "select vec_concat(array(vec_dense(array(1.0)), vec_dense(array(2.0, 3.0))))"),
    "vec_mean": BundleFunction(vec_mean, "double", 1, "vector -> mean of the entries (null if empty)",
                               "select vec_mean(vec_dense(array(3.0, 4.0, 5.0)))"),
    "vec_stddev": BundleFunction(vec_stddev, "double", 1,
                                 "vector -> sample standard deviation (null below 2 entries)",
                                 "select vec_stddev(vec_dense(array(3.0, 4.0, 5.0)))"),
    "onehot": BundleFunction(onehot, "vector", 2, "(label int, n int) -> sparse size-n vector, 1.0 at label",
                             "select onehot(2, 5)"),
    "array_slice": BundleFunction(array_slice, "array<double>", 3,
                                  "(array<double>, from int, to int) -> elements [from, to); to = -1: to the end",
                                  "select array_slice(array(1.0, 2.0, 3.0, 4.0), 1, -1)"),
    "array_index": BundleFunction(array_index, "int", 2, "(array<string>, string) -> 0-based position or -1",
                                  "select array_index(array('a', 'b'), 'b')"),
    "array_concat": BundleFunction(array_concat, "array<double>", 1, "array<array<double>> -> flattened array",
                                   "select array_concat(array(array(1.0), array(2.0, 3.0)))"),
    "array_string_to_double": BundleFunction(array_string_to_double, "array<double>", 1,
                                             "array<string> -> array<double> (parsed)",
                                             "select array_string_to_double(array('1.5', '2'))"),
    "ngram": BundleFunction(ngram, "array<string>", 2, "(array<string>, n int) -> space-joined n-grams",
                            "select ngram(array('a', 'b', 'c'), 2)"),
}


def register_all(spark: SparkSession) -> list[str]:
    """Register every bundle function in ``spark`` as a scalar Arrow UDF; returns the names."""
    from gateway.ml.udf import arrow_function

    for name, spec in FUNCTIONS.items():
        spark.udf.register(name, arrow_function(spec.fn, spec.return_type, spec.arity))
    return list(FUNCTIONS)


def call(name: str, *arrays: Any) -> pa.Array:
    """Apply bundle function ``name`` to Arrow columns directly (no Spark), e.g. for online predict.

    Arguments are Arrow arrays (chunked arrays are combined; Python lists and numpy arrays are converted
    as columns). Scalars (``pa.Scalar`` or plain Python numbers/strings) and length-1 arrays are
    broadcast to the length of the longest argument, as Spark does for literals.
    """
    spec = FUNCTIONS.get(name) or FUNCTIONS.get(name.lower())
    if spec is None:
        raise KeyError(f"unknown function {name!r}")
    if len(arrays) != spec.arity:
        raise FunctionError(f"{name} takes {spec.arity} argument(s), got {len(arrays)}")
    columns: list[pa.Array | pa.Scalar] = []
    for value in arrays:
        if isinstance(value, (pa.Array, pa.ChunkedArray)):
            columns.append(_combine(value))
        elif isinstance(value, pa.Scalar):
            columns.append(value)
        elif isinstance(value, (list, tuple, np.ndarray)):
            columns.append(pa.array(value))
        else:
            columns.append(pa.scalar(value))
    lengths = {len(c) for c in columns if isinstance(c, pa.Array)}
    rows = max(lengths, default=1)
    if lengths - {1, rows}:
        raise FunctionError(f"{name}: arguments of different lengths {sorted(lengths)}")
    full = []
    for column in columns:
        if isinstance(column, pa.Scalar):
            column = pa.repeat(column, rows)
        elif len(column) != rows:
            column = column.take(pa.array(np.zeros(rows, np.int64)))
        full.append(column)
    return spec.fn(*full)
