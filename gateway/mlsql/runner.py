"""MLSQLExecutor: runs a script statement by statement in the session's MLSQL context.

One HS2 session is one MLSQL context: variables, connect aliases, views and functions persist across
statements and ExecuteStatement calls of that session and are invisible to other sessions. A script's
result is its last table (load, select-as, run, predict, train); a plain Spark SQL statement at the end
returns exactly what ``spark.sql`` returns; a script ending in save/set/connect returns no rows and says
what it did in the operation log.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pyarrow as pa

import dialect
from dialect import templating
from gateway.engine.executor import StatementContext, StatementResult, run_sql
from gateway.engine.paths import PathPolicy
from gateway.errors import GatewayError
from gateway.ml.service import MLRuntime
from gateway.mlsql import sources
from gateway.mlsql.transformers import REGISTRY

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


@dataclass
class MLSQLContext:
    """What persists in a session between scripts."""

    env: templating.Environment
    connections: dict[str, dict[str, str]] = field(default_factory=dict)
    view_sql: dict[str, str] = field(default_factory=dict)       # select-as view -> its SQL (model metadata)
    functions: dict[str, object] = field(default_factory=dict)   # registered name -> (algorithm, ModelGroup)
    bundle_registered: bool = False


class NotAvailable(GatewayError):
    sqlstate = "0A000"


class MLSQLExecutor:
    """The StatementExecutor for MLSQL (plain Spark SQL passes through untouched)."""

    def __init__(self, paths: PathPolicy, allow_shell: bool = False, ml: MLRuntime | None = None) -> None:
        self.paths = paths
        self.allow_shell = allow_shell
        self.ml = ml or MLRuntime(paths)

    def _context(self, ctx: StatementContext) -> MLSQLContext:
        state = ctx.state.get("mlsql")
        if state is None:
            home = str(self.paths.home(ctx.user)) if self.paths.data_roots else ""
            env = templating.Environment(owner=ctx.user, home=home, params=ctx.variables)
            state = ctx.state["mlsql"] = MLSQLContext(env)
        elif {k: v.value for k, v in state.env.params.items()} != {k: str(v) for k, v in ctx.variables.items()}:
            # a REST request brought new context.* variables
            state.env.params = {k: templating.Variable(str(v), origin="param") for k, v in ctx.variables.items()}
        if not state.bundle_registered:
            self.ml.register_bundle(ctx.spark)
            state.bundle_registered = True
        return state

    def _include(self, ctx: StatementContext, stmt: dialect.Include) -> str:
        if stmt.format.lower() not in ("file", "script", "mlsql"):
            raise GatewayError(f"include format {stmt.format!r} is not supported (use file.`path`)", "42000")
        path = self.paths.script_path(stmt.path, ctx.user)
        try:
            return path.read_text()
        except FileNotFoundError:
            raise GatewayError(f"include: script {stmt.path!r} not found", "42000") from None

    def execute(self, ctx: StatementContext, statement: str) -> StatementResult:
        state = self._context(ctx)
        # Spark's own parser is the authority on Spark SQL: a text it accepts as one statement (and that uses
        # no MLSQL variable or MLSQL-only command) runs exactly as spark.sql runs it, whatever sqlglot thinks
        # of Spark's newest syntax (JSON paths, IDENTIFIER(), SQL scripting blocks, quote escapes...).
        if _spark_accepts(ctx.spark, statement):
            return StatementResult(dataframe=run_sql(ctx.spark, statement))
        # A single statement (what BI tools send) follows the strict select-as rule, so any query Spark
        # accepts runs unchanged; in a multi-statement script a trailing table alias also names a view,
        # as MLSQL scripts written for the reference engine expect (the rows are the same either way).
        try:
            many = len(dialect.split_statements(statement)) > 1
        except dialect.MLSQLError:
            many = False  # the parser below reports the error with its position
        planner = dialect.Planner(owner=ctx.user, allow_shell=self.allow_shell,
                                  select_as="reference" if many else "strict",
                                  include_resolver=lambda inc: self._include(ctx, inc),
                                  sql_evaluator=lambda sql: _scalar(run_sql(ctx.spark, sql)))
        planner.env = state.env
        last: DataFrame | None = None
        outcome = StatementResult()
        try:
            for stmt in planner.iter_plan(statement):
                started = time.monotonic()
                last, outcome = self._run(ctx, state, planner, stmt, last)
                ctx.log.add(f"{stmt.kind} at line {stmt.line} done in {time.monotonic() - started:.3f} s")
        except dialect.MLSQLSyntaxError as exc:
            raise GatewayError(str(exc), "42000") from None
        except dialect.MLSQLError as exc:
            raise GatewayError(str(exc), getattr(exc, "sqlstate", None) or "42000") from None
        if last is not None:
            return StatementResult(dataframe=last)
        return outcome

    # -- one statement --------------------------------------------------------------------------------
    def _run(self, ctx: StatementContext, state: MLSQLContext, planner, stmt, last):
        spark = ctx.spark
        if isinstance(stmt, dialect.PassThrough):
            df = run_sql(spark, stmt.text)
            return (df if df.schema.fields else None), StatementResult(dataframe=df)
        if isinstance(stmt, dialect.SelectAs):
            text = stmt.query_text or stmt.query.sql(dialect="spark")
            df = run_sql(spark, text)
            df.createOrReplaceTempView(stmt.view)
            state.view_sql[stmt.view] = text
            return spark.table(f"`{stmt.view}`"), StatementResult()
        if isinstance(stmt, dialect.Load) and stmt.format.lower() == "_mlsql_":
            df = self._system_table(ctx, stmt.path)
            df.createOrReplaceTempView(stmt.view)
            return spark.table(f"`{stmt.view}`"), StatementResult()
        if isinstance(stmt, dialect.Load):
            df = sources.load(spark, stmt.format, stmt.path, stmt.options, user=ctx.user, paths=self.paths,
                              variables=state.env, connections=state.connections)
            df.createOrReplaceTempView(stmt.view)
            return spark.table(f"`{stmt.view}`"), StatementResult()
        if isinstance(stmt, dialect.Save):
            target = sources.save(spark.table(f"`{stmt.table}`"), stmt.format, stmt.path, stmt.effective_mode,
                                  stmt.options, stmt.partition_by, user=ctx.user, paths=self.paths,
                                  connections=state.connections)
            return None, StatementResult(message=f"saved {stmt.table} to {stmt.format}.`{target}`")
        if isinstance(stmt, dialect.SetVariable):
            return None, self._set(ctx, planner, stmt)
        if isinstance(stmt, dialect.Connect):
            state.connections[stmt.alias] = dict(stmt.options)
            return None, StatementResult(message=f"connection {stmt.alias} ({stmt.format}) defined")
        if isinstance(stmt, dialect.MacroCall):
            return self._builtin_macro(ctx, stmt)
        if isinstance(stmt, dialect.Run):
            return self._run_et(ctx, stmt.table, stmt.algorithm, dict(stmt.options), stmt.output), StatementResult()
        if isinstance(stmt, dialect.Train):
            df = self.ml.train(ctx, state, stmt)
            return _as_view(df, stmt.output), StatementResult()
        if isinstance(stmt, dialect.Predict):
            df = self.ml.predict(ctx, stmt)
            return _as_view(df, stmt.output), StatementResult()
        if isinstance(stmt, dialect.Register):
            df = self.ml.register(ctx, state, stmt)
            return df, StatementResult(dataframe=df)
        if isinstance(stmt, dialect.Unregister):
            return None, self.ml.unregister(ctx, state, stmt)
        raise GatewayError(f"statement kind {stmt.kind!r} is not supported here", "0A000")

    def _set(self, ctx: StatementContext, planner, stmt) -> StatementResult:
        kind = stmt.set_type
        if kind == "conf":
            ctx.spark.conf.set(stmt.name, stmt.value)
        elif kind == "sql" and stmt.mode == "runtime":
            planner.bind(stmt.name, _scalar(run_sql(ctx.spark, stmt.value)))
        elif kind == "shell":
            raise NotAvailable('set with type="shell" is disabled on this server')
        return StatementResult(message=f"variable {stmt.name} set")

    def _builtin_macro(self, ctx: StatementContext, stmt):
        name = stmt.name.lower()
        spark = ctx.spark
        args = list(stmt.args)
        if name == "desc" and args:
            df = run_sql(spark, f"DESCRIBE TABLE {_quoted(args[0])}")
            return df, StatementResult(dataframe=df)
        if name in ("cache", "uncache") and args:
            run_sql(spark, f"{name.upper()} TABLE {_quoted(args[0])}")
            return None, StatementResult(message=f"{name}d {args[0]}")
        if name == "show":
            return None, self._show(ctx, args)
        if name == "kill":
            return None, self._kill(ctx, args)
        if name == "split":
            table, label, rates, output = _split_args(args)
            return self._run_et(ctx, table, "RateSampler", {"labelCol": label, "sampleRate": rates}, output), \
                StatementResult()
        raise NotAvailable(f"!{stmt.name} is not available in this build")

    def _run_et(self, ctx: StatementContext, table: str, algorithm: str, options: dict[str, str],
                output: str | None) -> DataFrame:
        """``run <table> as <algorithm> where <options> [as <output>]``: the ET's result, as a view if named."""
        et = REGISTRY.get(algorithm)
        extra = et.unknown_options(options)
        if extra:
            ctx.log.add(f"{et.name} ignores the options {', '.join(extra)}")
        df = et.run(ctx.spark, ctx.spark.table(_quoted(table)), options)
        return _as_view(df, output)

    def _system_table(self, ctx: StatementContext, name: str) -> DataFrame:
        """``load _mlsql_.`jobs` as j``: the jobs this user may see (all of them for an administrator)."""
        if name.strip().lower() != "jobs":
            raise GatewayError(f"unknown system table _mlsql_.`{name}` (known: jobs)", "42000")
        if ctx.jobs is None:
            raise NotAvailable("_mlsql_.`jobs` needs an HS2 session")
        result = _jobs_table(ctx.jobs())
        return ctx.spark.createDataFrame(result.table.to_pandas(), result.schema)

    def _show(self, ctx: StatementContext, args: list[str]) -> StatementResult:
        """``!show jobs`` (the session's statements), ``!show job <id>`` or ``!show <id>`` (one of them)."""
        what = [a.lower() for a in args]
        if ctx.jobs is None:
            raise NotAvailable("!show jobs needs an HS2 session")
        if what == ["jobs"]:
            return _jobs_table(ctx.jobs())
        target = what[1] if len(what) == 2 and what[0] == "job" else what[0] if len(what) == 1 else None
        jobs = [job for job in ctx.jobs() if job["id"] == target]
        if jobs:
            return _jobs_table(jobs)
        if target is not None and _looks_like_id(target):
            raise GatewayError(f"!show: no statement {target} in this session", "42000")
        raise GatewayError(f"!show {' '.join(args)}: supported forms are '!show jobs', '!show job <id>' and "
                           "'!show <id>'", "42000")

    def _kill(self, ctx: StatementContext, args: list[str]) -> StatementResult:
        """``!kill <id>``: cancel one of this session's statements, as CancelOperation does."""
        if len(args) != 1:
            raise GatewayError("usage: !kill <statement id> (see !show jobs)", "42000")
        if ctx.kill is None:
            raise NotAvailable("!kill needs an HS2 session")
        target = args[0].strip().lower()
        if target == ctx.operation_id:
            raise GatewayError("!kill cannot cancel the statement that runs it", "42000")
        try:
            killed = ctx.kill(target)
        except KeyError:
            raise GatewayError(f"!kill: no statement {args[0]} in this session", "42000") from None
        ctx.log.add(f"statement {target} {'canceled' if killed else 'had already ended'}")
        table = pa.table({"id": pa.array([target], pa.string()), "killed": pa.array([killed], pa.bool_())})
        return StatementResult(table=table, schema=_schema(("id", "string"), ("killed", "boolean")))


