"""Unsupervised, recommendation, pattern and feature MLlib algorithms: every numpy scorer function equals MLlib's
transform row for row (in-process Spark), and the MLSQL statements (train / register / predict / modelParams)
work end to end through the gateway with PyHive, including composed functions like km(scale(vec_dense(...)))."""

from __future__ import annotations

import math
import os
import sys

import numpy as np
import pyarrow as pa
import pytest

from gateway.ml import runtime, scoring, vectors
from gateway.ml.algorithm import ModelGroup, TrainError, TrainJob
from gateway.ml.scoring import ScorerError

RTOL = 1e-9
ATOL = 1e-12


# -- in-process Spark parity -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def spark():
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[1]").appName("test_ml_mllib_unsupervised")
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", "1").config("spark.default.parallelism", "1")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _train(spark, tmp_path, name: str, df, params: dict[str, str], tag: str = ""):
    alg = runtime.algorithm(name)
    out = tmp_path / f"{name}{tag}"
    out.mkdir()
    info = alg.train(TrainJob(spark, df, params, 0, out))
    return alg, ModelGroup(out, 0, alg.name, params, info, {})


def _columns(df, *names: str) -> list[pa.Array]:
    table = df.orderBy("id").toArrow()
    return [table.column(n).combine_chunks() for n in names]


def _predicted(spark, alg, group, df, column: str) -> pa.Array:
    """predict's output column (MLlib's own transform), ordered by id."""
    return alg.batch_predict(spark, df, group).orderBy("id").toArrow().column(column).combine_chunks()


def _call(group, suffix: str, *columns: pa.Array) -> pa.Array:
    return scoring.load(group.directory).call(suffix, *columns)


_ARG_TYPES = {"vector": vectors.VECTOR_TYPE, "int": pa.int32(), "double": pa.float64(), "string": pa.string(),
              "array<string>": pa.list_(pa.string()), "array<double>": pa.list_(pa.float64()),
              "array<int>": pa.list_(pa.int32())}


def check_batches(group) -> None:
    """Every function of the model takes an empty batch and an all-null batch (one result per row)."""
    scorer = scoring.load(group.directory)
    for spec in scorer.functions:
        for rows, make in ((0, lambda t: pa.array([], t)), (2, lambda t: pa.nulls(2, t))):
            out = scorer.call(spec.suffix, *[make(_ARG_TYPES[a]) for a in spec.args])
            assert len(out) == rows and out.type == scoring.arrow_type_of(spec.return_type), spec


def assert_vectors(got: pa.Array, expected: pa.Array, layout: bool = True, rtol: float = RTOL,
                   atol: float = ATOL) -> None:
    """Row by row: both null or both vectors with equal values (and, with ``layout``, the same dense/sparse
    form, size and indices)."""
    got_rows, exp_rows = got.to_pylist(), expected.to_pylist()
    assert len(got_rows) == len(exp_rows)
    for i, (g, e) in enumerate(zip(got_rows, exp_rows, strict=True)):
        assert (g is None) == (e is None), f"row {i}: {g} vs {e}"
        if g is None:
            continue
        if layout:
            assert g["type"] == e["type"], f"row {i}: layout {g} vs {e}"
            if e["type"] == 0:
                assert (g["size"], g["indices"]) == (e["size"], e["indices"]), f"row {i}: {g} vs {e}"
        np.testing.assert_allclose(vectors.to_python(g), vectors.to_python(e), rtol=rtol, atol=atol,
                                   err_msg=f"row {i}")


def _points(spark, n: int = 150):
    """3-d points in three blobs, every 7th row a sparse vector."""
    from pyspark.ml.linalg import Vectors

    rng = np.random.default_rng(0)
    rows = []
    for i in range(n):
        v = rng.normal(size=3) * [1.0, 2.0, 0.2] + (i % 3) * 8.0
        rows.append((i, Vectors.sparse(3, {0: float(v[0]), 2: float(v[2])}) if i % 7 == 0 else
                     Vectors.dense(v.tolist())))
    return spark.createDataFrame(rows, ["id", "features"])


