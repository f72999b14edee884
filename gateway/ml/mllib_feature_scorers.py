"""Numpy scorers for MLlib's feature transformers: StandardScaler, Bucketizer (Discretizer), StringIndexer,
Word2Vec and CountVectorizer + IDF (TfIdf).

Each reproduces its model's ``transform`` row for row, down to the vector layout: StandardScaler keeps a
sparse input sparse when it only scales (withMean=false), TfIdf returns sparse vectors with MLlib's indices
(explicit zeros for terms whose idf is 0 included), and Word2Vec averages in sentence order and returns
MLlib's empty sparse vector for an empty sentence.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gateway.ml import vectors
from gateway.ml.mllib_unsup_scorers import combine, list_array, list_parts, lookup, numbers, ragged
from gateway.ml.scoring import FunctionSpec, Scorer, ScorerError

SCALER_FILE = "scaler.npz"
SPLITS_FILE = "splits.npz"
LABELS_FILE = "labels.arrow"
WORDS_FILE = "words.arrow"
WORD2VEC_FILE = "word2vec.npz"
VOCAB_FILE = "vocabulary.arrow"
IDF_FILE = "idf.npz"
_INDEX_LIST = vectors.VECTOR_TYPE.field("indices").type
_VALUE_LIST = vectors.VECTOR_TYPE.field("values").type


def write_strings(path: Path, values: list, kind: pa.DataType | None = None) -> None:
    """A one-column Arrow file (``item``) holding ``values`` (labels, words, a vocabulary...)."""
    import pyarrow.feather as feather

    feather.write_feather(pa.table({"item": pa.array(values, kind)}), str(path))


def read_strings(path: Path) -> pa.Array:
    import pyarrow.feather as feather

    return feather.read_table(str(path)).column("item").combine_chunks()


# -- vectors in and out, keeping the dense/sparse layout ---------------------------------------------------
@dataclass
class VectorParts:
    """A vector column as stored entries: per row its kind, size and entries (dense rows: every position)."""

    nulls: np.ndarray     # bool [rows]
    sparse: np.ndarray    # bool [rows]
    sizes: np.ndarray     # int64 [rows] (0 for nulls)
    lengths: np.ndarray   # int64 [rows]: stored entries
    index: np.ndarray     # int64 [entries]: column of each entry
    values: np.ndarray    # float64 [entries]


def read_vectors(array: pa.Array, what: str = "the input") -> VectorParts:
    array = combine(array)
    rows = len(array)
    kind = array.type
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        if not (pa.types.is_integer(kind.value_type) or pa.types.is_floating(kind.value_type)):
            raise ScorerError(f"{what} must be a vector or an array of numbers, got {kind}")
        nulls = array.is_null().to_numpy(zero_copy_only=False)
        lengths = pc.list_value_length(array).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
        values = pc.cast(pc.list_flatten(array), pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)
        return VectorParts(nulls, np.zeros(rows, bool), lengths, lengths, ragged(lengths)[1], values)
    if not vectors.is_vector_type(kind):
        raise ScorerError(f"{what} must be a vector, got {kind}")
    fields = dict(zip([f.name for f in kind], array.flatten(), strict=True))
    nulls = array.is_null().to_numpy(zero_copy_only=False)
    sparse = (fields["type"].fill_null(1).to_numpy(zero_copy_only=False) == 0) & ~nulls
    value_lists = fields["values"]
    lengths = pc.list_value_length(value_lists).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    values = pc.list_flatten(value_lists).to_numpy(zero_copy_only=False).astype(np.float64)
    rows_of, position = ragged(lengths)
    index = position.copy()
    sizes = lengths.copy()
    if sparse.any():
        index_lists = fields["indices"]
        index_lengths = pc.list_value_length(index_lists).fill_null(0).to_numpy(zero_copy_only=False)
        flat = pc.list_flatten(index_lists).to_numpy(zero_copy_only=False).astype(np.int64)
        index_rows = np.repeat(np.arange(rows), index_lengths)
        index[sparse[rows_of]] = flat[sparse[index_rows]]
        sizes[sparse] = fields["size"].fill_null(0).to_numpy(zero_copy_only=False)[sparse]
    return VectorParts(nulls, sparse, np.where(nulls, 0, sizes), lengths, index, values)


def build_vectors(parts: VectorParts) -> pa.StructArray:
    """VectorUDT structs: sparse rows as (size, indices, values), dense rows as values."""
    sparse = parts.sparse & ~parts.nulls
    lengths = np.where(parts.nulls, 0, parts.lengths)
    entry_sparse = np.repeat(sparse, lengths)
    offsets = pa.array(np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32), pa.int32())
    index_lengths = np.where(sparse, lengths, 0)
    index_offsets = pa.array(np.concatenate([[0], np.cumsum(index_lengths)]).astype(np.int32), pa.int32())
    dense_mask = pa.array(~sparse, pa.bool_()) if (~sparse).any() else None
    index_list = pa.ListArray.from_arrays(index_offsets, pa.array(parts.index[entry_sparse].astype(np.int32),
                                                                  pa.int32()), type=_INDEX_LIST, mask=dense_mask)
    value_list = pa.ListArray.from_arrays(offsets, pa.array(np.asarray(parts.values, np.float64), pa.float64()),
                                          type=_VALUE_LIST)
    return pa.StructArray.from_arrays(
        [pa.array(np.where(sparse, 0, 1).astype(np.int8), pa.int8()),
         pa.array(parts.sizes.astype(np.int32), pa.int32(), mask=~sparse if (~sparse).any() else None),
         index_list, value_list],
        fields=list(vectors.VECTOR_TYPE), mask=pa.array(parts.nulls, pa.bool_()) if parts.nulls.any() else None)


def _check_sizes(parts: VectorParts, width: int, what: str) -> None:
    bad = ~parts.nulls & (parts.sizes != width)
    if bad.any():
        raise ScorerError(f"{what}: vector of size {int(parts.sizes[bad][0])} where size {width} was expected")


# -- StandardScaler ----------------------------------------------------------------------------------------
class StandardScalerScorer(Scorer):
    """StandardScalerModel.transform: (x - mean) * (1/std), with 1/std = 0 where std is 0."""

    functions = (FunctionSpec("", "scale", "vector", ("vector",), "the standardized vector"),)

    def __init__(self, mean: np.ndarray, std: np.ndarray, with_mean: bool, with_std: bool) -> None:
        self.mean = mean
        with np.errstate(divide="ignore"):
            self.scale_by = np.where(std == 0, 0.0, 1.0 / np.where(std == 0, 1.0, std))
        self.with_mean, self.with_std = with_mean, with_std

    @classmethod
    def load(cls, directory: Path, spec: dict[str, Any]) -> StandardScalerScorer:
        with np.load(Path(directory) / SCALER_FILE) as npz:
            return cls(npz["mean"], npz["std"], bool(spec["withMean"]), bool(spec["withStd"]))

    def scale(self, features: pa.Array) -> pa.Array:
        parts = read_vectors(features, "StandardScaler input")
        _check_sizes(parts, len(self.mean), "StandardScaler")
        if self.with_mean:   # always dense, as MLlib
            x = vectors.to_matrix(features, len(self.mean))
            out = (x - self.mean) * self.scale_by if self.with_std else x - self.mean
            return vectors.from_matrix(np.where(parts.nulls[:, None], 0.0, out), parts.nulls)
        if self.with_std:    # dense stays dense, sparse stays sparse (same indices)
            parts.values = parts.values * self.scale_by[parts.index] if len(parts.index) else parts.values
        return build_vectors(parts)


# -- Bucketizer --------------------------------------------------------------------------------------------
def _order_keys(x: np.ndarray) -> np.ndarray:
    """int64 keys ordering doubles as Java's Double.compare does (-0.0 below 0.0)."""
    bits = np.ascontiguousarray(x, dtype=np.float64).view(np.int64)
    return bits ^ ((bits >> 63) & np.int64(0x7FFFFFFFFFFFFFFF))


