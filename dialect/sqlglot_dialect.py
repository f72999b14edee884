"""The ``mlsql`` sqlglot dialect: Spark SQL plus the MLSQL statements.

Extension points used (sqlglot's table-driven ones):

* ``Tokenizer.RAW_STRINGS`` gains ``'''block'''`` strings (content verbatim, no escapes).
* ``Parser.MLSQL_STATEMENT_PARSERS`` maps a statement's first *word* to its parser. It plays the role
  of sqlglot's ``STATEMENT_PARSERS`` (keyed by token type); the MLSQL words are deliberately not made
  tokenizer KEYWORDS, so ``select train, run from t`` stays plain Spark SQL. The hooks only fire on
  the first token of a statement; ``load`` and ``set`` fall back to Spark's ``LOAD DATA`` / ``SET``
  when the statement does not have the MLSQL shape.
* ``Generator.TRANSFORMS`` writes the MLSQL nodes of :mod:`dialect.nodes`.

Queries go through the select-as rule (see :mod:`dialect.parser`): a query that Spark's grammar
accepts as written is a query; only when it is not, and removing a trailing ``AS <name>`` makes it
one, is it an :class:`~dialect.nodes.MLSQLSelectAs`.
"""

from __future__ import annotations

import typing as t

from sqlglot import exp
from sqlglot.dialects.spark import Spark
from sqlglot.errors import ParseError
from sqlglot.generators.spark import SparkGenerator
from sqlglot.parsers.spark import SparkParser
from sqlglot.tokens import Token, TokenType

from dialect import nodes
from dialect.lexical import DOTTED_RE, KEY_RE, NAME_RE, RESERVED, WORD_RE, alias_ok

QUOTED = frozenset({
    TokenType.STRING, TokenType.RAW_STRING, TokenType.IDENTIFIER, TokenType.NATIONAL_STRING,
    TokenType.NATIONAL_RAW_STRING, TokenType.HEX_STRING, TokenType.BIT_STRING, TokenType.BYTE_STRING,
    TokenType.HEREDOC_STRING,
})
#: Tokens that end a run of adjacent tokens forming a name or key.
STOP = frozenset({TokenType.EQ, TokenType.COMMA, TokenType.SEMICOLON, TokenType.L_PAREN,
                  TokenType.R_PAREN})
QUERY_HEADS = frozenset({TokenType.SELECT, TokenType.WITH, TokenType.FROM, TokenType.VALUES,
                         TokenType.TABLE, TokenType.L_PAREN})
SAVE_MODES = {"OVERWRITE": "overwrite", "APPEND": "append", "ERRORIFEXISTS": "errorIfExists",
              "IGNORE": "ignore"}
SET_TYPES = {k.lower(): k for k in ("text", "sql", "conf", "defaultParam", "shell")}
SET_MODES = ("compile", "runtime")


def quoted(token: Token, sql: str) -> bool:
    """A string or name written between quotes (sqlglot also makes ``0X`` an IDENTIFIER token)."""
    return token.token_type in QUOTED and sql[token.end:token.end + 1] in ("'", '"', "`")


def backquoted(token: Token, sql: str) -> bool:
    """A `` `back-quoted` `` name or path."""
    return token.token_type == TokenType.IDENTIFIER and sql[token.start:token.start + 1] == "`"


def is_word(token: Token | None) -> bool:
    """A plain (unquoted) identifier-like token: ``csv``, ``json``, ``RandomForest``."""
    return bool(token) and token.token_type not in QUOTED and bool(WORD_RE.match(token.text))


def run_end(tokens: t.Sequence[Token], i: int, sql: str) -> int:
    """Index after the run of adjacent plain tokens starting at ``i`` (``i`` itself if none)."""
    j = i
    while j < len(tokens) and not quoted(tokens[j], sql) and tokens[j].token_type not in STOP:
        if j > i and tokens[j].start > tokens[j - 1].end + 1:  # a gap (suffix tokens share a span)
            break
        j += 1
    return j


def is_mlsql_load(tokens: t.Sequence[Token]) -> bool:
    """Every LOAD except Spark's ``LOAD DATA ...`` (``load data.`x` as t`` is MLSQL, format ``data``)."""
    if len(tokens) > 1 and tokens[1].token_type not in QUOTED and tokens[1].text.upper() == "DATA":
        return len(tokens) > 2 and tokens[2].token_type == TokenType.DOT
    return True


