"""Every MLSQL statement kind and option form, parse errors, the sqlglot plugin and round trips."""

from __future__ import annotations

import pytest
import sqlglot

import dialect
from dialect import (
    Connect,
    Include,
    Load,
    MacroCall,
    MLSQLSyntaxError,
    PassThrough,
    Predict,
    Register,
    Run,
    Save,
    SelectAs,
    SetVariable,
    Train,
    Unregister,
)
from dialect.nodes import MLSQLLoad, MLSQLModel, MLSQLSelectAs


def one(text: str, **kw):
    stmt = dialect.parse_statement(text, **kw)
    # every parsed statement writes back to an equal one, as written and normalized
    assert dialect.parse_statement(stmt.sql(), **kw) == stmt, stmt.sql()
    assert dialect.parse_statement(stmt.sql(normalize=True), **kw) == stmt, stmt.sql(normalize=True)
    return stmt


# ------------------------------------------------------------------------------------------ load

def test_load_basic():
    stmt = one('load csv.`/data/a.csv` where header="true" as raw;')
    assert stmt == Load("csv", "/data/a.csv", "raw", options={"header": "true"})
    assert (stmt.line, stmt.column, stmt.kind) == (1, 1, "load")


def test_load_without_options_and_empty_path():
    assert one("load parquet.`/data/p` as t") == Load("parquet", "/data/p", "t")
    assert one("load kafka.`` as k") == Load("kafka", "", "k")


@pytest.mark.parametrize("keyword", ["where", "options", "WHERE", "Options"])
def test_options_and_where_are_synonyms(keyword):
    stmt = one(f'load json.`/j` {keyword} a="1" and b="2" as t')
    assert stmt.options == {"a": "1", "b": "2"}


def test_option_value_quotes():
    stmt = one("""load csv.`/p` where a="double" and b='single' and c='''block "x" 'y'
line2''' and d="esc\\"aped" and e='it\\'s' as t""")
    assert stmt.options == {"a": "double", "b": "single", "c": "block \"x\" 'y'\nline2", "d": 'esc"aped',
                            "e": "it's"}
    assert stmt.block_keys == frozenset({"c"})
    assert "'''block" in stmt.sql()


def test_block_value_is_verbatim():
    stmt = one(r"load csv.`/p` where re='''\d+\n''' as t")
    assert stmt.options["re"] == r"\d+\n"


def test_option_keys_dotted_backquoted_dashed():
    stmt = one('load es.`idx/type` where `es.nodes`="h:9200" and fitParam.0.maxDepth="3" '
               'and driver-statement-0="create table x" and `odd key`="v" and spark.x.y="1" as t')
    assert list(stmt.options) == ["es.nodes", "fitParam.0.maxDepth", "driver-statement-0", "odd key", "spark.x.y"]


def test_keywords_are_case_insensitive():
    assert one('LOAD CSV.`/a` WHERE header="true" AS Raw') == Load("CSV", "/a", "Raw", options={"header": "true"})
    stmt = one("SAVE OverWrite t AS json.`/o` PARTITIONBY a")
    assert (stmt.mode, stmt.partition_by) == ("overwrite", ("a",))


def test_adjacent_string_literals_concatenate():
    assert one("load csv.`/p` where a='x' 'y' as t").options == {"a": "xy"}


def test_load_data_is_spark_sql():
    for text in ("LOAD DATA INPATH '/x' INTO TABLE t", "load data local inpath '/x' overwrite into table t"):
        assert one(text) == PassThrough(text)
    assert one("load data.`/x` as t") == Load("data", "/x", "t")


def test_templates_in_names_and_paths():
    stmt = one('load csv.`/d/${day}/a.csv` where p="${x}" as ${tbl}')
    assert (stmt.path, stmt.options["p"], stmt.view) == ("/d/${day}/a.csv", "${x}", "${tbl}")
    assert one("load csv.`/a` as t_${day}").view == "t_${day}"


# ------------------------------------------------------------------------------------------ save

@pytest.mark.parametrize(("word", "mode"), [("overwrite", "overwrite"), ("append", "append"),
                                             ("errorIfExists", "errorIfExists"), ("ignore", "ignore"),
                                             ("ERRORIFEXISTS", "errorIfExists"), ("", None)])
def test_save_modes(word, mode):
    stmt = one(f"save {word} t2 as json.`/out/t2`")
    assert stmt == Save("t2", "json", "/out/t2", mode)
    assert stmt.effective_mode == (mode or "errorIfExists")


