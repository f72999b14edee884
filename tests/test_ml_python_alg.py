"""PythonAlg: user Python scripts under the reference's file-level contract, through real gateways (PyHive).

The session gateway fixture does not allow PythonAlg (the default): it must refuse train/register/predict.
A second gateway started here with --allow-python-alg --python-alg-timeout 20 runs the scripts.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest
from pyhive import exc as hive_exc
from pyhive import hive

from bench.peers import free_port, start_gateway

USER = "py_user"
FEATURES = ["sl", "sw", "pl", "pw"]
SMALL = {"spark.sql.shuffle.partitions": "2"}
PREPARE = ('load csv.`iris.csv` where header="true" and inferSchema="true" as iris_raw;\n'
           "select id, vec_dense(array(sl, sw, pl, pw)) as features, label from iris_raw as iris;\n")

TRAIN_LR = '''
"""LogisticRegression through the mlsql support module; predict(rows) serves register/predict."""
import numpy as np
from sklearn.linear_model import LogisticRegression

import mlsql
import mlsql_model

_MODEL = {}


def predict(rows):
    if "m" not in _MODEL:
        _MODEL["m"] = mlsql_model.sk_load_model()
    x = np.array([r["features"] for r in rows], dtype=float)
    return _MODEL["m"].predict_proba(x).tolist()


if __name__ == "__main__":
    if mlsql.get_param(mlsql.fit_param, "fail", "false") == "true":
        print("about to fail", flush=True)
        raise ValueError("boom: fitParam asked this group to fail")
    X, y = mlsql.sklearn_all_data()
    clf = mlsql.sklearn_configure_params(LogisticRegression())
    print(f"fitting {X.shape} C={clf.C!r} max_iter={clf.max_iter!r} files={mlsql.internal_system_param['stopFlagNum']}")
    clf.fit(X, y)
    mlsql_model.sk_save_model(clf)
    print(f"mlsql_validation_score:{clf.score(X, y)}")
'''

SLEEPY = '''
import subprocess, sys, time
import mlsql
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
with open(mlsql.fit_param["pidFile"], "w") as handle:
    handle.write(str(child.pid))
print("sleeping", flush=True)
time.sleep(300)
'''


def iris_frame() -> pd.DataFrame:
    from sklearn.datasets import load_iris

    iris = load_iris()
    frame = pd.DataFrame(iris.data, columns=FEATURES)
    frame.insert(0, "id", range(len(frame)))
    frame["label"] = iris.target.astype(float)
    return frame


def write_user_files(scratch: Path) -> None:
    home = scratch / "data" / USER
    home.mkdir(parents=True, exist_ok=True)
    iris_frame().to_csv(home / "iris.csv", index=False)
    scripts = scratch / "scripts" / USER
    scripts.mkdir(parents=True, exist_ok=True)
    (scripts / "train_lr.py").write_text(TRAIN_LR)
    (scripts / "sleepy.py").write_text(SLEEPY)
    (scripts / "notes.txt").write_text("not a script")


@pytest.fixture(scope="module")
def py_gateway(tmp_path_factory):
    """A gateway that allows PythonAlg, with a 20 s script time limit."""
    scratch = tmp_path_factory.mktemp("pyalg")
    write_user_files(scratch)
    port = free_port()
    peer = start_gateway(port, scratch, extra_args=[
        "--allow-python-alg", "--python-alg-timeout", "20", "--idle-operation-timeout", "600",
        "--data-root", str(scratch / "data"), "--script-root", str(scratch / "scripts")])
    try:
        yield port, scratch
    finally:
        peer.stop()


def connect(port: int):
    cur = hive.connect(host="127.0.0.1", port=port, username=USER, configuration=SMALL).cursor()
    cur.execute(PREPARE + "select count(*) from iris")
    assert cur.fetchall() == [(150,)]
    return cur


@pytest.fixture(scope="module")
def py_cursor(py_gateway):
    """One session on the PythonAlg gateway, with the iris table ready."""
    cur = connect(py_gateway[0])
    yield cur
    cur.close()


@pytest.fixture(scope="module")
def trained(py_cursor):
    """models/py_lr: group 0 (C=10) and group 1 (C=0.01) trained by train_lr.py; (cursor, logs, status)."""
    cur = py_cursor
    cur.execute('train iris as PythonAlg.`models/py_lr` where pythonScriptPath="train_lr.py" '
                'and fitParam.0.C="10.0" and fitParam.0.max_iter="500" and fitParam.1.C="0.01" as info;\n'
                "select algIndex, status, message from info order by algIndex")
    status = cur.fetchall()
    logs = "\n".join(cur.fetch_logs())
    return cur, logs, status


def test_sklearn_script_trains_registers_and_predicts(py_gateway, trained):
    scratch = py_gateway[1]
    cur, logs, status = trained
    assert status == [(0, "success", ""), (1, "success", "")]
    # stdout lines reach the operation log; string options arrive coerced to the estimator's types.
    assert "fitting (150, 4) C=10.0 max_iter=500 files=1" in logs
    assert "fitting (150, 4) C=0.01 max_iter=100" in logs
    assert "mlsql_validation_score:" in logs
    group = scratch / "data" / USER / "models" / "py_lr" / "group_0"
    assert (group / "model" / "model.pickle").is_file()
    assert {"train_lr.py", "mlsql.py", "mlsql_model.py"} <= {p.name for p in (group / "code").iterdir()}
    # The validation score is kept with the model (and C=10 fits iris better than C=0.01).
    scores = []
    for index in (0, 1):
        cur.execute(f'load modelExplain.`models/py_lr` where alg="PythonAlg" and algIndex="{index}" as e;\n'
                    "select name, value from e")
        explain = dict(cur.fetchall())
        assert explain["info.script"] == "train_lr.py"
        # The score is a metric of the group too (status table, autoSelectByMetric="validationScore").
        assert float(explain["metric.validationScore"]) == float(explain["info.validationScore"])
        scores.append(float(explain["info.validationScore"]))
    assert scores[0] > 0.95 and scores[1] < scores[0]
    # register + select fn(...) equals predict, and both equal sklearn fitted directly on the same rows.
    cur.execute('register PythonAlg.`models/py_lr` as py_lr where algIndex="0";\n'
                'predict iris as PythonAlg.`models/py_lr` where algIndex="0" as scored;\n'
                "select id, vec_argmax(py_lr(features)), prediction, label, vec_array(probability) "
                "from scored order by id")
    rows = cur.fetchall()
    assert len(rows) == 150
    assert all(float(r[1]) == r[2] for r in rows)
    assert sum(r[2] == r[3] for r in rows) / 150 > 0.95
    from sklearn.linear_model import LogisticRegression

    frame = iris_frame()
    direct = LogisticRegression(C=10.0, max_iter=500).fit(frame[FEATURES].to_numpy(), frame["label"].to_numpy())
    probs = np.array([json.loads(r[4]) if isinstance(r[4], str) else r[4] for r in rows])
    assert np.allclose(probs, direct.predict_proba(frame[FEATURES].to_numpy()), atol=1e-6)


def test_failing_group_reports_its_error_text(py_gateway, py_cursor):
    cur = py_cursor
    cur.execute('train iris as PythonAlg.`models/py_flaky` where pythonScriptPath="train_lr.py" '
                'and fitParam.0.fail="true" and fitParam.1.C="1.0" as info;\n'
                "select algIndex, status, message from info order by algIndex")
    (i0, s0, m0), (i1, s1, m1) = cur.fetchall()
    assert (i0, s0, i1, s1, m1) == (0, "fail", 1, "success", "")
    assert "failed with exit code 1: ValueError: boom: fitParam asked this group to fail" in m0
    assert "Traceback" in m0  # the stderr tail comes along
    logs = "\n".join(cur.fetch_logs())
    assert "about to fail" in logs and "ValueError: boom" in logs
    # Every group failing fails the statement with the script's error.
    with pytest.raises(hive_exc.OperationalError, match="ValueError: boom"):
        cur.execute('train iris as PythonAlg.`models/py_fail` where pythonScriptPath="train_lr.py" '
                    'and fail="true"')


def test_script_past_the_time_limit_is_killed_with_its_children(py_cursor, tmp_path):
    cur = py_cursor
    pid_file = tmp_path / "child.pid"
    started = time.monotonic()
    with pytest.raises(hive_exc.OperationalError,
                       match=r"sleepy.py ran longer than the time limit of 20 s \(--python-alg-timeout\)"):
        cur.execute(f'train iris as PythonAlg.`models/py_sleepy` where pythonScriptPath="sleepy.py" '
                    f'and fitParam.0.pidFile="{pid_file}"')
    assert 19 < time.monotonic() - started < 90
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while alive(child):
        assert time.monotonic() < deadline, "the script's child process survived the time limit"
        time.sleep(0.2)


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_script_paths_are_confined(py_gateway, py_cursor):
    cur = py_cursor
    cases = [
        ('pythonScriptPath="/etc/passwd"', "outside the configured script roots"),
        ('pythonScriptPath="../../data/py_user/iris.csv"', "outside the configured script roots"),
        ('pythonScriptPath="notes.txt"', "is not a .py file in a script root"),
        ('pythonScriptPath="missing.py"', "is not a .py file in a script root"),
        ("code='''print(1)'''", "does not run inline code"),
        ('pythonScriptPath="train_lr.py" and outputType="matrix"', "outputType 'matrix'"),
    ]
    cur.execute("select array(1.0, 2.0) as features, 0.0 as label as tiny")
    for options, message in cases:
        with pytest.raises(hive_exc.OperationalError, match=message):
            cur.execute(f"train tiny as PythonAlg.`models/py_bad` where {options}")
    assert not (py_gateway[1] / "data" / USER / "models" / "py_bad").exists()


def test_disabled_by_default(gateway, py_gateway, trained):
    """The session gateway (no --allow-python-alg) refuses to train, register or predict with PythonAlg,
    even for a model another gateway trained."""
    _, scratch = py_gateway
    home = gateway.scratch / "data" / USER
    (home / "models").mkdir(parents=True, exist_ok=True)
    shutil.copytree(scratch / "data" / USER / "models" / "py_lr", home / "models" / "copied")
    scripts = gateway.scratch / "scripts" / USER
    scripts.mkdir(parents=True, exist_ok=True)
    (scripts / "train_lr.py").write_text(TRAIN_LR)
    cur = hive.connect(host=gateway.host, port=gateway.port, username=USER, configuration=SMALL).cursor()
    cur.execute("select 0 as id, vec_dense(array(5.1, 3.5, 1.4, 0.2)) as features, 0.0 as label as iris")
    with pytest.raises(hive_exc.OperationalError, match="start the gateway with --allow-python-alg"):
        cur.execute('train iris as PythonAlg.`models/never` where pythonScriptPath="train_lr.py"')
    assert not (home / "models" / "never").exists()
    for statement in ("register PythonAlg.`models/copied` as nope",
                      "predict iris as PythonAlg.`models/copied` as out"):
        with pytest.raises(hive_exc.OperationalError, match="start the gateway with --allow-python-alg") as err:
            cur.execute(statement)
        assert "42501" in str(err.value)
    # Reading the model's description runs no user code and stays allowed.
    cur.execute('load modelExplain.`models/copied` where alg="PythonAlg" as e;\n'
                "select value from e where name = 'info.script'")
    assert cur.fetchall() == [("train_lr.py",)]


# -- the contract without a gateway (fast) -----------------------------------------------------------------
CONTRACT_SCRIPT = '''
import json
import mlsql
from sklearn.linear_model import LogisticRegression

batches = [len(b) for b in mlsql.read_data()(max_records=2)]
also = [len(b) for b in mlsql.read_data(3)]
est = mlsql.sklearn_configure_params(LogisticRegression())
X, y = mlsql.sklearn_all_data()
print(json.dumps({
    "keys": sorted(mlsql.params()), "batches": batches, "also": also, "C": est.C, "fit_intercept": est.fit_intercept,
    "X": X.tolist(), "y": y.tolist(), "missing": mlsql.get_param(mlsql.fit_param, "nope", "dflt"),
    "dense": [mlsql.to_dense([1, 2]), mlsql.to_dense({"type": 1, "values": [3.0]}),
              mlsql.to_dense({"type": 0, "size": 3, "indices": [2], "values": [5.0]})],
    "model_dir": mlsql.model_dir(), "resource": mlsql.resource("dict")}))
'''


def test_support_module_contract(tmp_path):
    """The mlsql module as a script sees it: the 4-part params pickle, the JSON-lines data, the helpers."""
    import pickle
    import subprocess
    import sys

    from gateway.ml.pyalg_support import SUPPORT_DIR, SUPPORT_FILES

    work, data = tmp_path / "work", tmp_path / "data"
    work.mkdir()
    data.mkdir()
    rows = [{"features": [float(i), 1.0], "label": float(i % 2)} for i in range(5)]
    (data / "part-00000.json").write_text("".join(json.dumps(r) + "\n" for r in rows[:3]))
    (data / "part-00001.json").write_text("".join(json.dumps(r) + "\n" for r in rows[3:]))
    for name in SUPPORT_FILES:
        shutil.copyfile(SUPPORT_DIR / name, work / name)
    (work / "s.py").write_text(CONTRACT_SCRIPT)
    params = {"fitParam": {"C": "2.5", "fit_intercept": "false", "unused": "x"}, "kafkaParam": {},
              "internalSystemParam": {"tempModelLocalPath": str(tmp_path / "model"), "tempDataLocalPath": str(data),
                                      "stopFlagNum": 2, "resource": {"dict": "/r/dict.txt"}},
              "systemParam": {"pythonPath": sys.executable}}
    (work / "python_temp.pickle").write_bytes(pickle.dumps(params))
    out = subprocess.run([sys.executable, "s.py"], cwd=work, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["keys"] == ["fitParam", "internalSystemParam", "kafkaParam", "systemParam"]
    assert seen["batches"] == [2, 2, 1] and seen["also"] == [3, 2]
    assert seen["C"] == 2.5 and seen["fit_intercept"] is False
    assert seen["X"] == [r["features"] for r in rows] and seen["y"] == [r["label"] for r in rows]
    assert seen["missing"] == "dflt"
    assert seen["dense"] == [[1, 2], [3.0], [0.0, 0.0, 5.0]]
    assert seen["model_dir"] == str(tmp_path / "model") and (tmp_path / "model").is_dir()
    assert seen["resource"] == "/r/dict.txt"


PREDICT_ONLY = '''
import os
import mlsql

with open(os.path.join(mlsql.model_dir(), "value.txt")) as handle:
    VALUE = handle.read()


def predict(rows):
    assert mlsql.predict_mode()
    return [f"{VALUE}:{r['x']}:{mlsql.fit_param['tag']}" for r in rows]
'''


def fake_model(root: Path, value: str):
    """A PythonAlg model group written by hand: code/, model/ and scorer.json."""
    import pickle

    from gateway.ml import scoring
    from gateway.ml.pyalg_support import SUPPORT_DIR, SUPPORT_FILES
    from gateway.ml.python_alg import PythonAlgScorer

    (root / "code").mkdir(parents=True)
    (root / "model").mkdir()
    (root / "model" / "value.txt").write_text(value)
    (root / "code" / "p.py").write_text(PREDICT_ONLY)
    for name in SUPPORT_FILES:
        shutil.copyfile(SUPPORT_DIR / name, root / "code" / name)
    params = {"fitParam": {"tag": value.lower()}, "internalSystemParam": {"tempModelLocalPath": ""}}
    (root / "code" / "python_temp.pickle").write_bytes(pickle.dumps(params))
    scoring.write_spec(root, PythonAlgScorer, allowPython=True, inputCols=["x"], outputType="string",
                       predictFile="code/p.py", argTypes=["int"])


def test_scorers_import_each_model_in_isolation(tmp_path):
    """Two PythonAlg models in one process each see their own mlsql params and model dir; the process's
    environment and modules are left as they were; the policy switch refuses to load when off."""
    import os
    import sys

    import pyarrow as pa

    from gateway.ml import python_alg, scoring

    fake_model(tmp_path / "a", "A")
    fake_model(tmp_path / "b", "B")
    python_alg.configure(True)
    try:
        a, b = scoring.load(tmp_path / "a"), scoring.load(tmp_path / "b")
        assert a.call("", pa.array([1, 2])).to_pylist() == ["A:1:a", "A:2:a"]
        assert b.call("", pa.array([3])).to_pylist() == ["B:3:b"]
        assert a.call("", pa.array([4])).to_pylist() == ["A:4:a"]
        assert "mlsql" not in sys.modules and "MLSQL_PREDICT" not in os.environ
        python_alg.configure(False)
        with pytest.raises(python_alg.PythonAlgDisabled, match="--allow-python-alg") as err:
            python_alg.PythonAlgScorer.load(tmp_path / "a", scoring.read_spec(tmp_path / "a"))
        assert err.value.sqlstate == "42501"
    finally:
        python_alg.configure(None)
