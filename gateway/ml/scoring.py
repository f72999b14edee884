"""Portable scorers: a trained model as plain numpy/pyarrow code, loaded once per Python process.

A scorer is what a registered model function runs. The same object serves three callers: the Arrow UDF
inside Spark's Python workers (``select rf(features) from t``), the ``predict`` statement for non-JVM
models, and online predict in the gateway process (no Spark job). Each model-group directory holds a
``scorer.json`` naming its scorer class (only classes under ``gateway.ml`` are accepted) plus whatever
files that class reads. Scorer methods take Arrow arrays (one per SQL argument) and return Arrow arrays
or numpy arrays that :func:`to_arrow` converts by the function's declared return type.
"""

from __future__ import annotations

import importlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from gateway.ml import vectors

SCORER_FILE = "scorer.json"
_ALLOWED_PREFIX = "gateway.ml."


@dataclass(frozen=True)
class FunctionSpec:
    """One SQL function a scorer provides: ``<registered name><suffix>(args) -> return_type``.

    ``return_type`` is Spark DDL (``double``, ``int``, ``array<double>``, ``string``...) or ``vector``
    (Spark ML's VectorUDT). ``args`` documents the argument types, e.g. ``("vector",)``.
    """

    suffix: str
    method: str
    return_type: str
    args: tuple[str, ...] = ("vector",)
    doc: str = ""


class ScorerError(ValueError):
    """A model that cannot score this input (wrong size, wrong type...): a user error."""


class Scorer:
    """Base class: subclasses implement ``load`` and the methods their ``functions`` name."""

    functions: ClassVar[tuple[FunctionSpec, ...]] = ()

    @classmethod
    def load(cls, directory: Path, spec: dict[str, Any]) -> Scorer:
        """Read the scorer from ``directory`` (``spec`` is the parsed scorer.json)."""
        raise NotImplementedError

    def function(self, suffix: str = "") -> FunctionSpec:
        for spec in self.functions:
            if spec.suffix == suffix:
                return spec
        raise KeyError(suffix)

    def call(self, suffix: str, *columns: pa.Array) -> pa.Array:
        """Apply function ``suffix`` to Arrow columns; the result as an Arrow array of its return type."""
        spec = self.function(suffix)
        return to_arrow(getattr(self, spec.method)(*columns), spec.return_type, len(columns[0]) if columns else 0)


def write_spec(directory: Path, scorer: type[Scorer], **fields: Any) -> None:
    """Write ``scorer.json`` naming ``scorer`` (and any small JSON fields it needs)."""
    spec = {"scorer": f"{scorer.__module__}:{scorer.__qualname__}", **fields}
    (directory / SCORER_FILE).write_text(json.dumps(spec, indent=1, sort_keys=True))


def read_spec(directory: Path) -> dict[str, Any]:
    return json.loads((Path(directory) / SCORER_FILE).read_text())


def scorer_class(spec: dict[str, Any]) -> type[Scorer]:
    module_name, _, name = str(spec.get("scorer", "")).partition(":")
    if not module_name.startswith(_ALLOWED_PREFIX) or not name:
        raise ScorerError(f"model scorer {spec.get('scorer')!r} is not one of the gateway's scorers")
    cls = getattr(importlib.import_module(module_name), name, None)
    if not (isinstance(cls, type) and issubclass(cls, Scorer)):
        raise ScorerError(f"model scorer {spec.get('scorer')!r} is not a Scorer")
    return cls


_CACHE: dict[tuple[str, int], Scorer] = {}
_CACHE_LOCK = threading.Lock()
_CACHE_LIMIT = 64


def load(directory: str | Path) -> Scorer:
    """The scorer stored in ``directory``, loaded once per process (keyed by path and scorer.json mtime)."""
    path = Path(directory)
    key = (str(path), (path / SCORER_FILE).stat().st_mtime_ns)
    scorer = _CACHE.get(key)
    if scorer is not None:
        return scorer
    with _CACHE_LOCK:
        scorer = _CACHE.get(key)
        if scorer is None:
            spec = read_spec(path)
            scorer = scorer_class(spec).load(path, spec)
            if len(_CACHE) >= _CACHE_LIMIT:
                _CACHE.pop(next(iter(_CACHE)))
            _CACHE[key] = scorer
    return scorer


def to_arrow(result: Any, return_type: str, rows: int) -> pa.Array:
    """Convert a scorer method's result to an Arrow array of ``return_type``."""
    if isinstance(result, pa.ChunkedArray):
        result = result.combine_chunks()
    kind = return_type.strip().lower()
    if kind == "vector":
        if isinstance(result, pa.Array):
            return result
        matrix = np.asarray(result, dtype=np.float64)
        if matrix.ndim == 1:
            matrix = matrix.reshape(rows, -1)
        return vectors.from_matrix(matrix, np.isnan(matrix).all(axis=1) if matrix.shape[1] else None)
    arrow_type = arrow_type_of(kind)
    if isinstance(result, pa.Array):
        return result if result.type == arrow_type else result.cast(arrow_type)
    if isinstance(result, np.ndarray) and result.ndim == 2 and pa.types.is_list(arrow_type):
        return pa.array(list(result), arrow_type)
    if isinstance(result, np.ndarray) and result.dtype.kind == "f" and not pa.types.is_floating(arrow_type):
        mask = np.isnan(result)  # an integer result has no NaN: NaN marks a null row
        return pa.array(np.where(mask, 0, result).astype(arrow_type.to_pandas_dtype()), arrow_type,
                        mask=mask if mask.any() else None)
    if isinstance(result, np.ndarray) and result.dtype.kind == "f":
        return pa.array(result, arrow_type)  # NaN stays NaN, as in Spark; scorers return masked arrays for nulls
    return pa.array(result, arrow_type, from_pandas=True)


_SIMPLE = {"double": pa.float64(), "float": pa.float32(), "int": pa.int32(), "integer": pa.int32(),
           "bigint": pa.int64(), "long": pa.int64(), "string": pa.string(), "boolean": pa.bool_()}


def arrow_type_of(ddl: str) -> pa.DataType:
    """Arrow type for a small Spark DDL subset (scalars, array<...>, map<string,double>)."""
    kind = ddl.strip().lower().replace(" ", "")
    if kind in _SIMPLE:
        return _SIMPLE[kind]
    if kind == "vector":
        return vectors.VECTOR_TYPE
    if kind.startswith("array<") and kind.endswith(">"):
        return pa.list_(arrow_type_of(kind[6:-1]))
    if kind.startswith("map<") and kind.endswith(">"):
        key, _, value = kind[4:-1].partition(",")
        return pa.map_(arrow_type_of(key), arrow_type_of(value))
    raise ValueError(f"unsupported return type {ddl!r}")
