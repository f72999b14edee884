"""Stream a Spark DataFrame to Python as Arrow record batches, in order, with bounded memory.

The JVM converts each partition to Arrow IPC messages (``Dataset.toArrowBatchRdd``). Partitions are collected
in growing chunks, one Spark job per chunk: the first chunk is a single partition collected in the calling
thread (a quick first batch, no thread hand-off), later chunks grow while the partitions seen so far are small
and stay near ``target_bytes`` once they are large, and run in a producer thread a bounded number of batches
ahead of the client. Results the driver already holds (command output, local relations) are converted in the
driver without any Spark job. JVM handles are cached: every py4j round trip costs a fraction of a millisecond.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from pyspark.serializers import NoOpSerializer
from pyspark.sql import DataFrame
from pyspark.util import _load_from_socket

JobScope = Callable[[], AbstractContextManager]
LOCAL_PLANS = frozenset({"CommandResult", "LocalTableScan"})
MAX_LOCAL_BATCH_BYTES = 64 << 20


class JvmHandles:
    """py4j handles resolved once per SparkContext (each attribute walk is a round trip)."""

    _cache: dict[int, JvmHandles] = {}
    _lock = threading.Lock()

    def __init__(self, sc) -> None:
        jvm = sc._jvm
        self.jsc = sc._jsc
        self.scala_sc = sc._jsc.sc()
        self.arrow_utils = jvm.org.apache.spark.sql.util.ArrowUtils
        self.schema_default5 = getattr(self.arrow_utils, "toArrowSchema$default$5")()
        self.python_rdd = jvm.org.apache.spark.api.python.PythonRDD
        self.run_job = self.python_rdd.runJob
        from py4j.java_collections import ListConverter

        self.first_partition = ListConverter().convert([0], sc._gateway._gateway_client)
        self.baos = jvm.java.io.ByteArrayOutputStream
        self.write_channel = jvm.org.apache.arrow.vector.ipc.WriteChannel
        self.channels = jvm.java.nio.channels.Channels
        self.message_serializer = jvm.org.apache.arrow.vector.ipc.message.MessageSerializer
        self.converters = getattr(getattr(jvm.org.apache.spark.sql.execution.arrow, "ArrowConverters$"), "MODULE$")
        self.array_ops = getattr(getattr(jvm.scala.collection, "ArrayOps$"), "MODULE$")
        self.current_user = jvm.org.apache.spark.sql.catalyst.CurrentUserContext.CURRENT_USER()

    @classmethod
    def of(cls, sc) -> JvmHandles:
        key = id(sc)
        handles = cls._cache.get(key)
        if handles is None:
            with cls._lock:
                handles = cls._cache.get(key) or cls(sc)
                cls._cache[key] = handles
        return handles


@dataclass(frozen=True)
class ConversionParams:
    """What the JVM's Arrow conversion depends on; read once per statement from the session's SQLConf."""

    time_zone: str
    large_var_types: bool
    max_records: int
    error_on_duplicates: bool = False

    @classmethod
    def of(cls, sql_conf) -> ConversionParams:
        return cls(sql_conf.sessionLocalTimeZone(), bool(sql_conf.arrowUseLargeVarTypes()),
                   int(sql_conf.arrowMaxRecordsPerBatch()))


def session_sql_conf(df: DataFrame):
    """The JVM SQLConf of ``df``'s session (stable for the session's life)."""
    return df.sparkSession._jsparkSession.sessionState().conf()


_schema_cache: dict[tuple[str, str, bool], pa.Schema] = {}


def arrow_schema(df: DataFrame, params: ConversionParams | None = None) -> pa.Schema:
    """The Arrow schema the JVM uses when it converts ``df`` (so every Spark type it supports round-trips)."""
    params = params or ConversionParams.of(session_sql_conf(df))
    key = (df.schema.json(), params.time_zone, params.large_var_types)
    cached = _schema_cache.get(key)
    if cached is not None:
        return cached
    h = JvmHandles.of(df.sparkSession.sparkContext)
    jschema = h.arrow_utils.toArrowSchema(df._jdf.schema(), params.time_zone, params.error_on_duplicates,
                                          params.large_var_types, h.schema_default5)
    out = h.baos()
    h.message_serializer.serialize(h.write_channel(h.channels.newChannel(out)), jschema)
    schema = pa.ipc.read_schema(pa.py_buffer(bytes(out.toByteArray())))
    if len(_schema_cache) > 1024:
        _schema_cache.clear()
    _schema_cache[key] = schema
    return schema


def iter_arrow_batches(
    df: DataFrame,
    scope: JobScope = contextlib.nullcontext,
    params: ConversionParams | None = None,
    target_bytes: int = 32 << 20,
    growth: int = 4,
    prefetch_depth: int = 8,
) -> Iterator[pa.RecordBatch]:
    """Yield ``df``'s rows as Arrow record batches in order. ``scope`` wraps every call that runs Spark jobs."""
    session = df.sparkSession
    sc = session.sparkContext
    h = JvmHandles.of(sc)
    params = params or ConversionParams.of(session_sql_conf(df))
    schema = arrow_schema(df, params)
    with scope():
        plan = df._jdf.queryExecution().executedPlan()
        if plan.nodeName() in LOCAL_PLANS:
            yield from _local_batches(h, plan, params, schema)
            return
        # With adaptive execution, building the RDD can already run the shuffle stages.
        rdd = df._jdf.toArrowBatchRdd(params.max_records, params.time_zone, params.error_on_duplicates,
                                      params.large_var_types)
        java_rdd = rdd.toJavaRDD()
        partitions = rdd.getNumPartitions()
        if partitions == 0:
            return
        first = _run_chunk(h, java_rdd, [0])  # the first partition, in this thread
    rest: Prefetcher | None = None
    if partitions > 1:
        def remaining() -> Iterator[bytes]:
            done, chunk, seen = 1, growth, first.bytes_hint
            while done < partitions:
                wanted = list(range(done, min(partitions, done + chunk)))
                with scope():
                    result = _run_chunk(h, java_rdd, wanted)
                for message in result:
                    seen += len(message)
                    yield message
                done += len(wanted)
                per_partition = seen / done
                by_size = int(target_bytes / per_partition) if per_partition else chunk * growth
                chunk = max(1, min(chunk * growth, by_size))

        rest = Prefetcher(remaining, depth=prefetch_depth)
    try:
        for message in first:
            yield pa.ipc.read_record_batch(pa.py_buffer(message), schema)
        if rest is not None:
            for message in rest:
                yield pa.ipc.read_record_batch(pa.py_buffer(message), schema)
    finally:
        first.close()
        if rest is not None:
            rest.close()


