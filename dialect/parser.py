"""Parse whole MLSQL scripts into typed statements.

A script is split into statements (:mod:`dialect.splitter`); each statement is classified by its
first word and parsed with the ``mlsql`` sqlglot dialect:

* ``!name ...`` is a macro call; ``save``, ``connect``, ``include``, ``train``, ``run``, ``predict``,
  ``register`` and ``unregister`` are MLSQL statements (none of them starts a Spark statement);
* ``LOAD DATA ...`` is Spark SQL; any other ``load`` is MLSQL ``load``;
* ``set <key> = <"quoted" | '''block''' | `back-quoted`>`` is MLSQL ``set`` (the reference's rule);
  any other ``SET`` (``SET k=v``, ``SET -v``, ``SET TIME ZONE ...``, ``SET VAR ...``) is Spark SQL;
* a statement that starts like a query goes through the select-as rule below;
* everything else (DDL, DML, SHOW, DESCRIBE, EXPLAIN, CACHE, USE, ...) is Spark SQL, passed through
  unchanged as :class:`~dialect.statements.PassThrough`.

THE SELECT-AS RULE. A statement that starts like a query (``SELECT``, ``WITH``, ``FROM``, ``VALUES``,
``TABLE`` or ``(``) is an MLSQL select-as only when all three hold:

1. it ends with ``AS <name>`` (``<name>``: an identifier, a back-quoted name or a ``${...}``
   template);
2. the statement as written is *not* a valid Spark query: Spark's grammar has no place for that
   final ``AS <name>`` (it is not a column alias, a table or subquery alias, a LATERAL VIEW alias...);
3. the text before that final ``AS`` is a valid query.

Then the text before the final ``AS`` is the query (kept as written, plus its sqlglot AST) and
``<name>`` the view it is registered as. Only that final ``AS <name>`` is removed, never another
occurrence of the name. In every other case the statement is Spark SQL and runs unchanged, so a
query that Spark accepts returns exactly what ``spark.sql`` returns. "Valid" is decided with sqlglot's
Spark grammar; a query sqlglot cannot parse at all is passed to Spark unchanged, to succeed or fail
there. Examples::

    select a from raw where a > 0 as t2;   -- select-as: a WHERE condition takes no alias
    select 1 as a as t;                    -- select-as: view t of `select 1 as a`
    select * from raw r as t2;             -- select-as: `raw` already has the alias r
    select * from raw as t2;               -- Spark SQL: t2 is a table alias
    select 1 as a;                         -- Spark SQL: a is a column alias

``select_as="reference"`` (off by default, meant for scripts written for the reference engine) also
reads a trailing alias of the outermost FROM/JOIN table as the view name when no column of the query
is qualified with it (``select * from raw as t2`` then registers ``t2``; the rows are the same).
"""

from __future__ import annotations

import re
import threading
import typing as t

from sqlglot.errors import ParseError
from sqlglot.tokens import Token

from dialect.errors import MLSQLSyntaxError
from dialect.nodes import MLSQLSelectAs
from dialect.splitter import Chunk, LineIndex, split_statements
from dialect.sqlglot_dialect import (
    MLSQL,
    MLSQLParser,
    is_mlsql_load,
    is_mlsql_set,
    trailing_view,
)
from dialect.statements import PassThrough, Script, SelectAs, SetVariable, Statement, from_node

MLSQL_WORDS = frozenset({"save", "connect", "include", "train", "run", "predict", "register", "unregister"})
QUERY_WORDS = frozenset({"select", "with", "from", "values", "table"})
SELECT_AS_MODES = ("strict", "reference")
_HEAD = re.compile(r"!|\(|[A-Za-z_]+")
# Cheap pre-check for "ends with AS <name>" (comments allowed in between); the token check decides.
_MAYBE_TRAILING_AS = re.compile(r"(?is)\bas(?:\s|/\*.*?\*/|--[^\n]*\n)+(?:`(?:[^`]|``)*`|[\w${}]+)\Z")

_DIALECT = MLSQL()
_LOCAL = threading.local()  # tokenizers and parsers are reused, one set per thread


def _tokenize(text: str) -> list[Token]:
    tokenizer = getattr(_LOCAL, "tokenizer", None)
    if tokenizer is None:
        tokenizer = _LOCAL.tokenizer = _DIALECT.tokenizer()
    return tokenizer.tokenize(text)


def _parser(select_as: str) -> MLSQLParser:
    parsers = getattr(_LOCAL, "parsers", None)
    if parsers is None:
        parsers = _LOCAL.parsers = {}
    parser = parsers.get(select_as)
    if parser is None:
        parser = parsers[select_as] = t.cast(MLSQLParser, _DIALECT.parser())
        parser.select_as_mode = select_as
    parser.error_offset = None
    return parser


