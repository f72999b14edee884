"""sqlglot expression nodes for the MLSQL statements, and how the generator writes them.

These are what ``sqlglot.parse_one(text, read="mlsql")`` returns for MLSQL statements; the typed
dataclasses of :mod:`dialect.statements` are built from them. String arguments are hashed as written
(``_hash_raw_args``): paths and option values are case-sensitive.
"""

from __future__ import annotations

import typing as t

from sqlglot import exp

from dialect.lexical import BARE_KEY_RE, DOTTED_RE, backquote, macro_arg_sql, name_sql, string_sql, view_sql

if t.TYPE_CHECKING:
    from sqlglot.generator import Generator


class MLSQLStatement(exp.Expression):
    """Base of the MLSQL statement nodes."""

    _hash_raw_args = True


class MLSQLOption(exp.Expression):
    """``key="value"``: ``this`` is the key, ``expression`` the value, ``style`` quoted/block."""

    arg_types = {"this": True, "expression": True, "style": False}
    _hash_raw_args = True


class MLSQLLoad(MLSQLStatement):
    arg_types = {"format": True, "path": True, "options": False, "this": True}


class MLSQLSelectAs(MLSQLStatement):
    arg_types = {"this": True, "view": True}


class MLSQLSave(MLSQLStatement):
    arg_types = {"this": True, "mode": False, "format": True, "path": True, "options": False,
                 "partition_by": False}


class MLSQLSet(MLSQLStatement):
    arg_types = {"this": True, "expression": True, "style": False, "options": False}


class MLSQLConnect(MLSQLStatement):
    arg_types = {"format": True, "options": False, "this": True}


class MLSQLInclude(MLSQLStatement):
    arg_types = {"format": True, "path": True, "options": False}


class MLSQLModel(MLSQLStatement):
    """``train`` / ``run`` / ``predict`` (``kind``)."""

    arg_types = {"kind": True, "this": True, "algorithm": True, "path": True, "options": False,
                 "output": False}


class MLSQLRegister(MLSQLStatement):
    arg_types = {"algorithm": True, "path": True, "this": True, "options": False}


class MLSQLUnregister(MLSQLStatement):
    arg_types = {"algorithm": True, "path": True, "options": False}


class MLSQLMacro(MLSQLStatement):
    arg_types = {"this": True, "args": False}


def options_sql(options: t.Sequence[MLSQLOption] | None) -> str:
    """`` where k="v" and ...`` (empty without options)."""
    if not options:
        return ""
    items = [f"{name_sql(o.this, BARE_KEY_RE)}={string_sql(o.args['expression'], o.args.get('style') or 'quoted')}"
             for o in options]
    return " where " + " and ".join(items)


def _source(fmt: str, path: str) -> str:
    return f"{fmt}.{backquote(path)}"


def _load_sql(_: Generator, e: MLSQLLoad) -> str:
    return (f"load {_source(e.args['format'], e.args['path'])}{options_sql(e.args.get('options'))}"
            f" as {name_sql(e.this)}")


def _select_as_sql(gen: Generator, e: MLSQLSelectAs) -> str:
    return f"{gen.sql(e, 'this')} as {view_sql(e.args['view'])}"


def _save_sql(_: Generator, e: MLSQLSave) -> str:
    mode = f" {e.args['mode']}" if e.args.get("mode") else ""
    parts = f" partitionBy {', '.join(name_sql(c) for c in e.args['partition_by'])}" \
        if e.args.get("partition_by") else ""
    return (f"save{mode} {name_sql(e.this, DOTTED_RE)} as {_source(e.args['format'], e.args['path'])}"
            f"{options_sql(e.args.get('options'))}{parts}")


def _set_sql(_: Generator, e: MLSQLSet) -> str:
    value = string_sql(e.args["expression"], e.args.get("style") or "quoted")
    return f"set {name_sql(e.this, BARE_KEY_RE)} = {value}{options_sql(e.args.get('options'))}"


def _connect_sql(_: Generator, e: MLSQLConnect) -> str:
    return f"connect {e.args['format']}{options_sql(e.args.get('options'))} as {name_sql(e.this)}"


def _include_sql(_: Generator, e: MLSQLInclude) -> str:
    return f"include {_source(e.args['format'], e.args['path'])}{options_sql(e.args.get('options'))}"


def _model_sql(_: Generator, e: MLSQLModel) -> str:
    out = f" as {name_sql(e.args['output'])}" if e.args.get("output") else ""
    return (f"{e.args['kind']} {name_sql(e.this, DOTTED_RE)} as "
            f"{_source(e.args['algorithm'], e.args['path'])}{options_sql(e.args.get('options'))}{out}")


def _register_sql(_: Generator, e: MLSQLRegister) -> str:
    return (f"register {_source(e.args['algorithm'], e.args['path'])} as {name_sql(e.this)}"
            f"{options_sql(e.args.get('options'))}")


def _unregister_sql(_: Generator, e: MLSQLUnregister) -> str:
    return f"unregister {_source(e.args['algorithm'], e.args['path'])}{options_sql(e.args.get('options'))}"


def _macro_sql(_: Generator, e: MLSQLMacro) -> str:
    return "!" + e.this + "".join(" " + macro_arg_sql(a) for a in e.args.get("args") or [])


#: Generator TRANSFORMS for the MLSQL nodes.
TRANSFORMS: dict[type[exp.Expression], t.Callable[..., str]] = {
    MLSQLLoad: _load_sql,
    MLSQLSelectAs: _select_as_sql,
    MLSQLSave: _save_sql,
    MLSQLSet: _set_sql,
    MLSQLConnect: _connect_sql,
    MLSQLInclude: _include_sql,
    MLSQLModel: _model_sql,
    MLSQLRegister: _register_sql,
    MLSQLUnregister: _unregister_sql,
    MLSQLMacro: _macro_sql,
}