_JOB_COLUMNS = (("id", "string"), ("owner", "string"), ("state", "string"), ("statement", "string"),
                ("start_time", "timestamp"), ("elapsed", "double"), ("name", "string"), ("source", "string"),
                ("progress", "double"), ("timeout", "double"))


def _jobs_table(jobs: list[dict]) -> StatementResult:
    """Job rows (``!show jobs``, ``load _mlsql_.`jobs```): the six classic columns, then name, source
    (thrift or rest), progress (0..1) and timeout (seconds)."""
    table = pa.table({
        "id": pa.array([j["id"] for j in jobs], pa.string()),
        "owner": pa.array([j["owner"] for j in jobs], pa.string()),
        "state": pa.array([j["state"] for j in jobs], pa.string()),
        "statement": pa.array([j["statement"] for j in jobs], pa.string()),
        "start_time": pa.array([int(j["start_time"] * 1_000_000) for j in jobs], pa.timestamp("us", tz="UTC")),
        "elapsed": pa.array([round(j["elapsed"], 3) for j in jobs], pa.float64()),
        "name": pa.array([j.get("name") for j in jobs], pa.string()),
        "source": pa.array([j.get("source") for j in jobs], pa.string()),
        "progress": pa.array([j.get("progress") for j in jobs], pa.float64()),
        "timeout": pa.array([j.get("timeout") for j in jobs], pa.float64()),
    })
    return StatementResult(table=table, schema=_schema(*_JOB_COLUMNS))