@pytest.mark.parametrize("measure", ["euclidean", "cosine"])
def test_kmeans_is_real_kmeans_and_scorer_matches(spark, tmp_path, measure):
    df = _points(spark)
    alg, group = _train(spark, tmp_path, "KMeans", df, {"k": "3", "seed": "5", "distanceMeasure": measure})
    native = alg.load_native(group)
    assert type(native).__name__ == "KMeansModel" and group.info["k"] == 3
    got = _call(group, "", *_columns(df, "features"))
    expected = _predicted(spark, alg, group, df, "prediction")
    assert got.type == pa.int32() and got.to_pylist() == expected.to_pylist()
    if measure == "euclidean":   # Lloyd's k-means converged: each center is the mean of its points
        x = vectors.to_matrix(_columns(df, "features")[0])
        labels = np.array(got.to_pylist())
        centers = np.array([np.asarray(c) for c in native.clusterCenters()])
        for c in range(3):
            np.testing.assert_allclose(centers[c], x[labels == c].mean(axis=0), rtol=1e-6)
    # A null vector gives null; a vector of the wrong size is a clear error.
    assert _call(group, "", pa.array([None], vectors.VECTOR_TYPE)).to_pylist() == [None]
    with pytest.raises(ScorerError, match="size"):
        _call(group, "", vectors.from_matrix(np.ones((1, 2))))
    check_batches(group)


def test_bisecting_kmeans_follows_the_tree(spark, tmp_path):
    df = _points(spark)
    alg, group = _train(spark, tmp_path, "BisectingKMeans", df, {"k": "5", "seed": "3"})
    assert type(alg.load_native(group)).__name__ == "BisectingKMeansModel"
    features = _columns(df, "features")[0]
    got = _call(group, "", features)
    assert got.to_pylist() == _predicted(spark, alg, group, df, "prediction").to_pylist()
    assert len(set(got.to_pylist())) == 5
    # MLlib descends the tree: on this data some points are not assigned to their nearest leaf center.
    x = vectors.to_matrix(features)
    centers = np.array([np.asarray(c) for c in alg.load_native(group).clusterCenters()])
    nearest = np.argmin(((x[:, None, :] - centers[None]) ** 2).sum(axis=2), axis=1)
    assert (nearest != np.array(got.to_pylist())).sum() > 0
    check_batches(group)


def _documents(spark):
    from pyspark.ml.linalg import Vectors

    rng = np.random.default_rng(4)
    rows = [(i, Vectors.dense(rng.poisson(1.2, 10).astype(float).tolist()) if i % 5 else
             Vectors.sparse(10, {1: 2.0, 7: 1.0})) for i in range(40)]
    rows.append((40, Vectors.sparse(10, {})))   # an empty document: MLlib gives zeros
    return spark.createDataFrame(rows, ["id", "features"])


def test_lda_functions_match_mllib(spark, tmp_path):
    df = _documents(spark)
    alg, group = _train(spark, tmp_path, "LDA", df, {"k": "3", "maxIter": "10", "seed": "1"})
    native = alg.load_native(group)
    # fn_doc == predict's topicDistribution (the same variational inference, same seeded start).
    got = _call(group, "_doc", *_columns(df, "features"))
    assert_vectors(got, _predicted(spark, alg, group, df, "topicDistribution"))
    assert got.to_pylist()[-1]["values"] == [0.0, 0.0, 0.0]
    # fn(word) == the word's row of topicsMatrix; out of range and null give null.
    topics = native.topicsMatrix().toArray()
    words = _call(group, "", pa.array([0, 3, 9, 10, -1, None], pa.int32()))
    assert [vectors.to_python(v) for v in words.to_pylist()[:3]] == [topics[w].tolist() for w in (0, 3, 9)]
    assert words.to_pylist()[3:] == [None, None, None]
    # fn_topic(topic, n) == describeTopics(n).termIndices (n above the vocabulary size: every term).
    for n in (3, 25):
        described = {r.topic: list(r.termIndices) for r in native.describeTopics(n).collect()}
        got_topics = _call(group, "_topic", pa.array([0, 1, 2], pa.int64()), pa.array([n, n, n], pa.int64()))
        assert got_topics.to_pylist() == [described[0], described[1], described[2]]
    assert _call(group, "_topic", pa.array([5, None]), pa.array([2, 2])).to_pylist() == [None, None]
    check_batches(group)


