"""The array/text functions of the vector/array SQL function bundle: ``array_slice``, ``array_index``,
``array_concat``, ``array_string_to_double`` and ``ngram``, over whole Arrow columns.

They are re-exported by, and registered through, :mod:`gateway.ml.functions` (the bundle's public entry,
whose docstring describes the shared conventions for inputs, nulls and errors). Imports no pyspark.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gateway.ml.vector_kernels import (
    _NO_POSITION,
    _STRINGS,
    FunctionError,
    _as_list,
    _combine,
    _coo,
    _flat_doubles,
    _integers,
    _ints_out,
    _is_number,
    _lengths,
    _lists_out,
    _nulls,
    _ranges,
    _starts,
)

__all__ = ["array_concat", "array_index", "array_slice", "array_string_to_double", "ngram"]


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
