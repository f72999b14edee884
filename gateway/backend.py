"""The backend facade: what every front door (Thrift today, REST later) asks of sessions and operations."""

from __future__ import annotations

import logging
import time
import uuid
from typing import TYPE_CHECKING

import pyarrow as pa

from gateway.config import GatewayConfig
from gateway.engine.executor import SparkSqlExecutor, StatementExecutor
from gateway.errors import InvalidRequest
from gateway.jobs import JobRegistry
from gateway.operation import metadata
from gateway.operation.base import Operation
from gateway.operation.manager import OperationManager
from gateway.operation.state import OperationState
from gateway.operation.statement import ExecuteStatement
from gateway.session import Session, SessionManager

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)


class Backend:
    """Sessions, operations and fetches, independent of the wire protocol."""

    def __init__(self, config: GatewayConfig, spark: SparkSession, executor: StatementExecutor | None = None):
        self.config = config
        self.spark = spark
        self.executor = executor or SparkSqlExecutor()
        self.plain_sql = SparkSqlExecutor()
        self.sessions = SessionManager(spark, config.idle_session_timeout, config.idle_operation_timeout,
                                       config.expiry_check_interval)
        self.operations = OperationManager(config.workers, config.queue_size)
        self.jobs = JobRegistry(self.operations, config.admins)
        self.started = time.time()

    # -- sessions -------------------------------------------------------------------------------------
    def open_session(self, user: str, protocol: int, configuration: dict[str, str], client: str = "") -> Session:
        session = self.sessions.open(user, protocol, configuration, client)
        session.job_registry = self.jobs
        return session

    def session(self, guid: uuid.UUID, secret: bytes) -> Session:
        return self.sessions.get(guid, secret)

    def close_session(self, session: Session) -> None:
        self.operations.forget_session(list(session.operations.values()))
        self.sessions.close(session)

    # -- operations -----------------------------------------------------------------------------------
    def operation(self, guid: uuid.UUID, secret: bytes) -> Operation:
        return self.operations.get(guid, secret)

    def execute(self, session: Session, statement: str, conf_overlay: dict[str, str] | None = None,
                run_async: bool = True, query_timeout: float = 0, job_name: str | None = None,
                source: str = "thrift") -> ExecuteStatement:
        executor = self.plain_sql if session.dialect == "sparksql" else self.executor
        op = ExecuteStatement(session, statement, executor, conf_overlay, query_timeout,
                              self.config.result_retain_bytes)
        op.job_name, op.source = job_name, source
        self.operations.run_async(op)
        if not run_async:
            op.wait(float("inf"))
        return op

    def metadata(self, session: Session, kind: type[metadata.MetadataOperation], **request) -> Operation:
        op = kind(session, **request)
        self.operations.run_sync(op)
        return op

    def wait_status(self, op: Operation) -> OperationState:
        """Long-poll: block until done or ``min(5 s, 0.5 s x (elapsed/10 s + 1))`` passes (HS2's step)."""
        if op.state.terminal:
            return op.state
        elapsed = time.time() - op.created
        timeout = min(self.config.long_poll_seconds, 0.5 * (elapsed // 10 + 1))
        return op.wait(timeout)

    def cancel(self, op: Operation) -> None:
        op.cancel()

    def close_operation(self, op: Operation) -> None:
        self.operations.close(op)

    def fetch(self, op: Operation, max_rows: int, from_start: bool = False) -> tuple[pa.RecordBatch, int]:
        """Up to ``max_rows`` rows and the offset of the first of them."""
        result = op.require_results()
        if from_start:
            result.rewind()
        start = result.start_offset
        rows = min(max(int(max_rows), 1), self.config.max_fetch_rows)
        try:
            batch = result.fetch(rows)
        except Exception as exc:
            from gateway.errors import spark_error

            if op.state.terminal and op.state != OperationState.FINISHED:
                raise InvalidRequest(f"operation is {op.state.name}") from None
            raise spark_error(exc) from None
        return batch, start

    def fetch_log(self, op: Operation, max_rows: int, from_start: bool = False) -> list[str]:
        refresh = getattr(op, "refresh_log", None)
        if refresh is not None:
            refresh()
        return op.log.read(max(int(max_rows), 1), from_start)

    # -- lifecycle ------------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Cancel running operations and close every session (SIGTERM path)."""
        log.info("shutting down: %d sessions", len(self.sessions.sessions))
        self.operations.shutdown()
        self.sessions.stop()