class BucketizerScorer(Scorer):
    """Bucketizer.transform: the bucket index of a number (splits from QuantileDiscretizer or given)."""

    functions = (FunctionSpec("", "bucket", "double", ("double",), "the bucket index"),)

    def __init__(self, splits: np.ndarray, handle_invalid: str) -> None:
        self.splits = splits
        self.keys = _order_keys(splits)
        self.handle_invalid = handle_invalid

    @classmethod
    def load(cls, directory: Path, spec: dict[str, Any]) -> BucketizerScorer:
        with np.load(Path(directory) / SPLITS_FILE) as npz:
            return cls(npz["splits"], spec.get("handleInvalid", "error"))

    def bucket(self, column: pa.Array) -> pa.Array:
        x, nulls = numbers(column, "Discretizer input")
        splits = self.splits
        nan = np.isnan(x) & ~nulls
        if nan.any() and self.handle_invalid == "error":
            raise ScorerError("Bucketizer encountered NaN value. To handle or skip NaNs, set handleInvalid")
        safe = np.where(nan | nulls, splits[0], x)
        key = _order_keys(safe)
        pos = np.searchsorted(self.keys, key)
        exact = (pos < len(splits)) & (self.keys[np.minimum(pos, len(splits) - 1)] == key)
        out = np.where(exact, pos, pos - 1).astype(np.float64)
        out = np.where(safe == splits[-1], len(splits) - 2, out)
        outside = ~exact & (safe != splits[-1]) & ((pos == 0) | (pos == len(splits))) & ~nan & ~nulls
        if outside.any():
            raise ScorerError(f"Feature value {x[outside][0]} out of Bucketizer bounds "
                              f"[{splits[0]}, {splits[-1]}]. Check your features, or loosen the bounds")
        out = np.where(nan, len(splits) - 1, out)
        mask = nulls | (nan & (self.handle_invalid == "skip"))
        return pa.array(out, pa.float64(), mask=mask if mask.any() else None)


