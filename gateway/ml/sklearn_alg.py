"""scikit-learn behind the Algorithm contract: ``train t as SKLearn.`/m` where fitParam.0.alg="SVC"``.

Training data comes from Spark as Arrow batches (streamed, then stacked into one float64 matrix), after a
size check that fails with a clear message long before the driver would run out of memory. Estimators are
chosen by class name from an allow-list (sklearn's own estimators in the modules below); string options
are coerced to the type of the estimator's default. MultinomialNB learns with ``partial_fit`` over
``batchSize`` rows at a time, so it never holds the whole table. The model is saved with joblib; its
scorer serves predict_proba (classifiers: the probability vector), predict (regressors, clusterers) or
transform (transformers) on Arrow columns.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from gateway.ml import scoring, vectors
from gateway.ml.algorithm import (
    CLASSIFICATION,
    CLUSTERING,
    FEATURE,
    REGRESSION,
    Algorithm,
    TrainError,
    TrainJob,
    coerce,
    coerce_like,
)
from gateway.ml.scoring import FunctionSpec, Scorer
from gateway.mlsql.transformers import REGISTRY, Param

# Estimators are looked up by class name among sklearn's own estimators in these modules, never by an
# import path a user supplies.
ALLOWED_MODULES = ("sklearn.ensemble", "sklearn.linear_model", "sklearn.svm", "sklearn.naive_bayes",
                   "sklearn.neighbors", "sklearn.tree", "sklearn.cluster", "sklearn.preprocessing",
                   "sklearn.decomposition", "sklearn.neural_network", "sklearn.discriminant_analysis")
BUILTIN = ("GradientBoostingClassifier", "RandomForestClassifier", "SVC", "MultinomialNB")
MODEL_FILE = "model.joblib"
_NOT_PARAMS = {"alg", "featuresCol", "inputCol", "labelCol", "label", "batchSize", "labelSize", "features"}


def allowed_estimators() -> dict[str, type]:
    from sklearn.utils import all_estimators

    found = {}
    for name, cls in all_estimators():
        if cls.__module__.startswith(ALLOWED_MODULES) and not name.startswith("_"):
            found[name] = cls
    return found


def estimator_kind(cls: type) -> str:
    from sklearn.base import is_classifier, is_regressor

    est = cls()
    if is_classifier(est):
        return CLASSIFICATION
    if is_regressor(est):
        return REGRESSION
    if hasattr(cls, "fit_predict") or cls.__module__.startswith("sklearn.cluster"):
        return CLUSTERING
    return FEATURE


def make_estimator(name: str, params: dict[str, str]):
    """The allow-listed estimator ``name`` with ``params`` coerced to the types of its defaults."""
    estimators = allowed_estimators()
    cls = estimators.get(name)
    if cls is None:
        close = [n for n in estimators if n.lower() == name.lower()]
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise TrainError(f"SKLearn: {name!r} is not an allowed scikit-learn estimator{hint}")
    defaults = cls().get_params(deep=False)
    settings: dict[str, Any] = {}
    for key, value in params.items():
        if key in _NOT_PARAMS:
            continue
        if key not in defaults:
            raise TrainError(f"SKLearn {name}: unknown parameter {key!r} "
                             f"(parameters: {', '.join(sorted(defaults))})")
        default = defaults[key]
        settings[key] = coerce_like(value, default, key) if default is not None else coerce(value)
    if name == "SVC" and "probability" not in settings:
        settings["probability"] = True  # the registered function returns a probability vector
    try:
        return cls(**settings)
    except (TypeError, ValueError) as exc:
        raise TrainError(f"SKLearn {name}: {exc}") from None


def collect_xy(job: TrainJob, features: str, label: str | None) -> tuple[np.ndarray, np.ndarray | None]:
    """The training table as (X, y), streamed from Spark as Arrow, within the driver's size limits."""
    columns = [features] + ([label] if label else [])
    Algorithm.require_columns(job.df, *columns)
    df = job.df.select(*[as_arrays(job.df, c) for c in columns])
    rows = df.count()
    if rows == 0:
        raise TrainError("the training table is empty")
    limits = job.limits
    if rows > limits.max_rows:
        raise TrainError(f"the training table has {rows} rows; single-node trainers take at most "
                         f"{limits.max_rows} (sample it first, e.g. with RateSampler, or raise the limit)")
    parts_x, parts_y, width = [], [], None
    for batch in batches(df):
        matrix = vectors.to_matrix(batch.column(0), width)
        width = matrix.shape[1]
        if rows * width > limits.max_cells:
            raise TrainError(f"{rows} rows x {width} features exceed the single-node limit of "
                             f"{limits.max_cells} values; sample or reduce the features first")
        parts_x.append(matrix)
        if label:
            parts_y.append(batch.column(1).to_numpy(zero_copy_only=False))
    x = np.vstack(parts_x)
    if np.isnan(x).any():
        raise TrainError(f"column {features} has null or NaN values; fill or filter them before training")
    y = np.concatenate(parts_y) if label else None
    if y is not None and (y.dtype == object and any(v is None for v in y)):
        raise TrainError(f"label column {label} has null values")
    return x, y