def is_mlsql_set(tokens: t.Sequence[Token], sql: str) -> bool:
    """``set <key> = <quoted | '''block''' | `back-quoted`>``; any other SET is Spark's."""
    if len(tokens) < 4:
        return False
    if backquoted(tokens[1], sql):
        j = 2
    else:
        j = run_end(tokens, 1, sql)
        if j == 1 or not KEY_RE.match(sql[tokens[1].start:tokens[j - 1].end + 1]):
            return False
    return (j + 1 < len(tokens) and tokens[j].token_type == TokenType.EQ
            and quoted(tokens[j + 1], sql)
            and tokens[j + 1].token_type in (TokenType.STRING, TokenType.RAW_STRING, TokenType.IDENTIFIER))


def trailing_view(tokens: t.Sequence[Token], sql: str) -> int | None:
    """Index of the ``AS`` token when ``tokens`` end with ``AS <name>`` after at least one token."""
    n = len(tokens)
    if n < 3:
        return None
    last = tokens[-1]
    if backquoted(last, sql):
        j = n - 1
    else:
        if quoted(last, sql) or last.token_type in STOP:
            return None
        j = n - 1
        while j > 0 and tokens[j].start <= tokens[j - 1].end + 1 and \
                not quoted(tokens[j - 1], sql) and tokens[j - 1].token_type not in STOP:
            j -= 1
        if not NAME_RE.match(sql[tokens[j].start:last.end + 1]):
            return None
    if j < 2 or tokens[j - 1].token_type != TokenType.ALIAS:
        return None
    return j - 1


def _unreferenced_table_alias(query: exp.Expression, start: int, name: str) -> bool:
    """True when the identifier at ``start`` aliases a table/subquery of the outermost FROM/JOIN and
    no column of the query is qualified with it (``reference`` select-as mode)."""
    ident = next((i for i in query.find_all(exp.Identifier) if i.meta_get("start") == start), None)
    if ident is None or ident.arg_key != "this" or not isinstance(ident.parent, exp.TableAlias):
        return False
    source = ident.parent.parent
    if not isinstance(source, (exp.Table, exp.Subquery)) or not isinstance(source.parent, (exp.From, exp.Join)):
        return False
    node = source.parent.parent
    while node is not query:
        if node is None or not isinstance(node.parent, exp.SetOperation):
            return False
        node = node.parent
    lowered = name.lower()
    return not any(col.table.lower() == lowered for col in query.find_all(exp.Column))


