"""OperationManager: the registry of live operations and the bounded background pool that runs statements."""

from __future__ import annotations

import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

from gateway.errors import InvalidHandle, ServerBusy
from gateway.operation.base import Operation
from gateway.operation.state import OperationState

log = logging.getLogger(__name__)


class BoundedPool:
    """A thread pool with ``workers`` threads and at most ``queue_size`` waiting tasks; beyond that: ServerBusy."""

    def __init__(self, workers: int, queue_size: int) -> None:
        self.workers = workers
        self.queue_size = queue_size
        self._slots = threading.BoundedSemaphore(workers + queue_size)
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="op")

    def submit(self, fn, *args) -> None:
        if not self._slots.acquire(blocking=False):
            raise ServerBusy(
                f"the background pool is full ({self.workers} running, {self.queue_size} queued); "
                "try again later"
            )

        def task():
            try:
                fn(*args)
            finally:
                self._slots.release()

        try:
            self._executor.submit(task)
        except RuntimeError:
            self._slots.release()
            raise ServerBusy("the server is shutting down") from None

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


class OperationManager:
    """Finds operations by handle, runs them, and closes them."""

    def __init__(self, workers: int = 32, queue_size: int = 100) -> None:
        self.pool = BoundedPool(workers, queue_size)
        self._ops: dict[uuid.UUID, Operation] = {}
        self._lock = threading.Lock()

    def register(self, op: Operation) -> None:
        op.session.add_operation(op)
        with self._lock:
            self._ops[op.guid] = op

    def run_async(self, op) -> None:
        """Queue an ExecuteStatement in the pool (PENDING until a worker picks it up)."""
        self.register(op)
        op.submitted()
        try:
            self.pool.submit(op.run)
        except Exception as exc:
            op.fail(exc)
            raise

    def run_sync(self, op: Operation) -> None:
        """Run an operation in the calling thread (metadata operations)."""
        self.register(op)
        op.run()

    def get(self, guid: uuid.UUID, secret: bytes) -> Operation:
        with self._lock:
            op = self._ops.get(guid)
        if op is None or op.secret != secret or op.state == OperationState.CLOSED:
            raise InvalidHandle(f"invalid operation handle {guid}")
        op.touch()
        return op

    def close(self, op: Operation) -> None:
        with self._lock:
            self._ops.pop(op.guid, None)
        op.session.remove_operation(op)
        op.close()

    def forget_session(self, session_ops) -> None:
        with self._lock:
            for op in session_ops:
                self._ops.pop(op.guid, None)

    def all(self) -> list[Operation]:
        with self._lock:
            return list(self._ops.values())

    def count_by_state(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for op in self.all():
            counts[op.state.name] = counts.get(op.state.name, 0) + 1
        return counts

    def shutdown(self) -> None:
        for op in self.all():
            if not op.state.terminal:
                op.cancel()
        self.pool.shutdown()