def test_save_options_and_partitions():
    stmt = one('save append t2 as parquet.`/out/p` where fileNum="4" partitionBy dt, hr;')
    assert stmt == Save("t2", "parquet", "/out/p", "append", ("dt", "hr"), options={"fileNum": "4"})
    assert one("save append t2 as parquet.`/p` partitionBy dt where fileNum='4'") == \
        Save("t2", "parquet", "/p", "append", ("dt",), options={"fileNum": "4"})
    assert one("save append t2 as parquet.`/p` partition by dt,hr,`odd col`").partition_by == \
        ("dt", "hr", "odd col")


def test_save_jdbc_and_table_named_like_a_mode():
    stmt = one('save append t as jdbc.`db1.u` where idCol="a,b" and createTableColumnTypes="a VARCHAR(64),b INT"')
    assert stmt.path == "db1.u" and stmt.options["idCol"] == "a,b"
    assert one("save overwrite as json.`/o`") == Save("overwrite", "json", "/o")
    assert one("save overwrite overwrite as json.`/o`") == Save("overwrite", "json", "/o", "overwrite")
    assert one("save db.tbl as hive.`db.out`").table == "db.tbl"


# ------------------------------------------------------------------------------------------ set

def test_set_forms():
    assert one('set day="2018-07-01";') == SetVariable("day", "2018-07-01")
    assert one("set day = '2018-07-01'") == SetVariable("day", "2018-07-01")
    stmt = one("set code='''line1\nline2''';")
    assert (stmt.value, stmt.style, stmt.set_type) == ("line1\nline2", "block", "text")
    stmt = one('set n=`select count(*) from t2` where type="sql";')
    assert (stmt.value, stmt.style, stmt.set_type, stmt.mode) == ("select count(*) from t2", "backquoted", "sql",
                                                                  "runtime")
    assert stmt.query is not None and stmt.query.sql(dialect="spark") == "SELECT COUNT(*) FROM t2"


@pytest.mark.parametrize(("options", "set_type", "mode"), [
    ('type="conf"', "conf", "compile"), ('type="defaultParam"', "defaultParam", "compile"),
    ('type="DEFAULTPARAM"', "defaultParam", "compile"), ('type="text"', "text", "compile"),
    ('type="sql" and mode="compile"', "sql", "compile"), ('options type="sql" and mode="runtime"', "sql", "runtime"),
])
def test_set_types_and_modes(options, set_type, mode):
    options = options if options.startswith("options") else "where " + options
    stmt = one(f'set spark.sql.shuffle.partitions="8" {options}')
    assert (stmt.name, stmt.set_type, stmt.mode) == ("spark.sql.shuffle.partitions", set_type, mode)


def test_set_shell_is_refused_unless_allowed():
    text = 'set d=`date +%F` where type="shell"'
    stmt = dialect.parse_statement(text)
    assert stmt.set_type == "shell" and stmt.refused
    assert not dialect.parse_statement(text, allow_shell=True).refused
    assert not one('set d="x"').refused


def test_spark_set_statements_pass_through():
    for text in ("SET spark.sql.shuffle.partitions=8", "set", "set -v", "SET TIME ZONE 'UTC'",
                 "set var v = 1", "set spark.sql.shuffle.partitions", "set a = b"):
        assert one(text) == PassThrough(text), text


# ------------------------------------------------------------------------------------------ the rest

def test_connect():
    stmt = one('connect jdbc where url="jdbc:postgresql://127.0.0.1:5432/app" and '
               'driver="org.postgresql.Driver" and user="u" as db1;')
    assert stmt == Connect("jdbc", "db1", options={"url": "jdbc:postgresql://127.0.0.1:5432/app",
                                                    "driver": "org.postgresql.Driver", "user": "u"})
    assert one("connect es as e") == Connect("es", "e")


def test_include():
    assert one("include hdfs.`/scripts/common.mlsql`;") == Include("hdfs", "/scripts/common.mlsql")
    assert one('include http.`http://h/s` where param.k="v" and method="GET"').options == {"param.k": "v",
                                                                                         "method": "GET"}


@pytest.mark.parametrize(("word", "cls"), [("train", Train), ("run", Run), ("predict", Predict), ("TRAIN", Train)])
def test_train_run_predict(word, cls):
    stmt = one(f'{word} t2 as RandomForest.`/models/rf` where keepVersion="true" and fitParam.0.maxDepth="3" as info')
    assert stmt == cls("t2", "RandomForest", "/models/rf", "info",
                       options={"keepVersion": "true", "fitParam.0.maxDepth": "3"})
    assert stmt.kind == cls.kind
    assert one(f"{word} t2 as RepartitionExt.``") == cls("t2", "RepartitionExt", "", None)


