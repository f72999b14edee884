"""Online predict: a ``select`` over registered model functions, evaluated in the gateway process.

``POST /model/predict`` sends records and a SQL expression such as ``select rf(vec_dense(feature)) as p``.
The expression is parsed with sqlglot once per (owner, text, registrations) and compiled into a tree of
Python callables over Arrow columns: no Spark job, no JVM. Model functions run the very scorer code the
Spark Arrow UDF runs (:mod:`gateway.ml.scoring`), and the vector/array bundle is the same module Spark
uses, so a row scores the same here as in ``select`` through Spark.

Supported: one ``select`` without FROM/WHERE/GROUP BY, of expressions built from the input columns,
literals, ``array(...)``, ``+ - * /``, numeric casts, the owner's registered functions and the bundle.
Anything else is refused with a message naming it; nothing is silently evaluated differently.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gateway.errors import GatewayError
from gateway.ml import functions as bundle
from gateway.ml import vectors

Evaluator = Callable[[dict[str, pa.Array], int], pa.Array]
DATA_TYPES = ("vector", "string", "row")
_NUMERIC_CASTS = {"double": pa.float64(), "float": pa.float32(), "int": pa.int32(), "integer": pa.int32(),
                  "bigint": pa.int64(), "long": pa.int64(), "smallint": pa.int16(), "tinyint": pa.int8()}


class PredictError(GatewayError):
    """A request the online path cannot serve (bad data, unsupported SQL): HTTP 400."""

    sqlstate = "42000"


@dataclass(frozen=True)
class CompiledQuery:
    names: tuple[str, ...]
    evaluators: tuple[Evaluator, ...]

    def run(self, columns: dict[str, pa.Array], rows: int) -> list[dict[str, Any]]:
        outputs = [_as_column(e(columns, rows), rows) for e in self.evaluators]
        values = [_json_values(o) for o in outputs]
        return [dict(zip(self.names, row, strict=True)) for row in zip(*values, strict=True)]


def _as_column(value: pa.Array | pa.Scalar, rows: int) -> pa.Array:
    if isinstance(value, pa.ChunkedArray):
        return value.combine_chunks()
    if isinstance(value, pa.Scalar):
        return pa.array([value.as_py()] * rows, value.type)
    return value


def _json_values(array: pa.Array) -> list[Any]:
    if vectors.is_vector_type(array.type):
        return [None if v is None else _vector_json(v) for v in array.to_pylist()]
    out = array.to_pylist()
    if pa.types.is_floating(array.type):
        return [None if v is None or v != v else v for v in out]
    return out


def _vector_json(value: dict[str, Any]) -> dict[str, Any]:
    """A vector as the reference serializes VectorUDT: dense {type:1, values}, sparse {type:0, size, ...}."""
    if value.get("type", 1) == 1:
        return {"type": 1, "values": value["values"]}
    return {"type": 0, "size": value["size"], "indices": value["indices"], "values": value["values"]}


class Compiler:
    """Turns a sqlglot expression into an evaluator over named Arrow columns."""

    def __init__(self, functions: dict[str, Callable[..., pa.Array]]) -> None:
        self.functions = {k.lower(): v for k, v in functions.items()}

    def query(self, sql: str) -> CompiledQuery:
        import sqlglot
        from sqlglot import exp

        try:
            tree = sqlglot.parse_one(sql, read="spark")
        except sqlglot.errors.ParseError as exc:
            raise PredictError(f"cannot parse sql: {str(exc).splitlines()[0]}") from None
        if not isinstance(tree, exp.Select):
            raise PredictError(f"online predict supports one SELECT, not {tree.key.upper()}")
        for clause, value in tree.args.items():
            if clause not in ("expressions", "kind", "hint", "operation_modifiers") and value:
                label = clause.rstrip("_").upper()
                raise PredictError(f"online predict does not support {label} (only select <expressions>)")
        names, evaluators = [], []
        for projection in tree.expressions:
            if isinstance(projection, exp.Star):
                raise PredictError("online predict does not support select * (name the expressions)")
            node = projection.this if isinstance(projection, exp.Alias) else projection
            names.append(projection.alias if isinstance(projection, exp.Alias)
                         else projection.sql(dialect="spark", normalize_functions=False))
            evaluators.append(self.expression(node))
        return CompiledQuery(tuple(names), tuple(evaluators))

    def pipeline(self, text: str, column: str = "feature") -> CompiledQuery:
        steps = [s.strip() for s in text.split(",") if s.strip()]
        if not steps:
            raise PredictError("pipeline is empty (give function names: a,b means b(a(feature)))")
        evaluator: Evaluator = _column(column)
        for step in steps:
            evaluator = self._call(step, [evaluator])
        return CompiledQuery((steps[-1],), (evaluator,))

    # -- expressions ----------------------------------------------------------------------------------
    def expression(self, node) -> Evaluator:
        from sqlglot import exp

        if isinstance(node, exp.Paren):
            return self.expression(node.this)
        if isinstance(node, exp.Column):
            if node.table:
                raise PredictError(f"column {node.sql()} names a table; online predict has only the request's columns")
            return _column(node.name)
        if isinstance(node, exp.Literal):
            return _literal(node)
        if isinstance(node, exp.Boolean):
            value = node.this
            return lambda cols, n: pa.array([value] * n, pa.bool_())
        if isinstance(node, exp.Null):
            return lambda cols, n: pa.nulls(n)
        if isinstance(node, exp.Neg):
            inner = self.expression(node.this)
            return lambda cols, n: pc.negate_checked(inner(cols, n))
        if isinstance(node, (exp.Add, exp.Sub, exp.Mul, exp.Div)):
            return _arithmetic(type(node).__name__, self.expression(node.this), self.expression(node.expression))
        if isinstance(node, (exp.Cast, exp.TryCast)):
            return _cast(self.expression(node.this), node.to.sql(dialect="spark").lower())
        if isinstance(node, exp.Array):
            return _array([self.expression(e) for e in node.expressions])
        if isinstance(node, exp.Anonymous):
            return _shared(node, self._call(node.name, [self.expression(a) for a in node.expressions]))
        if isinstance(node, exp.Func):
            name = node.sql_name().lower()
            if name in self.functions or name in bundle.FUNCTIONS:
                return _shared(node, self._call(name, [self.expression(a) for a in _func_args(node)]))
            raise PredictError(f"function {name} is not supported in online predict (supported: the owner's "
                               "registered functions, the vector/array bundle, array(), + - * / and numeric casts)")
        raise PredictError(f"{node.sql(dialect='spark')} ({type(node).__name__}) is not supported in online predict")

    def _call(self, name: str, args: list[Evaluator]) -> Evaluator:
        key = name.lower()
        fn = self.functions.get(key)
        if fn is None and key in bundle.FUNCTIONS:
            spec = bundle.FUNCTIONS[key]
            if spec.arity != len(args):
                raise PredictError(f"{key} takes {spec.arity} argument(s), not {len(args)}")
            fn = spec.fn
        if fn is None:
            raise PredictError(f"unknown function {name}: register a model under that name first "
                               "(functions are looked up among the owner's registered models and the bundle)")

        def call(cols: dict[str, pa.Array], n: int) -> pa.Array:
            try:
                return fn(*[_as_column(a(cols, n), n) for a in args])
            except GatewayError:
                raise
            except (ValueError, TypeError, KeyError, pa.ArrowInvalid) as exc:
                raise PredictError(f"{name}: {exc}") from None

        return call


def _shared(node, evaluator: Evaluator) -> Evaluator:
    """Evaluate a function call once per request even if the select repeats it (``rf(x)`` in two columns):
    the result is kept in the request's column dict under the call's SQL text."""
    key = ("__call__", node.sql(dialect="spark", normalize_functions=False))

    def run(cols: dict, n: int) -> pa.Array:
        hit = cols.get(key)
        if hit is None:
            hit = cols[key] = evaluator(cols, n)
        return hit

    return run


def _func_args(node) -> list:
    args = []
    for key in node.arg_types:
        value = node.args.get(key)
        if isinstance(value, list):
            args.extend(value)
        elif value is not None:
            args.append(value)
    return args


def _column(name: str) -> Evaluator:
    def get(cols: dict[str, pa.Array], n: int) -> pa.Array:
        for key in (name, name.lower()):
            if key in cols:
                return cols[key]
        names = [k for k in cols if isinstance(k, str)]
        raise PredictError(f"unknown column {name} (the request has: {', '.join(names) or 'none'})")

    return get


def _literal(node) -> Evaluator:
    if node.is_string:
        text = node.this
        return lambda cols, n: pa.array([text] * n, pa.string())
    text = node.this
    value: Any = float(text) if any(c in text for c in ".eE") else int(text)
    kind = pa.float64() if isinstance(value, float) else pa.int32() if abs(value) < 2**31 else pa.int64()
    return lambda cols, n: pa.array([value] * n, kind)


def _arithmetic(op: str, left: Evaluator, right: Evaluator) -> Evaluator:
    def run(cols: dict[str, pa.Array], n: int) -> pa.Array:
        a, b = _as_column(left(cols, n), n), _as_column(right(cols, n), n)
        for side in (a, b):
            if not (pa.types.is_integer(side.type) or pa.types.is_floating(side.type) or pa.types.is_null(side.type)):
                raise PredictError(f"arithmetic needs numbers, not {side.type}")
        if op == "Div":
            a, b = a.cast(pa.float64()), b.cast(pa.float64())
            if pc.any(pc.equal(b, 0.0)).as_py():
                raise PredictError("division by zero")
            return pc.divide(a, b)
        fn = {"Add": pc.add_checked, "Sub": pc.subtract_checked, "Mul": pc.multiply_checked}[op]
        try:
            return fn(a, b)
        except pa.ArrowInvalid as exc:
            raise PredictError(f"arithmetic overflow: {exc}") from None

    return run


def _cast(inner: Evaluator, target: str) -> Evaluator:
    kind = _NUMERIC_CASTS.get(target)
    if kind is None:
        raise PredictError(f"cast to {target} is not supported in online predict (numeric casts only)")

    def run(cols: dict[str, pa.Array], n: int) -> pa.Array:
        value = _as_column(inner(cols, n), n)
        try:
            if pa.types.is_floating(value.type) and pa.types.is_integer(kind):
                return pc.cast(pc.trunc(value), kind)
            return pc.cast(value, kind)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise PredictError(f"cannot cast {value.type} to {target}: {exc}") from None

    return run


def _array(items: list[Evaluator]) -> Evaluator:
    def run(cols: dict[str, pa.Array], n: int) -> pa.Array:
        parts = [_as_column(i(cols, n), n) for i in items]
        if not parts:
            return pa.array([[] for _ in range(n)], pa.list_(pa.float64()))
        if all(pa.types.is_string(p.type) for p in parts):
            values = np.column_stack([p.to_numpy(zero_copy_only=False) for p in parts]).reshape(-1)
            return pa.ListArray.from_arrays(pa.array(np.arange(0, n * len(parts) + 1, len(parts), dtype=np.int32)),
                                            pa.array(values, pa.string()))
        for p in parts:
            if not (pa.types.is_integer(p.type) or pa.types.is_floating(p.type) or pa.types.is_decimal(p.type)):
                raise PredictError(f"array() of {p.type} is not supported in online predict")
        matrix = np.column_stack([p.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False) for p in parts])
        offsets = pa.array(np.arange(0, n * len(parts) + 1, len(parts), dtype=np.int32))
        return pa.ListArray.from_arrays(offsets, pa.array(matrix.reshape(-1), pa.float64()))

    return run


def input_columns(data_type: str, data: list[Any]) -> dict[str, pa.Array]:
    """The request's records as Arrow columns: ``feature`` for vector/string data, the keys for rows."""
    kind = (data_type or "").lower()
    if kind not in DATA_TYPES:
        raise PredictError(f"dataType must be one of {', '.join(DATA_TYPES)}, not {data_type!r}")
    if not data:
        raise PredictError("data is empty: send a JSON array of records")
    try:
        if kind == "vector":
            return {"feature": _vector_column(data)}
        if kind == "string":
            if not all(isinstance(v, str) or v is None for v in data):
                raise PredictError("dataType string needs a JSON array of strings")
            return {"feature": pa.array(data, pa.string())}
        if not all(isinstance(v, dict) for v in data):
            raise PredictError("dataType row needs a JSON array of objects")
        keys = list(dict.fromkeys(k for row in data for k in row))
        return {k: pa.array([row.get(k) for row in data]) for k in keys}
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as exc:
        if isinstance(exc, GatewayError):
            raise
        raise PredictError(f"cannot read data as {kind}: {exc}") from None


