"""Supervised MLlib algorithms: numpy scorer == MLlib transform (in-process Spark), and the MLSQL statements
(train / register / predict / modelExplain / modelParams) end to end through the gateway with PyHive."""

from __future__ import annotations

import os
import sys

import numpy as np
import pyarrow as pa
import pytest

from gateway.ml import mllib_supervised as sup
from gateway.ml import scoring, vectors
from gateway.ml.algorithm import ModelGroup, TrainError, TrainJob
from gateway.ml.scoring import ScorerError
from gateway.mlsql.transformers import REGISTRY

RTOL = 1e-9
ATOL = 1e-12  # absolute slack only for entries that are ~0 (e.g. probabilities of 1e-300)


# -- in-process Spark parity -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def spark():
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    from pyspark.sql import SparkSession

    session = (SparkSession.builder.master("local[1]").appName("test_ml_mllib_supervised")
               .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "1")
               .config("spark.default.parallelism", "1").getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _frame(spark, x: np.ndarray, y: np.ndarray, sparse: bool = False):
    from pyspark.ml.linalg import Vectors

    def vec(row):
        if sparse:
            nz = np.flatnonzero(row)
            return Vectors.sparse(len(row), nz.tolist(), row[nz].tolist())
        return Vectors.dense(row.tolist())

    return spark.createDataFrame([(vec(r), float(t)) for r, t in zip(x, y, strict=True)], ["features", "label"])


def _iris(spark, binary: bool = False):
    from sklearn.datasets import load_iris

    x, y = load_iris(return_X_y=True)
    if binary:  # versicolor vs virginica: not separable, so margins stay moderate
        keep = y > 0
        x, y = x[keep], y[keep] - 1
    return _frame(spark, x, y)


def _counts(spark, kind: str = "counts"):
    """Sparse nonnegative count features (for multinomial/complement NB) or 0/1 features (bernoulli)."""
    rng = np.random.default_rng(7)
    y = rng.integers(0, 3, 240)
    rates = rng.uniform(0.05, 1.5, size=(3, 12))
    x = rng.poisson(rates[y]).astype(float)
    x[rng.random(x.shape) < 0.5] = 0.0
    if kind == "binary":
        x = (x > 0).astype(float)
    return _frame(spark, x, y, sparse=True)


def _classification(spark, sparse: bool = False):
    from sklearn.datasets import make_classification

    x, y = make_classification(n_samples=240, n_features=8, n_informative=4, random_state=3)
    if sparse:
        x[np.abs(x) < 0.8] = 0.0
    return _frame(spark, x, y, sparse=sparse)


def _diabetes(spark):
    from sklearn.datasets import load_diabetes

    x, y = load_diabetes(return_X_y=True)
    return _frame(spark, x[:220], y[:220])


def _categorical(spark, classes: int = 3):
    """Two categorical features (4 and 6 values, marked by VectorIndexer metadata) and one continuous."""
    from pyspark.ml.feature import VectorIndexer

    rng = np.random.default_rng(11)
    n = 300
    a, b, c = rng.integers(0, 4, n), rng.integers(0, 6, n), rng.normal(size=n)
    score = np.isin(a, [1, 3]).astype(int) + np.isin(b, [0, 2, 5]).astype(int) + (c > 0.3)
    y = np.minimum(score, classes - 1) if classes > 2 else (score % 2)
    x = np.column_stack([a, b, c]).astype(float)
    df = _frame(spark, x, y).withColumnRenamed("features", "raw")
    indexer = VectorIndexer(inputCol="raw", outputCol="features", maxCategories=6).fit(df)
    return indexer.transform(df).drop("raw")


def _arrow_features(rows) -> pa.Array:
    """The features column of collected rows as an Arrow vector column (sparse rows stay sparse)."""
    from pyspark.ml.linalg import SparseVector

    first = rows[0].features
    if isinstance(first, SparseVector):
        return vectors.sparse_from_rows(first.size, [(r.features.indices, r.features.values) for r in rows])
    return vectors.from_matrix(np.array([r.features.toArray() for r in rows]))


def _train(spark, tmp_path, name: str, df, params: dict[str, str]):
    alg = REGISTRY.get(name)
    out = tmp_path / name
    out.mkdir()
    info = alg.train(TrainJob(spark, df, params, 0, out))
    group = ModelGroup(out, 0, alg.name, params, info, {})
    return alg, group, info


@pytest.fixture(scope="module")
def trained(spark, tmp_path_factory):
    """Models of CASES trained once per module: ``trained(case) -> (alg, group, info, df)``."""
    cache: dict[str, tuple] = {}

    def get(case: str):
        if case not in cache:
            name, make, params = CASES[case]
            df = make(spark).cache()
            cache[case] = (*_train(spark, tmp_path_factory.mktemp(case), name, df, params), df)
        return cache[case]

    return get


