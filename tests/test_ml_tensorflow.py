"""TensorFlow (Keras) FCClassify and CNNClassify: train / register / predict through the gateway (PyHive)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyhive import exc as hive_exc
from pyhive import hive

USER = "tf_user"
SMALL = {"spark.sql.shuffle.partitions": "2"}
FEATURES = ["sl", "sw", "pl", "pw"]
PREPARE = ('load csv.`iris.csv` where header="true" and inferSchema="true" as iris_raw;\n'
           "select id, vec_dense(array(sl, sw, pl, pw)) as features, label from iris_raw as iris;\n"
           "load json.`tokens.json` as tokens_raw;\n"
           "select id, cast(tokens as array<int>) as tokens, label from tokens_raw as docs;\n")
FC = ('fitParam.{i}.alg="FCClassify" and fitParam.{i}.layerGroup="300,100" and fitParam.{i}.epochs="30" '
      'and fitParam.{i}.batchSize="16" and fitParam.{i}.featureSize="4" and fitParam.{i}.labelSize="3" '
      'and fitParam.{i}.inputCol="features" and fitParam.{i}.labelCol="label" and fitParam.{i}.seed="7"')
CNN = ('fitParam.0.alg="CNNClassify" and fitParam.0.sequenceLength="16" and fitParam.0.vocabSize="50" '
       'and fitParam.0.wordEmbeddingSize="16" and fitParam.0.windowGroup="2,3" and fitParam.0.filters="32" '
       'and fitParam.0.epochs="20" and fitParam.0.batchSize="16" and fitParam.0.learningRate="0.01" '
       'and fitParam.0.seed="3" and fitParam.0.inputCol="tokens" and fitParam.0.labelCol="label"')


def token_rows(n: int = 300, seed: int = 5) -> list[dict]:
    """Token-id documents: class 1 contains id 7, class 2 contains id 13, class 0 neither."""
    rng = np.random.default_rng(seed)
    pool = np.array([t for t in range(3, 45) if t not in (7, 13)])
    rows = []
    for i in range(n):
        label = i % 3
        tokens = list(rng.choice(pool, size=int(rng.integers(5, 15))))
        if label:
            tokens.insert(int(rng.integers(0, len(tokens) + 1)), 7 if label == 1 else 13)
        rows.append({"id": i, "tokens": [int(t) for t in tokens], "label": float(label)})
    return rows


@pytest.fixture(scope="module")
def data(gateway) -> pd.DataFrame:
    from sklearn.datasets import load_iris

    iris = load_iris()
    frame = pd.DataFrame(iris.data, columns=FEATURES)
    frame.insert(0, "id", range(len(frame)))
    frame["label"] = iris.target.astype(float)
    home = gateway.scratch / "data" / USER
    home.mkdir(parents=True, exist_ok=True)
    frame.to_csv(home / "iris.csv", index=False)
    (home / "tokens.json").write_text("\n".join(json.dumps(r) for r in token_rows()) + "\n")
    return frame


@pytest.fixture
def cursor(gateway, data):
    conn = hive.connect(host=gateway.host, port=gateway.port, username=USER, configuration=SMALL)
    cur = conn.cursor()
    cur.execute(PREPARE + "select count(*) from iris")
    assert cur.fetchall() == [(150,)]
    yield cur
    cur.close()
    conn.close()


def model_dir(gateway, name: str) -> Path:
    return gateway.scratch / "data" / USER / "models" / name


def check_predict_matches_function(cursor, table: str, column: str, fn: str, path: str) -> float:
    """``predict`` and ``vec_argmax(fn(col))`` agree on every row; returns the training accuracy."""
    cursor.execute(f"register TensorFlow.`{path}` as {fn};\n"
                   f"predict {table} as TensorFlow.`{path}` as scored;\n"
                   f"select id, vec_argmax({fn}({column})), prediction, label, vec_array(probability) from scored")
    rows = cursor.fetchall()
    assert len(rows) == (150 if table == "iris" else 300)
    for _, by_function, by_predict, _, probs in rows:
        assert float(by_function) == by_predict
        assert abs(sum(json.loads(probs) if isinstance(probs, str) else probs) - 1.0) < 1e-4
    return sum(1 for r in rows if r[2] == r[3]) / len(rows)


def probabilities(cursor, fn: str, table: str = "iris", column: str = "features") -> np.ndarray:
    cursor.execute(f"select vec_array({fn}({column})) from {table} order by id")
    return np.array([json.loads(r[0]) if isinstance(r[0], str) else r[0] for r in cursor.fetchall()])


def test_fc_classify_trains_registers_predicts_and_reloads(cursor, gateway, data):
    cursor.execute(f"train iris as TensorFlow.`models/tf_fc` where {FC.format(i=0)} and {FC.format(i=1)} "
                   "as info;\nselect algIndex, alg, status, message from info order by algIndex")
    assert cursor.fetchall() == [(0, "TensorFlow", "success", ""), (1, "TensorFlow", "success", "")]
    group = model_dir(gateway, "tf_fc") / "group_0"
    assert (group / "model.keras").is_file() and (group / "scorer.json").is_file()
    accuracy = check_predict_matches_function(cursor, "iris", "features", "tf_fc", "models/tf_fc")
    assert accuracy > 0.85, accuracy  # chance is 1/3
    # The same seed gives the same network: group 1 scores like group 0.
    first = probabilities(cursor, "tf_fc")
    cursor.execute('register TensorFlow.`models/tf_fc` as tf_fc1 where algIndex="1"')
    assert np.allclose(probabilities(cursor, "tf_fc1"), first, atol=1e-5)
    # Null in, null out; the reference's 4-argument call form is accepted.
    cursor.execute("select tf_fc(cast(null as array<double>)) is null, "
                   "vec_argmax(tf_fc(features, 'input', 'output', 3)) = vec_argmax(tf_fc(features)) "
                   "from iris where id = 0")
    assert cursor.fetchall() == [(True, True)]
    # Another session registers the stored model and gets the same outputs.
    other = hive.connect(host=gateway.host, port=gateway.port, username=USER, configuration=SMALL).cursor()
    other.execute(PREPARE + "register TensorFlow.`models/tf_fc` as again")
    assert np.allclose(probabilities(other, "again"), first, atol=1e-6)
    other.close()
    # The files alone reproduce the outputs: load the scorer from disk in this (fresh) process.
    from gateway.ml import scoring

    scorer = scoring.load(group)
    from gateway.ml import vectors

    x = vectors.from_matrix(data[FEATURES].to_numpy())
    assert np.allclose(vectors.to_matrix(scorer.call("", x)), first, atol=1e-5)
    cursor.execute('load modelExplain.`models/tf_fc` where alg="TensorFlow" as e;\nselect name, value from e')
    explain = dict(cursor.fetchall())
    assert explain["info.alg"] == "FCClassify" and explain["info.layerGroup"] == "[300, 100]"
    assert explain["layer.2.dense_0"].startswith("Dense output=(None, 300)")
    assert explain["layer.4.probability"].startswith("Dense output=(None, 3)")


def test_cnn_classify_learns_token_presence(cursor, gateway):
    cursor.execute(f"train docs as TensorFlow.`models/tf_cnn` where {CNN} as info;\n"
                   "select status, message from info")
    assert cursor.fetchall() == [("success", "")]
    accuracy = check_predict_matches_function(cursor, "docs", "tokens", "tf_cnn", "models/tf_cnn")
    assert accuracy > 0.8, accuracy  # chance is 1/3
    # Presence of id 7 -> class 1 on unseen documents too; ids beyond vocabSize are read as padding.
    cursor.execute("select vec_argmax(tf_cnn(array(20, 7, 30))), vec_argmax(tf_cnn(array(20, 13, 30, 999))), "
                   "tf_cnn(cast(null as array<int>)) is null")
    assert cursor.fetchall() == [(1, 2, True)]
    cursor.execute('load modelExplain.`models/tf_cnn` where alg="tensorFlow" as e;\nselect name, value from e')
    explain = dict(cursor.fetchall())
    assert explain["info.sequenceLength"] == "16" and explain["info.windowGroup"] == "[2, 3]"
    assert explain["layer.1.embedding"].startswith("Embedding output=(None, 16, 16)")


def test_tensorflow_errors(cursor):
    cases = [
        ('train iris as TensorFlow.`models/tf_bad1` where fitParam.0.alg="LSTM"', "FCClassify, CNNClassify"),
        ("train iris as TensorFlow.`models/tf_bad2` where " + FC.format(i=0).replace('Size="4', 'Size="5'),
         "featureSize=5 but column features holds vectors of size 4"),
        ('train docs as TensorFlow.`models/tf_bad3` where fitParam.0.alg="CNNClassify" and '
         'fitParam.0.inputCol="tokens" and fitParam.0.sequenceLength="2" and fitParam.0.windowGroup="3"',
         "window 3 is longer than sequenceLength=2"),
        ('train iris as TensorFlow.`models/tf_bad4` where fitParam.0.alg="FCClassify" and fitParam.0.epochs="x"',
         "epochs"),
    ]
    for script, message in cases:
        with pytest.raises(hive_exc.OperationalError, match=message) as err:
            cursor.execute(script)
        assert "42000" in str(err.value)
    cursor.execute("select 1")
    assert cursor.fetchall() == [(1,)]