def as_arrays(df, column: str):
    """``column`` ready for Arrow transfer: Spark ML vectors become array<double> in the JVM first
    (Spark writes struct columns, which vectors are, to Arrow several times slower than arrays)."""
    from pyspark.ml.functions import vector_to_array
    from pyspark.ml.linalg import VectorUDT
    from pyspark.sql import functions as F

    col = F.col(f"`{column}`")
    if isinstance(df.schema[column].dataType, VectorUDT):
        return vector_to_array(col).alias(column)
    return col


def batches(df):
    from gateway.engine.arrow_stream import iter_arrow_batches

    for batch in iter_arrow_batches(df):
        if batch.num_rows:
            yield batch


class SKLearn(Algorithm):
    """scikit-learn estimators trained on the driver from Arrow batches; fitParam.N.alg picks the class
    (GradientBoostingClassifier, RandomForestClassifier, SVC, MultinomialNB or any allow-listed estimator)."""

    name = "SKLearn"
    aliases = ("Sklearn", "ScikitLearn")
    backend = "sklearn"
    algo_type = CLASSIFICATION
    params: ClassVar[tuple[Param, ...]] = (
        Param("fitParam.N.alg", "the estimator class, e.g. RandomForestClassifier", required=True),
        Param("fitParam.N.featuresCol", "the vector or array<double> column", default="features"),
        Param("fitParam.N.labelCol", "the label column (classifiers and regressors)", default="label"),
        Param("fitParam.N.batchSize", "rows per partial_fit call (MultinomialNB)", default="1000"),
        Param("fitParam.N.<param>", "any parameter of the estimator, coerced to its default's type"),
    )
    example = ("train data as SKLearn.`/models/sk` where fitParam.0.alg=\"RandomForestClassifier\" "
               "and fitParam.0.n_estimators=\"50\" and fitParam.0.random_state=\"7\";\n"
               "register SKLearn.`/models/sk` as sk_predict;\n"
               "select vec_argmax(sk_predict(features)) as predicted from data;")

    def train(self, job: TrainJob) -> dict[str, Any]:
        import joblib

        name = job.params.get("alg")
        if not name:
            raise TrainError('SKLearn needs fitParam.N.alg, e.g. fitParam.0.alg="RandomForestClassifier"')
        estimator = make_estimator(name, job.params)
        kind = estimator_kind(type(estimator))
        features = self.column_option(job.params, "featuresCol", "features")
        label = self.column_option(job.params, "labelCol", "label") if kind in (CLASSIFICATION, REGRESSION) \
            else None
        if name == "MultinomialNB":
            width = self._partial_fit(job, estimator, features, label)
        else:
            x, y = collect_xy(job, features, label)
            width = x.shape[1]
            job.say(f"SKLearn {name}: fitting {x.shape[0]} rows x {width} features")
            try:
                estimator.fit(x, y) if y is not None else estimator.fit(x)
            except ValueError as exc:
                raise TrainError(f"SKLearn {name}: {exc}") from None
        joblib.dump(estimator, job.out_dir / MODEL_FILE)
        scoring.write_spec(job.out_dir, SKLearnScorer, kind=kind, featureSize=width)
        info: dict[str, Any] = {"estimator": name, "kind": kind, "featuresCol": features, "featureSize": width,
                                "inputCols": [features]}
        if label:
            info["labelCol"] = label
        if hasattr(estimator, "classes_"):
            info["labels"] = [c.item() if hasattr(c, "item") else c for c in estimator.classes_]
        return info

    def _partial_fit(self, job: TrainJob, estimator, features: str, label: str) -> int:
        size = int(coerce_like(job.params.get("batchSize", "1000"), 1, "batchSize"))
        self.require_columns(job.df, features, label)
        df = job.df.select(as_arrays(job.df, features), as_arrays(job.df, label))
        classes = sorted(r[0] for r in df.select(f"`{label}`").distinct().collect())
        if not classes:
            raise TrainError("the training table is empty")
        width, seen = None, 0
        for batch in batches(df):
            for start in range(0, batch.num_rows, size):
                part = batch.slice(start, size)
                x = vectors.to_matrix(part.column(0), width)
                width = x.shape[1]
                estimator.partial_fit(x, part.column(1).to_numpy(zero_copy_only=False), classes=classes)
                seen += part.num_rows
        job.say(f"SKLearn MultinomialNB: partial_fit over {seen} rows in batches of {size}")
        return width or 0

    def explain_model(self, model) -> list[tuple[str, str]]:
        import joblib

        estimator = joblib.load(Path(model.directory) / MODEL_FILE)
        rows = super().explain_model(model)
        rows += [(f"estimator.{k}", repr(v)) for k, v in sorted(estimator.get_params(deep=False).items())]
        return rows


