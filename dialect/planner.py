"""Plan a parsed script: includes, macros, ``set`` and ``${}`` substitution, in script order.

WHEN SUBSTITUTION HAPPENS. Parsing never substitutes: a parsed script keeps ``${...}`` as written.
The planner walks the statements in order and renders each one just before handing it out, with the
variables defined by the statements before it:

* MLSQL statements are rendered field by field (names, paths, option keys and values), strictly: an
  unknown variable is an :class:`UnknownVariableError` naming it. ``${}`` can fill a name or a value;
  it cannot produce MLSQL syntax (macros are the way to generate statements).
* A query (select-as or a query passed through) that contains ``${`` is rendered as a whole and then
  classified again by the select-as rule. Other Spark SQL is rendered leniently (unknown ``${x}``
  stay for Spark's own substitution) unless ``strict_passthrough=True``.
* ``set`` values written as ``"..."``, ``'...'`` or `` `...` `` are rendered once, at definition time
  (the reference's default); the stored value is final. ``'''block'''`` values of text and
  defaultParam sets are stored verbatim and rendered where they are used (nested re-rendering), so a
  template may mention variables that are defined later.
* ``type="defaultParam"`` assigns only when the variable is not defined yet (a request parameter or
  an earlier set counts); ``type="conf"`` stores the variable and the executor also applies it to
  Spark; ``type="sql"`` with ``mode="compile"`` is evaluated at plan time by ``sql_evaluator``;
  ``type="sql"`` (runtime, the default) and allowed ``type="shell"`` are handed to the executor,
  which must call :meth:`Planner.bind` with the value before asking for the next statement.
* ``type="shell"`` is refused (:class:`RefusedStatementError`) unless ``allow_shell=True``.
* ``!name args`` expands the template stored in the variable ``name`` and plans the resulting
  statements; the built-in commands (show, kill, desc, cache, uncache, split, hdfs, fs, jdbc) are
  reserved and handed to the executor with their arguments rendered.
* ``include`` is resolved through ``include_resolver`` when the planner reaches it (so its path may
  use variables set before it) and its statements are planned in place.

Statements that come from an include or a macro carry the position of that include or macro call
(their ``origin`` says where they were written); errors inside them are reported there too.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator, Mapping

from dialect.errors import (
    MLSQLError,
    RefusedStatementError,
    TemplateError,
    UnknownMacroError,
    UnknownVariableError,
)
from dialect.includes import (
    Resolver,
    describe_include,
    fetch_include,
    include_key,
    nested_origin,
    reanchor,
    render_include,
)
from dialect.parser import QUERY_WORDS, SELECT_AS_MODES, classify_query, head_word, parse_script
from dialect.statements import Include, MacroCall, PassThrough, Script, SelectAs, SetVariable, Statement
from dialect.templating import Environment, expand_macro

SqlEvaluator = Callable[[str], str]


class Planner:
    """Turns a script into the statements to execute, one at a time (see the module docstring)."""

    def __init__(self, *, owner: str = "anonymous", home: str = "", params: Mapping[str, str] | None = None,
                 today: dt.date | None = None, allow_shell: bool = False,
                 include_resolver: Resolver | None = None, sql_evaluator: SqlEvaluator | None = None,
                 strict_passthrough: bool = False, select_as: str = "strict", max_depth: int = 10) -> None:
        if select_as not in SELECT_AS_MODES:
            raise ValueError(f"select_as must be one of {SELECT_AS_MODES}, not {select_as!r}")
        self.env = Environment(owner=owner, home=home, params=params, today=today)
        self.allow_shell = allow_shell
        self.include_resolver = include_resolver
        self.sql_evaluator = sql_evaluator
        self.strict_passthrough = strict_passthrough
        self.select_as = select_as
        self.max_depth = max_depth
        #: Variables set at runtime that the executor has not bound yet: name -> set statement.
        self.pending: dict[str, SetVariable] = {}

    # ------------------------------------------------------------------------------ public API

    def plan(self, script: Script | str) -> list[Statement]:
        """Every statement to execute (only for scripts without runtime ``set``s that later
        statements depend on; use :meth:`iter_plan` and :meth:`bind` otherwise)."""
        return list(self.iter_plan(script))

    def iter_plan(self, script: Script | str) -> Iterator[Statement]:
        """The statements to execute, produced one at a time."""
        if isinstance(script, str):
            script = parse_script(script, allow_shell=self.allow_shell, select_as=self.select_as)
        yield from self._walk(script.statements, (), 0)

    def bind(self, name: str, value: object) -> None:
        """Give a runtime ``set`` (type sql or shell) its value."""
        self.pending.pop(name, None)
        self.env.define(name, "" if value is None else str(value), origin="bound")

    # ------------------------------------------------------------------------------ walking

    def _walk(self, statements: list[Statement], chain: tuple[tuple[str, str], ...],
              depth: int) -> Iterator[Statement]:
        for stmt in statements:
            if isinstance(stmt, Include):
                yield from self._include(stmt, chain, depth)
            elif isinstance(stmt, MacroCall) and not stmt.builtin:
                yield from self._macro(stmt, chain, depth)
            else:
                try:
                    yield self._prepare(stmt)
                except MLSQLError as exc:
                    raise self._locate(exc, stmt) from exc.__cause__

    def _nested(self, stmt: Statement, context: str, statements: list[Statement],
                chain: tuple[tuple[str, str], ...], depth: int) -> Iterator[Statement]:
        try:
            for inner in self._walk(statements, chain, depth + 1):
                yield dataclasses.replace(inner, line=stmt.line, column=stmt.column,
                                          origin=nested_origin(context, inner))
        except MLSQLError as exc:
            raise reanchor(exc, stmt, context) from exc.__cause__

    def _include(self, stmt: Include, chain: tuple[tuple[str, str], ...], depth: int) -> Iterator[Statement]:
        try:
            target = render_include(stmt, self.env.render)
        except MLSQLError as exc:
            raise self._locate(exc, stmt) from exc.__cause__
        context = f"include {describe_include(target)}"
        try:
            script = fetch_include(target, self.include_resolver, chain, max_depth=self.max_depth,
                                   allow_shell=self.allow_shell, select_as=self.select_as)
        except MLSQLError as exc:
            raise reanchor(exc, stmt, context) from exc.__cause__
        yield from self._nested(stmt, context, script.statements, (*chain, include_key(target)), depth)

    def _macro(self, stmt: MacroCall, chain: tuple[tuple[str, str], ...], depth: int) -> Iterator[Statement]:
        try:
            template = self.env.lookup(stmt.name)
            if template is None:
                raise UnknownMacroError(stmt.name)
            if depth >= self.max_depth:
                raise TemplateError(f"Commands nested deeper than {self.max_depth} levels at `!{stmt.name}`")
            args = [self.env.render(a) for a in stmt.args]
        except MLSQLError as exc:
            raise self._locate(exc, stmt) from exc.__cause__
        context = f"the expansion of !{stmt.name}"
        try:
            script = parse_script(expand_macro(template.value, args, stmt.name),
                                  allow_shell=self.allow_shell, select_as=self.select_as)
        except MLSQLError as exc:
            raise reanchor(exc, stmt, context) from exc.__cause__
        yield from self._nested(stmt, context, script.statements, chain, depth)

    def _locate(self, exc: MLSQLError, stmt: Statement) -> MLSQLError:
        """Give a position-less error the position of ``stmt`` (of the ``${name}`` when known)."""
        if isinstance(exc, UnknownVariableError) and exc.name in self.pending:
            setter = self.pending[exc.name]
            exc = UnknownVariableError(exc.name, detail=(
                f"it is set at runtime by the statement at line {setter.line}, column {setter.column}, "
                "whose value was not bound (Planner.bind)"))
        if exc.line is not None:
            return exc
        line, column = stmt.line, stmt.column
        source = stmt.source or ""
        offset = source.find("${" + exc.name + "}") if isinstance(exc, UnknownVariableError) else -1
        if offset > 0:
            before = source[:offset]
            newline = before.rfind("\n")
            line += before.count("\n")
            column = offset - newline if newline >= 0 else column + offset
        return exc.at(line, column)

    # ------------------------------------------------------------------------------ statements

    def _prepare(self, stmt: Statement) -> Statement:
        if isinstance(stmt, SetVariable):
            return self._set(stmt)
        if isinstance(stmt, (SelectAs, PassThrough)):
            return self._query(stmt)
        return self._render_fields(stmt)

    def _render_fields(self, stmt: Statement) -> Statement:
        render = self.env.render
        changes: dict[str, object] = {}
        for f in dataclasses.fields(stmt):
            if not f.compare or not f.init:
                continue
            value = getattr(stmt, f.name)
            if isinstance(value, str):
                new: object = render(value)
            elif isinstance(value, dict):
                new = {render(k): render(v) for k, v in value.items()}
            elif isinstance(value, tuple):
                new = tuple(render(v) for v in value)
            else:
                continue
            if new != value:
                changes[f.name] = new
        if "options" in changes and getattr(stmt, "block_keys", None):
            changes["block_keys"] = frozenset(render(k) for k in stmt.block_keys)  # type: ignore[attr-defined]
        return dataclasses.replace(stmt, **changes) if changes else stmt

    def _query(self, stmt: SelectAs | PassThrough) -> Statement:
        text = stmt.source or stmt.sql()
        if "${" not in text:
            return stmt
        strict = isinstance(stmt, SelectAs) or self.strict_passthrough
        rendered = self.env.render(text, strict=strict)
        if rendered == text:
            return stmt
        if head_word(rendered) in QUERY_WORDS or head_word(rendered) == "(":
            new = classify_query(rendered, line=stmt.line, column=stmt.column, select_as=self.select_as)
        else:
            new = PassThrough(rendered, line=stmt.line, column=stmt.column, source=rendered)
        new.origin = stmt.origin
        return new

    def _set(self, stmt: SetVariable) -> SetVariable:
        render = self.env.render
        kind = stmt.set_type
        if kind == "shell" and not self.allow_shell:
            raise RefusedStatementError(
                f'set `{stmt.name}` with type="shell" is disabled; an administrator can enable shell '
                "variables (allow_shell)")
        name = render(stmt.name)
        options = {render(k): render(v) for k, v in stmt.options.items()}
        verbatim = stmt.style == "block" and kind in ("text", "defaultParam")
        value = stmt.value if verbatim else render(stmt.value)
        out = dataclasses.replace(stmt, name=name, value=value, options=options, refused=False)
        if kind in ("text", "conf"):
            self.env.define(name, value, verbatim=verbatim)
        elif kind == "defaultParam":
            if self.env.lookup(name) is None and name not in self.pending:
                self.env.define(name, value, verbatim=verbatim)
        elif kind == "sql" and out.mode == "compile":
            if self.sql_evaluator is None:
                raise MLSQLError(f'set `{name}` with mode="compile" needs an SQL evaluator at plan time')
            self.env.define(name, str(self.sql_evaluator(value)), origin="compile")
        else:
            self.env.forget(name)
            self.pending[name] = out
        return out


def plan(script: Script | str, **options: object) -> list[Statement]:
    """Plan a whole script at once (``options``: those of :class:`Planner`)."""
    return Planner(**options).plan(script)  # type: ignore[arg-type]