def test_register_and_unregister():
    stmt = one('register RandomForest.`/models/rf` as rf_score where autoSelectByMetric="f1";')
    assert stmt == Register("RandomForest", "/models/rf", "rf_score", options={"autoSelectByMetric": "f1"})
    stmt = one("""register ScriptUDF.`` as plus1 where lang="python" and dataType="integer" and
code='''def apply(self, x): return x + 1''';""")
    assert stmt.options["code"] == "def apply(self, x): return x + 1"
    assert one('unregister ScriptUDF.`` where name="f"') == Unregister("ScriptUDF", "", options={"name": "f"})


@pytest.mark.parametrize(("text", "name", "args"), [
    ("!show jobs;", "show", ("jobs",)),
    ("!kill 23", "kill", ("23",)),
    ("!desc t2", "desc", ("t2",)),
    ("!cache t2 script", "cache", ("t2", "script")),
    ("!unCache t2", "unCache", ("t2",)),
    ("!hdfs -ls /data/x.csv", "hdfs", ("-ls", "/data/x.csv")),
    ('!split t2 by label with "0.8,0.2" as out', "split", ("t2", "by", "label", "with", "0.8,0.2", "as", "out")),
    ("!byName \"jack\" 'jill' `x y` '''a;b'''", "byName", ("jack", "jill", "x y", "a;b")),
    ("!noArgs", "noArgs", ()),
    ("!m a,b (c) x=1 ~/p > <", "m", ("a,b", "(c)", "x=1", "~/p", ">", "<")),
])
def test_macro_calls(text, name, args):
    stmt = one(text)
    assert stmt == MacroCall(name, args)
    assert stmt.builtin == (name.lower() in dialect.BUILTIN_MACROS)


def test_passthrough_keeps_text_and_has_lazy_ast():
    stmt = one("create table x as select * from t2")
    assert stmt == PassThrough("create table x as select * from t2")
    assert stmt.expression is not None and stmt.expression.find(sqlglot.exp.Create) is not None
    assert one("show tables").kind == "passthrough"
    assert one("this is not sql at all").expression is None


def test_mlsql_words_stay_identifiers_in_sql():
    stmt = one("select train, run, predict, load, save from t")
    assert isinstance(stmt, PassThrough)


# ------------------------------------------------------------------------------------------ errors

@pytest.mark.parametrize(("text", "line", "column", "expected"), [
    ("load csv.`/a` as", 1, 17, "expected a view name"),
    ("load csv.`/a` wher x='1' as t", 1, 15, "expected `where`/`options` or `as <view>`"),
    ("load csv `/a` as t", 1, 10, "expected `.` after `csv`"),
    ("load csv.`/a` where x=1 as t", 1, 23, "expected a quoted value"),
    ("load csv.`/a` where x='1' y='2' as t", 1, 27, "expected `where`/`options` or `as <view>`"),
    ("load csv.`/a` where x='1' and x='2' as t", 1, 31, "duplicate option `x`"),
    ("load csv.`/a` where as t", 1, 21, "expected an option name"),
    ("load csv.`/a` as t extra", 1, 20, "expected end of statement"),
    ("train t as X", 1, 13, "expected `.` after `X`"),
    ("train t X.`p`", 1, 9, "expected `as <name>.`<path>``"),
    ("save overwrite t as json.`x` partitionBy", 1, 41, "expected a partition column"),
    ("save t as json.`x` where a='1' where b='2'", 1, 32, "expected `where`/`options`, `partitionBy`"),
    ('set a="x" where type="bad"', 1, 22, "unknown set type `bad`"),
    ('set a="x" where mode="later"', 1, 22, "unknown set mode `later`"),
    ('set a="x" junk', 1, 11, "expected `where`/`options` or end of statement"),
    ("! show", 1, 3, "expected a command name right after `!`"),
    ("connect jdbc as", 1, 16, "expected an alias name"),
    ("register X.`p` rf", 1, 16, "expected `as <function name>`"),
    ("include hdfs.`/a` as x", 1, 19, "expected `where`/`options` or end of statement"),
    ("select 1;\n\n  load csv.`/a` as;", 3, 19, "expected a view name"),
    ("load csv.`/a`\n  where\n    x='1' and\n    y = 2 as t", 4, 9, "expected a quoted value"),
])
def test_syntax_errors_name_position_and_expectation(text, line, column, expected):
    with pytest.raises(MLSQLSyntaxError) as info:
        dialect.parse_script(text)
    err = info.value
    assert (err.line, err.column, err.sqlstate) == (line, column, "42000"), str(err)
    assert expected in err.message
    assert f"line {line}, column {column}" in str(err)


def test_syntax_error_class_signature():
    err = MLSQLSyntaxError("bad", 3, 4)
    assert (err.message, err.line, err.column, err.sqlstate) == ("bad", 3, 4, "42000")
    assert MLSQLSyntaxError("bad", 1, 2, sqlstate="42601").sqlstate == "42601"
    assert isinstance(err, dialect.MLSQLError)


