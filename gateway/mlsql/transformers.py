"""The registry of algorithms and ETs that ``train``/``run``/``predict`` name, and the general-purpose ETs.

Every entry implements one contract, :class:`ET`: ``run(spark, df, params) -> DataFrame`` for ``run``,
``explain_params()`` (the options it reads) and ``doc()``. Estimators (the ML runtime) extend the same
contract with train/predict; this module only holds the transformers that need no model.

Lookup follows the reference: the name is tried as written and with its first letter capitalised
(``repartitionExt`` finds ``RepartitionExt``), then ``SQL<Name>`` for names ending in ``Ext``/``InPlace``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from gateway.errors import GatewayError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


class ETError(GatewayError):
    """A bad ET name or option (a user error: SQLSTATE 42000)."""

    sqlstate = "42000"


@dataclass(frozen=True)
class Param:
    """One option an ET reads: its name, what it means, its default (None: required or unset)."""

    name: str
    doc: str
    default: str | None = None
    required: bool = False


class ET:
    """An estimator/transformer usable by ``run`` (and, for estimators, by train/predict/register)."""

    name: ClassVar[str] = ""
    aliases: ClassVar[tuple[str, ...]] = ()
    params: ClassVar[tuple[Param, ...]] = ()

    def run(self, spark: SparkSession, df: DataFrame, params: dict[str, str]) -> DataFrame:
        """Transform ``df`` with the statement's options; the result becomes the output table."""
        raise ETError(f"{self.name} cannot be used with run")

    @classmethod
    def explain_params(cls) -> list[Param]:
        """The options this ET understands."""
        return list(cls.params)

    @classmethod
    def doc(cls) -> str:
        """A one-paragraph description (the class docstring)."""
        return " ".join((cls.__doc__ or "").split())

    # -- option helpers ---------------------------------------------------------------------------
    def option(self, params: dict[str, str], name: str) -> str | None:
        """The option's value, its default, or an error when a required option is missing."""
        value = params.get(name)
        if value is None or value == "":
            spec = next((p for p in self.params if p.name == name), None)
            if spec is not None and spec.required:
                raise ETError(f"{self.name}: option {name!r} is required")
            return spec.default if spec is not None else None
        return value

    def int_option(self, params: dict[str, str], name: str, minimum: int = 0) -> int | None:
        value = self.option(params, name)
        if value is None:
            return None
        try:
            number = int(value.strip())
        except ValueError:
            raise ETError(f"{self.name}: option {name!r} must be an integer, not {value!r}") from None
        if number < minimum:
            raise ETError(f"{self.name}: option {name!r} must be at least {minimum}, not {number}")
        return number

    def unknown_options(self, params: dict[str, str]) -> list[str]:
        """Options this ET does not read (reported in the log, not refused: reference scripts carry extras)."""
        known = {p.name for p in self.params}
        return sorted(k for k in params if k not in known)


class Registry:
    """Name -> ET class, with the reference's lookup rules."""

    def __init__(self) -> None:
        self._entries: dict[str, type[ET]] = {}

    def register(self, cls: type[ET]) -> type[ET]:
        """Add ``cls`` under its name and aliases (usable as a class decorator)."""
        for key in (cls.name, *cls.aliases):
            if key in self._entries:
                raise ValueError(f"{key} is registered twice")
            self._entries[key] = cls
        return cls

    def find(self, name: str) -> type[ET] | None:
        """The ET for ``name``, or None."""
        capitalised = name[:1].upper() + name[1:]
        candidates = [name, capitalised]
        if capitalised.endswith(("Ext", "InPlace")):
            candidates.append(f"SQL{capitalised}")
        for key in candidates:
            if key in self._entries:
                return self._entries[key]
        return None

    def get(self, name: str) -> ET:
        """An instance of the ET for ``name``; an error naming it if there is none."""
        cls = self.find(name)
        if cls is None:
            raise ETError(f"`{name}` is not found (known: {', '.join(self.names())})")
        return cls()

    def names(self) -> list[str]:
        return sorted({cls.name for cls in self._entries.values()})


REGISTRY = Registry()


@REGISTRY.register
class RepartitionExt(ET):
    """Repartition the table into partitionNum partitions (hash-partitioned by partitionCols when given)."""

    name = "RepartitionExt"
    params = (
        Param("partitionNum", "the number of partitions", required=True),
        Param("partitionCols", "comma-separated columns to hash-partition by (optional)"),
    )

    def run(self, spark: SparkSession, df: DataFrame, params: dict[str, str]) -> DataFrame:
        count = self.int_option(params, "partitionNum", minimum=1)
        columns = _columns(self.option(params, "partitionCols"))
        return df.repartition(count, *[_col(c) for c in columns]) if columns else df.repartition(count)