def test_lda_em_model(spark, tmp_path):
    df = _documents(spark)
    alg, group = _train(spark, tmp_path, "LDA", df, {"k": "3", "maxIter": "5", "optimizer": "em", "seed": "1"})
    native = alg.load_native(group)
    assert type(native).__name__ == "DistributedLDAModel"
    topics = native.topicsMatrix().toArray()
    words = _call(group, "", pa.array(list(range(10))))
    np.testing.assert_array_equal(vectors.to_matrix(words), topics)
    # Spark draws a new starting point each time it loads an EM model, so only ~1e-3 agreement is possible.
    got = vectors.to_matrix(_call(group, "_doc", *_columns(df, "features")))
    expected = vectors.to_matrix(_predicted(spark, alg, group, df, "topicDistribution"))
    np.testing.assert_allclose(got, expected, atol=2e-3)


def test_als_rating_matches_mllib(spark, tmp_path):
    rng = np.random.default_rng(2)
    rows = [(i, int(u), int(it), float(rng.integers(1, 6))) for i, (u, it) in
            enumerate((u, it) for u in range(25) for it in range(20) if rng.random() < 0.4)]
    df = spark.createDataFrame(rows, "id int, user int, item int, rating float")
    alg, group = _train(spark, tmp_path, "ALS", df, {"rank": "5", "maxIter": "5", "seed": "3", "regParam": "0.05"})
    assert group.info["inputCols"] == ["user", "item"]
    # Every (user, item) pair, plus unknown ids (NaN as coldStartStrategy="nan"), as long and double ids.
    pairs = [(u, it) for u in [*range(25), 99] for it in [*range(20), 77]]
    test = spark.createDataFrame([(i, u, float(it)) for i, (u, it) in enumerate(pairs)], "id int, user long, item double")
    got = _call(group, "", *_columns(test, "user", "item")).to_numpy(zero_copy_only=False)
    expected = _predicted(spark, alg, group, test, "prediction").cast(pa.float64()).to_numpy(zero_copy_only=False)
    assert np.array_equal(got, expected, equal_nan=True)   # the same float32 sum: bit for bit
    assert np.isnan(got[[i for i, p in enumerate(pairs) if 99 in p or 77 in p]]).all()
    assert not np.isnan(got[0])
    nulls = _call(group, "", pa.array([None, 1], pa.int32()), pa.array([1, None], pa.int32()))
    assert nulls.to_pylist() == [None, None]
    with pytest.raises(ScorerError, match="whole number"):
        _call(group, "", pa.array([1.5]), pa.array([1]))
    check_batches(group)
    # ALSInPlace is the same algorithm.
    assert runtime.algorithm("ALSInPlace").name == "ALS"


