"""load and save: Spark readers and writers behind MLSQL's ``format.`path``` sources, confined to data roots."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from gateway.engine.paths import PathPolicy, atomic_output
from gateway.errors import GatewayError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

FILE_FORMATS = {"csv", "json", "parquet", "orc", "text", "libsvm", "xml", "avro", "image", "binaryfile"}
SAVE_MODES = {"overwrite", "append", "errorifexists", "ignore"}
# MLSQL-only options that must not reach Spark's readers and writers.
_MLSQL_OPTIONS = {"filenum", "directquery", "partitionby"}


class UnknownSource(GatewayError):
    sqlstate = "42000"


def spark_options(options: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in options.items() if k.lower() not in _MLSQL_OPTIONS}


def load(spark: SparkSession, fmt: str, path: str, options: dict[str, str], *, user: str, paths: PathPolicy,
         variables, connections: dict[str, dict[str, str]]) -> DataFrame:
    """The DataFrame ``load <fmt>.`<path>` options ...`` denotes."""
    kind = fmt.lower()
    if kind in FILE_FORMATS:
        reader = spark.read.format(kind).options(**spark_options(options))
        if kind == "text" and "," in path:
            return reader.load([paths.data_path(p.strip(), user) for p in path.split(",")])
        return reader.load(paths.data_path(path, user))
    if kind == "jsonstr":
        return _json_lines(spark, variables.value(path))
    if kind == "script":
        from pyspark.sql.types import StringType, StructField, StructType

        return spark.createDataFrame([(variables.value(path),)], StructType([StructField("content", StringType())]))
    if kind == "jdbc":
        return _jdbc_reader(spark, path, options, connections).load()
    if kind in ("hive", "table", "catalog"):
        return spark.table(path)
    if kind in ("modellist", "modelparams", "modelexample", "modelexplain"):
        from gateway.ml import catalog

        return catalog.load(spark, kind, path, options, lambda p: paths.data_path(p, user))
    raise UnknownSource(f"unknown data source {fmt!r} in load; known: {', '.join(sorted(KNOWN_LOAD))}")


KNOWN_LOAD = FILE_FORMATS | {"jsonStr", "script", "jdbc", "hive", "table", "modelList", "modelParams",
                             "modelExample", "modelExplain"}


def _json_lines(spark: SparkSession, text: str) -> DataFrame:
    """Rows from JSON lines held in a variable (schema inferred by Spark's JSON reader)."""
    lines = [line for line in text.splitlines() if line.strip()]
    for number, line in enumerate(lines, 1):
        try:
            json.loads(line)
        except ValueError as exc:
            raise GatewayError(f"jsonStr line {number} is not valid JSON: {exc}", "22000") from None
    strings = spark.createDataFrame([(line,) for line in lines], "value string")
    jvm = spark.sparkContext._jvm
    as_strings = getattr(strings._jdf, "as")(jvm.org.apache.spark.sql.Encoders.STRING())
    from pyspark.sql import DataFrame

    return DataFrame(spark._jsparkSession.read().json(as_strings), spark)


def _jdbc_reader(spark: SparkSession, path: str, options: dict[str, str], connections: dict[str, dict[str, str]]):
    """``jdbc.`alias.table``` (an alias from connect) or ``jdbc.`table``` with inline url/driver options."""
    alias, _, table = path.partition(".")
    merged: dict[str, str] = {}
    if table and alias in connections:
        merged.update(connections[alias])
    else:
        table = path
    merged.update(options)
    direct = next((v for k, v in options.items() if k.lower() == "directquery"), None)
    merged = spark_options(merged)
    if "url" not in merged:
        raise GatewayError(f"jdbc source {path!r} has no url: connect an alias first or pass url=...", "42000")
    reader = spark.read.format("jdbc").options(**merged)
    return reader.option("query", direct) if direct else reader.option("dbtable", table)


def save(df: DataFrame, fmt: str, path: str, mode: str, options: dict[str, str], partition_by: tuple[str, ...], *,
         user: str, paths: PathPolicy, connections: dict[str, dict[str, str]]) -> str:
    """Write ``df``; file outputs go to a temporary sibling first and replace the target in one rename."""
    kind = fmt.lower()
    mode_l = (mode or "errorIfExists").lower()
    if mode_l not in SAVE_MODES:
        raise GatewayError(f"unknown save mode {mode!r}: overwrite, append, errorIfExists or ignore", "42000")
    file_num = next((v for k, v in options.items() if k.lower() == "filenum"), None)
    if file_num:
        try:
            df = df.repartition(int(file_num))
        except ValueError:
            raise GatewayError(f"fileNum must be a whole number, got {file_num!r}", "22023") from None
    writer = df.write.format(kind).options(**spark_options(options))
    if partition_by:
        writer = writer.partitionBy(*partition_by)
    if kind in FILE_FORMATS:
        target = paths.data_path(path, user)
        if mode_l == "append":
            writer.mode("append").save(target)
            return target
        with atomic_output(target, mode_l) as temp:
            writer.mode("errorifexists").save(temp)
        return target
    if kind == "jdbc":
        alias, _, table = path.partition(".")
        merged = dict(connections.get(alias, {})) if table and alias in connections else {}
        merged.update(spark_options(options))
        if "url" not in merged:
            raise GatewayError(f"jdbc target {path!r} has no url: connect an alias first or pass url=...", "42000")
        writer.format("jdbc").options(**merged).option("dbtable", table or path).mode(mode_l).save()
        return path
    if kind in ("hive", "table", "catalog"):
        writer.mode(mode_l).saveAsTable(path)
        return path
    raise UnknownSource(f"unknown data source {fmt!r} in save")