@REGISTRY.register
class RateSampler(ET):
    """Per-label stratified split: adds an int column __split__ (0, 1, ...) so that within every label the
    rows are shuffled and divided by sampleRate (e.g. "0.8,0.2": 80 % get 0, 20 % get 1)."""

    name = "RateSampler"
    params = (
        Param("labelCol", "the column to stratify by", default="label"),
        Param("sampleRate", "comma-separated fractions summing to 1", default="0.9,0.1"),
        Param("seed", "random seed for a repeatable split (optional)"),
        Param("isSplitWithSubLabel", "accepted for compatibility: the split is always per label"),
    )
    column = "__split__"

    def run(self, spark: SparkSession, df: DataFrame, params: dict[str, str]) -> DataFrame:
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        label = self.option(params, "labelCol") or "label"
        if label not in df.columns:
            raise ETError(f"{self.name}: labelCol {label!r} is not a column of the table "
                          f"(columns: {', '.join(df.columns)})")
        bounds = _cumulative_rates(self.name, self.option(params, "sampleRate") or "")
        seed = self.int_option(params, "seed")
        # F.rand() fixes its seed now, so every query over the result sees the same assignment.
        order, size = f"__order_{uuid.uuid4().hex[:8]}", f"__size_{uuid.uuid4().hex[:8]}"
        by_label = Window.partitionBy(_col(label))
        shuffled = df.withColumn(order, F.rand(seed) if seed is not None else F.rand())
        ranked = shuffled.withColumn(size, F.count(F.lit(1)).over(by_label)).withColumn(
            order, F.row_number().over(by_label.orderBy(F.col(order))))
        # Row r of n (1-based, shuffled) goes to the first part whose cumulative share reaches r.
        split = F.lit(len(bounds) - 1)
        for index in range(len(bounds) - 2, -1, -1):
            split = F.when(F.col(order) <= F.round(F.col(size) * F.lit(bounds[index])), F.lit(index)).otherwise(split)
        kept = [_col(c) for c in df.columns if c != self.column]
        return ranked.withColumn(self.column, split.cast("int")).select(*kept, F.col(self.column))


@REGISTRY.register
class SQLTransform(ET):
    """A feature step written in SQL: statement is a Spark SQL query over __THIS__ (the input table), as in
    Spark ML's SQLTransformer, e.g. statement="select *, a * 2 as a2 from __THIS__"."""

    name = "SQLTransform"
    aliases = ("SQLTransformer",)
    params = (Param("statement", "a query that reads the input as __THIS__", required=True),)
    placeholder = "__THIS__"

    def run(self, spark: SparkSession, df: DataFrame, params: dict[str, str]) -> DataFrame:
        statement = self.option(params, "statement") or ""
        if self.placeholder not in statement:
            raise ETError(f"{self.name}: statement must read the input table as {self.placeholder}")
        view = f"__this_{uuid.uuid4().hex}"
        df.createOrReplaceTempView(view)
        try:
            # The query is analysed here, so the result no longer needs the view.
            return spark.sql(statement.replace(self.placeholder, f"`{view}`"))
        finally:
            spark.catalog.dropTempView(view)


def _col(name: str):
    """A column by its exact name (dots and spaces included)."""
    from pyspark.sql import functions as F

    return F.col("`" + name.replace("`", "``") + "`")


def _columns(text: str | None) -> list[str]:
    return [c.strip() for c in (text or "").split(",") if c.strip()]


def _cumulative_rates(et: str, text: str) -> list[float]:
    """``"0.8,0.2"`` -> ``[0.8, 1.0]``; the fractions must be non-negative and sum to 1."""
    try:
        rates = [float(part) for part in text.split(",")]
    except ValueError:
        raise ETError(f"{et}: sampleRate must be comma-separated numbers, not {text!r}") from None
    if not rates or any(r < 0 for r in rates) or abs(sum(rates) - 1.0) > 1e-6:
        raise ETError(f"{et}: sampleRate fractions must be non-negative and sum to 1, not {text!r}")
    bounds, total = [], 0.0
    for rate in rates:
        total += rate
        bounds.append(total)
    bounds[-1] = 1.0
    return bounds