def test_fpgrowth_consequents_match_mllib_in_order(spark, tmp_path):
    rng = np.random.default_rng(6)
    catalog = list("abcdefgh")
    baskets = [sorted(set(rng.choice(catalog, size=int(rng.integers(1, 6)), p=[.25, .2, .15, .12, .1, .08, .06, .04])))
               for _ in range(120)]
    df = spark.createDataFrame([(i, b) for i, b in enumerate(baskets)], "id int, items array<string>")
    alg, group = _train(spark, tmp_path, "FPGrowth", df, {"minSupport": "0.08", "minConfidence": "0.3"})
    assert group.info["rules"] > 10
    queries = [*baskets[:40], ["a"], ["b", "zzz"], [], None, ["h", "g", "a", "b"], ["a", "a"]]
    test = spark.createDataFrame([(i, q) for i, q in enumerate(queries)], "id int, items array<string>")
    got = _call(group, "", *_columns(test, "items"))
    expected = _predicted(spark, alg, group, test, "prediction")
    assert got.to_pylist() == expected.to_pylist()      # same elements, same order
    assert any(len(p) > 1 for p in got.to_pylist())
    assert got.to_pylist()[queries.index(None)] == []   # MLlib: null items -> empty prediction
    check_batches(group)
    # Integer items keep their type.
    ints = spark.createDataFrame([(i, [ord(c) for c in b]) for i, b in enumerate(baskets)], "id int, items array<int>")
    alg, group = _train(spark, tmp_path, "FPGrowth", ints, {"minSupport": "0.1", "minConfidence": "0.3"}, "_int")
    got = _call(group, "", *_columns(ints, "items"))
    assert scoring.load(group.directory).function("").return_type == "array<int>"
    assert got.to_pylist() == _predicted(spark, alg, group, ints, "prediction").to_pylist()


SENTENCES = ["spark is a fast engine", "python is easy", "spark and python work together", "fast fast spark",
             "an engine for data", "data is big", "python for data"]


def test_word2vec_matches_mllib(spark, tmp_path):
    rows = [(i, SENTENCES[i % len(SENTENCES)].split()) for i in range(35)]
    df = spark.createDataFrame(rows, "id int, words array<string>")
    params = {"inputCol": "words", "vectorSize": "6", "minCount": "2", "seed": "7", "maxIter": "2"}
    alg, group = _train(spark, tmp_path, "Word2vec", df, params)
    queries = [*[r[1] for r in rows[:7]], ["unknown", "spark"], [], ["nothing", "known"], ["spark", None]]
    test = spark.createDataFrame([(i, q) for i, q in enumerate(queries)], "id int, words array<string>")
    got = _call(group, "_array", *_columns(test, "words"))
    assert_vectors(got, _predicted(spark, alg, group, test, "prediction"))
    assert got.to_pylist()[queries.index([])] == {"type": 0, "size": 6, "indices": [], "values": []}
    native = alg.load_native(group)
    table = native.getVectors().toArrow()
    words = table.column("word").to_pylist()
    assert_vectors(_call(group, "", pa.array(words)), table.column("vector").combine_chunks())
    assert _call(group, "", pa.array(["unknown", None], pa.string())).to_pylist() == [None, None]
    check_batches(group)


def test_string_index_functions(spark, tmp_path):
    colors = ["red"] * 5 + ["green"] * 3 + ["blue"] * 3 + ["white"]   # blue/green tie: alphabetical
    df = spark.createDataFrame([(i, c) for i, c in enumerate(colors)], "id int, color string")
    alg, group = _train(spark, tmp_path, "StringIndex", df, {"inputCol": "color", "handleInvalid": "keep"})
    assert group.info["labelValues"] == ["red", "blue", "green", "white"]
    test = spark.createDataFrame([(i, c) for i, c in enumerate([*colors, "purple", None])], "id int, color string")
    got = _call(group, "", *_columns(test, "color"))
    expected = _predicted(spark, alg, group, test, "prediction")
    assert got.to_pylist() == [int(v) for v in expected.to_pylist()]
    assert got.to_pylist()[-2:] == [4, 4]                     # keep: unseen and null -> numLabels
    assert _call(group, "_array", pa.array([["white", "red", "nope"], None])).to_pylist() == [[3, 0, 4], None]
    assert _call(group, "_r", pa.array([0.0, 3.0, 4.0, None])).to_pylist() == ["red", "white", None, None]
    assert _call(group, "_rarray", pa.array([[2.0, 1.0]])).to_pylist() == [["green", "blue"]]
    check_batches(group)
    # handleInvalid="error" fails on an unseen label, like MLlib; "skip" gives null where predict drops the row.
    _, strict = _train(spark, tmp_path, "StringIndex", df, {"inputCol": "color"}, "_error")
    with pytest.raises(ScorerError, match="Unseen label: purple"):
        _call(strict, "", pa.array(["red", "purple"]))
    skip_alg, skip = _train(spark, tmp_path, "StringIndex", df, {"inputCol": "color", "handleInvalid": "skip"}, "_s")
    assert _call(skip, "", pa.array(["blue", "purple"])).to_pylist() == [1, None]
    assert _predicted(spark, skip_alg, skip, test, "prediction").to_pylist() == [float(v) for v in got.to_pylist()[:-2]]


