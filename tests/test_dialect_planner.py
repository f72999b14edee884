"""Planning: set semantics, ``${}`` substitution in script order, macros and includes."""

from __future__ import annotations

import datetime as dt

import pytest

import dialect
from dialect import (
    IncludeError,
    Load,
    MacroCall,
    MLSQLError,
    MLSQLSyntaxError,
    PassThrough,
    Planner,
    RefusedStatementError,
    Save,
    SelectAs,
    SetVariable,
    TemplateError,
    UnknownMacroError,
    UnknownVariableError,
)

DAY = dt.date(2024, 3, 1)


def run(script: str, **kw) -> list:
    kw.setdefault("today", DAY)
    return dialect.plan(script, **kw)


def test_set_renders_at_definition_time():
    stmts = run('set day="2024-01-01"; set p="/d/${day}"; set day="2025-01-01"; load csv.`${p}/${day}` as t;')
    assert stmts[1].value == "/d/2024-01-01"
    assert stmts[-1] == Load("csv", "/d/2024-01-01/2025-01-01", "t")


def test_block_values_are_verbatim_and_rendered_on_use():
    stmts = run("set p='''/d/${day}'''; set day=\"x\"; load csv.`${p}` as t; set day=\"y\"; "
                "load csv.`${p}` as u;")
    assert stmts[0].value == "/d/${day}"
    assert stmts[2].path == "/d/x" and stmts[4].path == "/d/y"


def test_default_param():
    stmts = run('set a="set" ; set a="default" where type="defaultParam"; set b="default" where '
                'type="defaultParam"; set c="default" where type="defaultParam"; load csv.`${a}/${b}/${c}` as t',
                params={"c": "param"})
    assert stmts[-1].path == "set/default/param"


def test_conf_set_is_stored_and_handed_out():
    stmts = run('set spark.sql.shuffle.partitions="8" where type="conf"; select "${spark.sql.shuffle.partitions}" '
                "as n from t where true as v")
    assert stmts[0].set_type == "conf"
    assert isinstance(stmts[1], SelectAs) and stmts[1].query_text == 'select "8" as n from t where true'


def test_sql_compile_mode_uses_the_evaluator():
    seen = []

    def evaluate(sql: str) -> str:
        seen.append(sql)
        return "42"

    stmts = run('set t="tbl"; set n=`select count(*) from ${t}` where type="sql" and mode="compile"; '
                "load csv.`/n/${n}` as x", sql_evaluator=evaluate)
    assert seen == ["select count(*) from tbl"]
    assert stmts[-1].path == "/n/42"
    with pytest.raises(MLSQLError, match="needs an SQL evaluator") as info:
        run('set n=`select 1` where type="sql" and mode="compile"')
    assert (info.value.line, info.value.column) == (1, 1)


def test_sql_runtime_needs_bind():
    planner = Planner(today=DAY)
    out = []
    for stmt in planner.iter_plan('set n=`select count(*) from t` where type="sql";\nload csv.`/n/${n}` as x;'):
        out.append(stmt)
        if isinstance(stmt, SetVariable) and stmt.mode == "runtime":
            assert stmt.value == "select count(*) from t"
            planner.bind(stmt.name, 7)
    assert out[-1].path == "/n/7"
    with pytest.raises(UnknownVariableError) as info:
        run('set n=`select 1` where type="sql";\nload csv.`/n/${n}` as x;')
    assert info.value.name == "n"
    assert "set at runtime by the statement at line 1, column 1" in str(info.value)
    assert (info.value.line, info.value.column) == (2, 14)


def test_shell_is_refused_unless_allowed():
    with pytest.raises(RefusedStatementError) as info:
        run('select 1;\n  set d=`date +%F` where type="shell";')
    assert (info.value.line, info.value.column, info.value.sqlstate) == (2, 3, "42501")
    assert "administrator" in str(info.value)
    planner = Planner(allow_shell=True)
    stmts = list(planner.iter_plan('set d=`date +%F` where type="shell"'))
    assert stmts[0].set_type == "shell" and not stmts[0].refused
    assert "d" in planner.pending


