"""The self-describing registry: every algorithm module registered, and the model* load sources.

``load modelList.`` as t`` lists algorithms and ETs; ``load modelParams.`RandomForest` as t`` their
options; ``load modelExample.`RandomForest` as t`` a runnable example; ``load modelExplain.`/path`
where alg="RandomForest" as t`` a trained model's parameters and metrics.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from gateway.mlsql.transformers import ET, REGISTRY

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

# Importing a module registers its algorithms (none import pyspark, sklearn or tensorflow at import time).
ALGORITHM_MODULES = (
    "gateway.ml.mllib_supervised",
    "gateway.ml.mllib_unsupervised",
    "gateway.ml.sklearn_alg",
    "gateway.ml.tensorflow_alg",
    "gateway.ml.python_alg",
)
for _module in ALGORITHM_MODULES:
    try:
        importlib.import_module(_module)
    except ModuleNotFoundError as _exc:
        if _exc.name != _module:
            raise

SOURCES = {"modellist", "modelparams", "modelexample", "modelexplain"}


def _info(et: type[ET]) -> tuple[str, str, str, str]:
    from gateway.ml.algorithm import Algorithm

    if issubclass(et, Algorithm):
        return et.name, et.algo_type, et.backend, et.doc()
    return et.name, "transformer", "spark", et.doc()


def load(spark: SparkSession, fmt: str, path: str, options: dict[str, str], resolve) -> DataFrame:
    """The DataFrame for a model* source; ``resolve(path)`` maps a model path into the data roots."""
    kind = fmt.lower()
    if kind == "modellist":
        rows = sorted({_info(cls) for cls in _classes()})
        return spark.createDataFrame(rows, "name string, algType string, backend string, doc string")
    if kind == "modelexplain":
        from gateway.ml import runtime

        alg_name = runtime.option(options, "alg")
        alg, group = runtime.load_group(resolve(path), options)
        if alg_name and REGISTRY.get(alg_name).name != alg.name:
            from gateway.ml.algorithm import TrainError

            raise TrainError(f"the model at {path} was trained with {alg.name}, not {alg_name}")
        return spark.createDataFrame(alg.explain_model(group), "name string, value string")
    et = REGISTRY.get(path.strip() or runtime_option_alg(options))
    if kind == "modelparams":
        rows = [(p.name, p.doc, p.default, p.required) for p in et.explain_params()]
        return spark.createDataFrame(rows, "param string, description string, default string, required boolean")
    example = getattr(et, "example", "") or f"-- no example for {et.name}"
    return spark.createDataFrame([(et.name, example, et.doc())], "name string, example string, doc string")


def runtime_option_alg(options: dict[str, str]) -> str:
    from gateway.ml import runtime

    return runtime.option(options, "alg") or ""


def _classes() -> list[type[ET]]:
    return [REGISTRY.find(name) for name in REGISTRY.names()]
