"""Shared machinery for Spark MLlib algorithms: estimator options, native save/load, native batch predict.

An MLlib algorithm names its estimator class (``estimator = "pyspark.ml.classification.RandomForestClassifier"``)
and its fitted model class, and implements :meth:`MLlibAlgorithm.export` to write a portable numpy scorer
from the fitted model (read from the model object or from the files Spark saved under ``spark/``), so the
registered SQL function and online predict run without the JVM. ``predict`` uses Spark's own transform on
the saved model; tests prove that the scorer gives the same numbers.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from gateway.ml.algorithm import Algorithm, ModelGroup, TrainError, TrainJob, coerce, coerce_like
from gateway.mlsql.transformers import Param

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

NATIVE_DIR = "spark"
# Options that are not estimator params (the runtime's and MLSQL's own).
_NOT_PARAMS = {"alg"}


def _import(path: str):
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


class MLlibAlgorithm(Algorithm):
    """Base of the MLlib algorithms; subclasses set ``estimator``/``model_class`` and implement ``export``."""

    backend = "mllib"
    estimator: ClassVar[str] = ""      # dotted path of the pyspark.ml estimator class
    model_class: ClassVar[str] = ""    # dotted path of its fitted model class (for load)
    # Short MLSQL spellings -> Spark param names (e.g. inputCol -> featuresCol).
    renames: ClassVar[dict[str, str]] = {"inputCol": "featuresCol", "label": "labelCol"}

    @classmethod
    def explain_params(cls) -> list[Param]:
        """The estimator's own params (name, doc, default) plus any declared extras."""
        est = _import(cls.estimator)()
        out = list(cls.params)
        for param in sorted(est.params, key=lambda p: p.name):
            default = est.getOrDefault(param) if est.hasDefault(param) else None
            out.append(Param(param.name, param.doc, None if default is None else str(default)))
        return out

    def make_estimator(self, params: dict[str, str]):
        """The estimator with ``params`` (MLSQL option strings) converted to each param's type."""
        est = _import(self.estimator)()
        settings: dict[str, Any] = {}
        extra = {p.name for p in self.params}
        for key, value in params.items():
            renamed = self.renames.get(key, key)
            name = renamed if est.hasParam(renamed) else key  # rename only where the target exists
            if key in _NOT_PARAMS or (key in extra and not est.hasParam(name)):
                continue
            if not est.hasParam(name):
                known = ", ".join(sorted(p.name for p in est.params))
                raise TrainError(f"{self.name}: unknown parameter {key!r} (parameters: {known})")
            param = est.getParam(name)
            default = est.getOrDefault(param) if est.hasDefault(param) else None
            converted = coerce_like(value, default, key) if default is not None else coerce(value)
            try:
                settings[name] = param.typeConverter(converted)
            except TypeError as exc:
                raise TrainError(f"{self.name}: parameter {key}={value!r}: {exc}") from None
        try:
            est._set(**settings)
        except (TypeError, ValueError) as exc:
            raise TrainError(f"{self.name}: {exc}") from None
        return est

    def train(self, job: TrainJob) -> dict[str, Any]:
        est = self.make_estimator(job.params)
        columns = self.input_columns(est)
        self.require_columns(job.df, *columns)
        job.say(f"{self.name}: fitting {self.estimator.rsplit('.', 1)[-1]}")
        try:
            model = est.fit(job.df)
        except Exception as exc:  # Spark's analysis and fit errors become a clear group failure
            raise TrainError(f"{self.name}: {_spark_message(exc)}") from None
        model.write().overwrite().save(str(job.out_dir / NATIVE_DIR))
        info = {"kind": self.algo_type, "inputCols": self.scorer_inputs(est)}
        for name in ("featuresCol", "labelCol", "inputCol", "predictionCol"):
            if est.hasParam(name):
                info[name] = est.getOrDefault(name)
        info.update(self.export(model, job.out_dir, job) or {})
        return info

    # -- what subclasses provide -------------------------------------------------------------------------
    def input_columns(self, est) -> list[str]:
        """Columns the training table must have (default: features and, if the estimator has one, label)."""
        columns = []
        for name in ("featuresCol", "inputCol", "labelCol", "itemsCol", "userCol", "itemCol", "ratingCol"):
            if est.hasParam(name) and est.isDefined(name):
                columns.append(est.getOrDefault(name))
        return columns

    def scorer_inputs(self, est) -> list[str]:
        """Columns the main SQL function takes, in order (default: the features/input column)."""
        for name in ("featuresCol", "inputCol", "itemsCol"):
            if est.hasParam(name):
                return [est.getOrDefault(name)]
        return []

    def export(self, model, out_dir: Path, job: TrainJob) -> dict[str, Any] | None:
        """Write ``scorer.json`` (+ data files) for the fitted ``model``; return extra info for the meta."""
        raise NotImplementedError

    # -- predict / explain with the native model ---------------------------------------------------------
    def load_native(self, model: ModelGroup):
        return _import(self.model_class).load(str(Path(model.directory) / NATIVE_DIR))

    def batch_predict(self, spark: SparkSession, df: DataFrame, model: ModelGroup) -> DataFrame:
        native = self.load_native(model)
        missing = [c for c in model.info.get("inputCols", []) if c not in df.columns]
        if missing:
            raise TrainError(f"predict: column(s) {', '.join(missing)} not found (columns: {', '.join(df.columns)})")
        try:
            return native.transform(df)
        except Exception as exc:
            raise TrainError(f"{self.name} predict: {_spark_message(exc)}") from None

    def explain_model(self, model: ModelGroup) -> list[tuple[str, str]]:
        rows = super().explain_model(model)
        native = self.load_native(model)
        for param, value in sorted(native.extractParamMap().items(), key=lambda kv: kv[0].name):
            rows.append((f"spark.{param.name}", str(value)))
        return rows


def _spark_message(exc: BaseException) -> str:
    getter = getattr(exc, "getMessage", None)
    message = (getter() if callable(getter) else "") or str(exc)
    return (message or type(exc).__name__).strip().splitlines()[0][:1000]