def test_mlsql_fields_are_rendered_and_unknown_variables_located():
    stmts = run('set fmt="parquet"; save overwrite t_${today} as parquet.`/out/${OWNER}` where k_${fmt}="${HOME}" '
                "partitionBy ${fmt}", owner="bob", home="/h/bob")
    assert stmts[1] == Save("t_2024-03-01", "parquet", "/out/bob", "overwrite", ("parquet",),
                            options={"k_parquet": "/h/bob"})
    with pytest.raises(UnknownVariableError) as info:
        run('select 1;\nload csv.`/a`\n  where x="${missing}" as t')
    assert info.value.name == "missing"
    assert (info.value.line, info.value.column) == (3, 12)


def test_passthrough_rendering_is_lenient_unless_strict():
    stmts = run("select '${today}', '${nope}', '${hivevar:x}' from t")
    assert stmts[0] == PassThrough("select '2024-03-01', '${nope}', '${hivevar:x}' from t")
    with pytest.raises(UnknownVariableError):
        run("insert into t select '${nope}'", strict_passthrough=True)
    unchanged = run("select * from t")[0]
    assert unchanged.text == "select * from t"


def test_queries_are_classified_after_substitution():
    stmts = run('set tbl="raw"; set cond="a > 0"; select * from ${tbl} as t2; select * from ${tbl} where ${cond} '
                "as t3; select * from ${tbl} as t4", select_as="reference")
    assert isinstance(stmts[2], SelectAs) and stmts[2].view == "t2" and stmts[2].query_text == "select * from raw"
    assert isinstance(stmts[3], SelectAs) and stmts[3].query_text == "select * from raw where a > 0"
    assert isinstance(stmts[4], SelectAs) and stmts[4].view == "t4"
    stmts = run('set tbl="raw"; select * from ${tbl} as t2')
    assert stmts[1] == PassThrough("select * from raw as t2")
    with pytest.raises(UnknownVariableError):
        run("select * from t where x = '${nope}' as v")


def test_builtin_macros_are_handed_out_with_rendered_args():
    stmts = run('set id="23"; !kill ${id}; !show jobs;')
    assert stmts[1] == MacroCall("kill", ("23",)) and stmts[1].builtin
    assert stmts[2] == MacroCall("show", ("jobs",))


def test_user_macros_expand_into_statements():
    script = """set byName='''select * from people where name="{}" as {1:people_view};
select count(*) as n from {1:people_view} where true as counted''';
!byName "jack" jacks;
!byName jill;"""
    stmts = run(script)
    assert [s.kind for s in stmts] == ["set", "select_as", "select_as", "select_as", "select_as"]
    assert stmts[1].query_text == 'select * from people where name="jack"' and stmts[1].view == "jacks"
    assert stmts[2].query_text == "select count(*) as n from jacks where true"
    assert stmts[3].view == "people_view"
    assert (stmts[1].line, stmts[1].column) == (3, 1) and (stmts[3].line, stmts[3].column) == (4, 1)
    assert stmts[1].origin.startswith("the expansion of !byName, line 1, column 1")


def test_macro_templates_see_variables_at_expansion():
    stmts = run("""set tpl='''load csv.`/d/${day}/{}` as t''';
set day="2024";
!tpl a.csv;""")
    assert stmts[-1] == Load("csv", "/d/2024/a.csv", "t")
    stmts = run("""set inner='''select {} as x from t where true as v''';
set outer='''!inner {}''';
!outer 5;""")
    assert stmts[-1].query_text == "select 5 as x from t where true"


def test_macro_errors():
    with pytest.raises(UnknownMacroError) as info:
        run("select 1;\n  !nope a b;")
    assert str(info.value) == "Command `nope` is not found. (line 2, column 3)"
    assert info.value.name == "nope"
    with pytest.raises(TemplateError, match="needs at least 2") as info:
        run("set m='''{} {}''';\n!m one;")
    assert info.value.line == 2
    with pytest.raises(TemplateError, match="deeper than 10"):
        run("set loop='''!loop''';\n!loop;")
    with pytest.raises(MLSQLSyntaxError) as info:
        run("set m='''select 1;\nload csv.`x` as''';\n\n!m;")
    err = info.value
    assert (err.line, err.column) == (4, 1)
    assert "In the expansion of !m (line 2, column 16): expected a view name" in err.message
    with pytest.raises(UnknownVariableError) as info:
        run("set m='''load csv.`${nope}` as t''';\n!m;")
    assert info.value.line == 2 and "In the expansion of !m (line 1, column 11)" in info.value.message


