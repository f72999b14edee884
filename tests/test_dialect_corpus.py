"""Corpus tests of the select-as rule: Spark SQL passes through unchanged, MLSQL select-as is found.

``SPARK_QUERIES`` (hand-written) and ``generated_queries()`` are statements that Spark 4's parser
accepts; each must come back from ``parse_script`` as one PassThrough whose text is the input. The
``SELECT_AS`` cases are statements that Spark rejects as written but accepts without their final
``AS <name>``. Set ``MLSQL_DIALECT_SPARK_CHECK=1`` to also check both claims against Spark's own parser
(starts a local JVM; about 20 s).
"""

from __future__ import annotations

import itertools
import os

import pytest

import dialect
from dialect import PassThrough, SelectAs

SPARK_QUERIES: list[str] = [
    # --- trailing AS that belongs to Spark's grammar
    "select 1 as a",
    "SELECT 1 AS a",
    "select * from t as t2",
    "select * from t as out",
    "select * from raw as t2",
    "select a, b from t as t",
    "select t2.a from t as t2",
    "select out.* from t as out",
    "select * from (select a from t) as sub",
    "select * from (select a from t) sub",
    "select * from a cross join b as y",
    "select * from a, b as y",
    "select * from a join b as y",
    "select * from a natural join b as y",
    "select 1 union select 2 as out",
    "select a from t union all select a from u as x",
    "select * from t lateral view explode(arr) tbl as c",
    "select * from t lateral view outer explode(arr) tbl as c",
    "select * from t lateral view posexplode(arr) tbl as pos, val",
    "select * from t tablesample (10 percent) as s",
    "select * from t tablesample (5 rows) s",
    "select * from values (1, 2), (3, 4) as v(a, b)",
    "values (1, 'a'), (2, 'b') as v(id, name)",
    "select * from range(10) as r",
    "select * from range(1, 10, 2) r",
    "select `weird name` as `another weird`",
    "select a as `my view` from t as `my table`",
    "select count(*) as cnt",
    "select current_date() as today",
    "select x as data from t as data",
    "select 'a;b' as semicolon",
    "select \"x;y\" as dq",
    "select 'it\\'s' as esc",
    "select 'O''Brien' as name",
    "select * from t as result",
    "with x as (select 1 as a) select a from x as y",
    "with x as (select 1 as a), y as (select 2 as b) select * from x, y as z",
    "(select 1 as a)",
    "select a from t where a in (select a from u as uu)",
    "select * from t pivot (sum(v) for k in ('a', 'b')) as p",
    "select * from t as a join u as b on a.id = b.id",
    # --- plain queries
    "select 1",
    "SELECT * FROM t",
    "select a, b + 1 as c from raw where a > 0",
    "select distinct a from t",
    "select all a from t",
    "select a, count(*) from t group by a having count(*) > 1",
    "select a, sum(b) from t group by a with rollup",
    "select a, b, sum(c) from t group by cube(a, b)",
    "select a, b, sum(c) from t group by grouping sets ((a), (a, b), ())",
    "select a from t order by a desc nulls last limit 10",
    "select a from t order by a limit 10 offset 5",
    "select a from t sort by a",
    "select a from t distribute by a sort by b",
    "select a from t cluster by a",
    "select * from t where a between 1 and 3 and b like 'x%' and c rlike '^a' and d is not null",
    "select * from t where exists (select 1 from u where u.id = t.id)",
    "select * from t where a not in (1, 2, 3)",
    "select * from a left join b on a.id = b.id",
    "select * from a left outer join b using (id)",
    "select * from a right join b on a.id = b.id and a.x > b.x",
    "select * from a full outer join b on a.id = b.id",
    "select * from a left semi join b on a.id = b.id",
    "select * from a left anti join b on a.id = b.id",
    "select * from a cross join b",
    "select /*+ BROADCAST(b) */ * from a join b on a.id = b.id",
    "select /*+ REPARTITION(3) */ a from t",
    "select a, row_number() over (partition by b order by c) as rn from t",
    "select a, sum(b) over (order by c rows between unbounded preceding and current row) as s from t",
    "select a, avg(b) over w as m from t window w as (partition by a order by c)",
    "select a, lag(b, 1) over (partition by a order by c) from t",
    "select case when a > 0 then 'pos' when a < 0 then 'neg' else 'zero' end as sign from t",
    "select cast(a as int), cast(b as decimal(10, 2)), try_cast(c as date) from t",
    "select a::int as i from t",
    "select array(1, 2, 3) as arr, map('k', 1) as m, named_struct('x', 1) as s",
    "select transform(arr, x -> x + 1) as inc from t",
    "select filter(arr, x -> x > 1), aggregate(arr, 0, (acc, x) -> acc + x) from t",
    "select date '2024-01-01', timestamp '2024-01-01 10:00:00', interval 1 day",
    "select x'1F' as bin, 1e10 as big, 1.5bd as dec, 10L as lng",
    "select a from t where a = 1; ",
    "select a from t intersect select a from u",
    "select a from t except select a from u",
    "select a from t minus select a from u",
    "select a from t union select a from u order by a",
    "with recursive r(n) as (select 1 union all select n + 1 from r where n < 5) select n from r",
    "with t1 as (select 1 as a) select * from t1",
    "with t1 as (select 1 as a), t2 as (select a + 1 as b from t1) select * from t2 where b > 1",
    "from t select a, b",
    "from t select a where a > 0",
    "table t",
    "values 1, 2, 3",
    "select * from t where d = '${hivevar:day}'",
    "select * from json.`/data/file.json`",
    "select * from parquet.`/data/p` as p",
    "select struct(a, b).a from t",
    "select a[0], m['k'], s.f from t",
    "select * from t unpivot (v for k in (a, b)) as u",
    "select explode(arr) as x from t",
    "select posexplode(arr) as (p, v) from t",
    "select inline(array(struct(1, 'a'))) as (n, s)",
    "select stack(2, 1, 2, 3, 4) as (x, y)",
    "select percentile_approx(a, 0.5) from t",
    "select count(distinct a), approx_count_distinct(b) from t",
    "select a from t where b = 'a -- not a comment'",
    "select a -- a comment\nfrom t",
    "select a /* c */ from t",
    "select 'line1\nline2' as two",
    "select a from t as x where x.a > 1",
    "select x.a from t as x order by x.a",
    # --- DDL / DML / utility statements
    "create table t (a int, b string) using parquet",
    "create table if not exists db.t (a int) using delta partitioned by (a)",
    "create table t2 as select * from t as x",
    "create table t2 using parquet as select a as b from t",
    "create or replace temporary view v as select * from t as x",
    "create temporary view v as select 1 as a",
    "create view v as select a from t",
    "create database if not exists db",
    "create function f as 'com.example.F'",
    "drop table if exists t",
    "drop view v",
    "drop database db cascade",
    "alter table t add columns (c int)",
    "alter table t rename to t3",
    "alter table t set tblproperties ('k' = 'v')",
    "truncate table t",
    "insert into t values (1, 'a')",
    "insert into t select * from u as x",
    "insert overwrite table t select a, b from u",
    "insert into t partition (dt = '2024-01-01') select a from u",
    "insert overwrite directory '/tmp/out' using parquet select * from t",
    "delete from t where a = 1",
    "update t set a = 1 where b = 2",
    "merge into t using u on t.id = u.id when matched then update set * when not matched then insert *",
    "show tables",
    "show tables in db like 'a*'",
    "show databases",
    "show functions",
    "show columns in t",
    "show create table t",
    "show partitions t",
    "show tblproperties t",
    "show views",
    "describe t",
    "describe extended t",
    "desc formatted t a",
    "describe function upper",
    "describe query select 1",
    "explain select * from t",
    "explain extended select a from t as x",
    "explain formatted select 1",
    "use db",
    "cache table t",
    "cache lazy table c as select * from t as x",
    "uncache table t",
    "uncache table if exists t",
    "clear cache",
    "refresh table t",
    "refresh '/data/path'",
    "msck repair table t",
    "analyze table t compute statistics",
    "set spark.sql.shuffle.partitions=8",
    "SET spark.sql.shuffle.partitions = 8",
    "set",
    "set -v",
    "set spark.sql.shuffle.partitions",
    "set time zone 'UTC'",
    "set time zone local",
    "reset",
    "reset spark.sql.shuffle.partitions",
    "add jar /tmp/x.jar",
    "list jars",
    "load data inpath '/data/x' into table t",
    "LOAD DATA LOCAL INPATH '/data/x' OVERWRITE INTO TABLE t",
    "declare variable v int default 1",
    "set var v = 2",
    "select v",
    "comment on table t is 'x'",
    "repair table t",
]


