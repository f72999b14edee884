"""The one Algorithm contract every trainable thing implements (MLlib, scikit-learn, TensorFlow, user code).

An Algorithm is an ET (``gateway.mlsql.transformers``) that can also be trained. The runtime
(:mod:`gateway.ml.runtime`) owns options, versions, the model store, metrics and the status table; an
algorithm only does its own part:

- ``train(job)`` fits ONE parameter group on ``job.df`` and writes everything it needs into
  ``job.out_dir`` (a private temp dir the store later renames into place): at least a ``scorer.json``
  (see :mod:`gateway.ml.scoring`) so the model can serve as a SQL function. It returns a small JSON-able
  ``info`` dict kept in the model's metadata (classes, feature size, input columns...).
- ``batch_predict(spark, df, model)`` appends prediction columns (the ``predict`` statement). The default
  applies the scorer's main function through an Arrow UDF, so ``predict`` and ``select fn(...)`` agree.
- ``explain_model(model)`` lists the trained model's parameters as (name, value) rows.
- class attributes ``name``, ``algo_type``, ``backend``, ``params`` (documented options) and ``example``
  answer ``load modelList``, ``modelParams`` and ``modelExample``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from gateway.mlsql.transformers import ET, ETError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

CLASSIFICATION = "classification"
REGRESSION = "regression"
CLUSTERING = "clustering"
FEATURE = "feature"
RECOMMENDATION = "recommendation"
PATTERN = "frequent-pattern"
TOPIC = "topic-model"


class TrainError(ETError):
    """A bad train/predict/register request (unknown option, missing column...): SQLSTATE 42000."""


@dataclass
class TrainJob:
    """What ``train`` gets for one parameter group."""

    spark: SparkSession
    df: DataFrame
    params: dict[str, str]   # the group's options (shared options merged with fitParam.N.*)
    index: int               # the group number N
    out_dir: Path            # write the model here (a temp dir, renamed into place by the store)
    limits: Limits = field(default_factory=lambda: Limits())
    log: Any = None          # callable(str) -> None: a line in the operation log
    user: str = ""           # the statement's owner
    paths: Any = None        # the gateway's PathPolicy (script_path/data_path for files an algorithm reads)

    def say(self, message: str) -> None:
        if self.log is not None:
            self.log(message)


@dataclass(frozen=True)
class Limits:
    """Guards for single-node trainers that collect the data to the driver."""

    max_rows: int = 5_000_000
    max_cells: int = 200_000_000          # rows x features (8 bytes each: 1.6 GB of float64)
    python_timeout: float = 3600.0        # seconds, for user Python algorithms
    allow_python: bool = False            # PythonAlg runs user code: off unless an administrator enables it


@dataclass
class ModelGroup:
    """One trained group of a stored model, as predict/register/explain see it."""

    directory: Path                      # the group's directory (scorer.json and the algorithm's files)
    index: int
    algorithm: str
    params: dict[str, str]
    info: dict[str, Any]
    metrics: dict[str, float]

    def scorer(self):
        from gateway.ml import scoring

        return scoring.load(self.directory)


class Algorithm(ET):
    """Base class of trainable algorithms; see the module docstring for the contract."""

    algo_type: ClassVar[str] = CLASSIFICATION
    backend: ClassVar[str] = "mllib"
    example: ClassVar[str] = ""
    # Options train reads from the input (defaults follow Spark ML's names).
    features_param: ClassVar[str] = "featuresCol"
    label_param: ClassVar[str] = "labelCol"

    def train(self, job: TrainJob) -> dict[str, Any]:
        raise NotImplementedError

    def check_allowed(self, limits: Limits | None = None) -> None:
        """Raise if the administrator has not enabled this algorithm (PythonAlg runs user code)."""

    def batch_predict(self, spark: SparkSession, df: DataFrame, model: ModelGroup) -> DataFrame:
        """Default: append the scorer's outputs through Arrow UDFs (same code as the SQL function)."""
        from gateway.ml import udf

        return udf.append_predictions(spark, df, model, model.info.get("kind") or self.algo_type)

    def explain_model(self, model: ModelGroup) -> list[tuple[str, str]]:
        rows = [("algorithm", model.algorithm), ("algIndex", str(model.index))]
        rows += [(f"param.{k}", v) for k, v in sorted(model.params.items())]
        rows += [(f"info.{k}", json.dumps(v) if not isinstance(v, str) else v)
                 for k, v in sorted(model.info.items())]
        rows += [(f"metric.{k}", repr(v)) for k, v in sorted(model.metrics.items())]
        return rows

    def run(self, spark: SparkSession, df: DataFrame, params: dict[str, str]) -> DataFrame:
        raise ETError(f"{self.name} is trained with train, not run (use: train <table> as {self.name}.`<path>`)")

    # -- helpers for implementations ----------------------------------------------------------------
    @classmethod
    def column_option(cls, params: dict[str, str], name: str, default: str) -> str:
        """A column-name option (e.g. featuresCol), accepting the reference's short spellings."""
        short = {"featuresCol": ("inputCol", "features"), "labelCol": ("label",)}
        for key in (name, *short.get(name, ())):
            if params.get(key):
                return params[key]
        return default

    @staticmethod
    def require_columns(df: DataFrame, *columns: str) -> None:
        missing = [c for c in columns if c not in df.columns]
        if missing:
            raise TrainError(f"column(s) {', '.join(missing)} not found in the training table "
                             f"(columns: {', '.join(df.columns)})")


def coerce(value: str) -> Any:
    """An option string as the Python value it spells: bool, int, float, list (``[..]`` JSON), or str."""
    text = value.strip()
    lower = text.lower()
    if lower in ("true", "false"):
        return lower == "true"
    if lower in ("none", "null"):
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        pass
    if text.startswith("[") and text.endswith("]"):
        try:
            return json.loads(text)
        except ValueError:
            pass
    return value


def coerce_like(value: str, default: Any, name: str = "") -> Any:
    """``value`` converted to the type of ``default`` (int, float, bool, list, tuple, str); else coerce()."""
    text = value.strip()
    try:
        if isinstance(default, bool):
            if text.lower() not in ("true", "false"):
                raise ValueError
            return text.lower() == "true"
        if isinstance(default, int):
            number = float(text)
            return int(number) if number.is_integer() else number
        if isinstance(default, float):
            return float(text)
        if isinstance(default, (list, tuple)):
            items = json.loads(text) if text.startswith("[") else [coerce(p) for p in text.split(",") if p.strip()]
            return type(default)(items)
    except ValueError:
        kinds = {"bool": "true or false", "int": "an integer", "float": "a number", "list": "a list",
                 "tuple": "a list"}
        wanted = kinds.get(type(default).__name__, f"a {type(default).__name__}")
        raise TrainError(f"parameter {name or '?'}={value!r} must be {wanted}") from None
    return coerce(value)