# -- StringIndexer -----------------------------------------------------------------------------------------
def _as_strings(column: pa.Array) -> pa.Array:
    """Strings as Spark's cast to string spells them (exact for strings, integers and booleans)."""
    column = combine(column)
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind):
        return column.cast(pa.string())
    if pa.types.is_boolean(kind) or pa.types.is_integer(kind):
        return column.cast(pa.string())
    if pa.types.is_floating(kind):
        return pa.array([None if v is None else repr(float(v)) for v in column.to_pylist()], pa.string())
    raise ScorerError(f"StringIndex input must be a string, got {kind}")


class StringIndexerScorer(Scorer):
    """StringIndexerModel.transform (label -> index, most frequent first) and its inverse (IndexToString)."""

    functions = (
        FunctionSpec("", "index", "int", ("string",), "the label's index"),
        FunctionSpec("_array", "index_array", "array<int>", ("array<string>",), "each label's index"),
        FunctionSpec("_r", "label", "string", ("double",), "the label of an index (null if out of range)"),
        FunctionSpec("_rarray", "label_array", "array<string>", ("array<double>",), "the label of each index"),
    )

    def __init__(self, labels: pa.Array, handle_invalid: str) -> None:
        self.labels = labels.cast(pa.string())
        self.handle_invalid = handle_invalid

    @classmethod
    def load(cls, directory: Path, spec: dict[str, Any]) -> StringIndexerScorer:
        return cls(read_strings(Path(directory) / LABELS_FILE), spec.get("handleInvalid", "error"))

    def _indices(self, values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        """(index per value, null mask of the result) under handleInvalid."""
        strings = _as_strings(values)
        found = lookup(strings, self.labels)
        invalid = found < 0
        if invalid.any() and self.handle_invalid == "error":
            bad = strings[int(np.flatnonzero(invalid)[0])].as_py()
            if bad is None:
                raise ScorerError("StringIndexer encountered NULL value. To handle or skip NULLs, set handleInvalid")
            raise ScorerError(f"Unseen label: {bad}. To handle unseen labels, set handleInvalid to keep")
        if self.handle_invalid == "keep":
            return np.where(invalid, len(self.labels), found), np.zeros(len(found), bool)
        return np.where(invalid, 0, found), invalid

    def index(self, values: pa.Array) -> pa.Array:
        out, nulls = self._indices(values)
        return pa.array(out.astype(np.int32), pa.int32(), mask=nulls if nulls.any() else None)

    def index_array(self, values: pa.Array) -> pa.Array:
        flat, lengths, nulls = list_parts(values, "StringIndex input")
        out, element_nulls = self._indices(flat)
        elements = pa.array(out.astype(np.int32), pa.int32(), mask=element_nulls if element_nulls.any() else None)
        return list_array(elements, lengths, nulls, pa.int32())

    def _labels(self, index: pa.Array) -> pa.Array:
        x, nulls = numbers(index, "the index")
        ok = ~nulls & (x >= 0) & (x < len(self.labels)) & (x == np.floor(x))
        picked = self.labels.take(pa.array(np.where(ok, x, 0).astype(np.int64)))
        return pc.if_else(pa.array(ok), picked, pa.nulls(len(x), pa.string()))

    def label(self, index: pa.Array) -> pa.Array:
        return self._labels(index)

    def label_array(self, indices_: pa.Array) -> pa.Array:
        flat, lengths, nulls = list_parts(indices_, "the indices")
        return list_array(self._labels(flat), lengths, nulls, pa.string())


# -- Word2Vec ----------------------------------------------------------------------------------------------
class Word2VecScorer(Scorer):
    """Word2VecModel: a word's vector, and a sentence's average vector as Word2VecModel.transform."""

    functions = (
        FunctionSpec("", "word", "vector", ("string",), "the word's vector (null if the word is unknown)"),
        FunctionSpec("_array", "sentence", "vector", ("array<string>",),
                     "the average of the words' vectors (unknown words count, adding zeros)"),
    )

    def __init__(self, words: pa.Array, matrix: np.ndarray) -> None:
        self.words = words.cast(pa.string())
        self.matrix = matrix
        self.size = matrix.shape[1]

    @classmethod
    def load(cls, directory: Path, spec: dict[str, Any]) -> Word2VecScorer:
        with np.load(Path(directory) / WORD2VEC_FILE) as npz:
            return cls(read_strings(Path(directory) / WORDS_FILE), npz["vectors"])

    def word(self, words: pa.Array) -> pa.Array:
        found = lookup(_as_strings(words), self.words)
        missing = found < 0
        out = self.matrix[np.where(missing, 0, found)] if len(self.words) else np.zeros((len(found), self.size))
        return vectors.from_matrix(out, missing)

    def sentence(self, sentences: pa.Array) -> pa.Array:
        flat, lengths, nulls = list_parts(sentences, "Word2vec input")
        ids = lookup(flat.cast(pa.string()) if len(flat) else flat, self.words)
        n = len(lengths)
        total = np.zeros((n, self.size))
        starts = np.cumsum(lengths) - lengths
        for j in range(int(lengths.max()) if n else 0):   # add in sentence order, as the JVM loop does
            rows = np.flatnonzero(lengths > j)
            word = ids[starts[rows] + j]
            known = word >= 0
            total[rows[known]] += self.matrix[word[known]]
        with np.errstate(divide="ignore", invalid="ignore"):
            out = total * (1.0 / np.where(lengths > 0, lengths, 1))[:, None]
        empty = (lengths == 0) & ~nulls
        size = np.full(n, self.size)
        parts = VectorParts(nulls, empty, np.where(nulls, 0, size), np.where(empty | nulls, 0, size),
                            np.tile(np.arange(self.size), int((~empty & ~nulls).sum())),
                            out[~empty & ~nulls].reshape(-1))
        return build_vectors(parts)


# -- TfIdf: CountVectorizer + IDF --------------------------------------------------------------------------
class TfIdfScorer(Scorer):
    """CountVectorizerModel then IDFModel: term counts over the vocabulary times each term's idf."""

    functions = (FunctionSpec("", "tfidf", "vector", ("array<string>",),
                              "the document's tf-idf sparse vector (vocabulary indices)"),)

    def __init__(self, vocabulary: pa.Array, idf: np.ndarray, min_tf: float, binary: bool) -> None:
        self.vocabulary = vocabulary.cast(pa.string())
        self.idf = idf
        self.min_tf = min_tf
        self.binary = binary

    @classmethod
    def load(cls, directory: Path, spec: dict[str, Any]) -> TfIdfScorer:
        with np.load(Path(directory) / IDF_FILE) as npz:
            return cls(read_strings(Path(directory) / VOCAB_FILE), npz["idf"], float(spec["minTF"]),
                       bool(spec["binary"]))

    def tfidf(self, documents: pa.Array) -> pa.Array:
        flat, lengths, nulls = list_parts(documents, "TfIdf input")
        n, size = len(lengths), len(self.vocabulary)
        rows, _ = ragged(lengths)
        terms = lookup(flat.cast(pa.string()) if len(flat) else flat, self.vocabulary)
        known = terms >= 0
        keys, counts = np.unique(rows[known] * max(size, 1) + terms[known], return_counts=True)
        k_rows, k_terms = keys // max(size, 1), keys % max(size, 1)
        counts = counts.astype(np.float64)
        threshold = self.min_tf if self.min_tf >= 1.0 else lengths[k_rows] * self.min_tf
        keep = counts >= threshold
        k_rows, k_terms, counts = k_rows[keep], k_terms[keep], counts[keep]
        if self.binary:
            counts = np.ones_like(counts)
        per_row = np.bincount(k_rows, minlength=n).astype(np.int64)
        parts = VectorParts(nulls, ~nulls, np.where(nulls, 0, size), np.where(nulls, 0, per_row), k_terms,
                            counts * self.idf[k_terms])
        return build_vectors(parts)