def test_tfidf_matches_the_spark_pipeline(spark, tmp_path):
    rows = [(i, (SENTENCES[i % len(SENTENCES)] + " every").split()) for i in range(21)]
    df = spark.createDataFrame(rows, "id int, words array<string>")
    alg, group = _train(spark, tmp_path, "TfIdf", df, {"inputCol": "words", "minDF": "2", "minDocFreq": "1"})
    queries = [*[r[1] for r in rows[:7]], ["spark", "spark", "unknown"], [], ["every"]]
    test = spark.createDataFrame([(i, q) for i, q in enumerate(queries)], "id int, words array<string>")
    predicted = alg.batch_predict(spark, test, group)
    assert predicted.columns == ["id", "words", "prediction"]       # the pipeline's tf column is dropped
    got = _call(group, "", *_columns(test, "words"))
    assert_vectors(got, _predicted(spark, alg, group, test, "prediction"))
    every = got.to_pylist()[-1]
    assert every["type"] == 0 and every["values"] == [0.0]            # a term in every document: idf 0, kept
    check_batches(group)
    # minTF as a fraction and binary counts.
    alg, group = _train(spark, tmp_path, "TfIdf", df, {"inputCol": "words", "minTF": "0.3", "binary": "true"}, "_b")
    assert_vectors(_call(group, "", *_columns(test, "words")), _predicted(spark, alg, group, test, "prediction"))


@pytest.mark.parametrize("with_mean,with_std", [("false", "true"), ("true", "true"), ("true", "false"),
                                                ("false", "false")])
def test_standard_scaler_matches_mllib(spark, tmp_path, with_mean, with_std):
    from pyspark.ml.linalg import Vectors

    rng = np.random.default_rng(9)
    rows = []
    for i in range(60):
        v = [float(rng.normal(3, 2)), 5.0, float(rng.exponential(4))]      # the middle column has std 0
        rows.append((i, Vectors.sparse(3, {0: v[0], 2: v[2]}) if i % 4 == 0 else Vectors.dense(v)))
    df = spark.createDataFrame(rows, ["id", "features"])
    alg, group = _train(spark, tmp_path, "StandardScaler", df, {"withMean": with_mean, "withStd": with_std})
    assert group.info["inputCols"] == ["features"]
    assert_vectors(_call(group, "", *_columns(df, "features")), _predicted(spark, alg, group, df, "prediction"))
    check_batches(group)


def test_discretizer_quantiles_and_splits(spark, tmp_path):
    values = [float(v) for v in np.random.default_rng(3).normal(10, 5, 80)] + [math.nan, None]
    df = spark.createDataFrame(list(enumerate(values)), "id int, x double")
    alg, group = _train(spark, tmp_path, "Discretizer", df, {"inputCol": "x", "numBuckets": "4",
                                                             "handleInvalid": "keep"})
    assert group.info["numBuckets"] == 4
    got = _call(group, "", *_columns(df, "x"))
    assert got.to_pylist() == _predicted(spark, alg, group, df, "prediction").to_pylist()
    assert got.to_pylist()[-2:] == [4.0, None]                  # keep: NaN -> the extra bucket; null -> null
    edges = [-math.inf, -1e300, -0.0, 0.0, 5e-324, 9.999, 10.0, 19.0, 20.0, math.inf]
    test = spark.createDataFrame(list(enumerate(edges)), "id int, x double")
    alg, group = _train(spark, tmp_path, "Discretizer", df, {"inputCol": "x", "splits": "-inf,0,10,20,inf"}, "_s")
    assert type(alg.load_native(group)).__name__ == "Bucketizer"
    got = _call(group, "", *_columns(test, "x"))
    assert got.to_pylist() == _predicted(spark, alg, group, test, "prediction").to_pylist()
    assert got.to_pylist()[:5] == [0.0, 0.0, 0.0, 1.0, 1.0]      # -0.0 sorts below 0.0, as in Java
    check_batches(group)
    with pytest.raises(ScorerError, match="NaN"):
        _call(group, "", pa.array([1.0, math.nan]))
    _, bounded = _train(spark, tmp_path, "Discretizer", df, {"inputCol": "x", "splits": "[0, 10, 20]"}, "_b")
    with pytest.raises(ScorerError, match="out of Bucketizer bounds"):
        _call(bounded, "", pa.array([25.0]))