def head_word(text: str) -> str:
    """The lower-cased first word of a statement (``!`` for macros, ``(`` for a parenthesised query)."""
    m = _HEAD.match(text)
    return m.group().lower() if m else ""


def classify_query(text: str, *, line: int = 0, column: int = 0, select_as: str = "strict") -> Statement:
    """Apply the select-as rule to a statement that starts like a query."""
    if not _MAYBE_TRAILING_AS.search(text):
        return PassThrough(text, line=line, column=column, source=text)
    try:
        tokens = _tokenize(text)
        cut = trailing_view(tokens, text)
        if cut is None:
            return PassThrough(text, line=line, column=column, source=text)
        parsed = _parser(select_as).parse(tokens, text)
    except Exception:  # sqlglot cannot read it: Spark decides
        return PassThrough(text, line=line, column=column, source=text)
    node = parsed[0] if len(parsed) == 1 else None
    if isinstance(node, MLSQLSelectAs):
        query_text = text[tokens[0].start:tokens[cut - 1].end + 1]
        return SelectAs(node.this, node.args["view"], query_text, line=line, column=column, source=text)
    alias = tokens[cut + 1]
    stmt = PassThrough(text, alias.text if len(tokens) == cut + 2 else text[alias.start:],
                       line=line, column=column, source=text)
    if node is not None:
        stmt.__dict__["expression"] = node  # pre-fill the cached AST
    return stmt


def _syntax_error(chunk: Chunk, index: LineIndex, offset: int, message: str) -> MLSQLSyntaxError:
    line, column = index.position(chunk.start + offset)
    return MLSQLSyntaxError(message, line, column)


def _parse_mlsql(chunk: Chunk, index: LineIndex, tokens: list[Token], select_as: str) -> Statement:
    parser = _parser(select_as)
    try:
        parsed = parser.parse(tokens, chunk.text)
    except ParseError as exc:
        description = exc.errors[0].get("description") if exc.errors else None
        raise _syntax_error(chunk, index, parser.error_offset or 0, description or str(exc)) from None
    if len(parsed) != 1 or parsed[0] is None:
        raise _syntax_error(chunk, index, 0, "expected exactly one statement")
    return from_node(parsed[0], line=chunk.line, column=chunk.column, source=chunk.text)


def parse_chunk(chunk: Chunk, index: LineIndex, *, allow_shell: bool = False,
                select_as: str = "strict") -> Statement:
    """Classify and parse one statement chunk (positions are reported against ``index``)."""
    text = chunk.text
    head = head_word(text)
    pos = {"line": chunk.line, "column": chunk.column}
    if head in QUERY_WORDS or head == "(":
        return classify_query(text, select_as=select_as, **pos)
    if head != "!" and head not in MLSQL_WORDS and head not in ("load", "set"):
        return PassThrough(text, source=text, **pos)
    try:
        tokens = _tokenize(text)
    except Exception as exc:  # sqlglot's TokenError (or worse) on an MLSQL statement
        if head == "set" or text[4:].lstrip()[:4].upper() == "DATA":
            return PassThrough(text, source=text, **pos)
        raise _syntax_error(chunk, index, 0, f"cannot read the statement: {exc}") from None
    if (head == "load" and not is_mlsql_load(tokens)) or (head == "set" and not is_mlsql_set(tokens, text)):
        return PassThrough(text, source=text, **pos)
    try:
        stmt = _parse_mlsql(chunk, index, tokens, select_as)
    except MLSQLSyntaxError:
        raise
    except Exception as exc:  # a bug: still report it as a syntax error at the statement
        raise _syntax_error(chunk, index, 0, f"internal parser error: {exc!r}") from exc
    if isinstance(stmt, SetVariable):
        stmt.refused = stmt.set_type == "shell" and not allow_shell
    return stmt


def parse_script(text: str, *, allow_shell: bool = False, select_as: str = "strict") -> Script:
    """Parse a whole script. Raises :class:`MLSQLSyntaxError` (1-based line/column in ``text``).

    ``allow_shell``: when False (default) ``set ... type="shell"`` parses with ``refused=True``.
    ``select_as``: "strict" (default) or "reference" (see the module docstring).
    """
    if select_as not in SELECT_AS_MODES:
        raise ValueError(f"select_as must be one of {SELECT_AS_MODES}, not {select_as!r}")
    index = LineIndex(text)
    return Script([parse_chunk(c, index, allow_shell=allow_shell, select_as=select_as)
                   for c in split_statements(text, index)])


def parse_statement(text: str, *, allow_shell: bool = False, select_as: str = "strict") -> Statement:
    """Parse exactly one statement (a final ``;`` is optional)."""
    script = parse_script(text, allow_shell=allow_shell, select_as=select_as)
    if len(script) != 1:
        raise MLSQLSyntaxError(f"expected exactly one statement, found {len(script)}", 1, 1)
    return script[0]
