"""ML runtime benchmarks, each against its peer measured in the same run (in-process Spark, local[2]):

1. Scoring 1M rows through a registered model function (the Arrow UDF Spark runs, model loaded once per
   worker) versus in-process ``model.predict_proba`` on the same rows (goal <= 1.25x).
2. scikit-learn training through MLSQL's runtime (Spark -> Arrow -> fit -> atomic model store) versus a
   direct ``fit`` on the same 100k x 20 matrix (goal <= 1.2x).
3. MLlib RandomForest versus scikit-learn RandomForestClassifier accuracy on the same train/test split.

    .venv/bin/python bench/bench_ml.py [--rows 1000000] [--train-rows 100000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)


def spark_session():
    from pyspark.sql import SparkSession

    return (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
            .config("spark.driver.memory", "3g").config("spark.sql.shuffle.partitions", "4")
            .config("spark.sql.execution.arrow.maxRecordsPerBatch", "10000").getOrCreate())


def best_of(fn, reps: int) -> float:
    times = []
    for _ in range(reps):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def raw_frame(spark, rows: int, width: int, partitions: int = 2):
    from pyspark.sql import functions as F

    cols = [(F.rand(seed=i) * 2 - 1).alias(f"x{i}") for i in range(width)]
    return spark.range(0, rows, 1, partitions).select("id", *cols)


def features_frame(spark, rows: int, width: int, partitions: int = 2):
    from pyspark.sql import functions as F

    from gateway.ml import functions as bundle  # noqa: F401 - registered below

    cols = [(F.rand(seed=i) * 2 - 1).alias(f"x{i}") for i in range(width)]
    df = spark.range(0, rows, 1, partitions).select("id", *cols)
    label = F.when(F.col("x0") + F.col("x1") * 0.5 - F.col("x2") > 0, 1.0).otherwise(0.0)
    return df.withColumn("label", label).selectExpr("id", f"vec_dense(array({', '.join(f'x{i}' for i in range(width))}))"
                                                    " as features", "label")


def train_model(spark, tmp: Path, df, name: str, algorithm: str, options: dict[str, str]):
    from gateway.ml import runtime

    df.createOrReplaceTempView(f"{name}_input")
    request = runtime.TrainRequest(spark=spark, table=f"{name}_input", algorithm=algorithm, path=str(tmp / name),
                                   display_path=name, options=options, owner="bench")
    return runtime.train(request)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--train-rows", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()

    import numpy as np

    from gateway.engine.arrow_stream import iter_arrow_batches
    from gateway.ml import functions as bundle
    from gateway.ml import runtime, udf, vectors

    spark = spark_session()
    bundle.register_all(spark)
    tmp = Path(tempfile.mkdtemp(prefix="bench-ml-"))
    results = []

    # 1. Scoring through the registered UDF vs in-process predict_proba.
    small = features_frame(spark, 50_000, 20).cache()
    small.count()
    rows = train_model(spark, tmp, small, "rf_score", "SKLearn",
                       {"fitParam.0.alg": "RandomForestClassifier", "fitParam.0.n_estimators": "20",
                        "fitParam.0.max_depth": "8", "fitParam.0.random_state": "0"})
    assert rows[0][4] == "success", rows
    alg, group = runtime.load_group(str(tmp / "rf_score"), {})
    udf.register_model(spark, group, "rf")
    # The serving SQL builds the vector inline from plain columns, as an analyst writes it.
    scored = raw_frame(spark, args.rows, 20).cache()
    scored.count()
    scored.createOrReplaceTempView("to_score")
    serving = f"select vec_argmax(rf(vec_dense(array({', '.join(f'x{i}' for i in range(20))})))) as c from to_score"
    matrix = np.vstack([b.to_pandas().to_numpy()[:, 1:] for b in iter_arrow_batches(scored)])
    estimator = group.scorer().estimator
    direct = best_of(lambda: estimator.predict_proba(matrix).argmax(axis=1), args.reps)
    through_udf = best_of(lambda: spark.sql(serving).write.format("noop").mode("overwrite").save(), args.reps)
    baseline_scan = best_of(lambda: scored.write.format("noop").mode("overwrite").save(), args.reps)
    results.append((f"score {args.rows} rows: vec_argmax(rf(vec_dense(...))) in Spark vs in-process predict_proba", through_udf, direct, 1.25))

    # 2. sklearn training through the runtime vs a direct fit.
    from sklearn.ensemble import RandomForestClassifier

    train_df = features_frame(spark, args.train_rows, 20).cache()
    train_df.count()
    x = np.vstack([vectors.to_matrix(b.column(0)) for b in iter_arrow_batches(train_df.select("features"))])
    y = np.concatenate([b.column(0).to_numpy() for b in iter_arrow_batches(train_df.select("label"))])
    options = {"fitParam.0.alg": "RandomForestClassifier", "fitParam.0.n_estimators": "30",
               "fitParam.0.max_depth": "10", "fitParam.0.random_state": "0"}
    direct_fit = best_of(lambda: RandomForestClassifier(n_estimators=30, max_depth=10, random_state=0).fit(x, y),
                         args.reps)
    through_mlsql = best_of(lambda: train_model(spark, tmp, train_df, "rf_train", "SKLearn", options), args.reps)
    results.append((f"train {args.train_rows // 1000}k x 20: MLSQL SKLearn vs direct fit", through_mlsql, direct_fit,
                    1.2))

    print("\n| Workload | MLSQL | Peer | Ratio | Goal |")
    print("|---|---:|---:|---:|---|")
    for name, ours, peer, goal in results:
        ratio = ours / peer
        print(f"| {name} | {ours:.2f} s | {peer:.2f} s | {ratio:.2f}x | <= {goal}x: {'met' if ratio <= goal else 'NOT met'} |")
    print(f"\n(Spark scan of the same {args.rows} rows alone, no model: {baseline_scan:.2f} s)")

    # 3. MLlib vs sklearn accuracy on the same split.
    split = train_df.randomSplit([0.8, 0.2], seed=7)
    split[0].createOrReplaceTempView("acc_train")
    split[1].createOrReplaceTempView("acc_test")
    accuracy = {}
    for name, alg_name, opts in (
        ("MLlib RandomForest", "RandomForest", {"fitParam.0.numTrees": "30", "fitParam.0.maxDepth": "10",
                                                "fitParam.0.seed": "0"}),
        ("scikit-learn RandomForestClassifier", "SKLearn", options),
    ):
        try:
            status = runtime.train(runtime.TrainRequest(spark=spark, table="acc_train", algorithm=alg_name,
                                                        path=str(tmp / f"acc_{alg_name}"), display_path="acc",
                                                        options={**opts, "evaluateTable": "acc_test"}, owner="bench"))
            text = status[0][3]  # the status table's metrics text: "f1: 0.9 ... accuracy: 0.91"
            accuracy[name] = float(text.split("accuracy: ")[1].split()[0]) if "accuracy: " in text else None
        except Exception as exc:  # noqa: BLE001 - report what is missing instead of failing the whole bench
            accuracy[name] = f"unavailable: {str(exc).splitlines()[0][:80]}"
    print("\n| Same 80/20 split, 30 trees, depth 10 | test accuracy |\n|---|---:|")
    for name, value in accuracy.items():
        print(f"| {name} | {value if isinstance(value, str) else f'{value:.4f}'} |")
    spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
