"""The PEP 249 cursor: execute (sync or async), poll, logs, cancel and columnar fetches (rows, Arrow, pandas)."""

from __future__ import annotations

import contextlib
import re
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from thrift_idl.gen.TCLIService import ttypes

from . import results as _res
from .escape import batched_inserts, interpolate
from .exc import (
    Error,
    InterfaceError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    error_from_status,
)

if TYPE_CHECKING:
    from .dbapi import Connection

_S = ttypes.TOperationState
PENDING_STATES = (_S.INITIALIZED_STATE, _S.RUNNING_STATE, _S.PENDING_STATE)
DEFAULT_FETCH_SIZE = 10_000
BULK_FETCH_SIZE = 100_000
ARROW_FETCH_SIZE = 100_000  # rows per FetchResults for fetch_arrow (the next batch is fetched while one decodes)
_MIN_POLL_SECONDS = 0.05

_Raw = tuple[list[tuple[list[Any], bytes]], int]

# Statements that never return rows. Spark (STS, and the gateway like it) still answers them with a result set: an
# empty placeholder column ``Result STRING``. For these statements that placeholder is reported as "no result set"
# (``description`` None), so SQLAlchemy's ``returns_rows`` is False for INSERT/DDL.
_COMMAND = re.compile(r"^(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*(?:insert|create|drop|alter|truncate|delete|update|"
                      r"merge|use|refresh|cache|uncache|clear|msck|analyze|comment|grant|revoke|repair|reset|"
                      r"load\s+data)\b", re.I | re.S)


