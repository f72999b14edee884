"""The ML runtime on a real Spark standalone cluster (master + worker from pyspark's own jars, 127.0.0.1):
train (MLlib on the executors, scikit-learn on the driver), register and score through beeline, and show the
scoring ran in Python workers forked by the executor JVM, not by the gateway."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest

from bench.peers import free_port, spark_home, start_gateway
from tests.conftest import run_beeline

pytestmark = pytest.mark.slow


def _spark_class(main: str, *args: str, log: Path) -> subprocess.Popen:
    env = dict(os.environ, SPARK_HOME=str(spark_home()), SPARK_LOCAL_IP="127.0.0.1",
               SPARK_NO_DAEMONIZE="1", SPARK_DAEMON_MEMORY="512m")
    out = open(log, "wb")  # noqa: SIM115 - closed when the process is stopped
    return subprocess.Popen([str(spark_home() / "bin" / "spark-class"), main, *args], stdout=out,
                            stderr=subprocess.STDOUT, env=env, start_new_session=True)


def _wait_for(predicate, limit: float, what: str) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, 15)
        proc.wait(20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, 9)


def _executor_python_workers() -> list[psutil.Process]:
    """Python worker processes whose ancestor is an executor JVM (CoarseGrainedExecutorBackend)."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        if "CoarseGrainedExecutorBackend" not in cmd:
            continue
        try:
            children = proc.children(recursive=True)
        except psutil.Error:
            continue
        for child in children:
            try:
                if child.status() != psutil.STATUS_ZOMBIE and "python" in child.name().lower():
                    found.append(child)
            except psutil.Error:  # exited meanwhile
                continue
    return found


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    base = tmp_path_factory.mktemp("cluster")
    port, ui = free_port(), free_port()
    master = _spark_class("org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port),
                          "--webui-port", str(ui), log=base / "master.log")
    url = f"spark://127.0.0.1:{port}"
    _wait_for(lambda: "I have been elected leader" in (base / "master.log").read_text(errors="replace"), 120,
              "the master")
    worker = _spark_class("org.apache.spark.deploy.worker.Worker", url, "--host", "127.0.0.1", "--cores", "2",
                          "--memory", "2g", "--webui-port", str(free_port()), "--work-dir", str(base / "work"),
                          log=base / "worker.log")
    _wait_for(lambda: "Successfully registered with master" in (base / "worker.log").read_text(errors="replace"),
              120, "the worker")
    try:
        yield url, base
    finally:
        _stop(worker)
        _stop(master)


def test_train_register_and_score_on_a_standalone_cluster(cluster):
    from sklearn.datasets import load_iris

    url, base = cluster
    data_root = base / "data"
    home = data_root / "clusteruser"
    home.mkdir(parents=True)
    iris = load_iris()
    frame = pd.DataFrame(iris.data, columns=["sl", "sw", "pl", "pw"])
    frame["label"] = iris.target.astype(float)
    frame.to_csv(home / "iris.csv", index=False)
    port = free_port()
    peer = start_gateway(port, base / "gw", master=url, extra_args=[
        "--data-root", str(data_root), "--conf", "spark.executor.memory=1g", "--conf", "spark.cores.max=2"])
    try:
        assert _executor_python_workers() == []
        script = (
            'load csv.`iris.csv` where header="true" and inferSchema="true" as raw;\n'
            "select vec_dense(array(sl, sw, pl, pw)) as features, label from raw r as iris;\n"
            'train iris as RandomForest.`models/rf` where fitParam.0.numTrees="10" and fitParam.0.seed="1" '
            'and evaluateTable="iris" as mllib_info;\n'
            'train iris as SKLearn.`models/sk` where fitParam.0.alg="RandomForestClassifier" '
            'and fitParam.0.random_state="1" as sk_info;\n'
            "register RandomForest.`models/rf` as rf;\nregister SKLearn.`models/sk` as sk;\n"
            "predict iris as RandomForest.`models/rf` as scored;\n"
            "select count(*) as n, "
            "sum(case when vec_argmax(rf(features)) = cast(prediction as int) then 1 else 0 end) as same, "
            "sum(case when vec_argmax(sk(features)) = cast(label as int) then 1 else 0 end) as sk_hits "
            "from scored;")
        result = run_beeline(f"jdbc:hive2://127.0.0.1:{port}/default", "--outputformat=csv2", "-e", script,
                             user="clusteruser", timeout=900)
        assert result.returncode == 0, result.output[-3000:]
        last = [line for line in result.stdout.splitlines() if line.strip()][-1]
        n, same, sk_hits = (int(v) for v in last.split(","))
        assert n == 150 and same == 150 and sk_hits >= 140
        # The model functions ran in Python workers of the executor JVM (worker reuse keeps them alive).
        workers = _executor_python_workers()
        assert workers, "no Python worker under the executor: scoring did not run on the cluster"
        gateway_children = []
        for child in psutil.Process(peer.pid).children(recursive=True):
            try:
                if "pyspark.daemon" in " ".join(child.cmdline()):
                    gateway_children.append(child)
            except psutil.Error:
                continue
        assert gateway_children == []
        assert "app-" in (base / "master.log").read_text(errors="replace")
    finally:
        peer.stop()