def test_bad_options_fail_clearly(spark, tmp_path):
    df = spark.createDataFrame([(1, "a", [1.0, 2.0])], "id int, s string, arr array<double>")
    cases = [("KMeans", {"k": "2", "bogus": "1"}, "unknown parameter 'bogus'"),
             ("KMeans", {"featuresCol": "s"}, "column s has type string; it must be a vector"),
             ("StandardScaler", {"inputCol": "arr"}, "column arr has type array<double>; it must be a vector"),
             ("Word2vec", {"inputCol": "arr"}, "it must be an array of strings"),
             ("StringIndex", {}, "needs inputCol"),
             ("TfIdf", {"inputCol": "s", "nope": "1"}, "unknown parameter 'nope'"),
             ("TfIdf", {"inputCol": "s"}, "column s has type string"),
             ("Discretizer", {"inputCol": "s", "numBuckets": "2"}, "column s has type string; it must be numeric"),
             ("Discretizer", {"inputCol": "id", "splits": "a,b"}, "comma-separated numbers"),
             ("ALS", {"userCol": "missing"}, "missing"),
             ("FPGrowth", {"itemsCol": "s"}, "it must be an array")]
    for i, (name, params, message) in enumerate(cases):
        with pytest.raises(TrainError, match=message):
            _train(spark, tmp_path, name, df, params, f"_{i}")


def test_registry_documents_every_algorithm():
    from gateway.ml import catalog  # noqa: F401

    expected = {"KMeans": "int", "BisectingKMeans": "int", "LDA": "vector", "ALS": "double", "FPGrowth": None,
                "Word2vec": "vector", "StringIndex": "int", "TfIdf": "vector", "StandardScaler": "vector",
                "Discretizer": "double"}
    for name in expected:
        alg = runtime.algorithm(name)
        assert alg.name == name and alg.doc() and alg.example.count("train ") == 1 and "register" in alg.example
        assert alg.explain_params()
    assert any(p.name == "k" for p in runtime.algorithm("KMeans").explain_params())
    assert {"minDF", "minDocFreq", "inputCol"} <= {p.name for p in runtime.algorithm("TfIdf").explain_params()}


# -- end to end through the gateway ---------------------------------------------------------------------
USER = "unsup_user"


@pytest.fixture(scope="module")
def cursor(gateway):
    from pyhive import hive

    conn = hive.connect(host=gateway.host, port=gateway.port, username=USER,
                        configuration={"spark.sql.shuffle.partitions": "2"})
    cur = conn.cursor()
    yield cur
    cur.close()
    conn.close()


def run(cursor, script: str) -> list[tuple]:
    cursor.execute(script)
    return cursor.fetchall()


POINTS = ("select id, cast(id % 3 as double) * 4 + sin(id) as a, cast(id % 3 as double) * 10 + cos(id * 7) as b "
          "from range(90) as pts;\nselect id, vec_dense(array(a, b)) as features from pts as raw;\n")