class Cursor:
    """A cursor bound to one session. Results are paged lazily with FetchResults (FETCH_NEXT)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.arraysize = 1000
        self.fetch_size = connection.fetch_size
        self.prefetch = True  # fetchall/fetch_arrow: fetch the next batch on a helper thread while one decodes
        self.rowcount = -1
        self.lastrowid = None
        self._closed = False
        self._reset()

    def _reset(self) -> None:
        self._op: ttypes.TOperationHandle | None = None
        self._columns: list[_res.ColumnInfo] | None = None
        self._finished = False
        self._exhausted = False
        self._raw: _Raw | None = None  # current undecoded batch
        self._rows: list[tuple] | None = None  # rows of the current batch, decoded on demand
        self._pos = 0
        self._command = False
        self.rowcount = -1

    # -- helpers -------------------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise InterfaceError("cursor is closed")
        if self.connection.closed:
            raise InterfaceError("connection is closed")

    def _require_op(self) -> ttypes.TOperationHandle:
        if self._op is None:
            raise ProgrammingError("no statement has been executed")
        return self._op

    def _rpc(self, name: str, req: Any, check: bool = True) -> Any:
        return self.connection._rpc(name, req, check=check, query_id=self.query_id)

    @property
    def query_id(self) -> str | None:
        """The operation's guid as a UUID string (None before execute)."""
        if self._op is None or self._op.operationId is None:
            return None
        guid = self._op.operationId.guid
        return str(uuid.UUID(bytes=guid)) if guid and len(guid) == 16 else None

    def _close_operation(self) -> None:
        if self._op is not None:
            op = self._op
            self._op = None
            with contextlib.suppress(Error):
                self.connection._rpc("CloseOperation", ttypes.TCloseOperationReq(operationHandle=op), check=False)

    # -- execute -------------------------------------------------------------------------------------------

    def execute(self, operation: str, parameters: Mapping[str, Any] | Sequence[Any] | None = None,
                async_: bool = False, **kwargs: Any) -> Cursor:
        """Run one statement (or one MLSQL script: the server splits it).

        ``parameters`` (pyformat ``%(name)s`` or format ``%s``) are rendered client-side as Spark literals.
        ``async_=True`` (or ``async=True``, as Superset passes it) returns at once; use :meth:`poll`.
        """
        self._check_open()
        async_ = bool(async_ or kwargs.pop("async", False))
        conf = kwargs.pop("configuration", None)
        if kwargs:
            raise ProgrammingError(f"unexpected execute() arguments: {', '.join(kwargs)}")
        self._close_operation()
        self._reset()
        sql = interpolate(operation, parameters)
        if not sql.strip():  # e.g. the dialect's CREATE INDEX (Spark has no indexes): nothing to run
            return self
        req = ttypes.TExecuteStatementReq(sessionHandle=self.connection.session_handle, statement=sql,
                                          confOverlay=dict(conf) if conf else None, runAsync=async_)
        resp = self.connection._rpc("ExecuteStatement", req)
        self._op = resp.operationHandle
        self._command = _COMMAND.match(sql) is not None
        self._finished = not async_
        if self._finished and self._op.modifiedRowCount is not None:
            self.rowcount = int(self._op.modifiedRowCount)
        return self

    def execute_async(self, operation: str, parameters: Mapping[str, Any] | Sequence[Any] | None = None) -> Cursor:
        """Shorthand for ``execute(operation, parameters, async_=True)``."""
        return self.execute(operation, parameters, async_=True)

    def executemany(self, operation: str, seq_of_parameters: Sequence[Mapping[str, Any] | Sequence[Any]]) -> None:
        """INSERT ... VALUES runs as batched multi-row INSERTs; anything else runs once per parameter set."""
        self._check_open()
        seq = list(seq_of_parameters)
        if not seq:
            self.rowcount = 0
            return
        statements = batched_inserts(operation, seq)
        if statements is None:
            for params in seq:
                self.execute(operation, params)
            self.rowcount = -1
            return
        for sql in statements:
            self.execute(sql)
        self.rowcount = len(seq)

    def callproc(self, procname: str, parameters: Sequence[Any] = ()) -> None:
        raise NotSupportedError("stored procedures are not supported")

    def nextset(self) -> None:
        return None

    def setinputsizes(self, sizes: Any) -> None:
        """No-op (PEP 249)."""

    def setoutputsize(self, size: Any, column: int | None = None) -> None:
        """No-op (PEP 249)."""

    # -- status, cancel, logs ------------------------------------------------------------------------------

    def poll(self, get_progress_update: bool = True) -> ttypes.TGetOperationStatusResp:
        """GetOperationStatus for the current statement (PyHive-shaped: ``.operationState``, ``.errorMessage``)."""
        self._check_open()
        req = ttypes.TGetOperationStatusReq(operationHandle=self._require_op(),
                                            getProgressUpdate=get_progress_update)
        resp = self._rpc("GetOperationStatus", req)
        if resp.operationState == _S.FINISHED_STATE:
            self._finished = True
            if resp.numModifiedRows is not None:
                self.rowcount = int(resp.numModifiedRows)
        return resp

    def get_query_state(self) -> str:
        """The operation state name, e.g. ``'RUNNING_STATE'``."""
        return _S._VALUES_TO_NAMES.get(self.poll(False).operationState, "UKNOWN_STATE")

    def _wait(self) -> None:
        """Block until the operation is done; raise the mapped error if it failed or was cancelled."""
        if self._finished:
            return
        while True:
            started = time.monotonic()
            resp = self.poll(get_progress_update=False)
            state = resp.operationState
            if state in (_S.FINISHED_STATE, _S.CLOSED_STATE):
                self._finished = True
                return
            if state in (_S.ERROR_STATE, _S.TIMEDOUT_STATE):
                if not resp.sqlState and state == _S.TIMEDOUT_STATE:
                    resp.sqlState = "HYT00"
                raise error_from_status(resp, self.query_id)
            if state == _S.CANCELED_STATE:
                raise OperationalError("Query was cancelled", "HY008", None, self.query_id)
            if state not in PENDING_STATES:
                raise OperationalError(f"unexpected operation state {state}", "HY000", None, self.query_id)
            spent = time.monotonic() - started
            if spent < _MIN_POLL_SECONDS:  # the server did not long-poll: back off a little
                time.sleep(_MIN_POLL_SECONDS - spent)

    def cancel(self) -> None:
        """CancelOperation on the running statement (no-op when there is none)."""
        if self._op is None or self._closed:
            return
        self._rpc("CancelOperation", ttypes.TCancelOperationReq(operationHandle=self._op))

    def fetch_logs(self) -> list[str]:
        """New operation log lines since the last call (FetchResults with fetchType=1)."""
        self._check_open()
        lines: list[str] = []
        while True:
            req = ttypes.TFetchResultsReq(operationHandle=self._require_op(),
                                          orientation=ttypes.TFetchOrientation.FETCH_NEXT,
                                          maxRows=self.arraysize, fetchType=1)
            resp = self._rpc("FetchResults", req)
            cols, n = _res.rowset_columns(resp.results)
            if n == 0 or not cols:
                return lines
            lines.extend("" if v is None else str(v) for v in cols[0][0])

    # -- description ---------------------------------------------------------------------------------------

    def _schema(self) -> list[_res.ColumnInfo] | None:
        if self._op is None:
            return None
        if self._columns is None:
            if not self._op.hasResultSet:
                return None
            self._wait()
            req = ttypes.TGetResultSetMetadataReq(operationHandle=self._op)
            cols = _res.schema_columns(self._rpc("GetResultSetMetadata", req).schema)
            if self._command and [(c.name.lower(), c.type_code) for c in cols] == [("result", "STRING")]:
                cols, self._exhausted = [], True  # Spark's placeholder for "no rows": no result set
            self._columns = cols
        return self._columns

    @property
    def description(self) -> list[tuple] | None:
        """7-tuples (name, type_code, None, max_length, precision, scale, True); None without a result set."""
        cols = self._schema()
        if not cols:
            return None
        return [c.description() for c in cols]

    @property
    def columns(self) -> list[_res.ColumnInfo] | None:
        """ColumnInfo per result column."""
        return self._schema()

    # -- fetching ------------------------------------------------------------------------------------------

    def _fetch_raw(self, max_rows: int) -> _Raw | None:
        """Next undecoded batch from the server, or None at the end."""
        if self._exhausted:
            return None
        cols = self._schema()
        if cols is None:
            raise ProgrammingError("no result set (the statement did not return rows)")
        req = ttypes.TFetchResultsReq(operationHandle=self._op, orientation=ttypes.TFetchOrientation.FETCH_NEXT,
                                      maxRows=max_rows, fetchType=0)
        resp = self._rpc("FetchResults", req)
        raw, n = _res.rowset_columns(resp.results)
        if n == 0:
            self._exhausted = True
            return None
        if not resp.hasMoreRows and n < max_rows:
            self._exhausted = True
        return raw, n

    def _raw_batches(self, max_rows: int) -> Iterator[_Raw]:
        """The remaining undecoded batches. While the caller decodes one batch, the next FetchResults already runs
        on a helper thread (the server builds it and the bytes arrive meanwhile), so decoding overlaps the wait.
        If the caller stops early, the batch fetched ahead becomes the current batch for the next fetch call."""
        first = self._fetch_raw(max_rows)  # in this thread: a small result needs no helper thread
        if first is None:
            return
        if self._exhausted or not self.prefetch:
            yield first
            while (raw := self._fetch_raw(max_rows)) is not None:
                yield raw
            return
        op = self._op
        pool = ThreadPoolExecutor(1, thread_name_prefix="mlsql-prefetch")
        pending: Future[_Raw | None] | None = pool.submit(self._fetch_raw, max_rows)
        try:
            yield first
            while pending is not None and self._op is op:
                raw = pending.result()
                pending = None
                if raw is None:
                    return
                if not self._exhausted:
                    pending = pool.submit(self._fetch_raw, max_rows)
                yield raw
        finally:
            if pending is not None:  # stopped early (or failed): keep what was fetched ahead
                try:
                    ahead = pending.result()
                except Error:
                    ahead = None
                if ahead is not None and self._op is op:  # not if the cursor has moved on to another statement
                    self._raw, self._rows, self._pos = ahead, None, 0
            pool.shutdown(wait=True)

    def _decode_rows(self, raw: _Raw) -> list[tuple]:
        cols, n = raw
        if not cols:
            return [()] * n
        infos = self._columns or []
        complex_types = self.connection.complex_types
        pycols = [_res.python_column(v, nl, info, complex_types) for (v, nl), info in zip(cols, infos, strict=True)]
        return list(zip(*pycols, strict=True))

    def _advance(self, max_rows: int) -> bool:
        """Make the next batch current; False at the end."""
        raw = self._fetch_raw(max_rows)
        self._raw, self._rows, self._pos = raw, None, 0
        return raw is not None

    def _current_rows(self) -> list[tuple]:
        if self._rows is None:
            self._rows = self._decode_rows(self._raw) if self._raw is not None else []
        return self._rows

    def _take(self, limit: int | None, batch_rows: int) -> list[tuple]:
        self._check_open()
        self._require_op()
        out: list[tuple] = []
        while limit is None or len(out) < limit:
            rows = self._current_rows()
            if self._pos >= len(rows):
                if not self._advance(batch_rows):
                    break
                continue
            end = len(rows) if limit is None else min(len(rows), self._pos + limit - len(out))
            if self._pos == 0 and end == len(rows) and not out:
                out = rows
            else:
                out.extend(rows[self._pos:end])
            self._pos = end
        return out

    def fetchone(self) -> tuple | None:
        rows = self._take(1, self.fetch_size)
        return rows[0] if rows else None

    def fetchmany(self, size: int | None = None) -> list[tuple]:
        return self._take(self.arraysize if size is None else int(size), self.fetch_size)

    def fetchall(self) -> list[tuple]:
        self._check_open()
        self._require_op()
        out = self._current_rows()[self._pos:] if self._raw is not None else []
        self._raw, self._rows, self._pos = None, None, 0
        if self._schema() is None:
            raise ProgrammingError("no result set (the statement did not return rows)")
        for raw in self._raw_batches(max(self.fetch_size, BULK_FETCH_SIZE)):
            rows = self._decode_rows(raw)
            if out:
                out.extend(rows)
            else:
                out = rows
        return out

    def __iter__(self) -> Iterator[tuple]:
        while True:
            rows = self.fetchmany(self.fetch_size)
            if not rows:
                return
            yield from rows

    # -- Arrow / pandas ------------------------------------------------------------------------------------

    def _arrow_batch(self, raw: _Raw, start: int = 0) -> Any:
        pa = _res.require_pyarrow()
        infos = self._columns or []
        cols, n = raw
        arrays = [_res.arrow_column(v, nl, info) for (v, nl), info in zip(cols, infos, strict=True)]
        batch = pa.RecordBatch.from_arrays(arrays, schema=_res.arrow_schema(infos))
        return batch.slice(start) if start else batch

    def fetch_arrow_batches(self) -> Iterator[Any]:
        """The remaining rows as pyarrow RecordBatches (one per FetchResults)."""
        self._check_open()
        self._require_op()
        if self._schema() is None:
            raise ProgrammingError("no result set (the statement did not return rows)")
        if self._raw is not None and self._pos < self._raw[1]:
            raw, pos = self._raw, self._pos
            self._raw, self._rows, self._pos = None, None, 0
            yield self._arrow_batch(raw, pos)
        self._raw, self._rows, self._pos = None, None, 0
        for raw in self._raw_batches(max(self.fetch_size, ARROW_FETCH_SIZE)):
            yield self._arrow_batch(raw)

    def fetch_arrow(self) -> Any:
        """The remaining rows as a ``pyarrow.Table`` built column-wise from the TColumns."""
        pa = _res.require_pyarrow()
        batches = list(self.fetch_arrow_batches())
        return pa.Table.from_batches(batches, schema=_res.arrow_schema(self._columns or []))

    fetchall_arrow = fetch_arrow

    def fetch_pandas(self) -> Any:
        """The remaining rows as a pandas DataFrame (via :meth:`fetch_arrow`; DECIMAL/DATE stay Python objects)."""
        try:
            import pandas  # noqa: F401
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("fetch_pandas() needs pandas: pip install 'pandas<3' pyarrow") from exc
        return self.fetch_arrow().to_pandas()

    # -- lifecycle -----------------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the current operation; the cursor is unusable afterwards."""
        if self._closed:
            return
        if not self.connection.closed:
            self._close_operation()
        self._closed = True

    def __enter__(self) -> Cursor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
