"""Fuzzing: any input parses or raises MLSQLSyntaxError with a position; generated statements round-trip."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dialect
from dialect import (
    Connect,
    Include,
    Load,
    MacroCall,
    MLSQLError,
    MLSQLSyntaxError,
    Predict,
    Register,
    Run,
    Save,
    SetVariable,
    Train,
    Unregister,
)

FUZZ = settings(max_examples=300, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

WORDS = ["load", "save", "set", "select", "from", "where", "as", "options", "and", "train", "run", "predict",
         "register", "unregister", "connect", "include", "partitionBy", "overwrite", "append", "with", "type",
         "csv", "jdbc", "t", "t2", "x", "1", "${a}", "${", "}", "!", "!show", "`", "``", "'", '"', "'''", ";",
         "--", "/*", "*/", "\n", " ", "(", ")", ",", ".", "=", "\\", "r'", "$$", "group by", "order by", "limit",
         "lateral view", "join", "on", "union", "values", "table", "*", "+", "-", "/", "<", ">", "\t", "\r\n",
         "LOAD DATA", "SET", "case", "end", "over", "partition", "by", "sql", "shell", "defaultParam"]
TEXT = st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=4)), max_size=40).map("".join)
HEADS = st.sampled_from(["load ", "save ", "set ", "train ", "run ", "predict ", "register ", "unregister ",
                         "connect ", "include ", "!", "select ", "with ", "(", "load csv.`p` ", "select * from t ",
                         "save overwrite t as json.`o` ", "set a = 'x' "])


def check_parse(text: str) -> None:
    try:
        script = dialect.parse_script(text)
    except MLSQLSyntaxError as err:
        lines = text.count("\n") + 1
        assert isinstance(err.line, int) and isinstance(err.column, int)
        assert 1 <= err.line <= lines and err.column >= 1, (err, text)
        assert "internal parser error" not in err.message, (err, text)
        assert err.sqlstate == "42000"
        return
    # whatever parsed writes back to an equal script
    assert dialect.parse_script(script.sql()) == script, (text, script.sql())


@FUZZ
@given(TEXT)
def test_any_text_parses_or_raises_a_positioned_syntax_error(text):
    check_parse(text)


@FUZZ
@given(HEADS, TEXT)
def test_statement_heads_with_noise(head, text):
    check_parse(head + text)


@FUZZ
@given(TEXT)
def test_planning_raises_only_mlsql_errors(text):
    try:
        dialect.plan(text, today=dt.date(2024, 1, 1))
    except MLSQLError as err:
        assert err.line is None or err.line >= 1


NAMES = st.one_of(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True), st.text(min_size=1, max_size=8),
                  st.sampled_from(["as", "where", "select", "${x}", "t_${day}", "a b", "`", "--x"]))
VALUES = st.one_of(st.text(max_size=12), st.sampled_from(["", "'''", "a'", '"q"', "\\", "\n", "x\\ny", "${v}"]))
KEYS = st.one_of(st.from_regex(r"[A-Za-z_][A-Za-z0-9_.\-]{0,10}", fullmatch=True), st.text(min_size=1, max_size=6))
OPTIONS = st.dictionaries(KEYS, VALUES, max_size=3)
SET_OPTIONS = st.fixed_dictionaries({}, optional={
    "type": st.sampled_from(["text", "sql", "conf", "defaultParam", "shell", "SQL"]),
    "mode": st.sampled_from(["compile", "runtime"]), "scope": VALUES})
FORMATS = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True)
PATHS = st.text(max_size=12)


def block_ok(stmt: SetVariable) -> bool:
    """A block value cannot hold three quotes in a row or end with a quote."""
    return stmt.style != "block" or ("'''" not in stmt.value and not stmt.value.endswith("'"))


def statements():
    return st.one_of(
        st.builds(Load, FORMATS, PATHS, NAMES, options=OPTIONS),
        st.builds(Save, NAMES, FORMATS, PATHS, st.sampled_from([None, "overwrite", "append", "errorIfExists", "ignore"]),
                  st.lists(NAMES, max_size=3).map(tuple), options=OPTIONS),
        st.builds(SetVariable, KEYS, VALUES, st.sampled_from(["quoted", "block", "backquoted"]),
                  options=SET_OPTIONS).filter(block_ok),
        st.builds(Connect, FORMATS, NAMES, options=OPTIONS),
        st.builds(Include, FORMATS, PATHS, options=OPTIONS),
        st.builds(Train, NAMES, FORMATS, PATHS,
                  st.one_of(st.none(), NAMES), options=OPTIONS),
        st.builds(Run, NAMES, FORMATS, PATHS, st.one_of(st.none(), NAMES), options=OPTIONS),
        st.builds(Predict, NAMES, FORMATS, PATHS, st.one_of(st.none(), NAMES), options=OPTIONS),
        st.builds(Register, FORMATS, PATHS, NAMES, options=OPTIONS),
        st.builds(Unregister, FORMATS, PATHS, options=OPTIONS),
        st.builds(MacroCall, FORMATS, st.lists(VALUES, max_size=4).map(tuple)),
    )


@FUZZ
@given(st.lists(statements(), min_size=1, max_size=4))
def test_generated_statements_round_trip(stmts):
    script = dialect.Script(stmts)
    text = script.sql()
    again = dialect.parse_script(text)
    assert again == script, text
    assert again.sql() == text