def test_e2e_kmeans_composed_with_scaler(cursor):
    run(cursor, POINTS +
        'train raw as StandardScaler.`models/scale` where inputCol="features" and withMean="true" as s_info;\n'
        "register StandardScaler.`models/scale` as scale;\n"
        "predict raw as StandardScaler.`models/scale` as scaled_p;\n"
        "select id, prediction as features from scaled_p as scaled;\n"
        'train scaled as KMeans.`models/km` where k="3" and seed="1" as k_info;\n'
        "register KMeans.`models/km` as km;\n"
        "predict scaled as KMeans.`models/km` as clustered;\n"
        "select 1 as done as d;")
    # The scaler function == predict's output, for every row.
    rows = run(cursor, "select count(*), sum(if(vec_array(s.prediction) = vec_array(scale(r.features)), 1, 0)) "
                       "from scaled_p s join raw r on s.id = r.id")
    assert rows == [(90, 90)]
    # km(scale(vec_dense(array(a, b)))) over the raw columns == KMeans predict over the scaled table.
    rows = run(cursor, "select count(*), sum(if(c.prediction = km(scale(vec_dense(array(p.a, p.b)))), 1, 0)), "
                       "count(distinct c.prediction) from clustered c join pts p on c.id = p.id")
    assert rows == [(90, 90, 3)]
    assert run(cursor, "select alg, status from k_info") == [("KMeans", "success")]
    params = run(cursor, "load modelParams.`KMeans` as p; select param, default from p where param = 'k'")
    assert params == [("k", "2")]


def test_e2e_string_index(cursor):
    run(cursor, "select id, case id % 4 when 0 then 'red' when 1 then 'green' when 2 then 'red' else 'blue' end "
                "as color from range(40) as colors;\n"
                'train colors as StringIndex.`models/si` where inputCol="color" and handleInvalid="keep" as info;\n'
                "register StringIndex.`models/si` as si;\n"
                "predict colors as StringIndex.`models/si` as indexed;\nselect 1 as done as d;")
    rows = run(cursor, "select count(*), sum(if(cast(i.prediction as int) = si(c.color), 1, 0)), "
                       "sum(if(si_r(si(c.color)) = c.color, 1, 0)) from indexed i join colors c on i.id = c.id")
    assert rows == [(40, 40, 40)]
    # red 20, blue 10, green 10 (a tie: alphabetical); arrays arrive as JSON text.
    assert run(cursor, "select si('red'), si('blue'), si('nope'), si_array(array('green', 'red')), si_r(2.0)") == \
        [(0, 1, 3, "[2,0]", "green")]


def test_e2e_tfidf_and_word2vec(cursor):
    words = ("select id, split(case id % 4 when 0 then 'spark is fast' when 1 then 'python is easy' "
             "when 2 then 'spark and python' else 'fast data' end, ' ') as words from range(24) as docs;\n")
    run(cursor, words +
        'train docs as TfIdf.`models/tfidf` where inputCol="words" as t_info;\n'
        "register TfIdf.`models/tfidf` as tfidf;\n"
        "predict docs as TfIdf.`models/tfidf` as t_pred;\n"
        'train docs as Word2vec.`models/w2v` where inputCol="words" and vectorSize="5" and minCount="1" '
        'and seed="3" as w_info;\n'
        "register Word2vec.`models/w2v` as w2v;\n"
        "predict docs as Word2vec.`models/w2v` as w_pred;\nselect 1 as done as d;")
    rows = run(cursor, "select count(*), sum(if(vec_array(t.prediction) = vec_array(tfidf(d.words)), 1, 0)), "
                       "max(size(vec_array(t.prediction))) from t_pred t join docs d on t.id = d.id")
    assert rows == [(24, 24, 7)]
    rows = run(cursor, "select count(*), sum(if(vec_array(w.prediction) = vec_array(w2v_array(d.words)), 1, 0)) "
                       "from w_pred w join docs d on w.id = d.id")
    assert rows == [(24, 24)]
    (spark_vec, unknown), = run(cursor, "select size(vec_array(w2v('spark'))), w2v('nothing') is null")
    assert spark_vec == 5 and unknown is True