def generated_queries() -> list[str]:
    """Combinations of select lists, sources and tails (several end with a Spark alias)."""
    columns = ["*", "a", "a, b", "a as x", "count(*) as n", "t.a", "upper(s) as u",
               "sum(b) over (partition by a) as total", "a as result"]
    sources = ["t", "db.t", "t as x", "t x", "t as out", "t as data", "(select a, b, s from u) as q",
               "t as t2 join u as u2 on t2.id = u2.id", "range(5) as r", "`odd name` as o"]
    tails = ["", " where a > 0", " group by a", " order by a", " limit 5"]
    out = []
    for col, src, tail in itertools.product(columns, sources, tails):
        if tail == " group by a" and col not in ("a", "count(*) as n", "a as x"):
            continue
        out.append(f"select {col} from {src}{tail}")
    aliases = ["a", "x1", "value", "key", "date", "year", "month", "count", "first", "last", "data",
               "out", "result", "user", "comment", "type", "status", "name", "`with space`", "_tmp"]
    exprs = ["1", "'s'", "1 + 2", "current_date()", "array(1, 2)", "cast('1' as int)", "x'1F'"]
    out += [f"select {e} as {a}" for e, a in itertools.product(exprs, aliases)]
    # Spark takes any word as a column alias, and most keywords as a table alias
    out += [f"select 1 as {w}" for w in SPARK_WORDS]
    out += [f"select * from t as {w}" for w in SPARK_WORDS if w not in NOT_TABLE_ALIASES]
    return out


