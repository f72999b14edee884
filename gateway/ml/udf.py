"""Model and vector functions as vectorized Spark SQL functions (Arrow UDFs).

A registered function is an Arrow UDF (``pyspark.sql.functions.arrow_udf``): Spark hands each Python
worker Arrow record batches and the worker calls the scorer on whole columns. The UDF carries only the
model's directory; the worker loads the scorer once per process (:func:`gateway.ml.scoring.load`), not
per row or batch. On a cluster the model directory must be on storage every executor can read (the
data roots are expected to be shared, as HDFS-less MLSQL deployments mount them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pyarrow as pa

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

    from gateway.ml.algorithm import ModelGroup


def spark_type(ddl: str):
    """The Spark DataType for a DDL string, with ``vector`` meaning Spark ML's VectorUDT."""
    from pyspark.ml.linalg import VectorUDT
    from pyspark.sql import types as T

    kind = ddl.strip().lower().replace(" ", "")
    if kind == "vector":
        return VectorUDT()
    if kind.startswith("array<") and kind.endswith(">"):
        return T.ArrayType(spark_type(kind[6:-1]))
    if kind.startswith("map<") and kind.endswith(">"):
        key, _, value = kind[4:-1].partition(",")
        return T.MapType(spark_type(key), spark_type(value))
    return T._parse_datatype_string(kind)


def arrow_function(fn: Callable[..., pa.Array], return_type: str, arity: int | None = None):
    """A scalar Arrow UDF calling ``fn`` on whole Arrow columns (``arity`` is informational)."""
    import warnings

    from pyspark.sql import functions as F
    from pyspark.util import PythonEvalType

    with warnings.catch_warnings():  # "prefer type hints": the eval type is given explicitly on purpose
        warnings.simplefilter("ignore", UserWarning)
        return F.arrow_udf(fn, spark_type(return_type), functionType=PythonEvalType.SQL_SCALAR_ARROW_UDF)


class _ModelCall:
    """Picklable callable: load the scorer in the worker (cached) and apply one of its functions."""

    def __init__(self, directory: str, suffix: str) -> None:
        self.directory = directory
        self.suffix = suffix

    def __call__(self, *columns: pa.Array) -> pa.Array:
        from gateway.ml import scoring

        return scoring.load(self.directory).call(self.suffix, *columns)


def model_functions(model: ModelGroup, name: str) -> dict[str, Any]:
    """``{sql name: arrow UDF}`` for every function the model's scorer provides."""
    scorer = model.scorer()
    return {name + spec.suffix: arrow_function(_ModelCall(str(model.directory), spec.suffix), spec.return_type,
                                               len(spec.args))
            for spec in scorer.functions}


def register_model(spark: SparkSession, model: ModelGroup, name: str) -> list[str]:
    """Register the model's functions in this Spark session; returns the names registered."""
    functions = model_functions(model, name)
    for fn_name, fn in functions.items():
        spark.udf.register(fn_name, fn)
    return list(functions)


def main_call(model: ModelGroup, *columns: Column) -> Column:
    """The model's main function applied to ``columns`` (a Column, for DataFrame code)."""
    spec = model.scorer().function("")
    fn = arrow_function(_ModelCall(str(model.directory), ""), spec.return_type, len(spec.args))
    return fn(*columns)


def append_predictions(spark: SparkSession, df: DataFrame, model: ModelGroup, algo_type: str) -> DataFrame:
    """The default batch predict: the main function's output as ``probability`` + ``prediction``
    (classifiers: probability vector and the index of its largest entry, as MLlib does), or
    ``prediction`` for everything else."""
    from pyspark.sql import functions as F

    from gateway.ml.algorithm import CLASSIFICATION

    inputs = model.info.get("inputCols") or [model.info.get("featuresCol", "features")]
    missing = [c for c in inputs if c not in df.columns]
    if missing:
        from gateway.ml.algorithm import TrainError

        raise TrainError(f"predict: column(s) {', '.join(missing)} not found (columns: {', '.join(df.columns)})")
    call = main_call(model, *[F.col(f"`{c}`") for c in inputs])
    if algo_type == CLASSIFICATION and model.scorer().function("").return_type == "vector":
        from gateway.ml import functions as vecfn

        scored = df.withColumn("probability", call)
        argmax = arrow_function(vecfn.vec_argmax, "int", 1)
        labels = model.info.get("labels")
        prediction = argmax(F.col("probability")).cast("double")
        if labels and any(float(label) != i for i, label in enumerate(labels)):
            mapping = F.create_map(*[x for i, label in enumerate(labels) for x in (F.lit(i), F.lit(float(label)))])
            prediction = mapping[argmax(F.col("probability"))]
        return scored.withColumn("prediction", prediction)
    return df.withColumn("prediction", call)
