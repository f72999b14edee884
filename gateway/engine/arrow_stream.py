"""Stream a Spark DataFrame to Python as Arrow record batches, in order, with bounded memory.

The JVM converts each partition to Arrow IPC messages (``Dataset.toArrowBatchRdd``). Partitions are collected
in growing chunks, one Spark job per chunk: the first chunk is a single partition (a quick first batch), later
chunks grow while the partitions seen so far are small and stay near ``target_bytes`` once they are large. So
many tiny partitions cost a handful of jobs, and huge results never sit whole in the driver or the gateway.
A producer thread runs ahead of the client by a bounded number of batches.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pyarrow as pa
from pyspark.serializers import NoOpSerializer
from pyspark.sql import DataFrame
from pyspark.util import _load_from_socket

JobScope = Callable[[], AbstractContextManager]


def _conversion_params(df: DataFrame) -> tuple[str, bool, bool]:
    conf = df.sparkSession._jsparkSession.sessionState().conf()
    # (time zone, error on duplicated field names, large var types): the JVM must use the same for both calls.
    return conf.sessionLocalTimeZone(), False, conf.arrowUseLargeVarTypes()


def arrow_schema(df: DataFrame) -> pa.Schema:
    """The Arrow schema the JVM uses when it converts ``df`` (so every Spark type it supports round-trips)."""
    jvm = df.sparkSession.sparkContext._jvm
    tz, error_on_dup, large = _conversion_params(df)
    utils = jvm.org.apache.spark.sql.util.ArrowUtils
    default5 = getattr(utils, "toArrowSchema$default$5")()
    jschema = utils.toArrowSchema(df._jdf.schema(), tz, error_on_dup, large, default5)
    out = jvm.java.io.ByteArrayOutputStream()
    channel = jvm.org.apache.arrow.vector.ipc.WriteChannel(jvm.java.nio.channels.Channels.newChannel(out))
    jvm.org.apache.arrow.vector.ipc.message.MessageSerializer.serialize(channel, jschema)
    return pa.ipc.read_schema(pa.py_buffer(bytes(out.toByteArray())))


def iter_arrow_batches(
    df: DataFrame,
    scope: JobScope = contextlib.nullcontext,
    target_bytes: int = 32 << 20,
    growth: int = 4,
) -> Iterator[pa.RecordBatch]:
    """Yield ``df``'s rows as Arrow record batches in order. ``scope`` wraps every call that runs Spark jobs."""
    schema = arrow_schema(df)
    session = df.sparkSession
    sc = session.sparkContext
    tz, error_on_dup, large = _conversion_params(df)
    max_records = int(session.conf.get("spark.sql.execution.arrow.maxRecordsPerBatch", "10000"))
    with scope():
        # With adaptive execution, building the RDD can already run the shuffle stages.
        rdd = df._jdf.toArrowBatchRdd(max_records, tz, error_on_dup, large)
        java_rdd = rdd.toJavaRDD()
        partitions = rdd.getNumPartitions()
    done = 0
    chunk = 1
    seen_bytes = 0
    while done < partitions:
        wanted = list(range(done, min(partitions, done + chunk)))
        with scope():
            sock_info = sc._jvm.PythonRDD.runJob(sc._jsc.sc(), java_rdd, wanted)
        with _load_from_socket(sock_info, NoOpSerializer()) as stream:
            for message in stream:
                seen_bytes += len(message)
                yield pa.ipc.read_record_batch(pa.py_buffer(message), schema)
        done += len(wanted)
        per_partition = seen_bytes / done
        by_size = int(target_bytes / per_partition) if per_partition else chunk * growth
        chunk = max(1, min(chunk * growth, by_size))


_END = object()


class Prefetcher:
    """Runs a batch iterator in a producer thread, at most ``depth`` batches ahead of the consumer."""

    def __init__(self, source: Callable[[], Iterator[pa.RecordBatch]], depth: int = 8, name: str = "") -> None:
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
            for batch in iterator:
                if not self._put(batch):
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

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        return self

    def __next__(self) -> pa.RecordBatch:
        while True:
            try:
                item = self._queue.get(timeout=0.5)
            except queue.Empty:
                if self._stop.is_set() or not self._thread.is_alive() and self._queue.empty():
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
