"""Typed MLSQL statements (dataclasses) and the script that holds them.

Equality compares what a statement *means*: source positions (``line``, ``column``), the original
text (``source``) and presentation details (which option values were ``'''blocks'''``) are left out,
so ``parse_script(script.sql()) == script`` holds. ``sql()`` writes a statement back through the
``mlsql`` sqlglot generator; SQL parts keep their original text unless ``normalize=True`` asks for
sqlglot's rendering of their AST.
"""

from __future__ import annotations

import functools
import typing as t
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlglot import exp

from dialect import nodes
from dialect.lexical import view_sql

BUILTIN_MACROS = frozenset({"show", "kill", "desc", "cache", "uncache", "split", "hdfs", "fs", "jdbc"})


def _parse_sql(text: str) -> exp.Expression | None:
    """sqlglot's AST of ``text`` in the mlsql dialect, or None when sqlglot cannot parse it."""
    import sqlglot

    try:
        return sqlglot.parse_one(text, read="mlsql")
    except Exception:  # any sqlglot failure means "no AST", never an error for Spark SQL
        return None


@dataclass
class Statement:
    """Base of all statements. ``line``/``column``: 1-based position of the first token in the script
    (for statements expanded from an include or a macro: of that include or macro call)."""

    kind: t.ClassVar[str] = ""
    line: int = field(default=0, compare=False, kw_only=True)
    column: int = field(default=0, compare=False, kw_only=True)
    source: str | None = field(default=None, compare=False, repr=False, kw_only=True)
    #: Where a statement that came from an include or a macro expansion was written.
    origin: str | None = field(default=None, compare=False, repr=False, kw_only=True)

    def to_node(self) -> exp.Expression:
        """The sqlglot node of this statement."""
        raise NotImplementedError

    def sql(self, *, normalize: bool = False) -> str:
        """The statement as MLSQL text (without the final ``;``)."""
        return self.to_node().sql(dialect="mlsql")


@dataclass
class _WithOptions(Statement):
    """A statement with a ``where``/``options`` clause. ``block_keys`` names the values that were
    written as ``'''blocks'''`` (kept for writing them back the same way)."""

    options: dict[str, str] = field(default_factory=dict, kw_only=True)
    block_keys: frozenset[str] = field(default=frozenset(), compare=False, repr=False, kw_only=True)

    def _option_nodes(self) -> list[nodes.MLSQLOption]:
        return [nodes.MLSQLOption(this=k, expression=v, style="block" if k in self.block_keys else "quoted")
                for k, v in self.options.items()]


@dataclass
class Load(_WithOptions):
    """``load <format>.`<path>` [where k="v" and ...] as <view>``"""

    kind: t.ClassVar[str] = "load"
    format: str
    path: str
    view: str

    def to_node(self) -> exp.Expression:
        return nodes.MLSQLLoad(format=self.format, path=self.path, options=self._option_nodes(), this=self.view)


@dataclass
class SelectAs(Statement):
    """``<query> as <view>``: ``query`` is the sqlglot AST; ``query_text`` the query as written."""

    kind: t.ClassVar[str] = "select_as"
    query: exp.Expression = field(repr=False)
    view: str
    query_text: str | None = field(default=None, compare=False)

    def to_node(self) -> exp.Expression:
        return nodes.MLSQLSelectAs(this=self.query, view=self.view)

    def sql(self, *, normalize: bool = False) -> str:
        if self.query_text and not normalize:
            return f"{self.query_text} as {view_sql(self.view)}"
        return super().sql()


SAVE_MODES = ("overwrite", "append", "errorIfExists", "ignore")


@dataclass
class Save(_WithOptions):
    """``save [overwrite|append|errorIfExists|ignore] <table> as <format>.`<path>` [options]
    [partitionBy a, b]``; ``mode`` is None when no mode word was written."""

    kind: t.ClassVar[str] = "save"
    table: str
    format: str
    path: str
    mode: str | None = None
    partition_by: tuple[str, ...] = ()

    @property
    def effective_mode(self) -> str:
        """The mode the write uses (errorIfExists when none was written)."""
        return self.mode or "errorIfExists"

    def to_node(self) -> exp.Expression:
        return nodes.MLSQLSave(this=self.table, mode=self.mode, format=self.format, path=self.path,
                               options=self._option_nodes(), partition_by=list(self.partition_by))


