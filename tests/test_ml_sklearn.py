"""train / register / predict with scikit-learn through the gateway (PyHive), and the runtime's semantics:
parameter groups, versions, model selection, the status table, the model store, errors and isolation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyhive import exc as hive_exc
from pyhive import hive

USER = "mluser"
FEATURES = ["sl", "sw", "pl", "pw"]


@pytest.fixture(scope="module")
def iris(gateway) -> pd.DataFrame:
    """sklearn's bundled iris, written as CSV into the user's home in the data root."""
    from sklearn.datasets import load_iris

    data = load_iris()
    frame = pd.DataFrame(data.data, columns=FEATURES)
    frame["label"] = data.target.astype(float)
    home = gateway.scratch / "data" / USER
    home.mkdir(parents=True, exist_ok=True)
    frame.to_csv(home / "iris.csv", index=False)
    return frame


PREPARE = ('load csv.`iris.csv` where header="true" and inferSchema="true" as iris_raw;\n'
           "select sl, sw, pl, pw, vec_dense(array(sl, sw, pl, pw)) as features, label from iris_raw as iris;\n")


@pytest.fixture
def cursor(gateway, iris):
    conn = hive.connect(host=gateway.host, port=gateway.port, username=USER)
    cur = conn.cursor()
    cur.execute(PREPARE + "select count(*) from iris")
    assert cur.fetchall() == [(150,)]
    yield cur
    cur.close()
    conn.close()


def model_dir(gateway, name: str) -> Path:
    return gateway.scratch / "data" / USER / "models" / name


def vector(text: str) -> list[float]:
    """A vector cell as HS2 clients see it (Spark's text of a VectorUDT, as STS sends it) -> dense values:
    dense ``[0.1,0.9]``, sparse ``(3,[1],[0.9])``."""
    text = text.strip()
    if text.startswith("["):
        return [float(v) for v in json.loads(text)]
    size, rest = text[1:-1].split(",", 1)
    indices, values = json.loads("[" + rest + "]")
    out = [0.0] * int(size)
    for i, v in zip(indices, values, strict=True):
        out[i] = float(v)
    return out


def test_sklearn_parity_with_direct_fit(cursor, gateway, iris):
    """A model trained through MLSQL predicts exactly what sklearn fitted directly on the same data predicts."""
    from sklearn.ensemble import RandomForestClassifier

    cursor.execute('train iris as SKLearn.`models/rf` where fitParam.0.alg="RandomForestClassifier" '
                   'and fitParam.0.n_estimators="25" and fitParam.0.max_depth="4" and fitParam.0.random_state="7" '
                   "as info;\nselect algIndex, alg, status, message from info")
    assert cursor.fetchall() == [(0, "SKLearn", "success", "")]
    cursor.execute("register SKLearn.`models/rf` as rf_prob;\n"
                   "select sl, sw, pl, pw, rf_prob(features) as p, vec_argmax(rf_prob(features)) as c from iris")
    rows = cursor.fetchall()
    direct = RandomForestClassifier(n_estimators=25, max_depth=4, random_state=7).fit(
        iris[FEATURES].to_numpy(), iris["label"].to_numpy())
    by_features = {tuple(r[:4]): (vector(r[4]), r[5]) for r in rows}
    expected = direct.predict_proba(iris[FEATURES].to_numpy())
    for features, want in zip(iris[FEATURES].itertuples(index=False), expected, strict=True):
        probability, cls = by_features[tuple(features)]
        assert probability == pytest.approx(list(want), abs=0, rel=0)
        assert cls == int(np.argmax(want))


def test_predict_equals_select_function_for_every_row(cursor):
    cursor.execute('train iris as SKLearn.`models/gb` where fitParam.0.alg="GradientBoostingClassifier" '
                   'and fitParam.0.n_estimators="20" and fitParam.0.random_state="1" as info;\n'
                   "register SKLearn.`models/gb` as gb;\n"
                   "predict iris as SKLearn.`models/gb` as scored;\n"
                   "select count(*) as n, sum(case when prediction = cast(vec_argmax(gb(features)) as double) "
                   "and vec_array(probability) = vec_array(gb(features)) then 1 else 0 end) as same, "
                   "avg(case when prediction = label then 1.0 else 0.0 end) as accuracy from scored")
    n, same, accuracy = cursor.fetchone()
    assert n == 150 and same == 150
    assert float(accuracy) > 0.95


def test_groups_metrics_selection_and_versions(cursor, gateway):
    cursor.execute('train iris as SKLearn.`models/svc` where fitParam.0.alg="SVC" and fitParam.0.C="0.001" '
                   'and fitParam.1.alg="SVC" and fitParam.1.C="10" and fitParam.2.alg="NoSuchEstimator" '
                   'and keepVersion="true" and evaluateTable="iris" as info;\n'
                   "select algIndex, status, metrics, message, trainParams['C'] from info order by algIndex")
    rows = cursor.fetchall()
    assert [(r[0], r[1]) for r in rows] == [(0, "success"), (1, "success"), (2, "fail")]
    assert "NoSuchEstimator" in rows[2][3] and "not an allowed scikit-learn estimator" in rows[2][3]
    assert all(m in rows[0][2] for m in ("f1", "weightedPrecision", "weightedRecall", "accuracy"))
    assert rows[1][4] == "10"
    f1 = [float(r[2].split("f1: ")[1].split()[0]) for r in rows[:2]]
    assert f1[1] > f1[0]
    root = model_dir(gateway, "svc")
    assert sorted(p.name for p in root.iterdir()) == ["_model_0"]
    # autoSelectByMetric (default f1) picks group 1; algIndex overrides it.
    cursor.execute("register SKLearn.`models/svc` as best;\nselect * from (select 1) as x")
    cursor.execute("register SKLearn.`models/svc` as first_group where algIndex=\"0\";\n"
                   "select count(*) from iris where vec_argmax(best(features)) = label")
    best_hits = cursor.fetchone()[0]
    cursor.execute("select count(*) from iris where vec_argmax(first_group(features)) = label")
    assert best_hits > cursor.fetchone()[0]
    # A second train adds version 1; register takes the newest unless modelVersion says otherwise.
    cursor.execute('train iris as SKLearn.`models/svc` where fitParam.0.alg="MultinomialNB" and '
                   'fitParam.0.batchSize="16" and keepVersion="true" as info2;\nselect modelPath, status from info2')
    path, status = cursor.fetchone()
    assert status == "success" and path.endswith("_model_1/group_0")
    meta = json.loads((root / "_model_1" / "meta.json").read_text())
    assert meta["algorithm"] == "SKLearn" and meta["groups"][0]["info"]["estimator"] == "MultinomialNB"
    assert "vec_dense(array(sl, sw, pl, pw))" in meta["feature_sql"] and "scikit-learn" in meta["versions"]
    cursor.execute('load modelExplain.`models/svc` where alg="SKLearn" and modelVersion="0" as e;\n'
                   "select value from e where name = 'estimator.C'")
    assert cursor.fetchall() == [("10.0",)]
    cursor.execute('load modelExplain.`models/svc` where alg="SKLearn" as e;\n'
                   "select value from e where name = 'info.estimator'")
    assert cursor.fetchall() == [("MultinomialNB",)]


def test_regressor_and_clusterer(cursor):
    cursor.execute('train iris as SKLearn.`models/ridge` where fitParam.0.alg="Ridge" and fitParam.0.alpha="0.5" '
                   'and evaluateTable="iris" as info;\nselect status, metrics from info')
    status, metrics = cursor.fetchone()
    assert status == "success" and "rmse" in metrics and "r2" in metrics
    cursor.execute("register SKLearn.`models/ridge` as ridge;\n"
                   "select max(typeof(ridge(features))), round(avg(abs(ridge(features) - label)), 2) < 0.5 from iris")
    assert cursor.fetchall() == [("double", True)]
    cursor.execute('train iris as SKLearn.`models/km` where fitParam.0.alg="KMeans" and fitParam.0.n_clusters="3" '
                   'and fitParam.0.random_state="0" and fitParam.0.n_init="3" as info;\n'
                   "register SKLearn.`models/km` as km;\n"
                   "select count(distinct km(features)), max(typeof(km(features))) from iris")
    assert cursor.fetchall() == [(3, "int")]


def test_bad_input_gives_clear_errors_and_writes_nothing(cursor, gateway):
    cases = [
        ('train iris as SKLearn.`models/bad1` where fitParam.0.alg="RandomForestClassifier" '
         'and fitParam.0.n_trees="3"', "unknown parameter 'n_trees'"),
        ('train iris as SKLearn.`models/bad2` where fitParam.0.alg="RandomForestClassifier" '
         'and fitParam.0.labelCol="nope"', "nope"),
        ('train iris as SKLearn.`models/bad3` where fitParam.0.alg="RandomForestClassifier" '
         'and fitParam.0.n_estimators="many"', "n_estimators"),
        ("train iris as NoSuchAlgorithm.`models/bad4`", "`NoSuchAlgorithm` is not found"),
        ("train iris as RepartitionExt.`models/bad5`", "not a trainable algorithm"),
        ("select features, label from iris where label > 99 as none;\n"
         'train none as SKLearn.`models/bad6` where fitParam.0.alg="SVC"', "empty"),
        ('train iris as SKLearn.`/etc/models` where fitParam.0.alg="SVC"', "outside the configured data roots"),
        ('train iris as SKLearn.`../../x` where fitParam.0.alg="SVC"', "outside the configured data roots"),
        ("register SKLearn.`models/never_trained` as f", "no model at"),
        ("select cast(label as string) as features, label from iris as strs;\n"
         'train strs as SKLearn.`models/bad7` where fitParam.0.alg="SVC"', "expected a vector"),
    ]
    for script, message in cases:
        with pytest.raises(hive_exc.OperationalError, match=message.replace("(", r"\(")):
            cursor.execute(script)
    root = gateway.scratch / "data" / USER / "models"
    leftovers = [p.name for p in root.iterdir() if p.name.startswith((".bad", "bad"))] if root.exists() else []
    assert leftovers == []
    cursor.execute("select 1")  # the session keeps serving
    assert cursor.fetchall() == [(1,)]


def test_registered_functions_are_per_session_and_listed(gateway, iris):
    """A registered model is a session function: callable there, listed by GetFunctions, absent elsewhere."""
    from tests.hs2raw import RawClient
    from thrift_idl.gen.TCLIService import ttypes as T

    raw = RawClient(gateway.host, gateway.port, user=USER)
    raw.open(username=USER)
    try:
        script = (PREPARE + 'train iris as SKLearn.`models/iso` where fitParam.0.alg="MultinomialNB" as info;\n'
                  "register SKLearn.`models/iso` as iso_fn;\nselect count(iso_fn(features)) from iris")
        assert raw.fetch_all_columns(raw.execute(script).operationHandle) == [[150]]
        listed = raw.client.GetFunctions(T.TGetFunctionsReq(raw.session, None, None, "iso%"))
        assert raw.fetch_all_columns(listed.operationHandle)[2] == ["iso_fn"]
        clash = raw.execute("register SKLearn.`models/iso` as first;")
        assert "built-in function" in clash.status.errorMessage
    finally:
        raw.close()
    other = hive.connect(host=gateway.host, port=gateway.port, username=USER)
    with pytest.raises(hive_exc.OperationalError, match="iso_fn"):
        other.cursor().execute("select iso_fn(array(1.0, 2.0, 3.0, 4.0))")
    other.close()


def test_models_survive_a_gateway_restart(cursor, gateway, tmp_path):
    """A second gateway process on the same data root serves the model with identical predictions."""
    from bench.peers import free_port, start_gateway

    cursor.execute('train iris as SKLearn.`models/persist` where fitParam.0.alg="RandomForestClassifier" '
                   'and fitParam.0.random_state="3" and fitParam.0.n_estimators="10" as info;\n'
                   "register SKLearn.`models/persist` as p1;\n"
                   "select sl, sw, pl, pw, vec_array(p1(features)) from iris order by sl, sw, pl, pw")
    before = cursor.fetchall()
    port = free_port()
    peer = start_gateway(port, tmp_path, extra_args=["--data-root", str(gateway.scratch / "data")])
    try:
        conn = hive.connect(host="127.0.0.1", port=port, username=USER)
        cur = conn.cursor()
        cur.execute(PREPARE + "register SKLearn.`models/persist` as p1;\n"
                    "select sl, sw, pl, pw, vec_array(p1(features)) from iris order by sl, sw, pl, pw")
        assert cur.fetchall() == before
        conn.close()
    finally:
        peer.stop()


def test_model_catalog_sources(cursor):
    cursor.execute("load modelList.`` as algs;\nselect name, algType, backend from algs where name = 'SKLearn'")
    assert cursor.fetchall() == [("SKLearn", "classification", "sklearn")]
    cursor.execute("load modelParams.`sKLearn` as p;\nselect param from p")
    assert "fitParam.N.alg" in [r[0] for r in cursor.fetchall()]
    cursor.execute("load modelExample.`SKLearn` as ex;\nselect example from ex")
    assert "register SKLearn" in cursor.fetchone()[0]
