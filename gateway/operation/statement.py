"""ExecuteStatement: runs a statement through the session's executor and streams its rows."""

from __future__ import annotations

import functools
import logging
import re
import threading
import time
from typing import TYPE_CHECKING

import pyarrow as pa

from gateway.engine import arrow_stream
from gateway.engine.executor import StatementContext, StatementExecutor
from gateway.engine.jobs import StageProgress, cancel_jobs, job_scope, now_ms, progress_bar, stage_progress
from gateway.operation.base import EXECUTE_STATEMENT, Operation
from gateway.operation.state import OperationState
from gateway.results.resultset import ResultSet

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from gateway.session import Session

log = logging.getLogger(__name__)

PROGRESS_HEADER = ["STAGES", "ATTEMPT", "STATUS", "TOTAL", "COMPLETED", "RUNNING", "PENDING", "FAILED", ""]


class ExecuteStatement(Operation):
    """One ExecuteStatement request: PENDING in the pool, RUNNING in Spark, FINISHED when rows can be fetched."""

    op_type = EXECUTE_STATEMENT
    kind = "statement"

    def __init__(
        self,
        session: Session,
        statement: str,
        executor: StatementExecutor,
        conf_overlay: dict[str, str] | None = None,
        query_timeout: float = 0,
        retain_bytes: int = 64 << 20,
    ) -> None:
        super().__init__(session)
        self.statement = statement
        self.executor = executor
        self.conf_overlay = dict(conf_overlay or {})
        self.query_timeout = query_timeout
        self.retain_bytes = retain_bytes
        self._timer: threading.Timer | None = None
        self._logged_stages: dict[int, str] = {}
        self._progress_lock = threading.Lock()
        self._working = threading.Event()  # set while a thread runs Spark work for this statement
        self._final_progress = None
        self.job_name: str | None = None   # REST jobName (the id otherwise)
        self.source = "thrift"             # which front door started it: thrift | rest

    # -- lifecycle ------------------------------------------------------------------------------------
    def submitted(self) -> None:
        """Called when queued in the pool: PENDING, and the timeout clock starts."""
        self.transition(OperationState.PENDING)
        self.log.add(f"Statement {self.id} submitted by {self.session.user}: {_preview(self.statement)}")
        if self.query_timeout and self.query_timeout > 0:
            self._timer = threading.Timer(self.query_timeout, self.timeout)
            self._timer.daemon = True
            self._timer.start()
            self.on_terminal(lambda _op: self._timer.cancel() if self._timer else None)

    def _scope(self):
        return job_scope(self.session.spark.sparkContext, self.id, self.statement, self.session.user)

    def run(self) -> None:
        self._working.set()
        try:
            super().run()
        finally:
            self._working.clear()

    def _run(self) -> None:
        spark = self.session.spark
        started = time.monotonic()
        self.log.add("Running statement")
        self.session.sync_catalog()
        with self._scope(), self.session.conf_overlay(self.conf_overlay):
            ctx = StatementContext(spark, self.session.user, self.session.variables, self.log,
                                   self.session.executor_state, operation_id=self.id,
                                   jobs=self._session_jobs, kill=self._kill_in_session)
            try:
                outcome = self.executor.execute(ctx, self.statement)
            finally:
                self.session.note_statement(self.statement)
            self.modified_rows = outcome.modified_rows
            if outcome.message:
                self.log.add(outcome.message)
            if outcome.dataframe is not None:
                self.result = self._stream(outcome.dataframe)
            elif outcome.table is not None and outcome.schema is not None:
                self.result = ResultSet.from_table(outcome.schema, outcome.table)
            else:
                self.result = _no_rows()
            if self.state == OperationState.RUNNING:
                self.result.prime()  # first batch in hand: errors surface here, not at fetch time
        elapsed = time.monotonic() - started
        if elapsed > 0.5:  # quick statements skip the StatusTracker round trips
            self._log_stages()
        self.log.add(f"Statement ready in {elapsed:.3f} s")

    def _statements(self) -> list[ExecuteStatement]:
        return [op for op in list(self.session.operations.values()) if isinstance(op, ExecuteStatement)]

    def _session_jobs(self) -> list[dict]:
        """The jobs this statement's owner may see, oldest first (what ``!show jobs`` lists)."""
        from gateway.jobs import describe

        registry = getattr(self.session, "job_registry", None)
        if registry is not None:
            return registry.describe(self.session.user)
        return [describe(op) for op in sorted(self._statements(), key=lambda op: op.created)]

    def _kill_in_session(self, op_id: str) -> bool:
        """Cancel one of the owner's jobs as CancelOperation does; False if it had already ended.

        KeyError if there is no such job (or it belongs to another user and the owner is not an admin).
        """
        from gateway.jobs import JobNotFound

        registry = getattr(self.session, "job_registry", None)
        if registry is not None:
            try:
                return bool(registry.kill(self.session.user, job_id=op_id)[0]["killed"])
            except JobNotFound:
                raise KeyError(op_id) from None
        for op in self._statements():
            if op.id == op_id:
                was_active = not op.state.terminal
                op.cancel()
                return was_active and op.state == OperationState.CANCELED
        raise KeyError(op_id)

    def _stream(self, df: DataFrame) -> ResultSet:
        """A ResultSet that streams ``df`` through Arrow, prefetching in a producer thread."""
        if not df.schema.fields:
            return _no_rows()
        convertible = _arrow_convertible(df)
        # Columns cast to strings (UDTs, calendar intervals, variants) are described as STRING, as STS does.
        spark_schema = convertible.schema
        params = self.session.arrow_params()
        schema = arrow_stream.arrow_schema(convertible, params)
        source = functools.partial(arrow_stream.iter_arrow_batches, convertible, self._scope, params)

        def exhausted(rows: int) -> None:
            self.log.add(f"Fetched all {rows} rows")

        return ResultSet(spark_schema, schema, source, self.retain_bytes, exhausted)

    def _stop_work(self) -> None:
        """Cancel the job group now, and again while the worker is still inside Spark.

        A job that starts just after a cancel (planning was still under way) would otherwise run to its end.
        """
        sc = self.session.spark.sparkContext
        cancel_jobs(sc, self.id)
        if self.result is not None:
            self.result.close()

        def keep_cancelling() -> None:
            deadline = time.monotonic() + 300
            while self._working.is_set() and time.monotonic() < deadline:
                time.sleep(0.2)
                cancel_jobs(sc, self.id)

        if self._working.is_set():
            threading.Thread(target=keep_cancelling, name=f"cancel-{self.id[:8]}", daemon=True).start()

    # -- progress and logs ----------------------------------------------------------------------------
    def _stages(self) -> list[StageProgress]:
        try:
            return stage_progress(self.session.spark.sparkContext, self.id)
        except Exception:  # noqa: BLE001
            return []

    def _log_stages(self, stages: list[StageProgress] | None = None) -> None:
        with self._progress_lock:
            for stage in stages if stages is not None else self._stages():
                status = stage.status
                if self._logged_stages.get(stage.stage_id) != status:
                    self._logged_stages[stage.stage_id] = status
                    self.log.add(
                        f"Stage {stage.stage_id} ({stage.name}): {status}, "
                        f"{stage.completed}/{stage.total} tasks done, {stage.active} running, {stage.failed} failed"
                    )

    def refresh_log(self) -> None:
        if self.state in (OperationState.RUNNING, OperationState.PENDING):
            self._log_stages()

    def progress(self):
        """TProgressUpdateResp fields from the StatusTracker (Kyuubi/Tez-style table for beeline).

        hive-jdbc asks for progress before every row it reads, so a finished operation answers from memory.
        """
        final = self._final_progress
        if final is not None:
            return final
        terminal = self.state.terminal
        progress = self._compute_progress()
        if terminal:
            self._final_progress = progress
        return progress

    def _compute_progress(self):
        from thrift_idl.gen.TCLIService import ttypes

        stages = self._stages()
        self._log_stages(stages)
        if self.state == OperationState.FINISHED:
            # Stages that never ran in a finished statement were skipped (their shuffle output was reused).
            stages = [s for s in stages if s.completed or s.active or s.failed]
        total = sum(s.total for s in stages)
        done = sum(min(s.completed, s.total) for s in stages)
        finished = self.state.terminal
        fraction = 1.0 if finished and self.state == OperationState.FINISHED else (done / total if total else 0.0)
        rows = []
        for s in stages:
            frac = s.completed / s.total if s.total else 0.0
            pending = max(0, s.total - s.completed - s.active)
            rows.append([f"Stage-{s.stage_id} {progress_bar(frac)}", str(s.attempt), s.status, str(s.total),
                         str(s.completed), str(s.active), str(pending), str(s.failed), ""])
        status = ttypes.TJobExecutionStatus.COMPLETE if finished else (
            ttypes.TJobExecutionStatus.IN_PROGRESS if stages else ttypes.TJobExecutionStatus.NOT_AVAILABLE)
        done_stages = sum(1 for s in stages if s.status == "SUCCEEDED")
        return ttypes.TProgressUpdateResp(
            headerNames=PROGRESS_HEADER,
            rows=rows,
            progressedPercentage=fraction,
            status=status,
            footerSummary=f"STAGES: {done_stages:02d}/{len(stages):02d}",
            startTime=int((self.started or self.created) * 1000) if self.started or self.created else now_ms(),
        )


