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

Layout
    This module is the public entry: the :data:`FUNCTIONS` table, :class:`BundleFunction`,
    :class:`FunctionError`, :func:`register_all`, :func:`call` and the vector functions (``vec_*``,
    ``onehot``). The array/text functions (``array_*``, ``ngram``) live in
    :mod:`gateway.ml.array_functions` and the shared column helpers and coordinate-list kernels in
    :mod:`gateway.ml.vector_kernels`; everything public is re-exported here.

None of these modules imports pyspark (they also run in the gateway process for online predict and
inside Spark's Python workers): :func:`register_all` imports it when it registers the functions in a
Spark session, and :func:`call` applies a function to Arrow arrays directly, without Spark.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from gateway.ml.array_functions import array_concat, array_index, array_slice, array_string_to_double, ngram
from gateway.ml.vector_kernels import (
    _NO_POSITION,
    FunctionError,
    _as_list,
    _combine,
    _Coo,
    _coo,
    _dense_vectors,
    _doubles_out,
    _integers,
    _ints_out,
    _is_number,
    _lengths,
    _lists_out,
    _nulls,
    _numbers,
    _starts,
    _vectors,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = [
    "FUNCTIONS", "BundleFunction", "FunctionError", "array_concat", "array_index", "array_slice",
    "array_string_to_double", "call", "ngram", "onehot", "register_all", "vec_argmax", "vec_array",
    "vec_concat", "vec_cosine", "vec_dense", "vec_mean", "vec_norm", "vec_slice", "vec_sparse",
    "vec_sqdist", "vec_stddev",
]


# ---------------------------------------------------------------------------------------------------
# Two-vector helpers


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
