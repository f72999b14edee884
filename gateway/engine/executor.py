"""The statement-execution seam: ExecuteStatement hands its text to a StatementExecutor.

Today's executor runs Spark SQL. The MLSQL script runner plugs in here without touching the protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

    from gateway.operation.oplog import OperationLog


@dataclass
class StatementContext:
    """What an executor may use: the session's Spark, its variables, the operation's log and owner."""

    spark: SparkSession
    user: str
    variables: dict[str, str]
    log: OperationLog
    state: dict[str, Any] = field(default_factory=dict)  # per-session executor state (MLSQL context...)
    # The session's statements for !show jobs / !kill (absent outside an HS2 session): ``jobs()`` lists
    # them as dicts; ``kill(id)`` cancels one (False if it had ended; KeyError if no such statement).
    operation_id: str | None = None
    jobs: Callable[[], list[dict[str, Any]]] | None = None
    kill: Callable[[str], bool] | None = None


@dataclass
class StatementResult:
    """Either a DataFrame to stream, rows already in memory, or nothing (an empty result)."""

    dataframe: DataFrame | None = None
    table: pa.Table | None = None
    schema: StructType | None = None
    modified_rows: int | None = None
    message: str | None = None


class StatementExecutor(Protocol):
    """Runs one client statement (which may be a script) in a session."""

    def execute(self, ctx: StatementContext, statement: str) -> StatementResult: ...


class SparkSqlExecutor:
    """Plain Spark SQL: ``spark.sql(statement)``; commands run eagerly, queries stream lazily."""

    def execute(self, ctx: StatementContext, statement: str) -> StatementResult:
        return StatementResult(dataframe=run_sql(ctx.spark, statement))


def run_sql(spark: SparkSession, statement: str) -> DataFrame:
    """``spark.sql(statement)`` without PySpark's argument marshalling (four fewer py4j round trips)."""
    from pyspark.sql import DataFrame

    return DataFrame(spark._jsparkSession.sql(statement), spark)