def _no_rows() -> ResultSet:
    """What statements without output (DDL, INSERT, USE) return: one STRING column "Result", no rows (as STS)."""
    from pyspark.sql.types import StringType, StructField, StructType

    schema = StructType([StructField("Result", StringType(), True)])
    return ResultSet.from_table(schema, pa.table({"Result": pa.array([], pa.string())}))


_SECRET = re.compile(r"""((?:password|passwd|secret|token|credential)[\w.`-]*\s*=\s*)("[^"]*"|'[^']*'|\S+)""",
                     re.IGNORECASE)


def _preview(statement: str, limit: int = 500) -> str:
    """The statement for the operation log: one line, shortened, with password-like option values masked."""
    text = _SECRET.sub(r"\1'***'", " ".join(statement.split()))
    return text if len(text) <= limit else text[:limit] + "..."


_NOT_ARROW = ("CalendarIntervalType", "VariantType")


def _arrow_convertible(df: DataFrame) -> DataFrame:
    """Cast the columns Arrow cannot carry (calendar intervals, variants, UDTs) to strings in Spark."""
    from pyspark.sql import functions as F

    fields = df.schema.fields
    if not any(_needs_cast(f.dataType) for f in fields):
        return df
    renamed = df.toDF(*[f"_c{i}" for i in range(len(fields))])
    return renamed.select(*[
        (F.col(f"_c{i}").cast("string") if _needs_cast(f.dataType) else F.col(f"_c{i}")).alias(f.name)
        for i, f in enumerate(fields)
    ])


def _needs_cast(data_type) -> bool:
    from pyspark.sql.types import ArrayType, MapType, StructType, UserDefinedType

    if type(data_type).__name__ in _NOT_ARROW or isinstance(data_type, UserDefinedType):
        return True
    if isinstance(data_type, ArrayType):
        return _needs_cast(data_type.elementType)
    if isinstance(data_type, MapType):
        return _needs_cast(data_type.keyType) or _needs_cast(data_type.valueType)
    if isinstance(data_type, StructType):
        return any(_needs_cast(f.dataType) for f in data_type.fields)
    return False