class MLSQLParser(SparkParser):
    """Spark's parser plus the MLSQL statements and the select-as rule."""

    #: "strict" (default) or "reference"; see :mod:`dialect.parser`.
    select_as_mode: str = "strict"
    #: 0-based offset (in ``self.sql``) of the last error raised.
    error_offset: int | None = None

    MLSQL_STATEMENT_PARSERS: t.ClassVar[dict[str, t.Callable[[MLSQLParser], exp.Expression | None]]] = {
        "LOAD": lambda self: self._parse_mlsql_load(),
        "SAVE": lambda self: self._parse_mlsql_save(),
        "SET": lambda self: self._parse_mlsql_set(),
        "CONNECT": lambda self: self._parse_mlsql_connect(),
        "INCLUDE": lambda self: self._parse_mlsql_include(),
        "TRAIN": lambda self: self._parse_mlsql_model("train"),
        "RUN": lambda self: self._parse_mlsql_model("run"),
        "PREDICT": lambda self: self._parse_mlsql_model("predict"),
        "REGISTER": lambda self: self._parse_mlsql_register(),
        "UNREGISTER": lambda self: self._parse_mlsql_unregister(),
    }

    # ----------------------------------------------------------------------------- dispatch

    def _parse_statement(self) -> exp.Expr | None:
        curr = self._curr
        if self._index == 0 and curr:
            if curr.token_type == TokenType.NOT and curr.text == "!":
                return self._parse_mlsql_macro()
            if curr.token_type not in QUOTED:
                parser = self.MLSQL_STATEMENT_PARSERS.get(curr.text.upper())
                if parser is not None:
                    node = parser(self)
                    if node is not None:
                        return node
            if curr.token_type in QUERY_HEADS:
                return self._parse_query_or_select_as()
        return super()._parse_statement()

    def raise_error(self, message: str, token: Token | None = None) -> None:
        tok = token or self._curr or self._prev or Token.string("")
        self.error_offset = tok.start
        super().raise_error(message, tok)

    # ----------------------------------------------------------------------------- select-as

    def _parse_query_or_select_as(self) -> exp.Expr | None:
        size = self._tokens_size
        tokens = self._tokens[:size]
        cut = trailing_view(tokens, self.sql)
        if cut is None:
            return super()._parse_statement()
        start, n_errors = self._index, len(self.errors)
        full = None
        try:
            full = super()._parse_statement()
            # sqlglot also takes `(query) AS name`, which Spark does not
            if self._index < size or len(self.errors) > n_errors or \
                    isinstance(full, exp.Alias) or (isinstance(full, exp.Subquery) and full.args.get("alias")):
                full = None
        except ParseError:
            full = None
        del self.errors[n_errors:]
        name_token = tokens[cut + 1]
        view = name_token.text if backquoted(name_token, self.sql) else \
            self.sql[name_token.start:tokens[-1].end + 1]
        if full is not None and not (self.select_as_mode == "reference"
                                     and _unreferenced_table_alias(full, name_token.start, view)):
            return full
        if full is None and cut + 2 == size and name_token.token_type != TokenType.VAR \
                and not backquoted(name_token, self.sql) and not alias_ok(view):
            self._retreat(start)
            return super()._parse_statement()
        self._tokens_size = cut
        self._retreat(start)
        self._advance(0)
        try:
            query = super()._parse_statement()
            complete = self._index == cut and len(self.errors) == n_errors
        except ParseError:
            query, complete = None, False
        finally:
            self._tokens_size = size
        if not complete:
            del self.errors[n_errors:]
            self._retreat(start)
            self._advance(0)
            return full if full is not None else super()._parse_statement()
        self._advance(size - self._index)
        return self.expression(nodes.MLSQLSelectAs(this=query, view=view))

    # ----------------------------------------------------------------------------- helpers

    def _found(self) -> str:
        tok = self._curr
        if not tok:
            return "end of statement"
        text = self.sql[tok.start:tok.end + 1]
        text = text[:40] + ("..." if len(text) > 40 else "")
        return f'"{text}"' if "`" in text else f"`{text}`"

    def _fail(self, message: str, token: Token | None = None) -> t.NoReturn:
        if token is None and not self._curr and self._prev:
            # at the end of the statement: point just after the last token
            end = Token(TokenType.SEMICOLON, "", self._prev.line, self._prev.col + 1,
                        self._prev.end + 1, self._prev.end + 1)
            token = end
        self.raise_error(message, token)
        raise ParseError(message)  # only reached with non-immediate error levels

    def _expect(self, ok: bool, what: str) -> None:
        if not ok:
            self._fail(f"expected {what}, found {self._found()}")

    def _keyword(self, *words: str) -> bool:
        curr = self._curr
        if curr and curr.token_type not in QUOTED and curr.text.upper() in words:
            self._advance()
            return True
        return False

    def _name(self, pattern: t.Any, what: str) -> str:
        """A back-quoted name, or a run of adjacent plain tokens that matches ``pattern``."""
        curr = self._curr
        if curr and backquoted(curr, self.sql):
            self._advance()
            return curr.text
        end = run_end(self._tokens[:self._tokens_size], self._index, self.sql)
        if end == self._index:
            self._fail(f"expected {what}, found {self._found()}")
        first, last = curr, self._tokens[end - 1]
        text = self.sql[first.start:last.end + 1]
        if not pattern.match(text) or text.upper() in RESERVED:
            self._fail(f"expected {what}, found `{text}`", first)
        self._advance(end - self._index)
        return text

    def _end(self, expected: str) -> None:
        if self._curr:
            self._fail(f"expected {expected}, found {self._found()}")

    def _value(self, what: str, allow_backquoted: bool = False) -> tuple[str, str]:
        """A quoted value (adjacent ``'a' 'b'`` literals concatenate, as in Spark) and its style."""
        curr = self._curr
        if curr and curr.token_type == TokenType.RAW_STRING:
            self._advance()
            return curr.text, "block" if self.sql.startswith("'''", curr.start) else "quoted"
        if curr and curr.token_type == TokenType.STRING:
            parts = [curr.text]
            self._advance()
            while self._curr and self._curr.token_type == TokenType.STRING:
                parts.append(self._curr.text)
                self._advance()
            return "".join(parts), "quoted"
        if allow_backquoted and curr and backquoted(curr, self.sql):
            self._advance()
            return curr.text, "backquoted"
        quotes = "\"...\", '...', '''...''' or `...`" if allow_backquoted else "\"...\", '...' or '''...'''"
        self._fail(f"expected a quoted value ({quotes}) for {what}, found {self._found()}")

    def _options(self) -> list[nodes.MLSQLOption]:
        """``(options | where) key="value" (and key="value")*`` or nothing."""
        if not self._keyword("OPTIONS", "WHERE"):
            return []
        options: list[nodes.MLSQLOption] = []
        seen: set[str] = set()
        while True:
            key_token = self._curr
            key = self._name(KEY_RE, "an option name (`key=\"value\"`)")
            if key in seen:
                self._fail(f"duplicate option `{key}`", key_token)
            seen.add(key)
            self._expect(self._match(TokenType.EQ), f"`=` after option `{key}`")
            value_token = self._curr
            value, style = self._value(f"option `{key}`")
            option = nodes.MLSQLOption(this=key, expression=value, style=style)
            option.meta["token"] = value_token
            options.append(option)
            if not self._keyword("AND"):
                return options

    def _source(self, what: str) -> tuple[str, str]:
        """``<format>.`<path>``` (a bare path of plain tokens is accepted too)."""
        self._expect(is_word(self._curr), f"{what} (`format.`path``)")
        fmt = self._curr.text
        self._advance()
        self._expect(self._match(TokenType.DOT), f"`.` after `{fmt}`")
        if self._curr and backquoted(self._curr, self.sql):
            path = self._curr.text
            self._advance()
            return fmt, path
        return fmt, self._name(KEY_RE, f"a back-quoted path after `{fmt}.`")

    def _as(self, what: str) -> None:
        self._expect(self._match(TokenType.ALIAS), what)

    # ----------------------------------------------------------------------------- statements

    def _parse_mlsql_load(self) -> exp.Expression | None:
        if not is_mlsql_load(self._tokens[:self._tokens_size]):
            return None
        self._advance()
        fmt, path = self._source("a source")
        options = self._options()
        self._as("`where`/`options` or `as <view>`")
        view = self._name(NAME_RE, "a view name")
        self._end("end of statement after the view name")
        return nodes.MLSQLLoad(format=fmt, path=path, options=options, this=view)

    def _parse_mlsql_save(self) -> exp.Expression:
        self._advance()
        mode = None
        curr, nxt = self._curr, self._next
        if curr and curr.token_type not in QUOTED and curr.text.upper() in SAVE_MODES and \
                nxt and nxt.token_type != TokenType.ALIAS:
            mode = SAVE_MODES[curr.text.upper()]
            self._advance()
        table = self._name(DOTTED_RE, "a table name (optionally after overwrite/append/errorIfExists/ignore)")
        self._as(f"`as <format>.`<path>`` after `{table}`")
        fmt, path = self._source("a sink")
        options: list[nodes.MLSQLOption] = []
        partition_by: list[str] = []
        while self._curr:
            if not options and self._curr.token_type not in QUOTED and \
                    self._curr.text.upper() in ("WHERE", "OPTIONS"):
                options = self._options()
            elif not partition_by and (self._keyword("PARTITIONBY", "PARTITION BY") or
                                       self._match_text_seq("PARTITION", "BY")):
                partition_by.append(self._name(NAME_RE, "a partition column"))
                while self._match(TokenType.COMMA):
                    partition_by.append(self._name(NAME_RE, "a partition column"))
            else:
                self._fail(f"expected `where`/`options`, `partitionBy` or end of statement, found {self._found()}")
        return nodes.MLSQLSave(this=table, mode=mode, format=fmt, path=path, options=options,
                               partition_by=partition_by)

    def _parse_mlsql_set(self) -> exp.Expression | None:
        if not is_mlsql_set(self._tokens[:self._tokens_size], self.sql):
            return None
        self._advance()
        name = self._name(KEY_RE, "a variable name")
        self._match(TokenType.EQ)
        value, style = self._value(f"variable `{name}`", allow_backquoted=True)
        options = self._options()
        self._end("`where`/`options` or end of statement after the value")
        for option in options:
            key, val = option.this, option.args["expression"]
            if key == "type" and val.lower() not in SET_TYPES:
                self._fail(f"unknown set type `{val}`: expected text, sql, conf, defaultParam or shell",
                           option.meta["token"])
            if key == "mode" and val.lower() not in SET_MODES:
                self._fail(f"unknown set mode `{val}`: expected compile or runtime", option.meta["token"])
        return nodes.MLSQLSet(this=name, expression=value, style=style, options=options)

    def _parse_mlsql_connect(self) -> exp.Expression:
        self._advance()
        self._expect(is_word(self._curr), "a format name after connect")
        fmt = self._curr.text
        self._advance()
        options = self._options()
        self._as("`where`/`options` or `as <alias>`")
        alias = self._name(NAME_RE, "an alias name")
        self._end("end of statement after the alias")
        return nodes.MLSQLConnect(format=fmt, options=options, this=alias)

    def _parse_mlsql_include(self) -> exp.Expression:
        self._advance()
        fmt, path = self._source("a script to include")
        options = self._options()
        self._end("`where`/`options` or end of statement")
        return nodes.MLSQLInclude(format=fmt, path=path, options=options)

    def _parse_mlsql_model(self, kind: str) -> exp.Expression:
        self._advance()
        table = self._name(DOTTED_RE, f"an input table after {kind}")
        self._as(f"`as <name>.`<path>`` after `{table}`")
        alg, path = self._source("an algorithm or ET")
        options = self._options()
        output = None
        if self._match(TokenType.ALIAS):
            output = self._name(NAME_RE, "an output table name")
        self._end("`where`/`options`, `as <output>` or end of statement" if not output else
                  "end of statement after the output name")
        return nodes.MLSQLModel(kind=kind, this=table, algorithm=alg, path=path, options=options,
                                output=output)

    def _parse_mlsql_register(self) -> exp.Expression:
        self._advance()
        alg, path = self._source("an algorithm or model")
        self._as("`as <function name>`")
        fn = self._name(NAME_RE, "a function name")
        options = self._options()
        self._end("`where`/`options` or end of statement")
        return nodes.MLSQLRegister(algorithm=alg, path=path, this=fn, options=options)

    def _parse_mlsql_unregister(self) -> exp.Expression:
        self._advance()
        alg, path = self._source("an algorithm or model")
        options = self._options()
        self._end("`where`/`options` or end of statement")
        return nodes.MLSQLUnregister(algorithm=alg, path=path, options=options)

    def _parse_mlsql_macro(self) -> exp.Expression:
        bang = self._curr
        self._advance()
        name = self._curr
        if not (is_word(name) and name.start == bang.end + 1):
            self._fail(f"expected a command name right after `!`, found {self._found()}")
        self._advance()
        args: list[str] = []
        while self._curr:
            first = last = self._curr
            self._advance()
            while self._curr and self._curr.start <= last.end + 1:
                last = self._curr
                self._advance()
            if first is last and quoted(first, self.sql) and \
                    first.token_type in (TokenType.STRING, TokenType.RAW_STRING, TokenType.IDENTIFIER):
                args.append(first.text)
            else:
                args.append(self.sql[first.start:last.end + 1])
        return nodes.MLSQLMacro(this=name.text, args=args)


class MLSQLGenerator(SparkGenerator):
    """Spark's generator plus the MLSQL statement nodes."""

    TRANSFORMS = {**SparkGenerator.TRANSFORMS, **nodes.TRANSFORMS}


class MLSQL(Spark):
    """The ``mlsql`` dialect (registered with sqlglot under that name when this module is imported)."""

    class Tokenizer(Spark.Tokenizer):
        RAW_STRINGS = [*Spark.Tokenizer.RAW_STRINGS, ("'''", "'''")]

    Parser = MLSQLParser
    Generator = MLSQLGenerator
