"""train, predict and register: options, parameter groups, metrics, the status table and the model store.

The runtime is the same for every backend: it splits ``fitParam.N.*`` options into groups, asks the
Algorithm to train each group into the store's temp dir, scores each model on ``evaluateTable``, and
commits the model atomically. A failing group is reported in the status table, not fatal; if every group
fails the statement fails and nothing is written.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from gateway.ml import store
from gateway.ml.algorithm import (
    CLASSIFICATION,
    REGRESSION,
    Algorithm,
    Limits,
    ModelGroup,
    TrainError,
    TrainJob,
)
from gateway.mlsql.transformers import REGISTRY

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

# Statement options the runtime reads itself; everything else goes to the algorithm's groups.
RUNTIME_OPTIONS = {"keepversion", "evaluatetable", "algindex", "autoselectbymetric", "modelversion",
                   "validatetable"}
_GROUP = re.compile(r"^fitParam\.(\d+)\.(.+)$", re.IGNORECASE)
STATUS_COLUMNS = ("modelPath", "algIndex", "alg", "metrics", "status", "message", "startTime", "endTime",
                  "trainParams")


def algorithm(name: str) -> Algorithm:
    """The trainable algorithm called ``name`` (registry lookup rules), or a clear error."""
    import gateway.ml.catalog  # noqa: F401 - registers every algorithm

    et = REGISTRY.get(name)
    if not isinstance(et, Algorithm):
        raise TrainError(f"{et.name} is a transformer, not a trainable algorithm (use: run <table> as {et.name})")
    return et


def split_groups(options: dict[str, str]) -> list[tuple[int, dict[str, str]]]:
    """``fitParam.N.k=v`` options -> [(N, shared options + group N's keys)], one group if none is given."""
    shared: dict[str, str] = {}
    groups: dict[int, dict[str, str]] = {}
    for key, value in options.items():
        match = _GROUP.match(key)
        if match:
            groups.setdefault(int(match.group(1)), {})[match.group(2)] = value
        elif key.lower() not in RUNTIME_OPTIONS and not key.lower().startswith("systemparam."):
            shared[key] = value
    if not groups:
        return [(0, shared)]
    return [(index, {**shared, **groups[index]}) for index in sorted(groups)]


def option(options: dict[str, str], name: str) -> str | None:
    lower = name.lower()
    for key, value in options.items():
        if key.lower() == lower:
            return value
    return None


@dataclass
class TrainRequest:
    spark: SparkSession
    table: str
    algorithm: str
    path: str                    # resolved, inside a data root
    display_path: str            # as the user wrote it
    options: dict[str, str]
    owner: str
    feature_sql: str | None = None
    limits: Limits = field(default_factory=Limits)
    log: Any = None
    paths: Any = None


def train(request: TrainRequest) -> list[tuple]:
    """Train every group and commit the model; returns the status rows (see STATUS_COLUMNS)."""
    alg = algorithm(request.algorithm)
    alg.check_allowed(request.limits)
    spark = request.spark
    df = spark.table(_quoted(request.table))
    if not df.take(1):
        raise TrainError(f"the training table {request.table} is empty")
    evaluate = option(request.options, "evaluateTable")
    if option(request.options, "validateTable") and request.log is not None:
        request.log("validateTable is not supported and was ignored: use evaluateTable (metrics per group), or "
                    "split the data in a PythonAlg script and print mlsql_validation_score:<float>")
    evaluate_df = spark.table(_quoted(evaluate)) if evaluate else None
    keep = (option(request.options, "keepVersion") or "false").strip().lower() == "true"
    writer = store.ModelWriter(request.path, keep)
    rows, entries, errors, failures = [], [], [], []
    try:
        for index, params in split_groups(request.options):
            started = time.time()
            job = TrainJob(spark, df, params, index, writer.group_dir(index), request.limits, request.log,
                           request.owner, request.paths)
            entry: dict[str, Any] = {"index": index, "dir": f"group_{index}", "params": params}
            try:
                entry["info"] = alg.train(job) or {}
                # Metrics an algorithm measured itself (e.g. a PythonAlg validation score), then evaluateTable's.
                metrics = dict(entry["info"].pop("metrics", None) or {})
                if evaluate_df is not None:
                    group = ModelGroup(job.out_dir, index, alg.name, params, entry["info"], {})
                    metrics.update(evaluate_model(alg, spark, evaluate_df, group))
                entry.update(status="success", metrics=metrics, message="")
            except Exception as exc:  # a failing group is reported, not fatal
                writer.drop_group(index)
                message = _error_text(exc)
                errors.append(message)
                failures.append(exc)
                entry.update(status="fail", metrics={}, message=message)
                if request.log is not None:
                    request.log(f"train group {index} failed: {message}")
            entry["start"], entry["end"] = started, time.time()
            entries.append(entry)
        if all(e["status"] == "fail" for e in entries):
            raise TrainError(f"{alg.name}: training failed: {errors[0]}",
                             getattr(failures[0], "sqlstate", None) or TrainError.sqlstate)
        meta = {
            "algorithm": alg.name, "backend": alg.backend, "algo_type": alg.algo_type,
            "created": datetime.now(timezone.utc).isoformat(), "owner": request.owner,
            "source_table": request.table, "feature_sql": request.feature_sql,
            "input_schema": df.schema.jsonValue(), "options": request.options,
            "versions": store.library_versions(*_backend_libraries(alg.backend)), "groups": entries,
        }
        target = writer.commit(meta)
    except BaseException:
        writer.abort()
        raise
    for entry in entries:
        rows.append((str(target / entry["dir"]), entry["index"], alg.name, _metrics_text(entry["metrics"]),
                     entry["status"], entry["message"], _ts(entry["start"]), _ts(entry["end"]),
                     {k: str(v) for k, v in entry["params"].items()}))
    return rows


def status_frame(spark: SparkSession, rows: list[tuple]) -> DataFrame:
    from pyspark.sql import types as T

    schema = T.StructType([
        T.StructField("modelPath", T.StringType()), T.StructField("algIndex", T.IntegerType()),
        T.StructField("alg", T.StringType()), T.StructField("metrics", T.StringType()),
        T.StructField("status", T.StringType()), T.StructField("message", T.StringType()),
        T.StructField("startTime", T.TimestampType()), T.StructField("endTime", T.TimestampType()),
        T.StructField("trainParams", T.MapType(T.StringType(), T.StringType())),
    ])
    return spark.createDataFrame(rows, schema)


def evaluate_model(alg: Algorithm, spark: SparkSession, df: DataFrame, model: ModelGroup) -> dict[str, float]:
    """Classification: f1, weightedPrecision, weightedRecall, accuracy; regression: rmse, mae, r2."""
    from pyspark.ml.evaluation import MulticlassClassificationEvaluator, RegressionEvaluator

    label = model.info.get("labelCol") or Algorithm.column_option(model.params, "labelCol", "label")
    kind = model.info.get("kind") or alg.algo_type
    if kind not in (CLASSIFICATION, REGRESSION) or label not in df.columns:
        return {}
    scored = alg.batch_predict(spark, df, model).select(
        _col(label).cast("double").alias("label"), _col("prediction").cast("double").alias("prediction")).cache()
    try:
        if kind == CLASSIFICATION:
            metrics = ("f1", "weightedPrecision", "weightedRecall", "accuracy")
            evaluator = MulticlassClassificationEvaluator(labelCol="label", predictionCol="prediction")
        else:
            metrics = ("rmse", "mae", "r2")
            evaluator = RegressionEvaluator(labelCol="label", predictionCol="prediction")
        return {m: float(evaluator.setMetricName(m).evaluate(scored)) for m in metrics}
    finally:
        scored.unpersist()


def load_group(path: str, options: dict[str, str]) -> tuple[Algorithm, ModelGroup]:
    """The model group predict/register use: modelVersion, then algIndex or autoSelectByMetric."""
    model = store.open_model(path, option(options, "modelVersion"))
    group = model.select(option(options, "algIndex"), option(options, "autoSelectByMetric"))
    return algorithm(model.algorithm), group


def _backend_libraries(backend: str) -> tuple[str, ...]:
    return {"sklearn": ("scikit-learn",), "tensorflow": ("tensorflow-cpu", "keras")}.get(backend, ())


def _metrics_text(metrics: dict[str, float]) -> str:
    return " ".join(f"{k}: {v:.6g}" for k, v in metrics.items())


def _error_text(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return first[:1000]


def _ts(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds)


def _quoted(name: str) -> str:
    return ".".join(f"`{part.strip('`')}`" for part in name.split("."))


def _col(name: str):
    from pyspark.sql import functions as F

    return F.col(f"`{name}`")
