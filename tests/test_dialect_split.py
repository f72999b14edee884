"""Script splitting: what ends a statement, what a statement's text is, where it starts."""

from __future__ import annotations

import pytest

import dialect
from dialect import MLSQLSyntaxError, split_statements
from dialect.splitter import LineIndex


def texts(script: str) -> list[str]:
    return [c.text for c in split_statements(script)]


@pytest.mark.parametrize(("script", "expected"), [
    ("select 1; select 2;", ["select 1", "select 2"]),
    ("select 1; select 2", ["select 1", "select 2"]),
    ("select ';' as a; select 2", ["select ';' as a", "select 2"]),
    ('select ";" as a; select 2', ['select ";" as a', "select 2"]),
    ("select 'it\\'s;' as a; x", ["select 'it\\'s;' as a", "x"]),
    ('select "a\\";" ; x', ['select "a\\";"', "x"]),
    ("select 'O''Brien;' ; x", ["select 'O''Brien;'", "x"]),
    ("select `a;b` from t; x", ["select `a;b` from t", "x"]),
    ("select `a``;b` from t; x", ["select `a``;b` from t", "x"]),
    ("load csv.`/p;q` as t; x", ["load csv.`/p;q` as t", "x"]),
    ("set s='''a;\n'b';\"c\";''' ; x", ["set s='''a;\n'b';\"c\";'''", "x"]),
    ("select 1 -- a; comment\n; x", ["select 1", "x"]),
    ("select /* ; */ 1; x", ["select /* ; */ 1", "x"]),
    ("select /* a /* nested ; */ still; */ 1; x", ["select /* a /* nested ; */ still; */ 1", "x"]),
    ("select r'\\'; x", ["select r'\\'", "x"]),
    ("select R\"a\\\"; x", ['select R"a\\"', "x"]),
    ("select bar'x;y'; x", ["select bar'x;y'", "x"]),
    ("select 10/2, 3-1; x", ["select 10/2, 3-1", "x"]),
    (";;; select 1 ;;", ["select 1"]),
    ("-- only a comment\n/* and another */", []),
    ("", []),
    ("   \n\t ", []),
    ("select 1 -- trailing", ["select 1"]),
    ("-- lead\n/* lead */ select 1 /* tail */ ; x", ["select 1", "x"]),
    ("!hdfs -ls /data; !show jobs", ["!hdfs -ls /data", "!show jobs"]),
    ("select '''x''' ; y", ["select '''x'''", "y"]),
    ("select ''''; y", ["select ''''", "y"]),  # an unclosed triple quote reads like Spark: '' then ''
    ("select '''' as a; y", ["select '''' as a", "y"]),
    ("select '' as e; y", ["select '' as e", "y"]),
])
def test_split(script, expected):
    assert texts(script) == expected


def test_chunk_positions():
    script = "select 1;\n  load csv.`/a;b` as t;\n\n/* c */  \tset a = 'x;y'"
    chunks = split_statements(script)
    assert [(c.line, c.column) for c in chunks] == [(1, 1), (2, 3), (4, 11)]
    for chunk in chunks:
        assert script[chunk.start:chunk.start + len(chunk.text)] == chunk.text


@pytest.mark.parametrize(("script", "line", "column", "message"), [
    ("select 'abc", 1, 8, "Unterminated string"),
    ('select 1;\n  select "abc', 2, 10, "Unterminated string"),
    ("select `abc", 1, 8, "Unterminated back-quoted name"),
    ("select 1 /* never closed", 1, 10, "Unterminated /* comment"),
    ("select 1;\nselect 'a\\'", 2, 8, "Unterminated string"),
    ("load csv.`/a` as t;\n\n  x /* /* */", 3, 5, "Unterminated /* comment"),
])
def test_unterminated(script, line, column, message):
    with pytest.raises(MLSQLSyntaxError) as info:
        split_statements(script)
    assert (info.value.line, info.value.column) == (line, column)
    assert message in info.value.message
    with pytest.raises(MLSQLSyntaxError):
        dialect.parse_script(script)


def test_line_index():
    index = LineIndex("ab\ncd\n\nx")
    assert [index.position(i) for i in (0, 1, 2, 3, 5, 6, 7, 99)] == \
        [(1, 1), (1, 2), (1, 3), (2, 1), (2, 3), (3, 1), (4, 1), (4, 2)]


def test_semicolon_in_string_never_ends_a_statement():
    script = dialect.parse_script("select 'a;b' as x from t where y = ';' as v; select 2")
    assert len(script) == 2
    assert script[0].view == "v"
    assert script[0].query_text == "select 'a;b' as x from t where y = ';'"