def test_e2e_fpgrowth_and_als(cursor):
    run(cursor, "select id, split(case id % 5 when 0 then 'a b c' when 1 then 'a b' when 2 then 'b c d' "
                "when 3 then 'a c' else 'a b d' end, ' ') as items from range(50) as baskets;\n"
                'train baskets as FPGrowth.`models/fp` where itemsCol="items" and minSupport="0.2" '
                'and minConfidence="0.4" as f_info;\n'
                "register FPGrowth.`models/fp` as fp;\n"
                "predict baskets as FPGrowth.`models/fp` as f_pred;\n"
                "select id, cast(id % 12 as int) as user, cast(id % 9 as int) as item, "
                "cast((id % 12) * (id % 9) % 5 + 1 as float) as rating from range(200) as ratings;\n"
                'train ratings as ALSInPlace.`models/als` where rank="3" and maxIter="4" and seed="2" as a_info;\n'
                "register ALS.`models/als` as als;\n"
                "select id, user + if(id % 10 = 0, 100, 0) as user, item from ratings as queries;\n"
                "predict queries as ALS.`models/als` as a_pred;\nselect 1 as done as d;")
    rows = run(cursor, "select count(*), sum(if(f.prediction = fp(b.items), 1, 0)), max(size(f.prediction)) "
                       "from f_pred f join baskets b on f.id = b.id")
    assert rows[0][:2] == (50, 50) and rows[0][2] >= 1
    rows = run(cursor, "select count(*), sum(if(cast(a.prediction as double) = als(q.user, q.item), 1, 0)), "
                       "sum(if(isnan(als(q.user, q.item)), 1, 0)) from a_pred a join queries q on a.id = q.id")
    assert rows == [(200, 200, 20)]     # NaN = NaN in Spark SQL; the 20 unknown users give NaN


def test_e2e_lda_functions(cursor):
    run(cursor, "select id, vec_dense(array(cast(id % 3 as double), cast(id % 5 as double), cast(id % 2 as double), "
                "1.0)) as features from range(30) as ldocs;\n"
                'train ldocs as LDA.`models/lda` where k="2" and maxIter="5" and seed="7" as info;\n'
                "register LDA.`models/lda` as lda;\n"
                "predict ldocs as LDA.`models/lda` as l_pred;\nselect 1 as done as d;")
    rows = run(cursor, "select count(*), sum(if(abs(vec_array(p.topicDistribution)[0] - vec_array(lda_doc(l.features))"
                       "[0]) < 1e-9, 1, 0)) from l_pred p join ldocs l on p.id = l.id")
    assert rows == [(30, 30)]
    (word, top), = run(cursor, "select size(vec_array(lda(1))), size(lda_topic(0, 3))")
    assert (word, top) == (2, 3)


def test_e2e_bad_input_writes_nothing(cursor, gateway):
    from pyhive import exc as hive_exc

    home = gateway.scratch / "data" / USER
    run(cursor, "select id, cast(id as string) as s, vec_dense(array(cast(id as double))) as features "
                "from range(10) as bad_t;\nselect 1 as done as d;")
    with pytest.raises(hive_exc.OperationalError, match="unknown parameter 'bogus'"):
        cursor.execute('train bad_t as KMeans.`models/bad1` where k="2" and bogus="1";')
    with pytest.raises(hive_exc.OperationalError, match="column s has type string; it must be a vector"):
        cursor.execute('train bad_t as StandardScaler.`models/bad2` where inputCol="s";')
    with pytest.raises(hive_exc.OperationalError, match="needs inputCol"):
        cursor.execute("train bad_t as Word2vec.`models/bad3`;")
    for name in ("bad1", "bad2", "bad3"):
        assert not (home / "models" / name).exists()
    leftovers = [p.name for p in (home / "models").iterdir() if "bad" in p.name] if (home / "models").exists() else []
    assert leftovers == []