def _schema(*columns: tuple[str, str]):
    """A StructType of nullable columns from (name, simple type name) pairs (no JVM needed)."""
    from pyspark.sql import types as T

    kinds = {"string": T.StringType(), "boolean": T.BooleanType(), "double": T.DoubleType(),
             "timestamp": T.TimestampType()}
    return T.StructType([T.StructField(name, kinds[kind], True) for name, kind in columns])


def _looks_like_id(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _split_args(args: list[str]) -> tuple[str, str, str, str]:
    """``!split <table> by <label> with "<rates>" as <output>`` -> (table, label, rates, output)."""
    words = [a.lower() for a in args]
    if len(args) != 7 or (words[1], words[3], words[5]) != ("by", "with", "as"):
        raise GatewayError('usage: !split <table> by <labelCol> with "<rate,rate,...>" as <output>', "42000")
    return args[0], args[2], args[4], args[6]


_MLSQL_FIRST_WORDS = frozenset({"set", "load", "save", "connect", "include", "train", "run", "predict",
                                "register", "unregister"})
_LEADING = re.compile(r"\A(?:\s+|--[^\n]*(?:\n|\Z)|/\*.*?\*/)*", re.DOTALL)
_SCRIPT_BLOCK = re.compile(r"\A(?:[A-Za-z_]\w*\s*:\s*)?begin\b", re.IGNORECASE)


def _spark_accepts(spark, statement: str) -> bool:
    """True when Spark parses ``statement`` as one statement and nothing in it is MLSQL's to interpret."""
    if "${" in statement:
        return False
    body = statement[_LEADING.match(statement).end():]
    first = body.split(None, 1)[0].lower() if body.strip() else ""
    if not first or first.startswith("!") or first in _MLSQL_FIRST_WORDS:
        return False
    if _SCRIPT_BLOCK.match(body):
        return True  # a SQL scripting block (BEGIN ... END): Spark runs it whole
    try:
        spark._jsparkSession.sessionState().sqlParser().parsePlan(statement)
    except Exception:  # noqa: BLE001 - not Spark SQL: the MLSQL parser decides (and reports positions)
        return False
    return True


def _as_view(df: DataFrame, name: str | None) -> DataFrame:
    """``df`` as the temp view ``name`` (a random name when the statement has no ``as``, as the reference
    does), read back from the view so later statements and the result agree."""
    view = name or f"_mlsql_{uuid.uuid4().hex[:12]}"
    df.createOrReplaceTempView(view)
    return df.sparkSession.table(f"`{view}`")


def _quoted(name: str) -> str:
    return ".".join(f"`{part.strip('`')}`" for part in name.split("."))


def _scalar(df) -> str:
    rows = df.limit(1).collect()
    if not rows or not len(rows[0]):
        return ""
    value = rows[0][0]
    return "" if value is None else str(value)