SPARK_WORDS = (
    "as", "and", "or", "not", "case", "when", "then", "else", "end", "union", "join", "on", "using", "all",
    "distinct", "null", "true", "false", "between", "in", "is", "like", "interval", "current_date",
    "order", "select", "from", "left", "right", "table", "where", "group", "window", "limit", "having",
    "by", "with", "values", "create", "insert", "into", "over", "partition", "rows", "range", "first",
    "last", "natural", "cross", "inner", "outer", "full", "semi", "anti", "except", "minus", "intersect",
    "lateral", "tablesample", "pivot", "unpivot", "cluster", "distribute", "sort", "qualify",
)
NOT_TABLE_ALIASES = {"union", "join", "on", "using", "left", "right", "natural", "cross", "inner", "full",
                     "semi", "anti", "except", "minus", "intersect", "lateral"}


#: (statement, query text, view)
SELECT_AS: list[tuple[str, str, str]] = [
    ("select a from raw where a > 0 as t2", "select a from raw where a > 0", "t2"),
    ("select a, b + 1 as c from raw where a > 0 as t2", "select a, b + 1 as c from raw where a > 0", "t2"),
    ("select 1 as a as b", "select 1 as a", "b"),
    ('select "${day}" as d as out', 'select "${day}" as d', "out"),
    ("select * from raw r as t2", "select * from raw r", "t2"),
    ("select * from raw as r as t2", "select * from raw as r", "t2"),
    ("select t2 as t2 from raw where t2 > 1 as t2", "select t2 as t2 from raw where t2 > 1", "t2"),
    ("select a from t group by a as g", "select a from t group by a", "g"),
    ("select a from t order by a as o", "select a from t order by a", "o"),
    ("select a from t limit 10 as l", "select a from t limit 10", "l"),
    ("select a, count(*) from t group by a having count(*) > 1 as h",
     "select a, count(*) from t group by a having count(*) > 1", "h"),
    ("select * from a join b on a.id = b.id as j", "select * from a join b on a.id = b.id", "j"),
    ("select * from a as x join b as y on x.id = y.id as j", "select * from a as x join b as y on x.id = y.id", "j"),
    ("select * from a join b using (id) as j", "select * from a join b using (id)", "j"),
    ("select a, row_number() over (partition by b order by c) as rn from t where x > 0 as w",
     "select a, row_number() over (partition by b order by c) as rn from t where x > 0", "w"),
    ("select avg(b) over w as m from t window w as (partition by a) as out",
     "select avg(b) over w as m from t window w as (partition by a)", "out"),
    ("with x as (select 1 as a) select a from x where a > 0 as y",
     "with x as (select 1 as a) select a from x where a > 0", "y"),
    ("select * from (select a from t) sub as out", "select * from (select a from t) sub", "out"),
    ("select * from (select a from t as x) y where 1 = 1 as out",
     "select * from (select a from t as x) y where 1 = 1", "out"),
    ("select a from t union select a from u order by a as un", "select a from t union select a from u order by a",
     "un"),
    ("select a from t cluster by a as c", "select a from t cluster by a", "c"),
    ("select * from t where s = 'x as y' as q", "select * from t where s = 'x as y'", "q"),
    ("select a from t where a > 0 as `my view`", "select a from t where a > 0", "my view"),
    ("select a from t where a > 0 as ${name}", "select a from t where a > 0", "${name}"),
    ("select a from t where a > 0 as t_${day}", "select a from t where a > 0", "t_${day}"),
    ("SELECT A FROM T WHERE A > 0 AS V", "SELECT A FROM T WHERE A > 0", "V"),
    ("select a from t where a > 0\n  as t2", "select a from t where a > 0", "t2"),
    ("select a from t where a > 0 -- note\n as t2", "select a from t where a > 0", "t2"),
    ("select * from t tablesample (10 percent) s as out", "select * from t tablesample (10 percent) s", "out"),
    ("select a from t where a > 0 as data", "select a from t where a > 0", "data"),
]