CASES = {
    "rf-iris": ("RandomForest", _iris, {"numTrees": "7", "maxDepth": "4", "seed": "1"}),
    "rf-categorical": ("RandomForestClassifier", _categorical, {"numTrees": "5", "maxDepth": "4", "seed": "2"}),
    "rf-sparse": ("RandomForest", lambda s: _classification(s, sparse=True), {"numTrees": "4", "maxDepth": "5"}),
    "dt-categorical": ("DecisionTree", _categorical, {"maxDepth": "5"}),
    "gbt-categorical": ("GBTs", lambda s: _categorical(s, 2), {"maxIter": "6", "maxDepth": "3"}),
    "gbt-dense": ("GBTClassifier", _classification, {"maxIter": "5", "maxDepth": "3", "stepSize": "0.3"}),
    "gbtr-diabetes": ("GBTRegressor", _diabetes, {"maxIter": "5", "maxDepth": "3"}),
    "lr-multinomial": ("LogisticRegressor", _iris, {"maxIter": "30", "regParam": "0.01"}),
    "lr-binary-sparse": ("LogisticRegression", lambda s: _classification(s, sparse=True), {"maxIter": "30"}),
    "lsvm-sparse": ("LSVM", lambda s: _classification(s, sparse=True), {"maxIter": "20"}),
    "linreg-diabetes": ("LinearRegression", _diabetes, {"regParam": "0.1", "elasticNetParam": "0.5"}),
    "nb-multinomial-sparse": ("NaiveBayes", _counts, {}),
    "nb-complement": ("NaiveBayes", _counts, {"modelType": "complement", "smoothing": "0.5"}),
    "nb-bernoulli": ("NaiveBayes", lambda s: _counts(s, "binary"), {"modelType": "bernoulli"}),
    "nb-gaussian": ("NaiveBayes", _iris, {"modelType": "gaussian"}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_scorer_matches_mllib_transform(spark, trained, case):
    name = CASES[case][0]
    alg, group, info, df = trained(case)
    assert info["inputCols"] == ["features"]
    rows = alg.batch_predict(spark, df, group).collect()  # the native MLlib transform
    scorer = scoring.load(group.directory)
    x = _arrow_features(rows)
    if alg.algo_type == "regression":
        assert [f.suffix for f in scorer.functions] == [""] and scorer.function("").return_type == "double"
        expected = np.array([r.prediction for r in rows])
        np.testing.assert_allclose(scorer.call("", x).to_numpy(zero_copy_only=False), expected, rtol=RTOL,
                                   atol=ATOL)
        return
    classes = info["numClasses"]
    assert info["labels"] == [float(i) for i in range(classes)]
    assert {f.suffix: f.return_type for f in scorer.functions} == {"": "vector", "_raw": "vector"}
    raw = np.array([r.rawPrediction.toArray() for r in rows])
    np.testing.assert_allclose(vectors.to_matrix(scorer.call("_raw", x)), raw, rtol=RTOL, atol=ATOL)
    main = vectors.to_matrix(scorer.call("", x))
    if name == "LSVM":  # no probability column: the main function is rawPrediction
        np.testing.assert_allclose(main, raw, rtol=RTOL, atol=ATOL)
    else:
        probability = np.array([r.probability.toArray() for r in rows])
        np.testing.assert_allclose(main, probability, rtol=RTOL, atol=ATOL)
    # argmax of the main function is MLlib's prediction, for every row
    assert np.argmax(main, axis=1).tolist() == [int(r.prediction) for r in rows]
    if case.endswith("categorical"):
        assert info["categoricalSplits"] > 0  # the trees really use categorical splits
    if name == "LogisticRegressor":
        assert info["family"] == "multinomial" and main.shape[1] == 3
    if case == "lr-binary-sparse":
        assert info["family"] == "binomial" and main.shape[1] == 2


def test_scorer_nulls_sizes_and_registered_udf(spark, trained):
    alg, group, _, df = trained("rf-iris")
    scorer = scoring.load(group.directory)
    x = vectors.from_rows([np.array([5.1, 3.5, 1.4, 0.2]), None, np.array([6.7, 3.0, 5.2, 2.3])])
    out = scorer.call("", x)
    assert out.is_null().to_pylist() == [False, True, False]
    assert abs(sum(vectors.to_python(out[0].as_py())) - 1.0) < 1e-12
    with pytest.raises(ScorerError, match="4 features"):
        scorer.call("", vectors.from_matrix(np.ones((2, 3))))
    # The same scorer as a Spark SQL function (Arrow UDF) gives MLlib's probability column.
    from gateway.ml import udf

    names = udf.register_model(spark, group, "rf_t")
    assert names == ["rf_t", "rf_t_raw"]
    alg.batch_predict(spark, df, group).createOrReplaceTempView("rf_scored")
    diffs = spark.sql("select rf_t(features) as p, probability, rf_t_raw(features) as r, rawPrediction "
                      "from rf_scored").collect()
    assert len(diffs) == 150
    for row in diffs:
        np.testing.assert_allclose(row.p.toArray(), row.probability.toArray(), rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(row.r.toArray(), row.rawPrediction.toArray(), rtol=RTOL, atol=ATOL)


def test_naive_bayes_refuses_negative_features(trained):
    _, group, _, _ = trained("nb-multinomial-sparse")
    with pytest.raises(ScorerError, match="nonnegative"):
        scoring.load(group.directory).call("", vectors.from_matrix(-np.ones((1, 12))))


def test_bad_options_are_clear_errors(spark, tmp_path):
    df = _iris(spark)
    with pytest.raises(TrainError, match="unknown parameter 'maxDepht'"):
        _train(spark, tmp_path, "RandomForest", df, {"maxDepht": "3"})
    with pytest.raises(TrainError, match="maxDepth='deep' must be an integer"):
        _train(spark, tmp_path, "DecisionTree", df, {"maxDepth": "deep"})
    with pytest.raises(TrainError, match="column.* lbl not found"):
        _train(spark, tmp_path, "GBTs", df, {"labelCol": "lbl"})
    with pytest.raises(TrainError, match="label column label has type string"):
        _train(spark, tmp_path, "LogisticRegressor", df.selectExpr("features", "cast(label as string) as label"),
               {})


def test_registry_docs_and_examples(spark):
    import re

    for cls in sup.ALGORITHMS:
        assert REGISTRY.find(cls.name) is cls and cls.doc() and "register" in cls.example
        names = {p.name for p in cls.explain_params()}
        assert {"featuresCol", "labelCol"} <= names, cls.name
        # every option an example sets is a valid parameter of the estimator, with a valid value
        groups: dict[str, dict[str, str]] = {}
        for index, key, value in re.findall(r'fitParam\.(\d+)\.(\w+)="([^"]*)"', cls.example):
            groups.setdefault(index, {})[key] = value
        assert groups, cls.name
        for params in groups.values():
            cls().make_estimator(params)
    assert REGISTRY.find("randomForest") is sup.RandomForest
    assert REGISTRY.find("LinearSVC") is sup.LSVM and REGISTRY.find("logisticRegression") is sup.LogisticRegressor
    assert {"maxDepth", "numTrees"} <= {p.name for p in sup.RandomForest.explain_params()}


# -- end to end through the gateway ----------------------------------------------------------------------
USER = "mllib_user"
IRIS = ('load csv.`iris.csv` where header="true" and inferSchema="true" as iris_raw;\n'
        "select vec_dense(array(sl, sw, pl, pw)) as features, label from iris_raw as iris;\n")


@pytest.fixture(scope="module")
def cursor(gateway):
    from pyhive import hive
    from sklearn.datasets import load_iris

    home = gateway.scratch / "data" / USER
    home.mkdir(parents=True, exist_ok=True)
    x, y = load_iris(return_X_y=True)
    lines = ["sl,sw,pl,pw,label"] + [",".join(f"{v:.1f}" for v in row) + f",{t:.1f}" for row, t in zip(x, y, strict=True)]
    (home / "iris.csv").write_text("\n".join(lines) + "\n")
    conn = hive.connect(host=gateway.host, port=gateway.port, username=USER,
                        configuration={"spark.sql.shuffle.partitions": "2"})
    cur = conn.cursor()
    cur.execute(IRIS)  # views persist in the session: every script below reads iris / iris_raw
    assert len(cur.fetchall()) == 150
    yield cur
    cur.close()
    conn.close()


FAMILIES = {
    # alg, model path, options besides maxDepth, table, (explain key, its value in group 1), modelParams rows
    "trees": ("RandomForest", "models/rf", 'fitParam.0.numTrees="5" and fitParam.1.numTrees="5"', "iris",
              ("spark.maxDepth", "5"), {"maxDepth", "numTrees", "featuresCol", "labelCol"}),
    "linear": ("LogisticRegressor", "models/lr", 'fitParam.0.maxIter="30" and fitParam.1.maxIter="40"', "iris",
               ("spark.maxIter", "40"), {"maxIter", "regParam", "family", "featuresCol", "labelCol"}),
    "bayes": ("NaiveBayes", "models/nb", 'fitParam.0.smoothing="1.0" and fitParam.1.modelType="gaussian"', "iris",
              ("spark.modelType", "gaussian"), {"modelType", "smoothing", "featuresCol", "labelCol"}),
    "regression": ("GBTRegressor", "models/gbtr", 'fitParam.0.maxIter="5" and fitParam.1.maxIter="5"', "petal",
                   ("spark.maxDepth", "5"), {"maxDepth", "maxIter", "stepSize", "featuresCol", "labelCol"}),
}


@pytest.mark.parametrize("family", list(FAMILIES))
def test_train_register_predict_explain(cursor, gateway, family):
    alg, path, extra, table, (explain_key, explain_value), param_names = FAMILIES[family]
    # maxDepth is not a parameter of LogisticRegression/NaiveBayes: only the tree families get it
    depth = 'fitParam.0.maxDepth="3" and fitParam.1.maxDepth="5" and ' if explain_key == "spark.maxDepth" else ""
    script = ("select vec_dense(array(sl, sw, pl)) as features, pw as label from iris_raw as petal;\n"
                     if table == "petal" else "")
    cursor.execute(script + f"train {table} as {alg}.`{path}` where {depth}{extra} and "
                   f'evaluateTable="{table}" as info;')
    status = cursor.fetchall()
    assert len(status) == 2, status
    assert [r[4] for r in status] == ["success", "success"], status
    assert sorted(r[1] for r in status) == [0, 1]
    for row in status:
        metrics = row[3]
        if table == "petal":
            assert "rmse" in metrics and "r2" in metrics, metrics
        else:
            assert "f1" in metrics and "accuracy" in metrics, metrics
            assert float(metrics.split("accuracy:")[1].split()[0]) > 0.8, metrics
    # group 1 (not the default pick): register + predict, then the function against predict's columns
    fn = f"{family}_fn"
    cursor.execute(f'register {alg}.`{path}` as {fn} where algIndex="1";\n'
                   f'predict {table} as {alg}.`{path}` where algIndex="1" as scored;\n')
    if table == "petal":
        cursor.execute(f"select {fn}(features) as f, prediction from scored")
        rows = cursor.fetchall()
        assert len(rows) == 150 and all(abs(f - p) <= 1e-9 * max(1.0, abs(p)) for f, p in rows)
    else:
        cursor.execute(f"select vec_argmax({fn}(features)) as f, prediction, "
                       f"vec_sqdist({fn}(features), probability) as d2, "
                       f"vec_sqdist({fn}_raw(features), rawPrediction) as r2 from scored")
        rows = cursor.fetchall()
        assert len(rows) == 150
        assert all(f == int(p) for f, p, _, _ in rows)  # predict statement == select fn(...) for every row
        assert max(d for _, _, d, _ in rows) < 1e-18 and max(r for _, _, _, r in rows) < 1e-12
    cursor.execute(f'load modelExplain.`{path}` where alg="{alg}" and algIndex="1" as e;')
    explain = dict(cursor.fetchall())
    assert explain["algorithm"] == alg and explain["algIndex"] == "1"
    assert explain[explain_key] == explain_value
    assert ("metric.rmse" if table == "petal" else "metric.f1") in explain
    cursor.execute(f"load modelParams.`{alg}` as p;")
    assert param_names <= {r[0] for r in cursor.fetchall()}


def test_bad_train_requests_write_nothing(cursor, gateway):
    from pyhive import exc as hive_exc

    models = gateway.scratch / "data" / USER / "models"
    with pytest.raises(hive_exc.OperationalError, match="unknown parameter 'maxDepht'"):
        cursor.execute('train iris as RandomForest.`models/bad1` where fitParam.0.maxDepht="3" and '
                       'fitParam.1.maxDepht="4";')
    with pytest.raises(hive_exc.OperationalError, match="column.*label.* not found"):
        cursor.execute("select features from iris as nolabel;\n"
                       'train nolabel as LogisticRegressor.`models/bad2` where fitParam.0.maxIter="5";')
    assert not (models / "bad1").exists() and not (models / "bad2").exists()
    assert not [p.name for p in models.iterdir() if p.name.startswith(".")] if models.exists() else True


def test_example_runs(cursor):
    """An algorithm's modelExample runs as written (here LSVM's: train, predict, register, select)."""
    cursor.execute("load modelExample.`LSVM` as ex;")
    (name, example, _doc), = cursor.fetchall()
    assert name == "LSVM" and example == sup.LSVM.example
    cursor.execute(example)
    rows = cursor.fetchall()
    assert len(rows) == 300 and {r[0] for r in rows} <= {0, 1}
    assert sum(r[0] == int(r[1]) for r in rows) / len(rows) > 0.7  # the model learned the toy rule
