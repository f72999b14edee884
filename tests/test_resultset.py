"""ResultSet streaming, bounded retention and FETCH_FIRST rewinds (pure Arrow, no Spark)."""

from __future__ import annotations

import pyarrow as pa
from pyspark.sql.types import LongType, StructField, StructType

from gateway.results.resultset import ResultSet

SCHEMA = StructType([StructField("id", LongType())])


def _source(n_batches: int, size: int, runs: list[int]):
    def factory():
        runs.append(1)
        for b in range(n_batches):
            yield pa.record_batch([pa.array(range(b * size, (b + 1) * size), pa.int64())], names=["id"])

    return factory


def _drain(rs: ResultSet, step: int) -> list[int]:
    out = []
    while True:
        batch = rs.fetch(step)
        if batch.num_rows == 0:
            return out
        out.extend(batch.column(0).to_pylist())


def test_fetch_spans_batches_and_ends_with_empty():
    runs: list[int] = []
    rs = ResultSet(SCHEMA, pa.schema([("id", pa.int64())]), _source(5, 7, runs))
    assert _drain(rs, 10) == list(range(35))
    assert rs.fetch(10).num_rows == 0
    assert len(runs) == 1


def test_rewind_replays_retained_without_rerun():
    runs: list[int] = []
    rs = ResultSet(SCHEMA, pa.schema([("id", pa.int64())]), _source(4, 5, runs))
    assert rs.fetch(3).column(0).to_pylist() == [0, 1, 2]
    assert rs.start_offset == 3
    rs.rewind()
    assert rs.start_offset == 0
    assert _drain(rs, 6) == list(range(20))
    rs.rewind()
    assert _drain(rs, 100) == list(range(20))
    assert len(runs) == 1


def test_large_results_rewind_by_rerunning_source():
    runs: list[int] = []
    rs = ResultSet(SCHEMA, pa.schema([("id", pa.int64())]), _source(10, 100, runs), retain_bytes=2000)
    assert _drain(rs, 64) == list(range(1000))
    rs.rewind()
    assert _drain(rs, 333) == list(range(1000))
    assert len(runs) == 2


def test_exhausted_callback_counts_rows():
    seen = []
    rs = ResultSet(SCHEMA, pa.schema([("id", pa.int64())]), _source(3, 4, []), on_exhausted=seen.append)
    _drain(rs, 5)
    assert seen == [12]