class SKLearnScorer(Scorer):
    """A joblib-saved estimator: probability vector, prediction or transform, by the estimator's kind."""

    def __init__(self, estimator, kind: str, width: int) -> None:
        self.estimator = estimator
        self.kind = kind
        self.width = width
        main = {CLASSIFICATION: "vector", REGRESSION: "double", CLUSTERING: "int", FEATURE: "vector"}[kind]
        self.functions = (FunctionSpec("", "main", main, ("vector",), "the model's output"),)

    @property
    def _forest(self) -> bool:
        """A single-output forest classifier scored tree by tree without joblib (its per-call dispatch costs
        more than the trees for a few rows); the sum runs in sklearn's own order, so results are identical."""
        from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier

        est = self.estimator
        return (type(est) in (RandomForestClassifier, ExtraTreesClassifier) and est.n_outputs_ == 1
                and est.n_jobs in (None, 1))

    def _forest_proba(self, x: np.ndarray) -> np.ndarray:
        x = self.estimator._validate_X_predict(x)  # float32, as every tree expects
        n_classes = len(self.estimator.classes_)
        total = np.zeros((x.shape[0], n_classes), dtype=np.float64)
        for tree in self.estimator.estimators_:
            # DecisionTreeClassifier.predict_proba without its per-call validation (the leaves already
            # hold class fractions); a parity test pins this to sklearn's own predict_proba.
            total += tree.tree_.predict(x)[:, :n_classes]
        total /= len(self.estimator.estimators_)
        return total

    @classmethod
    def load(cls, directory: Path, spec: dict[str, Any]) -> SKLearnScorer:
        import joblib

        return cls(joblib.load(directory / MODEL_FILE), spec["kind"], int(spec["featureSize"]))

    def main(self, features):
        x = vectors.to_matrix(features, self.width)
        nulls = np.isnan(x).any(axis=1)
        if nulls.any():
            x = np.where(np.isnan(x), 0.0, x)
        if self.kind == CLASSIFICATION and self._forest:
            out = self._forest_proba(x)
        elif self.kind == CLASSIFICATION:
            out = self.estimator.predict_proba(x) if hasattr(self.estimator, "predict_proba") else \
                np.eye(len(self.estimator.classes_))[np.searchsorted(self.estimator.classes_, self.estimator.predict(x))]
            out = np.asarray(out, dtype=np.float64)
        elif self.kind == FEATURE:
            out = np.asarray(self.estimator.transform(x), dtype=np.float64)
        else:
            out = np.asarray(self.estimator.predict(x), dtype=np.float64)
        if not nulls.any():
            return out
        if out.ndim == 2:
            return vectors.from_matrix(out, nulls)
        if self.kind == CLUSTERING:
            return pa.array(np.where(nulls, 0, out).astype(np.int32), pa.int32(), mask=nulls)
        return pa.array(out, pa.float64(), mask=nulls)


REGISTRY.register(SKLearn)
