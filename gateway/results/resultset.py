"""ResultSet: an operation's rows as Arrow batches, streamed from their source with bounded memory.

Batches are pulled lazily from the source as clients fetch. A prefix of up to ``retain_bytes`` is kept so
FETCH_FIRST can rewind without work; a larger result rewinds by re-running its source.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

import pyarrow as pa
from pyspark.sql.types import StructType

DEFAULT_RETAIN_BYTES = 64 << 20


class ResultSet:
    """Sequential, rewindable access to a stream of Arrow record batches."""

    def __init__(
        self,
        spark_schema: StructType,
        arrow_schema: pa.Schema,
        source: Callable[[], Iterator[pa.RecordBatch]],
        retain_bytes: int = DEFAULT_RETAIN_BYTES,
        on_exhausted: Callable[[int], None] | None = None,
    ) -> None:
        self.spark_schema = spark_schema
        self.arrow_schema = arrow_schema
        self._source_factory = source
        self._retain_limit = retain_bytes
        self._on_exhausted = on_exhausted
        self._lock = threading.Lock()
        self._source: Iterator[pa.RecordBatch] | None = None
        self._retained: list[pa.RecordBatch] | None = []
        self._retained_bytes = 0
        self._replay_index = 0  # next retained batch to replay after a rewind
        self._current: pa.RecordBatch | None = None
        self._current_offset = 0
        self._source_done = False
        self.position = 0  # rows handed out since the last rewind
        self.rows_total = 0  # rows pulled from the source in the first pass
        self.closed = False

    @classmethod
    def from_table(cls, spark_schema: StructType, table: pa.Table) -> ResultSet:
        """A result set over rows already in memory (metadata operations, small command outputs)."""
        batches = table.to_batches()
        return cls(spark_schema, table.schema, lambda: iter(batches), retain_bytes=0)

    # -- pulling --------------------------------------------------------------------------------------
    def prime(self) -> None:
        """Start the source and pull the first batch, so execution errors surface now."""
        with self._lock:
            try:
                if self._current is None and not self.closed:
                    self._current = self._next_batch()
                    self._current_offset = 0
            finally:
                if self.closed:
                    self._release()

    def _next_batch(self) -> pa.RecordBatch | None:
        retained = self._retained
        if retained is not None and self._replay_index < len(retained):
            batch = retained[self._replay_index]
            self._replay_index += 1
            return batch
        if self._source_done:
            return None
        if self._source is None:
            self._source = self._source_factory()
        while True:
            batch = next(self._source, None)
            if batch is None:
                self._source_done = True
                if self._on_exhausted is not None:
                    self._on_exhausted(self.rows_total)
                    self._on_exhausted = None
                return None
            if batch.num_rows:
                break
        self.rows_total += batch.num_rows
        if retained is not None:
            self._retained_bytes += batch.nbytes
            if self._retained_bytes <= self._retain_limit:
                retained.append(batch)
                self._replay_index = len(retained)
            else:
                self._retained = None  # too big to keep: FETCH_FIRST will re-run the source
        return batch

    def fetch(self, max_rows: int) -> pa.RecordBatch:
        """The next up-to-``max_rows`` rows as one batch (zero rows at the end)."""
        with self._lock:
            try:
                return self._fetch(max_rows)
            finally:
                if self.closed:
                    self._release()

    def _fetch(self, max_rows: int) -> pa.RecordBatch:
        if self.closed:
            raise ValueError("result set is closed")
        parts: list[pa.RecordBatch] = []
        wanted = max(int(max_rows), 1)
        while wanted > 0:
            if self._current is None or self._current_offset >= self._current.num_rows:
                self._current = self._next_batch()
                self._current_offset = 0
                if self._current is None:
                    break
            take = min(wanted, self._current.num_rows - self._current_offset)
            parts.append(self._current.slice(self._current_offset, take))
            self._current_offset += take
            wanted -= take
        self.position += sum(p.num_rows for p in parts)
        if not parts:
            return _empty(self.arrow_schema)
        if len(parts) == 1:
            return parts[0]
        return pa.concat_batches(parts)

    def rewind(self) -> None:
        """Go back to the first row (FETCH_FIRST)."""
        with self._lock:
            self.position = 0
            self._current = None
            self._current_offset = 0
            if self._retained is not None:  # everything pulled so far is retained: replay it
                self._replay_index = 0
                return
            self._close_source()
            self._retained = []
            self._retained_bytes = 0
            self._replay_index = 0
            self._source_done = False
            self.rows_total = 0

    @property
    def start_offset(self) -> int:
        return self.position

    def _close_source(self) -> None:
        source, self._source = self._source, None
        close = getattr(source, "close", None)
        if close is not None:
            with contextlib.suppress(Exception):  # closing a dead stream is best effort
                close()

    def close(self) -> None:
        """Release the stream; never blocks behind a fetch in progress (that fetch closes it when done)."""
        self.closed = True
        if self._lock.acquire(blocking=False):
            try:
                self._release()
            finally:
                self._lock.release()

    def _release(self) -> None:
        self._close_source()
        self._retained = None
        self._current = None


def _empty(schema: pa.Schema) -> pa.RecordBatch:
    """A zero-row batch; month intervals (no pyarrow array class) become int32, which the encoder reads alike."""
    from gateway.results.rowset import _without_month_intervals

    safe = pa.schema([f.with_type(_without_month_intervals(f.type)) for f in schema])
    return pa.RecordBatch.from_arrays([pa.array([], type=f.type) for f in safe], schema=safe)
