"""Operation: one client request with a handle, an explicit state machine, a log and (maybe) a result set."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gateway.errors import GatewayError, InvalidRequest
from gateway.operation.oplog import OperationLog
from gateway.operation.state import OperationState, check_transition

if TYPE_CHECKING:
    from gateway.results.resultset import ResultSet
    from gateway.session import Session

log = logging.getLogger(__name__)

# TOperationType wire values.
EXECUTE_STATEMENT, GET_TYPE_INFO, GET_CATALOGS, GET_SCHEMAS, GET_TABLES = 0, 1, 2, 3, 4
GET_TABLE_TYPES, GET_COLUMNS, GET_FUNCTIONS, UNKNOWN_TYPE = 5, 6, 7, 8


class Operation:
    """Base class: state transitions, waiting, errors, logs; subclasses implement ``_run``."""

    op_type = UNKNOWN_TYPE
    kind = "operation"

    def __init__(self, session: Session) -> None:
        self.session = session
        self.guid = uuid.uuid4()
        self.secret = uuid.uuid4().bytes
        self.state = OperationState.INITIALIZED
        self.created = time.time()
        self.started: float | None = None
        self.completed: float | None = None
        self.last_access = time.monotonic()
        self.error: GatewayError | None = None
        self.log = OperationLog()
        self.result: ResultSet | None = None
        self.has_result_set = True
        self.modified_rows: int | None = None
        self._cond = threading.Condition()
        self._on_terminal: list[Callable[[Operation], Any]] = []

    # -- identity -------------------------------------------------------------------------------------
    @property
    def id(self) -> str:
        return str(self.guid)

    def touch(self) -> None:
        self.last_access = time.monotonic()

    # -- state machine --------------------------------------------------------------------------------
    def transition(self, target: OperationState, error: GatewayError | None = None) -> bool:
        """Move to ``target``; returns False (and changes nothing) if the table forbids it."""
        with self._cond:
            try:
                check_transition(self.state, target)
            except Exception:
                return False
            previous, self.state = self.state, target
            if target == OperationState.RUNNING and self.started is None:
                self.started = time.time()
            if target.terminal and target != OperationState.CLOSED and self.completed is None:
                self.completed = time.time()
            if error is not None:
                self.error = error
            self._cond.notify_all()
        log.debug("operation %s: %s -> %s", self.id, previous.name, target.name)
        if target.terminal and not previous.terminal:
            for callback in self._on_terminal:
                try:
                    callback(self)
                except Exception:  # noqa: BLE001
                    log.exception("operation %s: terminal callback failed", self.id)
        return True

    def on_terminal(self, callback: Callable[[Operation], Any]) -> None:
        self._on_terminal.append(callback)

    def wait(self, timeout: float) -> OperationState:
        """Block until the operation reaches a terminal state or ``timeout`` seconds pass."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self.state.terminal:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(min(remaining, 60.0))
            return self.state

    # -- work -----------------------------------------------------------------------------------------
    def run(self) -> None:
        """Run the operation to a terminal state; never raises."""
        if not self.transition(OperationState.RUNNING):
            return  # canceled, timed out or closed before it started
        try:
            self._run()
        except BaseException as exc:  # noqa: BLE001 - every failure becomes the operation's error
            if self.state == OperationState.RUNNING:
                self.fail(exc)
            return
        self.transition(OperationState.FINISHED)

    def fail(self, exc: BaseException) -> None:
        from gateway.errors import spark_error

        error = spark_error(exc)
        self.log.add(f"ERROR {error.message}")
        if self.transition(OperationState.ERROR, error):
            log.info("operation %s failed: %s", self.id, error.message.splitlines()[0] if error.message else "",
                     exc_info=log.isEnabledFor(logging.DEBUG))

    def _run(self) -> None:
        raise NotImplementedError

    def cancel(self) -> bool:
        """Stop the work; the state becomes CANCELED unless the operation already ended (then False)."""
        if self.transition(OperationState.CANCELED):
            self.log.add("Operation canceled")
            self._stop_work()
            return True
        return False

    def timeout(self) -> None:
        if self.transition(OperationState.TIMEDOUT, GatewayError("query timed out", "HYT00")):
            self.log.add("Operation timed out")
            self._stop_work()

    def close(self) -> None:
        was_running = not self.state.terminal
        self.transition(OperationState.CLOSED)
        if was_running:
            self._stop_work()
        if self.result is not None:
            self.result.close()

    def _stop_work(self) -> None:
        """Interrupt running work (Spark jobs); subclasses override."""

    # -- results --------------------------------------------------------------------------------------
    def require_results(self) -> ResultSet:
        state = self.state
        if state == OperationState.ERROR and self.error is not None:
            raise self.error
        if state in (OperationState.CANCELED, OperationState.TIMEDOUT, OperationState.CLOSED):
            raise InvalidRequest(f"operation is {state.name}; it has no results to fetch")
        if state != OperationState.FINISHED:
            # Metadata results are never polled: callers wait for them first.
            raise InvalidRequest(f"operation is {state.name}; results are not ready yet")
        if self.result is None:
            raise InvalidRequest("operation has no result set")
        return self.result

    def progress(self) -> Any:
        """A TProgressUpdateResp-shaped summary, or None."""
        return None
