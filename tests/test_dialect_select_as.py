"""The select-as rule: edge cases, the reference mode and the alias hint."""

from __future__ import annotations

import pytest

import dialect
from dialect import PassThrough, SelectAs


def stmt(text: str, **kw):
    return dialect.parse_statement(text, **kw)


@pytest.mark.parametrize("text", [
    "select 1 as a",                                   # column alias
    "select * from t as t2",                           # table alias
    "select * from t as out;",                         # table alias; the ; changes nothing
    "select t2.* from t as t2",                        # alias used by the query
    "select * from a join b on a.id = b.id join c as x",  # alias of the last joined table
    "select * from (select 1 as a) as sub",            # subquery alias
    "with x as (select 1 as a) select * from x as y",  # CTE, then a table alias
    "select * from t lateral view explode(a) e as v",  # LATERAL VIEW column alias
    "select cast(a as int) as i from t as t",          # CAST's AS, then aliases
    "select sum(x) over (partition by y) as total",    # window, column alias
    "select a as raw from raw as raw",                 # alias equal to the table name
])
def test_spark_aliases_are_spark_sql(text):
    result = stmt(text)
    assert isinstance(result, PassThrough)
    assert result.text == text.rstrip(";")


def test_alias_hint():
    assert stmt("select * from raw as t2").trailing_alias == "t2"
    assert stmt("select * from raw as `odd name`").trailing_alias == "odd name"
    assert stmt("select * from raw").trailing_alias is None
    assert stmt("select * from raw where a > 0 as t2").view == "t2"


@pytest.mark.parametrize(("text", "query_text", "view"), [
    ("select a as t2 from t2 where a > 1 as t2", "select a as t2 from t2 where a > 1", "t2"),
    ("select 'as t2' as x from raw where b = 'as t2' as t2", "select 'as t2' as x from raw where b = 'as t2'", "t2"),
    ("(select 1) as v", "(select 1)", "v"),
    ("select * from t where x as v", "select * from t where x", "v"),
    ("select * from t where a > 0 as `select`", "select * from t where a > 0", "select"),
    ("select * from t where a > 0 /* c */ as v", "select * from t where a > 0", "v"),
    ("select * from t where a > 0 as /* c */ v", "select * from t where a > 0", "v"),
])
def test_select_as_edge_cases(text, query_text, view):
    result = stmt(text)
    assert isinstance(result, SelectAs), result
    assert (result.query_text, result.view) == (query_text, view)
    assert stmt(result.sql()) == result


@pytest.mark.parametrize("text", [
    "select 1 as select",            # Spark takes any word as an alias; sqlglot does not take this one
    "select 1 as not",
    "select from where as v",
    "create table t2 as select * from t where a > 0 as v",  # not a query head
    "insert into t select * from u where a > 0 as v",
    "cache table c as select * from t",
    "select * from t where a > 0 as",
    "select * from t as a.b",
])
def test_not_select_as(text):
    assert isinstance(stmt(text), PassThrough)


def test_view_name_that_is_a_keyword_needs_backquotes():
    assert isinstance(stmt("select * from t where a > 0 as select"), PassThrough)
    assert stmt("select * from t where a > 0 as `select`").view == "select"
    # keywords that sqlglot takes as aliases are fine bare
    assert stmt("select * from t where a > 0 as data").view == "data"
    assert stmt("select * from t where a > 0 as table").view == "table"


def test_reference_mode():
    ref = {"select_as": "reference"}
    result = stmt("select * from raw as t2", **ref)
    assert isinstance(result, SelectAs) and (result.query_text, result.view) == ("select * from raw", "t2")
    result = stmt("select a, b from raw join other as o", **ref)
    assert isinstance(result, SelectAs) and result.view == "o"
    # a referenced alias, a column alias, a lateral view alias or a nested alias stay Spark SQL
    for text in ("select o.a from raw as o", "select 1 as a", "select * from t lateral view explode(a) e as v",
                 "select * from (select * from t as x) as y where true"):
        assert isinstance(stmt(text, **ref), PassThrough), text
    result = stmt("select 1 as a union all select a from t as x", **ref)
    assert isinstance(result, SelectAs) and result.view == "x"
    with pytest.raises(ValueError):
        dialect.parse_script("select 1", select_as="nope")


def test_classify_query_directly():
    assert isinstance(dialect.classify_query("select a from t where a > 0 as v"), SelectAs)
    assert isinstance(dialect.classify_query("select a from t as v"), PassThrough)
    assert isinstance(dialect.classify_query("select a from t as v", select_as="reference"), SelectAs)


def test_passthrough_ast_is_reused():
    result = stmt("select a from t as v")
    assert result.expression is not None and result.expression.sql(dialect="spark") == "SELECT a FROM t AS v"