def test_parse_statement_needs_one_statement():
    with pytest.raises(MLSQLSyntaxError, match="exactly one statement"):
        dialect.parse_statement("select 1; select 2")


# ------------------------------------------------------------------------------------------ sqlglot plugin

def test_registered_sqlglot_dialect():
    assert sqlglot.Dialect.get("mlsql") is dialect.MLSQL
    assert sqlglot.parse_one("select a from t where x > 1", read="mlsql").sql(dialect="spark") == \
        "SELECT a FROM t WHERE x > 1"
    node = sqlglot.parse_one("load csv.`/a` where header='true' as raw", read="mlsql")
    assert isinstance(node, MLSQLLoad)
    assert node.sql(dialect="mlsql") == 'load csv.`/a` where header="true" as raw'
    node = sqlglot.parse_one("select a from t where a > 0 as v", read="mlsql")
    assert isinstance(node, MLSQLSelectAs) and node.args["view"] == "v"
    assert isinstance(sqlglot.parse_one("predict t as X.`/m` as out", read="mlsql"), MLSQLModel)
    assert sqlglot.transpile("select '''a;b''' as x", read="mlsql", write="spark") == ["SELECT 'a;b' AS x"]
    with pytest.raises(sqlglot.errors.ParseError):
        sqlglot.parse_one("load csv.`/a` as", read="mlsql")


def test_sqlglot_multi_statement_parse():
    nodes = sqlglot.parse("load csv.`/a` as t; select * from t where 1=1 as u; show tables", read="mlsql")
    assert [type(n).__name__ for n in nodes] == ["MLSQLLoad", "MLSQLSelectAs", "Command"]


# ------------------------------------------------------------------------------------------ round trip

ROUND_TRIP_SCRIPT = """
-- a realistic script
set day = "2024-01-01";
set p = "/d/${day}";
set tpl = '''select * from people where name = "{}"''';
load csv.`/data/${day}/a.csv` where header="true" and `es.nodes`='h' as raw;
select a, b + 1 as c from raw where a > 0 as t2;
select * from raw as t2;
select 1 as a as one;
save overwrite t2 as parquet.`/out/p` where fileNum="4" partitionBy dt, hr;
connect jdbc where url="jdbc:x" and user="u" as db1;
include hdfs.`/scripts/common.mlsql`;
train t2 as RandomForest.`/models/rf` where fitParam.0.maxDepth="3" and code='''x = 1
y = 2''' as info;
run t2 as RepartitionExt.`` where partitionNum="4" as t3;
predict t2 as RandomForest.`/models/rf` as scored;
register RandomForest.`/models/rf` as rf_score where autoSelectByMetric="f1";
unregister ScriptUDF.`` where name="f";
!tpl "jack o'neil";
!hdfs -ls /data;
create table x as select * from t2;
insert into t select ';' as s;
SET spark.sql.shuffle.partitions=8
"""


def test_script_round_trip():
    script = dialect.parse_script(ROUND_TRIP_SCRIPT)
    assert len(script) == 20
    assert [s.kind for s in script][:6] == ["set", "set", "set", "load", "select_as", "passthrough"]
    again = dialect.parse_script(script.sql())
    assert again == script
    assert dialect.parse_script(again.sql()).sql() == again.sql()
    assert dialect.parse_script(script.sql(normalize=True)) == script


def test_statement_positions():
    script = dialect.parse_script("select 1;\n  load csv.`/a` as t;  /* c */ !show jobs;\n\n\tset a='b'")
    assert [(s.line, s.column) for s in script] == [(1, 1), (2, 3), (2, 32), (4, 2)]
    assert script[1].source == "load csv.`/a` as t"


def test_programmatic_statements_write_valid_mlsql():
    stmts = [
        Load("csv", "/p`x", "my view", options={"a b": "x\ny", "k": "it's \"q\""}, block_keys=frozenset({"a b"})),
        Save("where", "json", "", "append", ("as", "x y")),
        SetVariable("v", "ends with '", style="block"),
        MacroCall("m", ("", "a b", "--x", "/*", "'q'", ";")),
        Train("t", "Alg", "/m", "AS"),
    ]
    for stmt in stmts:
        again = dialect.parse_statement(stmt.sql())
        if isinstance(stmt, SetVariable):
            assert (again.name, again.value) == (stmt.name, stmt.value)
        else:
            assert again == stmt, stmt.sql()


def test_select_as_query_ast_is_sqlglot():
    stmt = one("select a, count(*) as n from raw group by a as counts")
    assert isinstance(stmt, SelectAs)
    assert isinstance(stmt.query, sqlglot.exp.Select)
    assert stmt.query.find(sqlglot.exp.Count) is not None