SET_TYPES = ("text", "sql", "conf", "defaultParam", "shell")


@dataclass
class SetVariable(_WithOptions):
    """``set <name> = <value> [where type="..." and mode="..."]``.

    ``style`` is how the value was quoted: "quoted" (``"..."``/``'...'``), "block" (``'''...'''``,
    stored verbatim by the planner) or "backquoted" (`` `...` ``, the usual form for type=sql).
    ``refused`` is True for ``type="shell"`` unless the parser was told that shell is allowed.
    """

    kind: t.ClassVar[str] = "set"
    name: str
    value: str
    style: str = "quoted"
    refused: bool = field(default=False, compare=False)

    @property
    def set_type(self) -> str:
        """text (default), sql, conf, defaultParam or shell."""
        raw = self.options.get("type", "text").lower()
        return next((k for k in SET_TYPES if k.lower() == raw), "text")

    @property
    def mode(self) -> str:
        """When a sql value is evaluated: "runtime" (default for sql and shell) or "compile"."""
        if self.set_type not in ("sql", "shell"):
            return "compile"
        return "compile" if self.options.get("mode", "").lower() == "compile" else "runtime"

    @functools.cached_property
    def query(self) -> exp.Expression | None:
        """The AST of the value for type=sql (None for other types or when sqlglot cannot parse it)."""
        return _parse_sql(self.value) if self.set_type == "sql" else None

    def to_node(self) -> exp.Expression:
        return nodes.MLSQLSet(this=self.name, expression=self.value, style=self.style,
                              options=self._option_nodes())


@dataclass
class Connect(_WithOptions):
    """``connect <format> [where k="v" ...] as <alias>``"""

    kind: t.ClassVar[str] = "connect"
    format: str
    alias: str

    def to_node(self) -> exp.Expression:
        return nodes.MLSQLConnect(format=self.format, options=self._option_nodes(), this=self.alias)


@dataclass
class Include(_WithOptions):
    """``include <format>.`<path>` [where ...]``"""

    kind: t.ClassVar[str] = "include"
    format: str
    path: str

    def to_node(self) -> exp.Expression:
        return nodes.MLSQLInclude(format=self.format, path=self.path, options=self._option_nodes())


@dataclass
class ModelStatement(_WithOptions):
    """Common shape of train, run and predict: ``<kw> <table> as <Alg>.`<path>` [options] [as <out>]``."""

    table: str
    algorithm: str
    path: str
    output: str | None = None

    def to_node(self) -> exp.Expression:
        return nodes.MLSQLModel(kind=self.kind, this=self.table, algorithm=self.algorithm, path=self.path,
                                options=self._option_nodes(), output=self.output)


@dataclass
class Train(ModelStatement):
    kind: t.ClassVar[str] = "train"


@dataclass
class Run(ModelStatement):
    kind: t.ClassVar[str] = "run"


@dataclass
class Predict(ModelStatement):
    kind: t.ClassVar[str] = "predict"


@dataclass
class Register(_WithOptions):
    """``register <Alg>.`<path>` as <function> [options]``"""

    kind: t.ClassVar[str] = "register"
    algorithm: str
    path: str
    function: str

    def to_node(self) -> exp.Expression:
        return nodes.MLSQLRegister(algorithm=self.algorithm, path=self.path, this=self.function,
                                   options=self._option_nodes())


@dataclass
class Unregister(_WithOptions):
    """``unregister <Alg>.`<path>` [options]``"""

    kind: t.ClassVar[str] = "unregister"
    algorithm: str
    path: str

    def to_node(self) -> exp.Expression:
        return nodes.MLSQLUnregister(algorithm=self.algorithm, path=self.path, options=self._option_nodes())


