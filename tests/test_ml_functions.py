"""The vector/array SQL function bundle (gateway.ml.functions): pure Arrow calls and the same in Spark SQL."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import warnings

import numpy as np
import pyarrow as pa
import pytest

from gateway.ml import functions as F
from gateway.ml import scoring, vectors
from gateway.ml.functions import FunctionError

INF = float("inf")
NAN = float("nan")


# ---------------------------------------------------------------------------------------------------
# Helpers: the same rows as dense structs, sparse structs and plain arrays


def dense(*rows):
    return vectors.from_rows([None if r is None else np.asarray(r, float) for r in rows])


def sparse(size, *rows):
    """Sparse vectors of one size; each row a {index: value} dict or None."""
    return vectors.sparse_from_rows(size, [None if r is None else (np.array(list(r), np.int32),
                                                                   np.array(list(r.values()), float))
                                           for r in rows])


def arrays(*rows):
    return pa.array([None if r is None else [float(x) for x in r] for r in rows], pa.list_(pa.float64()))


def as_sparse_dict(row):
    return None if row is None else {i: float(v) for i, v in enumerate(row) if v != 0}


def three_forms(rows):
    """The rows (lists of numbers or None, all of one size for the sparse form) in every accepted input form."""
    size = max((len(r) for r in rows if r is not None), default=0)
    same_size = all(r is None or len(r) == size for r in rows)
    forms = {"dense": dense(*rows), "array": arrays(*rows)}
    if same_size:
        forms["sparse"] = sparse(size, *[as_sparse_dict(r) for r in rows])
    return forms


def dense_rows(result):
    """Vector results as dense lists (None for null rows)."""
    return [vectors.to_python(v) for v in result.to_pylist()]


def close(a, b):
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b, strict=True))
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-12, abs=1e-12)


def assert_rows(result, expected):
    got = result.to_pylist() if isinstance(result, pa.Array) else result
    assert len(got) == len(expected)
    for i, (g, e) in enumerate(zip(got, expected, strict=True)):
        assert close(g, e), f"row {i}: got {g!r}, expected {e!r}"


ROWS = [[1.0, 3.0, 2.0], None, [0.0, -1.0, 0.0], [-2.0, -5.0, -2.0], [4.0, 0.0, 4.0]]


# ---------------------------------------------------------------------------------------------------
# Pure unit tests (no Spark)


@pytest.mark.parametrize("form", ["dense", "sparse", "array"])
def test_single_vector_functions_on_every_input_form(form):
    column = three_forms(ROWS)[form]
    reference = [None if r is None else np.array(r) for r in ROWS]
    assert dense_rows(F.vec_dense(column)) == ROWS
    assert F.vec_array(column).to_pylist() == ROWS
    assert_rows(F.vec_argmax(column), [None if r is None else int(np.argmax(r)) for r in reference])
    assert_rows(F.vec_mean(column), [None if r is None else float(r.mean()) for r in reference])
    assert_rows(F.vec_stddev(column), [None if r is None else float(r.std(ddof=1)) for r in reference])
    for p in (1.0, 2.0, 3.0, INF):
        expected = [None if r is None else float(np.linalg.norm(r, ord=p)) for r in reference]
        assert_rows(F.vec_norm(column, pa.array([p] * len(ROWS))), expected)


def test_vec_dense_output_layout_and_types():
    out = F.vec_dense(arrays([1, 3, 2], None, []))
    assert out.type == vectors.VECTOR_TYPE
    assert out.to_pylist() == [{"type": 1, "size": None, "indices": None, "values": [1.0, 3.0, 2.0]}, None,
                               {"type": 1, "size": None, "indices": None, "values": []}]
    # Integer and decimal arrays (Spark's array(1.0, 2.0) is array<decimal(2,1)>) are numbers too.
    assert dense_rows(F.vec_dense(pa.array([[1, 2]], pa.list_(pa.int32())))) == [[1.0, 2.0]]
    from decimal import Decimal

    decimals = pa.array([[Decimal("1.0"), Decimal("2.5")]], pa.list_(pa.decimal128(2, 1)))
    assert dense_rows(F.vec_dense(decimals)) == [[1.0, 2.5]]
    # A null element becomes NaN (a vector cannot hold nulls); a sparse vector is densified.
    assert_rows(pa.array(dense_rows(F.vec_dense(pa.array([[1.0, None]])))), [[1.0, NAN]])
    assert dense_rows(F.vec_dense(sparse(4, {1: 2.0}))) == [[0.0, 2.0, 0.0, 0.0]]
    assert F.vec_dense(sparse(4, {1: 2.0})).field("type").to_pylist() == [1]
    with pytest.raises(FunctionError, match="vector or an array of numbers"):
        F.vec_dense(pa.array([["a"]]))


def test_argmax_ties_sparse_implicit_zeros_nan_and_empty():
    assert F.vec_argmax(dense([3.0, 1.0, 3.0], [2.0, 2.0], [NAN, 5.0, NAN], [1.0, NAN])).to_pylist() == \
        [0, 0, 0, 1]
    assert F.vec_argmax(dense([])).to_pylist() == [-1]  # as Spark ML's Vector.argmax
    assert F.vec_argmax(arrays([], None)).to_pylist() == [-1, None]
    cases = [
        (4, {1: -1.0, 3: -2.0}, 0),   # all explicit entries negative: the first implicit zero wins
        (4, {0: -1.0, 1: -2.0}, 2),   # ... which may come after explicit entries
        (4, {0: -1.0, 2: -2.0}, 1),
        (4, {1: 0.0, 3: -2.0}, 0),    # implicit zero before an explicit zero
        (4, {0: 0.0, 2: -2.0}, 0),    # explicit zero before an implicit one
        (3, {2: 5.0}, 2),
        (3, {0: 5.0, 2: 5.0}, 0),     # tie between explicit entries
        (3, {}, 0),                   # all zeros
        (3, {0: -1.0, 1: -1.0, 2: -3.0}, 0),  # no implicit zeros at all
        (0, {}, -1),
    ]
    for size, entries, expected in cases:
        got = F.vec_argmax(sparse(size, entries)).to_pylist()
        assert got == [expected], (size, entries)
        full = np.zeros(size)
        full[list(entries)] = list(entries.values())
        if size:
            assert expected == int(np.argmax(full))


def test_argmax_accepts_unsorted_sparse_indices():
    unsorted = pa.array([{"type": 0, "size": 4, "indices": [3, 0], "values": [-1.0, -2.0]}], vectors.VECTOR_TYPE)
    assert F.vec_argmax(unsorted).to_pylist() == [1]
    assert F.vec_array(unsorted).to_pylist() == [[-2.0, 0.0, 0.0, -1.0]]
    repeated = pa.array([{"type": 0, "size": 4, "indices": [1, 1], "values": [1.0, 2.0]}], vectors.VECTOR_TYPE)
    with pytest.raises(FunctionError, match="repeated index"):
        F.vec_argmax(repeated)
    outside = pa.array([{"type": 0, "size": 2, "indices": [2], "values": [1.0]}], vectors.VECTOR_TYPE)
    with pytest.raises(FunctionError, match="size 2 with index 2"):
        F.vec_mean(outside)


def test_norms():
    column = dense([3.0, -4.0], [], [1.0, -1.0, 2.0], None)
    assert_rows(F.vec_norm(column, pa.array([1.0] * 4)), [7.0, 0.0, 4.0, None])
    assert_rows(F.vec_norm(column, pa.array([2.0] * 4)), [5.0, 0.0, math.sqrt(6.0), None])
    assert_rows(F.vec_norm(column, pa.array([INF] * 4)), [4.0, 0.0, 2.0, None])
    # p varies per row (and p may be an integer column); a null p gives a null norm.
    assert_rows(F.vec_norm(column, pa.array([1, 2, None, 2])), [7.0, 0.0, None, None])
    assert_rows(F.vec_norm(sparse(5, {1: 3.0, 4: -4.0}), pa.array([INF])), [4.0])
    for p in (0.5, 0.0, -1.0, NAN):
        with pytest.raises(FunctionError, match="p must be >= 1"):
            F.vec_norm(column, pa.array([p] * 4))


def test_mean_and_sample_stddev():
    assert F.vec_stddev(dense([3.0, 4.0, 5.0])).to_pylist() == [1.0]
    assert F.vec_stddev(dense([7.0], [], None)).to_pylist() == [None, None, None]  # undefined below 2 entries
    assert F.vec_mean(dense([], None, [2.0])).to_pylist() == [None, None, 2.0]
    assert_rows(F.vec_stddev(sparse(4, {1: 4.0})), [float(np.std([0, 4, 0, 0], ddof=1))])
    assert_rows(F.vec_mean(sparse(4, {1: 4.0}, {})), [1.0, 0.0])


def test_cosine_and_sqdist():
    a = dense([1.0, 2.0], [1.0, 0.0], [0.0, 0.0], None, [3.0, 4.0])
    b = sparse(2, {0: 1.0, 1: 1.0}, {1: 2.0}, {0: 1.0}, {0: 1.0}, None)
    assert_rows(F.vec_cosine(a, b), [3 / math.sqrt(10), 0.0, None, None, None])  # zero vector -> null
    assert_rows(F.vec_sqdist(a, b), [1.0, 5.0, 1.0, None, None])
    assert_rows(F.vec_sqdist(arrays([1, 2, 3]), dense([3, 2, 1])), [8.0])
    assert_rows(F.vec_cosine(arrays([1, 1]), arrays([2, 2])), [1.0])
    with pytest.raises(FunctionError, match=r"different sizes \(2 and 3\) in row 0"):
        F.vec_sqdist(arrays([1, 2]), arrays([1, 2, 3]))
    with pytest.raises(FunctionError, match="different sizes"):
        F.vec_cosine(sparse(3, {}), dense([1.0, 2.0]))


def test_random_vectors_against_numpy():
    rng = np.random.default_rng(7)
    rows, size = 200, 9
    left = rng.integers(-3, 4, (rows, size)).astype(float) * (rng.random((rows, size)) < 0.5)
    right = rng.normal(size=(rows, size)) * (rng.random((rows, size)) < 0.3)
    left[5] = 0.0
    right[6] = 0.0
    forms_left = [vectors.from_matrix(left), sparse(size, *[as_sparse_dict(r) for r in left]),
                  pa.array(left.tolist())]
    forms_right = [vectors.from_matrix(right), sparse(size, *[as_sparse_dict(r) for r in right])]
    picks = rng.integers(0, size, (rows, 4))
    for x in forms_left:
        assert F.vec_argmax(x).to_pylist() == np.argmax(left, axis=1).tolist()
        assert_rows(F.vec_stddev(x), np.std(left, axis=1, ddof=1).tolist())
        assert_rows(F.vec_norm(x, pa.array([3.0] * rows)), np.linalg.norm(left, ord=3, axis=1).tolist())
        assert dense_rows(F.vec_slice(x, pa.array(picks.tolist()))) == np.take_along_axis(left, picks, 1).tolist()
        for y in forms_right:
            assert_rows(F.vec_sqdist(x, y), ((left - right) ** 2).sum(axis=1).tolist())
            norms = np.linalg.norm(left, axis=1) * np.linalg.norm(right, axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                cosine = np.where(norms == 0, np.nan, (left * right).sum(axis=1) / norms)
            assert_rows(F.vec_cosine(x, y), [None if np.isnan(c) else float(c) for c in cosine])
            as_vectors = x if x.type == vectors.VECTOR_TYPE else F.vec_dense(x)
            parts = pa.array([[a, b] for a, b in zip(as_vectors.to_pylist(), y.to_pylist(), strict=True)],
                             pa.list_(vectors.VECTOR_TYPE))
            assert dense_rows(F.vec_concat(parts)) == np.hstack([left, right]).tolist()


def test_sliced_and_chunked_inputs():
    column = dense([9.0], [1.0, 3.0, 2.0], None, [5.0, 4.0])
    assert F.vec_argmax(column[1:]).to_pylist() == [1, None, 0]
    assert F.vec_argmax(pa.chunked_array([column[:2], column[2:]])).to_pylist() == [0, 1, None, 0]
    sp = sparse(3, {0: 1.0}, {2: 7.0}, None, {1: 2.0})
    assert dense_rows(F.vec_dense(sp[1:])) == [[0.0, 0.0, 7.0], None, [0.0, 2.0, 0.0]]
    assert F.array_slice(arrays([1, 2], [3, 4, 5])[1:], pa.array([1]), pa.array([-1])).to_pylist() == [[4.0, 5.0]]


def test_vec_slice():
    out = F.vec_slice(sparse(5, {1: 2.0, 4: 3.0}, {0: 1.0}, None, {}), pa.array([[4, 1, 1], [0], [0], None]))
    assert out.to_pylist()[0]["type"] == 1
    assert dense_rows(out) == [[3.0, 2.0, 2.0], [1.0], None, None]
    assert dense_rows(F.vec_slice(arrays([1, 2, 3]), pa.array([[]], pa.list_(pa.int32())))) == [[]]
    with pytest.raises(FunctionError, match="index 3 outside a vector of size 3"):
        F.vec_slice(arrays([1, 2, 3]), pa.array([[3]]))
    with pytest.raises(FunctionError, match="outside"):
        F.vec_slice(dense([1.0]), pa.array([[-1]]))
    with pytest.raises(FunctionError, match="null index"):
        F.vec_slice(dense([1.0]), pa.array([[None]], pa.list_(pa.int32())))


def test_vec_concat():
    d = {"type": 1, "size": None, "indices": None, "values": [1.0, 2.0]}
    s = {"type": 0, "size": 3, "indices": [1], "values": [5.0]}
    parts = pa.array([[d, s], [d, d], [d, None], None, [], [s]], pa.list_(vectors.VECTOR_TYPE))
    out = F.vec_concat(parts)
    assert out.to_pylist() == [
        {"type": 0, "size": 5, "indices": [0, 1, 3], "values": [1.0, 2.0, 5.0]},  # any sparse part: sparse
        {"type": 1, "size": None, "indices": None, "values": [1.0, 2.0, 1.0, 2.0]},
        None, None,  # a null part makes the row null
        {"type": 1, "size": None, "indices": None, "values": []},
        {"type": 0, "size": 3, "indices": [1], "values": [5.0]},
    ]
    # Arrays of number arrays are accepted as well.
    assert dense_rows(F.vec_concat(pa.array([[[1.0], [2.0, 3.0]]]))) == [[1.0, 2.0, 3.0]]


def test_vec_sparse():
    maps = pa.array([[(3, 1.0), (0, 2.0)], None, [(1, None)], [], [(0, 1.0)]], pa.map_(pa.int32(), pa.float64()))
    out = F.vec_sparse(pa.array([4, 4, 2, 3, None]), maps)
    assert out.to_pylist()[:2] == [{"type": 0, "size": 4, "indices": [0, 3], "values": [2.0, 1.0]}, None]
    assert out.to_pylist()[3:] == [{"type": 0, "size": 3, "indices": [], "values": []}, None]
    assert math.isnan(out.to_pylist()[2]["values"][0])
    assert dense_rows(F.vec_sparse(pa.array([4, 3]), maps[3:])) == [[0.0] * 4, [1.0, 0.0, 0.0]]  # sliced map
    with pytest.raises(FunctionError, match="index 3 outside a vector of size 3"):
        F.vec_sparse(pa.array([3]), pa.array([[(3, 1.0)]], pa.map_(pa.int32(), pa.float64())))
    with pytest.raises(FunctionError, match="negative size"):
        F.vec_sparse(pa.array([-1]), pa.array([[]], pa.map_(pa.int32(), pa.float64())))
    with pytest.raises(FunctionError, match="map<int,double>"):
        F.vec_sparse(pa.array([3]), pa.array([[1.0]]))


def test_onehot():
    out = F.onehot(pa.array([0, 2, None, 1]), pa.array([3, 3, 3, None]))
    assert out.to_pylist() == [{"type": 0, "size": 3, "indices": [0], "values": [1.0]},
                               {"type": 0, "size": 3, "indices": [2], "values": [1.0]}, None, None]
    assert dense_rows(F.onehot(pa.array([1.0]), pa.array([2]))) == [[0.0, 1.0]]  # integral doubles are fine
    # Decision: a label outside [0, n) is an error (OneHotEncoder's default handleInvalid=error), not null.
    with pytest.raises(FunctionError, match=r"label 3 outside \[0, 3\)"):
        F.onehot(pa.array([3]), pa.array([3]))
    with pytest.raises(FunctionError, match=r"label -1 outside"):
        F.onehot(pa.array([-1]), pa.array([3]))
    with pytest.raises(FunctionError, match="must be an integer"):
        F.onehot(pa.array([1.5]), pa.array([3]))


def test_array_slice():
    data = arrays([1, 2, 3, 4], None, [], [5])
    def run(lo, hi):
        return F.array_slice(data, pa.array([lo] * 4), pa.array([hi] * 4)).to_pylist()
    assert run(1, -1) == [[2.0, 3.0, 4.0], None, [], []]      # from inclusive, -1 = to the end
    assert run(0, 2) == [[1.0, 2.0], None, [], [5.0]]         # to exclusive
    assert run(2, 2) == [[], None, [], []]
    assert run(3, 1) == [[], None, [], []]                    # to before from: empty
    assert run(-5, 2) == [[1.0, 2.0], None, [], [5.0]]        # from clamped to 0 (Scala slice)
    assert run(1, 99) == [[2.0, 3.0, 4.0], None, [], []]      # to clamped to the end
    assert run(0, -2) == [[], None, [], []]                   # other negative to: empty
    assert F.array_slice(data, pa.array([None, 0, 0, 0], pa.int32()), pa.array([-1] * 4)).to_pylist() == \
        [None, None, [], [5.0]]
    assert F.array_slice(pa.array([[1, 2, 3]]), pa.array([1]), pa.array([3])).to_pylist() == [[2.0, 3.0]]


def test_array_index():
    tokens = pa.array([["a", "b", "b"], ["x", None], None, [], ["b"]])
    assert F.array_index(tokens, pa.array(["b", "b", "b", "b", None])).to_pylist() == [1, -1, None, -1, None]
    assert F.array_index(pa.array([[1, 2, 3]]), pa.array([3])).to_pylist() == [2]
    assert F.array_index(pa.array([["1", "2"]]), pa.array([2])).to_pylist() == [1]


def test_array_concat():
    nested = pa.array([[[1.0, 2.0], [3.0]], [[1.0], None], None, [], [[], [4.0]]])
    assert F.array_concat(nested).to_pylist() == [[1.0, 2.0, 3.0], None, None, [], [4.0]]
    assert F.array_concat(pa.array([[[1, 2], [3]]])).to_pylist() == [[1.0, 2.0, 3.0]]
    parts = pa.array([[{"type": 0, "size": 2, "indices": [1], "values": [5.0]},
                       {"type": 1, "size": None, "indices": None, "values": [7.0]}]], pa.list_(vectors.VECTOR_TYPE))
    assert F.array_concat(parts).to_pylist() == [[0.0, 5.0, 7.0]]


def test_array_string_to_double():
    out = F.array_string_to_double(pa.array([["1.5", " 2 ", None, "-3e1"], None, []]))
    assert out.type == pa.list_(pa.float64())
    assert out.to_pylist() == [[1.5, 2.0, None, -30.0], None, []]
    with pytest.raises(FunctionError, match="'x' is not a number"):
        F.array_string_to_double(pa.array([["1", "x"]]))


def test_ngram():
    tokens = pa.array([["a", "b", "c", "d"], ["a"], None, [], ["p", None, "q"]])
    def run(n):
        return F.ngram(tokens, pa.array([n] * 5)).to_pylist()
    assert run(1) == [["a", "b", "c", "d"], ["a"], None, [], ["p", None, "q"]]
    assert run(2) == [["a b", "b c", "c d"], [], None, [], [None, None]]  # a gram with a null token is null
    assert run(3) == [["a b c", "b c d"], [], None, [], [None]]
    assert run(5) == [[], [], None, [], []]
    assert F.ngram(tokens, pa.array([2, 1, 1, None, 3])).to_pylist() == [["a b", "b c", "c d"], ["a"], None, None,
                                                                          [None]]
    assert F.ngram(tokens[:1], pa.array([3])).type == pa.list_(pa.string())
    with pytest.raises(FunctionError, match="n must be >= 1"):
        run(0)


def test_table_return_types_match_outputs():
    samples = {
        "vec_dense": [arrays([1, 2])], "vec_sparse": [pa.array([3]), pa.array([[(1, 2.0)]], pa.map_(pa.int32(),
                                                                                                       pa.float64()))],
        "vec_array": [dense([1.0])], "vec_argmax": [dense([1.0])], "vec_norm": [dense([1.0]), pa.array([2.0])],
        "vec_cosine": [dense([1.0]), dense([1.0])], "vec_sqdist": [dense([1.0]), dense([1.0])],
        "vec_slice": [dense([1.0]), pa.array([[0]])], "vec_concat": [pa.array([[[1.0]]])],
        "vec_mean": [dense([1.0])], "vec_stddev": [dense([1.0, 2.0])], "onehot": [pa.array([0]), pa.array([2])],
        "array_slice": [arrays([1, 2]), pa.array([0]), pa.array([1])], "array_index": [pa.array([["a"]]),
                                                                                     pa.array(["a"])],
        "array_concat": [pa.array([[[1.0]]])], "array_string_to_double": [pa.array([["1"]])],
        "ngram": [pa.array([["a"]]), pa.array([1])],
    }
    assert set(samples) == set(F.FUNCTIONS)
    for name, spec in F.FUNCTIONS.items():
        assert spec.arity == len(samples[name]) and spec.doc and spec.example.startswith("select " + name), name
        out = spec.fn(*samples[name])
        assert isinstance(out, pa.Array) and len(out) == 1, name
        assert out.type == scoring.arrow_type_of(spec.return_type), name
        # The empty batch works too.
        empty = spec.fn(*[column[:0] for column in samples[name]])
        assert len(empty) == 0, name


def test_call_broadcasts_scalars_and_checks_arguments():
    column = dense([3.0, 4.0], [1.0, 0.0])
    assert F.call("vec_norm", column, 2).to_pylist() == [5.0, 1.0]
    assert F.call("vec_norm", column, pa.scalar(1.0)).to_pylist() == [7.0, 1.0]
    assert F.call("VEC_NORM", column, pa.array([INF])).to_pylist() == [4.0, 1.0]
    assert F.call("onehot", pa.array([0, 1]), 2).to_pylist()[1]["indices"] == [1]
    assert F.call("vec_argmax", pa.chunked_array([column])).to_pylist() == [1, 0]
    assert F.call("array_index", [["a", "b"]], "b").to_pylist() == [1]
    with pytest.raises(KeyError, match="unknown function"):
        F.call("vec_nope", column)
    with pytest.raises(FunctionError, match="takes 2 argument"):
        F.call("vec_norm", column)
    with pytest.raises(FunctionError, match="different lengths"):
        F.call("vec_sqdist", column, dense([1.0, 2.0], [1.0, 2.0], [1.0, 2.0]))


def test_vectorized_on_a_large_batch():
    rng = np.random.default_rng(1)
    matrix = rng.normal(size=(50_000, 16))
    column = vectors.from_matrix(matrix)
    assert F.vec_argmax(column).to_pylist() == np.argmax(matrix, axis=1).tolist()
    assert np.allclose(F.vec_stddev(column).to_numpy(), matrix.std(axis=1, ddof=1))
    assert np.allclose(F.vec_cosine(column, column).to_numpy(), 1.0)


def test_module_does_not_import_pyspark():
    code = ("import sys; import gateway.ml.functions as f; f.call('vec_argmax', [[1.0, 2.0]]); "
            "assert 'pyspark' not in sys.modules, 'pyspark imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=os.path.dirname(os.path.dirname(__file__)))


def test_udf_module_uses_vec_argmax_as_an_arrow_function():
    probabilities = vectors.from_matrix(np.array([[0.2, 0.8], [0.6, 0.4]]))
    assert F.vec_argmax(probabilities).to_pylist() == [1, 0]


# ---------------------------------------------------------------------------------------------------
# Spark: the registered functions in SQL agree with the pure calls and with references


@pytest.fixture(scope="module")
def spark():
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    from pyspark.sql import SparkSession

    owned = SparkSession.getActiveSession() is None
    # Tiny data: the client JIT only, no whole-stage codegen and no AQE keep the few queries cheap.
    session = (SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
               .config("spark.sql.codegen.wholeStage", "false").config("spark.sql.adaptive.enabled", "false")
               .config("spark.sql.shuffle.partitions", "1").getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # arrow_udf prefers type hints to a functionType
        names = F.register_all(session)
    assert names == list(F.FUNCTIONS)
    yield session
    if owned:
        session.stop()


TABLE = [
    # id, d (dense vector), s (sparse vector, size 3), a (array<double>), p, idx, label, n, tokens, word, strs, m
    (0, [1.0, 3.0, 2.0], {0: -1.0, 2: 4.0}, [1.0, 3.0, 3.0], 2.0, [2, 0], 1, 3, ["a", "b", "c"], "b",
     ["1.5", " 2"], {2: 5.0, 0: 1.0}),
    (1, [0.0, -1.0, 0.0], {}, [-2.0, -5.0, -2.0, 7.0], 1.0, [1], 0, 2, ["x", "y", "z", "w"], "q",
     ["-3e1"], {}),
    (2, [4.0, 4.0, -4.0], {1: -2.0}, [], INF, [], 2, 4, ["solo"], "solo", [], {1: 1.0}),
    (3, None, None, None, None, None, None, None, None, None, None, None),
]


def _vector_arrow(rows, kind):
    if kind == "dense":
        return dense(*rows)
    return sparse(3, *rows)


def _normalize(value):
    """Spark results and pure Arrow results in one shape: vectors as ('sparse'|'dense', dense list)."""
    from pyspark.ml.linalg import DenseVector, SparseVector

    if isinstance(value, SparseVector):
        return ("sparse", value.toArray().tolist())
    if isinstance(value, DenseVector):
        return ("dense", value.toArray().tolist())
    if isinstance(value, dict) and "values" in value:
        return ("sparse" if value["type"] == 0 else "dense", vectors.to_python(value))
    return value


def _same(a, b):
    if isinstance(a, tuple) or isinstance(b, tuple):
        return isinstance(a, tuple) and isinstance(b, tuple) and a[0] == b[0] and close(a[1], b[1])
    return close(a, b)


def test_spark_sql_matches_pure_calls_and_references(spark):
    from pyspark.ml.linalg import DenseVector, SparseVector, VectorUDT
    from pyspark.sql import types as T

    schema = T.StructType([
        T.StructField("id", T.IntegerType()), T.StructField("d", VectorUDT()), T.StructField("s", VectorUDT()),
        T.StructField("a", T.ArrayType(T.DoubleType())), T.StructField("p", T.DoubleType()),
        T.StructField("idx", T.ArrayType(T.IntegerType())), T.StructField("label", T.IntegerType()),
        T.StructField("n", T.IntegerType()), T.StructField("tokens", T.ArrayType(T.StringType())),
        T.StructField("word", T.StringType()), T.StructField("strs", T.ArrayType(T.StringType())),
        T.StructField("m", T.MapType(T.IntegerType(), T.DoubleType())),
    ])
    rows = [(i, None if d is None else DenseVector(d), None if s is None else SparseVector(3, s), *rest)
            for i, d, s, *rest in TABLE]
    spark.createDataFrame(rows, schema).createOrReplaceTempView("fn_t")

    # Pure inputs: the same columns as Arrow arrays.
    col = {name: [row[i] for row in TABLE] for i, name in enumerate(
        ["id", "d", "s", "a", "p", "idx", "label", "n", "tokens", "word", "strs", "m"])}
    arrow = {
        "d": dense(*col["d"]), "s": sparse(3, *col["s"]), "a": arrays(*col["a"]), "p": pa.array(col["p"]),
        "idx": pa.array(col["idx"], pa.list_(pa.int32())), "label": pa.array(col["label"], pa.int32()),
        "n": pa.array(col["n"], pa.int32()), "tokens": pa.array(col["tokens"]), "word": pa.array(col["word"]),
        "strs": pa.array(col["strs"], pa.list_(pa.string())),
        "m": pa.array([None if m is None else list(m.items()) for m in col["m"]], pa.map_(pa.int32(), pa.float64())),
    }
    size = len(TABLE)

    def lit(value, kind):
        return pa.array([value] * size, kind)

    def ref_rows(fn, *names):
        """fn applied per row to numpy inputs; vectors as dense numpy arrays; None if any input is None."""
        out = []
        for r in range(size):
            args = []
            for name in names:
                value = col[name][r]
                if name == "s" and value is not None:
                    full = np.zeros(3)
                    full[list(value)] = list(value.values())
                    value = full
                elif name in ("d", "a") and value is not None:
                    value = np.array(value, float)
                args.append(value)
            out.append(None if any(v is None for v in args) else fn(*args))
        return out

    def spark_vec(v):
        return DenseVector(v) if len(v) else DenseVector([])

    checks = [
        # (sql expression, pure result, reference rows)
        ("vec_dense(a)", F.vec_dense(arrow["a"]), ref_rows(lambda a: ("dense", a.tolist()), "a")),
        ("vec_array(s)", F.vec_array(arrow["s"]), ref_rows(lambda s: s.tolist(), "s")),
        ("vec_argmax(d)", F.vec_argmax(arrow["d"]), ref_rows(lambda d: int(np.argmax(d)), "d")),
        ("vec_argmax(s)", F.vec_argmax(arrow["s"]), ref_rows(lambda s: int(np.argmax(s)), "s")),
        ("vec_argmax(a)", F.vec_argmax(arrow["a"]), ref_rows(lambda a: int(np.argmax(a)) if len(a) else -1, "a")),
        ("vec_norm(d, p)", F.vec_norm(arrow["d"], arrow["p"]),
         ref_rows(lambda d, p: float(DenseVector(d).norm(p)), "d", "p")),
        ("vec_norm(s, 1.0)", F.vec_norm(arrow["s"], lit(1.0, pa.float64())),
         [None if s is None else float(SparseVector(3, s).norm(1)) for s in col["s"]]),
        ("vec_norm(a, cast('Infinity' as double))", F.vec_norm(arrow["a"], lit(INF, pa.float64())),
         ref_rows(lambda a: float(np.linalg.norm(a, ord=np.inf)) if len(a) else 0.0, "a")),
        ("vec_cosine(d, s)", F.vec_cosine(arrow["d"], arrow["s"]),
         ref_rows(lambda d, s: float(d.dot(s) / (np.linalg.norm(d) * np.linalg.norm(s)))
                  if np.linalg.norm(s) else None, "d", "s")),
        ("vec_sqdist(d, s)", F.vec_sqdist(arrow["d"], arrow["s"]),
         ref_rows(lambda d, s: float(spark_vec(d).squared_distance(spark_vec(s))), "d", "s")),
        ("vec_slice(s, idx)", F.vec_slice(arrow["s"], arrow["idx"]),
         ref_rows(lambda s, idx: ("dense", s[np.array(idx, int)].tolist()), "s", "idx")),
        ("vec_concat(array(d, s))", F.vec_concat(pa.array(
            [None if d is None else [a, b] for d, a, b in zip(col["d"], arrow["d"].to_pylist(),
                                                          arrow["s"].to_pylist(), strict=True)],
            pa.list_(vectors.VECTOR_TYPE))),
         ref_rows(lambda d, s: ("sparse", np.concatenate([d, s]).tolist()), "d", "s")),
        ("vec_mean(s)", F.vec_mean(arrow["s"]), ref_rows(lambda s: float(s.mean()), "s")),
        ("vec_stddev(d)", F.vec_stddev(arrow["d"]), ref_rows(lambda d: float(np.std(d, ddof=1)), "d")),
        ("onehot(label, n)", F.onehot(arrow["label"], arrow["n"]),
         ref_rows(lambda label, n: ("sparse", np.eye(n)[label].tolist()), "label", "n")),
        ("vec_sparse(n, m)", F.vec_sparse(arrow["n"], arrow["m"]),
         ref_rows(lambda n, m: ("sparse", SparseVector(n, m).toArray().tolist()), "n", "m")),
        ("array_slice(a, 1, -1)", F.array_slice(arrow["a"], lit(1, pa.int32()), lit(-1, pa.int32())),
         ref_rows(lambda a: a[1:].tolist(), "a")),
        ("array_slice(a, 0, 2)", F.array_slice(arrow["a"], lit(0, pa.int32()), lit(2, pa.int32())),
         ref_rows(lambda a: a[0:2].tolist(), "a")),
        ("array_index(tokens, word)", F.array_index(arrow["tokens"], arrow["word"]),
         ref_rows(lambda t, w: t.index(w) if w in t else -1, "tokens", "word")),
        ("array_concat(array(a, vec_array(d)))", F.array_concat(pa.array(
            [None if a is None else [a, d] for a, d in zip(col["a"], col["d"], strict=True)])),
         ref_rows(lambda a, d: np.concatenate([a, d]).tolist(), "a", "d")),
        ("array_string_to_double(strs)", F.array_string_to_double(arrow["strs"]),
         ref_rows(lambda xs: [float(x) for x in xs], "strs")),
        ("ngram(tokens, 2)", F.ngram(arrow["tokens"], lit(2, pa.int32())),
         ref_rows(lambda t: [" ".join(t[i:i + 2]) for i in range(len(t) - 1)], "tokens")),
    ]
    # Literal arguments (broadcast by Spark) ride along in the same query: one Spark job for everything.
    literals = [
        ("vec_argmax(vec_dense(array(1.0, 3.0, 2.0)))", 1),
        ("vec_stddev(vec_dense(array(3, 4, 5)))", 1.0),
        ("onehot(2, 5)", SparseVector(5, {2: 1.0})),
        ("vec_norm(vec_dense(array(3.0, 4.0)), 2)", 5.0),
        ("vec_array(vec_sparse(3, map(1, 2.0)))", [0.0, 2.0, 0.0]),
        ("vec_cosine(array(1.0, 0.0), array(0.0, 0.0))", None),
        ("vec_argmax(cast(null as array<double>))", None),
        ("array_slice(array(1, 2, 3, 4), 1, 3)", [2.0, 3.0]),
        ("ngram(array('a', 'b', 'c'), 3)", ["a b c"]),
    ]
    columns = [f"{expr} as c{i}" for i, (expr, _, _) in enumerate(checks)]
    columns += [f"{expr} as l{i}" for i, (expr, _) in enumerate(literals)]
    result = sorted(spark.sql(f"select id, {', '.join(columns)} from fn_t").collect(), key=lambda row: row["id"])
    assert [row["id"] for row in result] == list(range(size))
    for i, (expr, pure, reference) in enumerate(checks):
        got = [_normalize(row[f"c{i}"]) for row in result]
        mine = [_normalize(v) for v in pure.to_pylist()]
        for r in range(size):
            assert _same(got[r], mine[r]), f"{expr} row {r}: spark {got[r]!r} vs pure {mine[r]!r}"
            assert _same(got[r], reference[r]), f"{expr} row {r}: spark {got[r]!r} vs reference {reference[r]!r}"
    for i, (expr, expected) in enumerate(literals):
        for row in result:
            assert row[f"l{i}"] == expected, f"{expr}: {row[f'l{i}']!r}"
        assert type(result[0][f"l{i}"]) is type(expected), expr


def test_spark_vectors_are_mllib_vectors(spark):
    """vec_dense / vec_sparse output is a real VectorUDT column: MLlib's vector_to_array and a
    Normalizer (which checks its input column is a vector) accept it."""
    from pyspark.ml.feature import Normalizer
    from pyspark.ml.functions import vector_to_array
    from pyspark.ml.linalg import DenseVector, SparseVector

    df = spark.sql("select vec_dense(array(x, x * x, -x)) as features, vec_sparse(3, map(1, x)) as sp "
                   "from values (1.0D), (2.0D), (3.0D) as v(x)")
    normalized = Normalizer(p=1.0, inputCol="features", outputCol="unit").transform(df)
    rows = normalized.select("features", "sp", vector_to_array("features").alias("arr"),
                             vector_to_array("sp").alias("sparr"), "unit").collect()
    for row in rows:
        assert isinstance(row["features"], DenseVector) and isinstance(row["sp"], SparseVector)
        assert row["arr"] == row["features"].toArray().tolist()
        assert row["sparr"] == row["sp"].toArray().tolist()
        assert row["unit"].norm(1) == pytest.approx(1.0)
    assert [row["arr"] for row in rows] == [[1.0, 1.0, -1.0], [2.0, 4.0, -2.0], [3.0, 9.0, -3.0]]


def test_spark_errors_name_the_function(spark):
    with pytest.raises(Exception, match=r"onehot: label 3 outside \[0, 3\)"):
        spark.sql("select onehot(3, 3)").collect()