FILES = {
    "/lib/common.mlsql": 'set base="/data";\nset tbl="people" where type="defaultParam";',
    "/lib/load.mlsql": "include hdfs.`/lib/common.mlsql`;\nload csv.`${base}/${tbl}.csv` as ${tbl};",
    "/lib/a.mlsql": "include hdfs.`/lib/b.mlsql`;",
    "/lib/b.mlsql": "include hdfs.`/lib/a.mlsql`;",
    "/lib/bad.mlsql": "select 1;\n  load csv.`x` as;",
    "/lib/dir/x.mlsql": "select * from t where true as from_x",
}


def resolver(stmt) -> str:
    if stmt.path not in FILES:
        raise FileNotFoundError(stmt.path)
    return FILES[stmt.path]


def test_includes_are_planned_in_place():
    stmts = run('set tbl="cars";\ninclude hdfs.`/lib/load.mlsql`;\nselect * from cars where true as c;',
                include_resolver=resolver)
    assert [s.kind for s in stmts] == ["set", "set", "set", "load", "select_as"]
    assert stmts[3] == Load("csv", "/data/cars.csv", "cars")
    assert (stmts[3].line, stmts[3].column) == (2, 1)
    assert stmts[3].origin == "include hdfs.`/lib/load.mlsql`, line 2, column 1"
    assert stmts[1].origin == ("include hdfs.`/lib/load.mlsql`, line 1, column 1 > "
                               "include hdfs.`/lib/common.mlsql`, line 1, column 1")


def test_include_path_uses_variables():
    stmts = run('set d="dir";\ninclude hdfs.`/lib/${d}/x.mlsql`;', include_resolver=resolver)
    assert stmts[-1].view == "from_x"


def test_include_errors():
    with pytest.raises(IncludeError, match="no resolver") as info:
        run("select 1;\ninclude hdfs.`/lib/a.mlsql`;")
    assert info.value.line == 2
    with pytest.raises(IncludeError, match="cycle") as info:
        run("include hdfs.`/lib/a.mlsql`;", include_resolver=resolver)
    assert "hdfs.`/lib/a.mlsql` -> hdfs.`/lib/b.mlsql` -> hdfs.`/lib/a.mlsql`" in str(info.value)
    with pytest.raises(IncludeError, match="Cannot include hdfs.`/nope`: /nope") as info:
        run("select 1;\n\n   include hdfs.`/nope`;", include_resolver=resolver)
    assert (info.value.line, info.value.column) == (3, 4)
    assert isinstance(info.value.__cause__, FileNotFoundError)
    with pytest.raises(MLSQLSyntaxError) as info:
        run("select 2;\ninclude hdfs.`/lib/bad.mlsql`;", include_resolver=resolver)
    assert (info.value.line, info.value.column) == (2, 1)
    assert "In include hdfs.`/lib/bad.mlsql` (line 2, column 18): expected a view name" in info.value.message


def test_include_depth_limit():
    def deep(stmt) -> str:
        n = int(stmt.path)
        return f"include mem.`{n + 1}`;"

    with pytest.raises(IncludeError, match="deeper than 10"):
        run("include mem.`0`;", include_resolver=deep)
    with pytest.raises(IncludeError, match="deeper than 3"):
        dialect.expand_includes(dialect.parse_script("include mem.`0`;"), deep, max_depth=3)


def test_expand_includes_is_pure():
    script = dialect.parse_script("select 1;\ninclude hdfs.`/lib/${name}.mlsql`;\n!show jobs;")
    out = dialect.expand_includes(script, resolver, render=lambda s: s.replace("${name}", "load"))
    assert [s.kind for s in out] == ["passthrough", "set", "set", "load", "macro"]
    assert out[3] == Load("csv", "${base}/${tbl}.csv", "${tbl}")  # not rendered: that is the planner's job
    assert (out[3].line, out[3].column) == (2, 1)
    assert len(script) == 3  # the input is untouched
    with pytest.raises(IncludeError, match="Cannot include"):
        dialect.expand_includes(script, resolver)


def test_plan_accepts_text_or_script_and_is_fast_path_for_plain_statements():
    script = dialect.parse_script("select 1 as a; show tables")
    assert run(script) == list(script)
    assert run("select 1 as a; show tables")[0] is not None
    with pytest.raises(ValueError):
        Planner(select_as="loose")