class _Chunk:
    """The serialized Arrow messages of one collected chunk of partitions, read from the JVM's socket."""

    def __init__(self, sock_info: Any) -> None:
        self._ctx = _load_from_socket(sock_info, NoOpSerializer())
        self._stream = self._ctx.__enter__()
        self._open = True
        self.bytes_hint = 0

    def __iter__(self) -> Iterator[bytes]:
        try:
            for message in self._stream:
                self.bytes_hint += len(message)
                yield message
        finally:
            self.close()

    def close(self) -> None:
        if self._open:
            self._open = False
            with contextlib.suppress(Exception):
                self._ctx.__exit__(None, None, None)


def _run_chunk(h: JvmHandles, java_rdd, partitions: list[int]) -> _Chunk:
    """Run one Spark job over ``partitions``; its results are then served, in partition order, by a socket."""
    wanted = h.first_partition if partitions == [0] else partitions
    return _Chunk(h.run_job(h.scala_sc, java_rdd, wanted))


def _local_batches(h: JvmHandles, plan, params: ConversionParams, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    """Rows the driver already holds, converted to Arrow in the driver: no Spark job."""
    rows = plan.executeCollect()
    if len(rows) == 0:
        return
    iterator = h.converters.toBatchWithSchemaIterator(
        getattr(h.array_ops, "iterator$extension")(rows), plan.schema(), params.max_records, MAX_LOCAL_BATCH_BYTES,
        params.time_zone, params.error_on_duplicates, params.large_var_types)
    while iterator.hasNext():
        reader = pa.ipc.open_stream(pa.py_buffer(bytes(iterator.next())))
        for batch in reader:
            # Same layout as the streamed path: the JVM schema may differ only in field names' metadata.
            yield pa.RecordBatch.from_arrays(batch.columns, schema=schema) if batch.schema != schema else batch


_END = object()


class Prefetcher:
    """Runs an iterator in a producer thread, at most ``depth`` items ahead of the consumer."""

    def __init__(self, source: Callable[[], Iterator[Any]], depth: int = 8, name: str = "") -> None:
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._source = source
        self._thread = threading.Thread(target=self._produce, name=f"prefetch-{name}", daemon=True)
        self._thread.start()

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> None:
        iterator = None
        try:
            iterator = self._source()
            for item in iterator:
                if not self._put(item):
                    break
            else:
                self._put(_END)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            self._put(exc)
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    close()

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        while True:
            try:
                item = self._queue.get(timeout=0.5)
            except queue.Empty:
                if self._stop.is_set() or (not self._thread.is_alive() and self._queue.empty()):
                    raise StopIteration from None
                continue
            if item is _END:
                self._stop.set()
                raise StopIteration
            if isinstance(item, BaseException):
                self._stop.set()
                raise item
            return item

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(queue.Empty):
            while True:
                self._queue.get_nowait()
