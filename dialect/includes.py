"""Expansion of ``include`` statements.

Fetching the included text is the gateway's job (file roots, allowed URLs, script stores): it passes a
*resolver*, a callable that takes the :class:`~dialect.statements.Include` statement (format, path and
options, already rendered when a renderer is given) and returns the script text. Includes nest up to
10 levels; including a script that is already being included (same format and path) is a cycle. Both
are :class:`IncludeError`, as is any exception of the resolver. An error inside an included script is
reported at the ``include`` statement of the outer script, with the inner position in the message.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

from dialect.errors import IncludeError, MLSQLError
from dialect.lexical import backquote
from dialect.statements import Include, Script, Statement

Resolver = Callable[[Include], str]
MAX_INCLUDE_DEPTH = 10


def describe_include(stmt: Include) -> str:
    """``fmt.`path``` of an include statement."""
    return f"{stmt.format}.{backquote(stmt.path)}"


def include_key(stmt: Include) -> tuple[str, str]:
    """What identifies an included script for cycle detection."""
    return stmt.format.lower(), stmt.path


def render_include(stmt: Include, render: Callable[[str], str]) -> Include:
    """The include statement with ``render`` applied to its path and option values."""
    options = {render(k): render(v) for k, v in stmt.options.items()}
    return dataclasses.replace(stmt, path=render(stmt.path), options=options)


def fetch_include(stmt: Include, resolver: Resolver | None, chain: Sequence[tuple[str, str]],
                  *, max_depth: int = MAX_INCLUDE_DEPTH, allow_shell: bool = False,
                  select_as: str = "strict") -> Script:
    """Resolve and parse one include (``chain``: the keys of the includes being expanded)."""
    from dialect.parser import parse_script

    what = describe_include(stmt)
    if resolver is None:
        raise IncludeError(f"Cannot include {what}: includes are not enabled (no resolver)")
    key = include_key(stmt)
    if key in chain:
        names = [f"{f}.{backquote(p)}" for f, p in (*chain, key)]
        raise IncludeError("Include cycle: " + " -> ".join(names))
    if len(chain) >= max_depth:
        raise IncludeError(f"Includes nested deeper than {max_depth} levels at {what}")
    try:
        text = resolver(stmt)
    except MLSQLError:
        raise
    except Exception as exc:
        raise IncludeError(f"Cannot include {what}: {exc}") from exc
    if not isinstance(text, str):
        raise IncludeError(f"Cannot include {what}: the resolver returned {type(text).__name__}, not text")
    return parse_script(text, allow_shell=allow_shell, select_as=select_as)


def reanchor(error: MLSQLError, stmt: Statement, context: str) -> MLSQLError:
    """``error`` moved to ``stmt``; an error positioned in the nested text keeps that position, and
    ``context``, in its message."""
    if error.line is None:
        return error.at(stmt.line, stmt.column)
    return error.at(stmt.line, stmt.column,
                    prefix=f"In {context} (line {error.line}, column {error.column}): ")


def nested_origin(context: str, stmt: Statement) -> str:
    """The ``origin`` of ``stmt`` (positioned in a nested text) once moved out of ``context``."""
    here = f"{context}, line {stmt.line}, column {stmt.column}"
    return f"{here} > {stmt.origin}" if stmt.origin else here


def expand_includes(script: Script, resolver: Resolver | None, *, render: Callable[[str], str] | None = None,
                    max_depth: int = MAX_INCLUDE_DEPTH, allow_shell: bool = False,
                    select_as: str = "strict") -> Script:
    """A new script with every ``include`` replaced by the statements of the included script.

    ``render`` (optional) is applied to include paths and options first (e.g. ``Environment.render``).
    Statements that come from an included script take the position of the top-level ``include``
    statement; their ``origin`` says where they come from.
    """

    def expand(statements: Sequence[Statement], chain: tuple[tuple[str, str], ...]) -> list[Statement]:
        out: list[Statement] = []
        for stmt in statements:
            if not isinstance(stmt, Include):
                out.append(stmt)
                continue
            target = render_include(stmt, render) if render else stmt
            try:
                inner = fetch_include(target, resolver, chain, max_depth=max_depth, allow_shell=allow_shell,
                                      select_as=select_as)
                expanded = expand(inner.statements, (*chain, include_key(target)))
            except MLSQLError as exc:
                raise reanchor(exc, stmt, f"include {describe_include(target)}") from exc
            origin = f"include {describe_include(target)}"
            out.extend(dataclasses.replace(s, line=stmt.line, column=stmt.column,
                                           origin=nested_origin(origin, s)) for s in expanded)
        return out

    return Script(expand(script.statements, ()))
