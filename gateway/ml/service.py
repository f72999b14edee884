"""MLRuntime: what the MLSQL runner calls for train, predict, register and unregister.

It resolves model paths inside the data roots, applies the gateway's limits, registers model functions in
the session's Spark (so every client of that session can call them, and GetFunctions lists them), and
remembers each owner's registered functions for online prediction.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gateway.engine.executor import StatementResult
from gateway.ml import runtime
from gateway.ml.algorithm import Algorithm, Limits, ModelGroup, TrainError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from gateway.engine.executor import StatementContext
    from gateway.engine.paths import PathPolicy

@dataclass(frozen=True)
class RegisteredFunction:
    """A model function as registered by ``register``: who owns it and which model group it serves."""

    name: str
    owner: str
    algorithm: Algorithm
    group: ModelGroup
    names: tuple[str, ...]          # the SQL names registered (main + extra functions such as fn_raw)

class MLRuntime:
    """Gateway-wide ML runtime (one per gateway; sessions keep their own registrations)."""

    def __init__(self, paths: PathPolicy, limits: Limits | None = None) -> None:
        self.paths = paths
        self.limits = limits or Limits()
        self._lock = threading.Lock()
        self._by_owner: dict[str, dict[str, RegisteredFunction]] = {}
        self._builtins: frozenset[str] | None = None
        self.version = 0  # bumped on every register/unregister (online predict caches compiled queries by it)

    # -- statements -------------------------------------------------------------------------------------
    def train(self, ctx: StatementContext, state: Any, stmt) -> DataFrame:
        path = self.paths.data_path(stmt.path, ctx.user)
        request = runtime.TrainRequest(
            spark=ctx.spark, table=stmt.table, algorithm=stmt.algorithm, path=path, display_path=stmt.path,
            options=dict(stmt.options), owner=ctx.user, feature_sql=state.view_sql.get(stmt.table),
            limits=self.limits, log=ctx.log.add, paths=self.paths)
        rows = runtime.train(request)
        ok = sum(1 for r in rows if r[4] == "success")
        ctx.log.add(f"train {stmt.algorithm}: {ok} of {len(rows)} group(s) trained into {stmt.path}")
        return runtime.status_frame(ctx.spark, rows)

    def predict(self, ctx: StatementContext, stmt) -> DataFrame:
        alg, group = runtime.load_group(self.paths.data_path(stmt.path, ctx.user), dict(stmt.options))
        _check_same(alg, stmt.algorithm, stmt.path)
        alg.check_allowed(self.limits)

        df = ctx.spark.table(_quoted(stmt.table))
        return alg.batch_predict(ctx.spark, df, group)

    def register(self, ctx: StatementContext, state: Any, stmt) -> DataFrame:
        from gateway.ml import udf

        alg, group = runtime.load_group(self.paths.data_path(stmt.path, ctx.user), dict(stmt.options))
        _check_same(alg, stmt.algorithm, stmt.path)
        alg.check_allowed(self.limits)
        if stmt.function.lower() in self._builtin_names(ctx.spark):
            raise TrainError(f"register: {stmt.function} is the name of a built-in function; choose another name")
        names = tuple(udf.register_model(ctx.spark, group, stmt.function))
        entry = RegisteredFunction(stmt.function, ctx.user, alg, group, names)
        state.functions[stmt.function] = entry
        with self._lock:
            self._by_owner.setdefault(ctx.user, {})[stmt.function.lower()] = entry
            self.version += 1
        ctx.log.add(f"registered {', '.join(names)} from {alg.name} group {group.index}")
        return ctx.spark.createDataFrame(alg.explain_model(group), "name string, value string")

    def _builtin_names(self, spark: SparkSession) -> frozenset[str]:
        if self._builtins is None:
            rows = spark.sql("SHOW SYSTEM FUNCTIONS").collect()
            self._builtins = frozenset(r[0].lower() for r in rows)
        return self._builtins

    def unregister(self, ctx: StatementContext, state: Any, stmt) -> StatementResult:
        name = runtime.option(dict(stmt.options), "name") or stmt.path
        entry = state.functions.pop(name, None)
        if entry is None:
            raise TrainError(f"unregister: no function {name!r} was registered in this session")
        for fn in entry.names:
            ctx.spark.sql(f"DROP TEMPORARY FUNCTION IF EXISTS `{fn}`")
        with self._lock:
            owned = self._by_owner.get(ctx.user, {})
            if owned.get(name.lower()) is entry:
                del owned[name.lower()]
            self.version += 1
        return StatementResult(message=f"unregistered {', '.join(entry.names)}")

    def register_bundle(self, spark: SparkSession) -> None:
        """The vector/array function bundle (vec_dense, vec_argmax...) in this Spark session."""
        from gateway.ml import functions

        functions.register_all(spark)

    # -- online predict (REST) -----------------------------------------------------------------------
    def functions_of(self, owner: str) -> dict[str, RegisteredFunction]:
        with self._lock:
            return dict(self._by_owner.get(owner, {}))

    def callables(self, owner: str) -> dict[str, Any]:
        """``{sql name: fn(*arrow columns)}`` for every function the owner registered (main and extras),
        running the same scorer code as the Spark UDF."""
        out: dict[str, Any] = {}
        for entry in self.functions_of(owner).values():
            for spec in entry.group.scorer().functions:
                out[entry.name + spec.suffix] = _ScorerCall(str(entry.group.directory), spec.suffix)
        return out


class _ScorerCall:
    """Calls one scorer function; the scorer is re-read only when its files change (as in Spark workers)."""

    def __init__(self, directory: str, suffix: str) -> None:
        self.directory = directory
        self.suffix = suffix

    def __call__(self, *columns):
        from gateway.ml import scoring

        return scoring.load(self.directory).call(self.suffix, *columns)

def _check_same(alg: Algorithm, requested: str, path: str) -> None:
    wanted = runtime.algorithm(requested)
    if wanted.name != alg.name:
        raise TrainError(f"the model at {path} was trained with {alg.name}, not {wanted.name}")

def _quoted(name: str) -> str:
    return ".".join(f"`{part.strip('`')}`" for part in name.split("."))
