"""POST /model/predict: the online path scores exactly like ``select`` through Spark (10k rows), for a
classifier, a regressor and a feature-transformer chain, and refuses what it cannot evaluate."""

from __future__ import annotations

import httpx
import numpy as np
import pandas as pd
import pytest

OWNER = "predictor"
ROWS = 10_000
FEATURES = "vec_dense(array(a, b, c, d))"


@pytest.fixture(scope="module")
def api(gateway):
    with httpx.Client(base_url=gateway.rest_url, timeout=600) as client:
        yield client


def script(api, sql: str, **fields) -> list[dict]:
    resp = api.post("/run/script", data={"sql": sql, "owner": OWNER, "sessionPerUser": "true",
                                         "outputSize": str(ROWS), **fields})
    assert resp.status_code == 200, resp.text
    return resp.json()


@pytest.fixture(scope="module")
def models(api, gateway) -> pd.DataFrame:
    """Four models registered by OWNER in its REST session: rf (classifier), reg (regressor), scale
    (StandardScaler) and rf2 (a classifier over scaled features)."""
    from sklearn.datasets import make_classification

    x, y = make_classification(n_samples=ROWS, n_features=4, n_informative=3, n_redundant=0, n_classes=3,
                               random_state=11)
    frame = pd.DataFrame(x, columns=["a", "b", "c", "d"])
    frame["label"] = y.astype(float)
    frame["id"] = np.arange(ROWS)
    home = gateway.scratch / "data" / OWNER
    home.mkdir(parents=True, exist_ok=True)
    frame.to_csv(home / "points.csv", index=False)
    script(api, 'load csv.`points.csv` where header="true" and inferSchema="true" as points;\n'
                f"select id, a, b, c, d, {FEATURES} as features, label from points as train_set;\n"
                'train train_set as SKLearn.`m/rf` where fitParam.0.alg="RandomForestClassifier" and '
                'fitParam.0.n_estimators="15" and fitParam.0.max_depth="6" and fitParam.0.random_state="1" as i1;\n'
                'train train_set as SKLearn.`m/reg` where fitParam.0.alg="Ridge" as i2;\n'
                'train train_set as SKLearn.`m/scale` where fitParam.0.alg="StandardScaler" as i3;\n'
                "register SKLearn.`m/scale` as scale;\n"
                "select id, scale(features) as features, label from train_set as scaled;\n"
                'train scaled as SKLearn.`m/rf2` where fitParam.0.alg="RandomForestClassifier" and '
                'fitParam.0.n_estimators="10" and fitParam.0.random_state="2" as i4;\n'
                "register SKLearn.`m/rf` as rf;\nregister SKLearn.`m/reg` as reg;\nregister SKLearn.`m/rf2` as rf2;\n"
                "select 1 as ok")
    return frame


SERVING = (f"select vec_array(rf({FEATURES})) as p, vec_argmax(rf({FEATURES})) as cls, reg({FEATURES}) as r, "
           f"vec_array(rf2(scale({FEATURES}))) as q, vec_array(scale({FEATURES})) as s")


def test_online_predict_equals_spark_for_every_row(api, models):
    spark_rows = script(api, f"{SERVING}, id from train_set order by id")
    assert len(spark_rows) == ROWS
    records = models[["a", "b", "c", "d"]].to_dict("records")
    resp = api.post("/model/predict", json={"dataType": "row", "data": records, "sql": SERVING, "owner": OWNER})
    assert resp.status_code == 200, resp.text
    online = resp.json()
    assert len(online) == ROWS
    for want, got in zip(spark_rows, online, strict=True):
        for key in ("p", "cls", "r", "q", "s"):
            assert got[key] == want[key], (want["id"], key, got[key], want[key])
    classes = {row["cls"] for row in online}
    assert classes == {0, 1, 2}


def test_vector_and_string_data_and_pipelines(api, models):
    first = models.iloc[:5]
    vectors = first[["a", "b", "c", "d"]].to_numpy().tolist()
    by_sql = api.post("/model/predict", data={"dataType": "vector", "data": __import__("json").dumps(vectors),
                                              "sql": "select vec_argmax(rf2(scale(feature))) as c", "owner": OWNER})
    assert by_sql.status_code == 200, by_sql.text
    piped = api.post("/model/predict", json={"dataType": "vector", "data": vectors, "pipeline": "scale,rf2",
                                             "owner": OWNER})
    assert piped.status_code == 200
    expected = api.post("/model/predict", json={"dataType": "vector", "data": vectors, "owner": OWNER,
                                                "sql": "select rf2(scale(feature)) as v"}).json()
    assert [row["rf2"] for row in piped.json()] == [row["v"] for row in expected]
    assert [row["c"] for row in by_sql.json()] == [int(np.argmax(row["v"]["values"])) for row in expected]
    sparse = {"type": 0, "size": 4, "indices": [1, 3], "values": [0.5, -1.0]}
    dense = [0.0, 0.5, 0.0, -1.0]
    both = api.post("/model/predict", json={"dataType": "vector", "data": [sparse, dense], "owner": OWNER,
                                            "sql": "select reg(feature) as r"}).json()
    assert both[0]["r"] == both[1]["r"]
    text = api.post("/model/predict", json={"dataType": "string", "data": ["a b c", "a"], "owner": OWNER,
                                            "sql": "select ngram(split_words, 2) as g"})
    assert text.status_code == 400 and "split_words" in text.json()["error"]


@pytest.mark.parametrize(("fields", "message"), [
    ({"sql": "select rf(feature) from t"}, "FROM"),
    ({"sql": "select upper(feature) as u"}, "upper"),
    ({"sql": "select nosuch(feature)"}, "unknown function nosuch"),
    ({"sql": "select rf(feature) as p", "dataType": "image"}, "dataType"),
    ({"sql": "select rf(feature) as p", "data": [[1.0, 2.0]]}, "size"),
    ({"sql": "select rf(feature) as p", "data": [[1.0, 2.0, 3.0, 4.0], [1.0]]}, "different sizes"),
    ({"sql": "select rf(feature) as p", "data": []}, "empty"),
    ({"sql": "select rf(feature) as p", "data": "not json"}, "JSON"),
    ({"sql": "select rf(feature) as p", "pipeline": "rf"}, "exactly one"),
    ({"sql": "select cast(feature as string)"}, "cast to string"),
    ({"sql": "select rf(feature) as p", "owner": "someone_else"}, "unknown function rf"),
    ({"sql": "select * "}, "select *"),
    ({"sql": "selec rf(feature)"}, "cannot parse sql"),
])
def test_unsupported_requests_are_named(api, models, fields, message):
    body = {"dataType": "vector", "data": [[1.0, 2.0, 3.0, 4.0]], "owner": OWNER, **fields}
    resp = api.post("/model/predict", json=body)
    assert resp.status_code in (400, 422), resp.text
    assert message.lower() in resp.json()["error"].lower()
