"""Online predict latency: POST /model/predict for a registered scikit-learn RandomForest with a SQL feature
expression, single-record requests, 1 client and 16 concurrent clients; the same request through
/run/script for contrast; and the in-process ``predict_proba`` of one record as the floor (the peer measured
in the same run).

    .venv/bin/python bench/bench_predict.py [--requests 2000] [--trees 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

from bench.peers import free_port, start_gateway  # noqa: E402

COLUMNS = [f"f{i}" for i in range(8)]
FEATURES = f"vec_dense(array({', '.join(COLUMNS)}))"
SQL = f"select vec_argmax(rf({FEATURES})) as label, vec_array(rf({FEATURES})) as probability"


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def summary(name: str, samples: list[float], wall: float) -> dict:
    return {"name": name, "n": len(samples), "p50_ms": percentile(samples, 50) * 1000,
            "p99_ms": percentile(samples, 99) * 1000, "mean_ms": statistics.fmean(samples) * 1000,
            "rps": len(samples) / wall}


def run_clients(url: str, bodies: list[dict], clients: int, path: str = "/model/predict") -> tuple[list[float], float]:
    import httpx

    latencies: list[float] = []
    lock = threading.Lock()
    chunks = [bodies[i::clients] for i in range(clients)]

    def worker(chunk: list[dict]) -> None:
        local = []
        with httpx.Client(base_url=url, timeout=60) as client:
            for body in chunk:
                started = time.perf_counter()
                resp = client.post(path, json=body)
                local.append(time.perf_counter() - started)
                if resp.status_code != 200:
                    raise RuntimeError(resp.text)
        with lock:
            latencies.extend(local)

    threads = [threading.Thread(target=worker, args=(c,)) for c in chunks]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--trees", type=int, default=30)
    parser.add_argument("--script-requests", type=int, default=50)
    args = parser.parse_args()

    import httpx
    import joblib
    import numpy as np
    import pandas as pd
    from sklearn.datasets import make_classification

    scratch = Path(tempfile.mkdtemp(prefix="bench-predict-"))
    port, rest = free_port(), free_port()
    peer = start_gateway(port, scratch / "gw", rest_port=rest,
                         extra_args=["--data-root", str(scratch / "data")])
    url = f"http://127.0.0.1:{rest}"
    try:
        x, y = make_classification(n_samples=20_000, n_features=len(COLUMNS), n_informative=6, n_classes=3,
                                   random_state=5)
        frame = pd.DataFrame(x, columns=COLUMNS)
        frame["label"] = y.astype(float)
        home = scratch / "data" / "bench"
        home.mkdir(parents=True)
        frame.to_csv(home / "train.csv", index=False)
        setup = ('load csv.`train.csv` where header="true" and inferSchema="true" as raw;\n'
                 f"select {FEATURES} as features, label from raw as t;\n"
                 f'train t as SKLearn.`m/rf` where fitParam.0.alg="RandomForestClassifier" and '
                 f'fitParam.0.n_estimators="{args.trees}" and fitParam.0.max_depth="10" and '
                 'fitParam.0.random_state="1" as info;\nregister SKLearn.`m/rf` as rf;\nselect status from info')
        with httpx.Client(base_url=url, timeout=600) as client:
            resp = client.post("/run/script", data={"sql": setup, "owner": "bench", "sessionPerUser": "true"})
            assert resp.status_code == 200 and resp.json() == [{"status": "success"}], resp.text
        records = frame[COLUMNS].to_dict("records")
        bodies = [{"dataType": "row", "data": [records[i % len(records)]], "sql": SQL, "owner": "bench"}
                  for i in range(args.requests)]
        run_clients(url, bodies[:200], 1)  # warm-up: compile cache, model load, connection
        one, wall_one = run_clients(url, bodies, 1)
        many, wall_many = run_clients(url, bodies, 16)
        scripts = []
        with httpx.Client(base_url=url, timeout=600) as client:
            for i in range(args.script_requests):
                row = records[i]
                values = ", ".join(f"{row[c]!r} as {c}" for c in COLUMNS)
                sql = f"{SQL} from (select {values}) as one_row"
                started = time.perf_counter()
                resp = client.post("/run/script", data={"sql": sql, "owner": "bench", "sessionPerUser": "true"})
                scripts.append(time.perf_counter() - started)
                assert resp.status_code == 200, resp.text
        # The floor: the same model in this process, one record per call.
        model_file = next((scratch / "data" / "bench" / "m" / "rf").glob("group_0/model.joblib"))
        model = joblib.load(model_file)
        direct = []
        for i in range(args.requests):
            row = np.array([[records[i % len(records)][c] for c in COLUMNS]])
            started = time.perf_counter()
            model.predict_proba(row)
            direct.append(time.perf_counter() - started)
        results = [summary("in-process predict_proba (1 record)", direct, sum(direct)),
                   summary("POST /model/predict, 1 client", one, wall_one),
                   summary("POST /model/predict, 16 clients", many, wall_many),
                   summary("POST /run/script (Spark), 1 client", scripts, sum(scripts))]
        print(f"\nOnline predict: RandomForest ({args.trees} trees, depth 10, 8 features), {args.requests} "
              "single-record requests\n")
        print("| Path | p50 ms | p99 ms | mean ms | req/s |")
        print("|---|---:|---:|---:|---:|")
        for r in results:
            print(f"| {r['name']} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['mean_ms']:.2f} | {r['rps']:.0f} |")
        floor = results[0]["p50_ms"]
        print(f"\np50 over the in-process floor (1 client): +{results[1]['p50_ms'] - floor:.2f} ms; "
              f"goal p50 <= 2 ms: {'met' if results[1]['p50_ms'] <= 2 else 'NOT met'}, "
              f"p99 <= 10 ms: {'met' if results[1]['p99_ms'] <= 10 else 'NOT met'}")
    finally:
        peer.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
