"""Vectors as Arrow and numpy: the currency of model scoring (no pyspark import).

Spark ML's VectorUDT travels through Arrow as its SQL type, a struct
``<type: int8, size: int32, indices: list<int32>, values: list<double>>`` where type 1 is dense (only
``values`` set) and type 0 is sparse. Scorers take and return such arrays; this module converts them
to and from numpy matrices in bulk (no per-row Python loop for dense input, one scatter for sparse).
A plain ``array<double>`` (list array) is accepted wherever a vector is.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

VECTOR_TYPE = pa.struct([
    pa.field("type", pa.int8(), nullable=False),
    pa.field("size", pa.int32()),
    pa.field("indices", pa.list_(pa.field("element", pa.int32(), nullable=False))),
    pa.field("values", pa.list_(pa.field("element", pa.float64(), nullable=False))),
])


class VectorError(ValueError):
    """An input that is not a vector (or not of the size a model expects)."""


def is_vector_type(kind: pa.DataType) -> bool:
    return pa.types.is_struct(kind) and {f.name for f in kind} >= {"type", "size", "indices", "values"}


def _combine(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def to_matrix(array: pa.Array | pa.ChunkedArray, width: int | None = None) -> np.ndarray:
    """A float64 matrix, one row per element; vectors (dense or sparse) or lists of numbers.

    Null rows become rows of NaN. ``width`` is the expected vector size (checked; needed for an empty
    input); without it the width is taken from the data.
    """
    array = _combine(array)
    kind = array.type
    if is_vector_type(kind):
        return _vectors_to_matrix(array, width)
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        return _lists_to_matrix(array, width)
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        column = array.cast(pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64)
        return column.reshape(-1, 1)
    raise VectorError(f"expected a vector or an array of numbers, got {kind}")


def _lists_to_matrix(array: pa.Array, width: int | None) -> np.ndarray:
    rows = len(array)
    if isinstance(array, pa.FixedSizeListArray):
        flat = array.flatten()
        lengths = np.full(rows, array.type.list_size)
    else:
        flat = array.flatten()
        lengths = pc.list_value_length(array).fill_null(0).to_numpy(zero_copy_only=False)
    values = flat.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)
    return _ragged_to_matrix(values, lengths, array.is_null().to_numpy(zero_copy_only=False), width)


def _ragged_to_matrix(values: np.ndarray, lengths: np.ndarray, nulls: np.ndarray,
                      width: int | None) -> np.ndarray:
    rows = len(lengths)
    present = lengths[~nulls] if rows else lengths
    if width is None:
        width = int(present.max()) if len(present) else 0
    if len(present) and (present != width).any():
        bad = int(present[present != width][0])
        raise VectorError(f"vector of size {bad} where size {width} was expected")
    if rows and not nulls.any():
        return values.reshape(rows, width).astype(np.float64, copy=False)
    out = np.full((rows, width), np.nan)
    if len(values):
        out[~nulls] = values.reshape(-1, width)
    return out


def _vectors_to_matrix(array: pa.StructArray, width: int | None) -> np.ndarray:
    rows = len(array)
    nulls = array.is_null().to_numpy(zero_copy_only=False)
    kinds = array.field("type").fill_null(1).to_numpy(zero_copy_only=False)
    values_list = array.field("values")
    lengths = pc.list_value_length(values_list).fill_null(0).to_numpy(zero_copy_only=False)
    values = values_list.flatten().to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
    sparse = (kinds == 0) & ~nulls
    if not sparse.any():
        return _ragged_to_matrix(values, np.where(nulls, 0, lengths), nulls, width)
    sizes = array.field("size").fill_null(0).to_numpy(zero_copy_only=False)
    dense_lengths = np.where(sparse | nulls, 0, lengths)
    if width is None:
        candidates = np.concatenate([sizes[sparse], dense_lengths[~sparse & ~nulls]])
        width = int(candidates.max()) if len(candidates) else 0
    if (sizes[sparse] != width).any() or (dense_lengths[~sparse & ~nulls] != width).any():
        raise VectorError(f"vectors of mixed sizes where size {width} was expected")
    out = np.zeros((rows, width))
    out[nulls] = np.nan
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    row_of_value = np.repeat(np.arange(rows), lengths)
    index_list = array.field("indices")
    index_lengths = pc.list_value_length(index_list).fill_null(0).to_numpy(zero_copy_only=False)
    indices = index_list.flatten().to_numpy(zero_copy_only=False)
    index_offsets = np.concatenate([[0], np.cumsum(index_lengths)])
    # Sparse rows: scatter values to their indices. Dense rows: their values fill the row in order.
    for_sparse = sparse[row_of_value]
    sparse_rows = row_of_value[for_sparse]
    position_in_row = np.arange(len(values)) - offsets[row_of_value]
    sparse_cols = indices[index_offsets[sparse_rows] + position_in_row[for_sparse]]
    out[sparse_rows, sparse_cols] = values[for_sparse]
    dense_mask = ~for_sparse
    out[row_of_value[dense_mask], position_in_row[dense_mask]] = values[dense_mask]
    return out


def from_matrix(matrix: np.ndarray, nulls: np.ndarray | None = None) -> pa.StructArray:
    """Dense vectors (VectorUDT layout) from a 2-D float matrix; rows flagged in ``nulls`` become null."""
    matrix = np.ascontiguousarray(matrix, dtype=np.float64)
    rows, width = matrix.shape
    offsets = pa.array(np.arange(0, rows * width + 1, width, dtype=np.int32) if rows else [0], pa.int32())
    values = pa.ListArray.from_arrays(offsets, pa.array(matrix.reshape(-1), pa.float64()),
                                      type=VECTOR_TYPE.field("values").type)
    mask = pa.array(nulls, pa.bool_()) if nulls is not None and nulls.any() else None
    return pa.StructArray.from_arrays(
        [pa.array(np.ones(rows, np.int8), pa.int8()), pa.nulls(rows, pa.int32()),
         pa.nulls(rows, VECTOR_TYPE.field("indices").type), values],
        fields=list(VECTOR_TYPE), mask=mask)


def from_rows(rows: list[np.ndarray | None]) -> pa.StructArray:
    """Dense vectors of varying sizes (e.g. one per document); None rows become null."""
    lengths = np.array([0 if r is None else len(r) for r in rows], dtype=np.int32)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    flat = np.concatenate([np.asarray(r, np.float64) for r in rows if r is not None]) if lengths.sum() else \
        np.zeros(0)
    values = pa.ListArray.from_arrays(pa.array(offsets), pa.array(flat, pa.float64()),
                                      type=VECTOR_TYPE.field("values").type)
    nulls = np.array([r is None for r in rows])
    n = len(rows)
    return pa.StructArray.from_arrays(
        [pa.array(np.ones(n, np.int8), pa.int8()), pa.nulls(n, pa.int32()),
         pa.nulls(n, VECTOR_TYPE.field("indices").type), values],
        fields=list(VECTOR_TYPE), mask=pa.array(nulls) if nulls.any() else None)


def sparse_from_rows(size: int, rows: list[tuple[np.ndarray, np.ndarray] | None]) -> pa.StructArray:
    """Sparse vectors of one size from (indices, values) pairs; None rows become null."""
    n = len(rows)
    index_lengths = np.array([0 if r is None else len(r[0]) for r in rows], dtype=np.int32)
    offsets = pa.array(np.concatenate([[0], np.cumsum(index_lengths)]).astype(np.int32))
    present = [r for r in rows if r is not None]
    flat_i = np.concatenate([np.asarray(r[0], np.int32) for r in present]) if present else np.zeros(0, np.int32)
    flat_v = np.concatenate([np.asarray(r[1], np.float64) for r in present]) if present else np.zeros(0)
    indices = pa.ListArray.from_arrays(offsets, pa.array(flat_i, pa.int32()), type=VECTOR_TYPE.field("indices").type)
    values = pa.ListArray.from_arrays(offsets, pa.array(flat_v, pa.float64()), type=VECTOR_TYPE.field("values").type)
    nulls = np.array([r is None for r in rows])
    return pa.StructArray.from_arrays(
        [pa.array(np.zeros(n, np.int8), pa.int8()), pa.array(np.full(n, size, np.int32), pa.int32()), indices, values],
        fields=list(VECTOR_TYPE), mask=pa.array(nulls) if nulls.any() else None)


def row_nulls(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return _combine(array).is_null().to_numpy(zero_copy_only=False)


def to_python(value: dict[str, Any] | None) -> list[float] | None:
    """One vector struct (as ``StructArray.to_pylist`` gives it) as a dense Python list."""
    if value is None:
        return None
    if value.get("type", 1) == 1:
        return list(value["values"])
    out = [0.0] * int(value["size"])
    for i, v in zip(value["indices"], value["values"], strict=True):
        out[i] = v
    return out