def _vector_column(data: list[Any]) -> pa.Array:
    dense: list[Any] = []
    sparse = False
    for item in data:
        if isinstance(item, dict):
            if item.get("type") == 0:
                sparse = True
            dense.append(vectors.to_python({"type": item.get("type", 1), "size": item.get("size"),
                                            "indices": item.get("indices", []), "values": item.get("values", [])}))
        elif isinstance(item, list) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in item):
            dense.append([float(v) for v in item])
        else:
            raise PredictError("dataType vector needs arrays of numbers or {type, size, indices, values} objects")
    widths = {len(v) for v in dense}
    if len(widths) != 1:
        raise PredictError(f"vectors of different sizes in one request: {sorted(widths)}")
    del sparse  # sparse input is densified; every scorer accepts both
    return vectors.from_matrix(np.array(dense, dtype=np.float64).reshape(len(dense), widths.pop()))


class QueryCache:
    """Compiled queries per (owner, text, registration version): compile once, reuse for every request."""

    def __init__(self, size: int = 512) -> None:
        self._entries: OrderedDict[tuple, CompiledQuery] = OrderedDict()
        self._lock = threading.Lock()
        self.size = size

    def get(self, key: tuple, build: Callable[[], CompiledQuery]) -> CompiledQuery:
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None:
                self._entries.move_to_end(key)
                return hit
        compiled = build()
        with self._lock:
            self._entries[key] = compiled
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return compiled