@dataclass
class MacroCall(Statement):
    """``!name arg ...``: quoted arguments are unquoted; others are whitespace-separated words."""

    kind: t.ClassVar[str] = "macro"
    name: str
    args: tuple[str, ...] = ()

    @property
    def builtin(self) -> bool:
        """True for the built-in commands (show, kill, desc, cache, uncache, split, hdfs, fs, jdbc)."""
        return self.name.lower() in BUILTIN_MACROS

    def to_node(self) -> exp.Expression:
        return nodes.MLSQLMacro(this=self.name, args=list(self.args))


@dataclass
class PassThrough(Statement):
    """Spark SQL to run unchanged. ``trailing_alias`` is set when the text ends with ``AS <name>``
    that Spark reads as an alias (a hint for users who meant an MLSQL view)."""

    kind: t.ClassVar[str] = "passthrough"
    text: str
    trailing_alias: str | None = field(default=None, compare=False)

    @functools.cached_property
    def expression(self) -> exp.Expression | None:
        """sqlglot's AST of the text (None when sqlglot cannot parse it; Spark may still accept it)."""
        return _parse_sql(self.text)

    def to_node(self) -> exp.Expression:
        return exp.Command(this=self.text)

    def sql(self, *, normalize: bool = False) -> str:
        return self.text


@dataclass
class Script:
    """A parsed script: its statements in order."""

    statements: list[Statement] = field(default_factory=list)

    def __iter__(self) -> Iterator[Statement]:
        return iter(self.statements)

    def __len__(self) -> int:
        return len(self.statements)

    def __getitem__(self, index: int) -> Statement:
        return self.statements[index]

    def sql(self, *, normalize: bool = False) -> str:
        """The script as text: one statement per line, each ending with ``;``."""
        return "".join(s.sql(normalize=normalize) + ";\n" for s in self.statements)


def _options(node: exp.Expression) -> dict[str, t.Any]:
    opts = node.args.get("options") or []
    return {"options": {o.this: o.args["expression"] for o in opts},
            "block_keys": frozenset(o.this for o in opts if o.args.get("style") == "block")}


_MODEL_CLASSES: dict[str, type[ModelStatement]] = {"train": Train, "run": Run, "predict": Predict}


def from_node(node: exp.Expression, *, line: int = 0, column: int = 0, source: str | None = None,
              query_text: str | None = None) -> Statement:
    """The typed statement for a node of the mlsql dialect (other nodes become PassThrough)."""
    pos = {"line": line, "column": column, "source": source}
    a = node.args
    if isinstance(node, nodes.MLSQLLoad):
        return Load(a["format"], a["path"], node.this, **_options(node), **pos)
    if isinstance(node, nodes.MLSQLSelectAs):
        return SelectAs(node.this, a["view"], query_text, **pos)
    if isinstance(node, nodes.MLSQLSave):
        return Save(node.this, a["format"], a["path"], a.get("mode"), tuple(a.get("partition_by") or ()),
                    **_options(node), **pos)
    if isinstance(node, nodes.MLSQLSet):
        return SetVariable(node.this, a["expression"], a.get("style") or "quoted", **_options(node), **pos)
    if isinstance(node, nodes.MLSQLConnect):
        return Connect(a["format"], node.this, **_options(node), **pos)
    if isinstance(node, nodes.MLSQLInclude):
        return Include(a["format"], a["path"], **_options(node), **pos)
    if isinstance(node, nodes.MLSQLModel):
        cls = _MODEL_CLASSES[a["kind"]]
        return cls(node.this, a["algorithm"], a["path"], a.get("output"), **_options(node), **pos)
    if isinstance(node, nodes.MLSQLRegister):
        return Register(a["algorithm"], a["path"], node.this, **_options(node), **pos)
    if isinstance(node, nodes.MLSQLUnregister):
        return Unregister(a["algorithm"], a["path"], **_options(node), **pos)
    if isinstance(node, nodes.MLSQLMacro):
        return MacroCall(node.this, tuple(a.get("args") or ()), **pos)
    text = source if source is not None else node.sql(dialect="mlsql")
    return PassThrough(text, **pos)