def _one(text: str):
    script = dialect.parse_script(text)
    assert len(script) == 1, text
    return script[0]


def test_corpus_is_big_enough():
    assert len(SPARK_QUERIES) + len(generated_queries()) >= 200
    assert len(set(SPARK_QUERIES)) == len(SPARK_QUERIES)


@pytest.mark.parametrize("query", SPARK_QUERIES)
def test_spark_query_passes_through_unchanged(query):
    stmt = _one(query)
    assert isinstance(stmt, PassThrough), (query, stmt)
    assert stmt.text == query.strip().rstrip(";").strip()


def test_generated_queries_pass_through_unchanged():
    for query in generated_queries():
        for text in (query, query + ";", f"  {query}  ;\n"):
            stmt = _one(text)
            assert isinstance(stmt, PassThrough), (text, stmt)
            assert stmt.text == query


@pytest.mark.parametrize(("text", "query_text", "view"), SELECT_AS)
def test_select_as(text, query_text, view):
    stmt = _one(text + ";")
    assert isinstance(stmt, SelectAs), (text, stmt)
    assert stmt.view == view
    assert stmt.query_text == query_text
    assert dialect.parse_statement(stmt.sql()) == stmt


@pytest.mark.skipif(os.environ.get("MLSQL_DIALECT_SPARK_CHECK") != "1", reason="starts a Spark JVM (~20 s): opt-in with MLSQL_DIALECT_SPARK_CHECK=1, which `make test` sets")
def test_corpus_against_spark_parser():  # pragma: no cover - optional, needs a JVM
    pyspark_sql = pytest.importorskip("pyspark.sql")
    spark = pyspark_sql.SparkSession.builder.master("local[1]").getOrCreate()
    parser = spark._jsparkSession.sessionState().sqlParser()

    def accepts(text: str) -> bool:
        try:
            parser.parsePlan(text)
            return True
        except Exception:
            return False

    try:
        rejected = [q for q in SPARK_QUERIES + generated_queries() if not accepts(q.strip().rstrip(";"))]
        assert not rejected
        wrong = [t for t, q, _ in SELECT_AS if accepts(t) or not accepts(q)]
        assert not wrong
    finally:
        spark.stop()
