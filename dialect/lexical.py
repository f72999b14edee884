"""Lexical shapes of MLSQL names, keys and values, and how to write them back."""

from __future__ import annotations

import functools
import re

TEMPLATE = r"\$\{[^{}\s]*\}"
#: A view, alias or function name: letters, digits, ``_`` and ``${...}`` templates.
NAME_RE = re.compile(rf"(?:[A-Za-z0-9_]|{TEMPLATE})+\Z")
#: A table name: like a name, dots allowed (``db.tbl``).
DOTTED_RE = re.compile(rf"(?:[A-Za-z0-9_.]|{TEMPLATE})+\Z")
#: An option key or variable name: dots, dashes and colons allowed (``fitParam.0.maxDepth``).
KEY_RE = re.compile(rf"(?:[A-Za-z0-9_.:\-]|{TEMPLATE})+\Z")
#: A key that is written back without back-quotes (every separator between two word parts).
BARE_KEY_RE = re.compile(rf"(?:[A-Za-z0-9_]|{TEMPLATE})+(?:[.:\-](?:[A-Za-z0-9_]|{TEMPLATE})+)*\Z")
#: A format or algorithm name.
WORD_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
#: A macro argument that needs no quotes.
BARE_ARG_RE = re.compile(r"""[^\s'"`;]+\Z""")

#: Words of the MLSQL grammar that a bare name must not be (they are back-quoted when written).
RESERVED = frozenset({"AS", "WHERE", "OPTIONS", "AND", "PARTITIONBY"})

_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", '"': '\\"', "\0": "\\0"}


def backquote(text: str) -> str:
    """`` `text` `` with inner back-quotes doubled."""
    return "`" + text.replace("`", "``") + "`"


def view_sql(name: str) -> str:
    """A select-as view name: also back-quoted when sqlglot would not read it as a bare alias."""
    if WORD_RE.match(name) and not alias_ok(name):
        return backquote(name)
    return name_sql(name)


def name_sql(name: str, pattern: re.Pattern[str] = NAME_RE) -> str:
    """A name as written in a statement: bare when it can be, back-quoted otherwise."""
    if pattern.match(name) and "--" not in name and name.upper() not in RESERVED:
        return name
    return backquote(name)


def double_quote(value: str) -> str:
    """A double-quoted string with Spark backslash escapes."""
    return '"' + "".join(_ESCAPES.get(ch, ch) for ch in value) + '"'


def string_sql(value: str, style: str = "quoted") -> str:
    """A value in its preferred quoting: ``'''block'''`` when asked and possible, else ``"..."``."""
    if style == "block" and "'''" not in value and not value.endswith("'"):
        return f"'''{value}'''"
    if style == "backquoted":
        return backquote(value)
    return double_quote(value)


def macro_arg_sql(arg: str) -> str:
    """A macro argument: bare when it is one plain word, double-quoted otherwise."""
    if arg and BARE_ARG_RE.match(arg) and "--" not in arg and "/*" not in arg:
        return arg
    return double_quote(arg)


@functools.lru_cache(maxsize=512)
def alias_ok(word: str) -> bool:
    """Whether sqlglot's Spark grammar takes ``word`` as a column alias and as a table alias.

    Spark takes any word as an alias; a bare trailing name for which sqlglot does not (``select``,
    ``not``) cannot be told apart from a Spark alias, so it is never read as a view name."""
    import sqlglot

    try:
        sqlglot.parse_one(f"select 1 as {word}", read="spark")
        sqlglot.parse_one(f"select * from t as {word}", read="spark")
    except Exception:
        return False
    return True
