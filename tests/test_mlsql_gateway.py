"""MLSQL scripts through the gateway, end to end with real clients (PyHive and beeline)."""

from __future__ import annotations

import pytest
from pyhive import exc as hive_exc
from pyhive import hive


@pytest.fixture
def cursor(gateway):
    conn = hive.connect(host=gateway.host, port=gateway.port, username="mlsql_user")
    cur = conn.cursor()
    yield cur
    cur.close()
    conn.close()


ROWS = '''set rows=\'\'\'{"id":1,"name":"a;b","score":1.5}
{"id":2,"name":"c","score":2.5}
{"id":3,"name":"d","score":null}\'\'\';
load jsonStr.`rows` as raw;
'''


def test_script_result_is_its_last_table(cursor):
    cursor.execute(ROWS + "select id, name, score * 2 as s2 from raw where id < 3 as doubled;")
    assert cursor.fetchall() == [(1, "a;b", 3.0), (2, "c", 5.0)]
    # Views and variables persist in the session across ExecuteStatement calls.
    cursor.execute("select count(*) as n from doubled")
    assert cursor.fetchall() == [(2,)]
    cursor.execute("select '${rows}' like '%a;b%' as has")
    assert cursor.fetchall() == [(True,)]


def test_plain_sql_passes_through_unchanged(cursor):
    cursor.execute("select 1 as a, 'x' as b")
    assert cursor.fetchall() == [(1, "x")]
    cursor.execute("with t as (select 1 as id) select t.id as t from t as t")
    assert cursor.fetchall() == [(1,)]


def test_save_modes_and_reload(cursor, gateway):
    cursor.execute(ROWS + "save overwrite raw as parquet.`tables/raw` partitionBy name;")
    assert cursor.fetchall() == []
    cursor.execute("load parquet.`tables/raw` as back; select count(*) as n from back as c;")
    assert cursor.fetchall() == [(3,)]
    home = gateway.scratch / "data" / "mlsql_user" / "tables" / "raw"
    assert sorted(p.name for p in home.iterdir() if p.name.startswith("name=")) == ["name=a;b", "name=c", "name=d"]
    with pytest.raises(hive_exc.OperationalError, match="already exists"):
        cursor.execute("save errorIfExists raw as parquet.`tables/raw`;")
    cursor.execute("save ignore raw as json.`tables/raw`;")  # ignored: the parquet output stays
    cursor.execute("save append raw as parquet.`tables/raw` partitionBy name;")
    cursor.execute("load parquet.`tables/raw` as back2; select count(*) as n from back2 as c;")
    assert cursor.fetchall() == [(6,)]
    leftovers = [p.name for p in home.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_paths_outside_roots_are_refused(cursor):
    for sql in ("load csv.`/etc/passwd` as p;", "load text.`../../../../etc/passwd` as p;"):
        with pytest.raises(hive_exc.OperationalError, match="outside the configured data roots"):
            cursor.execute(sql)


def test_include_from_script_roots(cursor, gateway):
    scripts = gateway.scratch / "scripts" / "mlsql_user"
    scripts.mkdir(parents=True, exist_ok=True)
    (scripts / "base.mlsql").write_text("select 40 as x as base;\n")
    (scripts / "top.mlsql").write_text("include file.`base.mlsql`;\nselect x + 2 as y from base as top;\n")
    (scripts / "loop.mlsql").write_text("include file.`loop.mlsql`;\n")
    cursor.execute("include file.`top.mlsql`;")
    assert cursor.fetchall() == [(42,)]
    with pytest.raises(hive_exc.OperationalError, match="(?i)cycle|recurs"):
        cursor.execute("include file.`loop.mlsql`;")


def test_errors_name_line_column_and_variable(cursor):
    with pytest.raises(hive_exc.OperationalError) as err:
        cursor.execute("select 1 as a as t;\nload csv.`x` as;")
    text = str(err.value)
    assert "line 2" in text and "42000" in text
    with pytest.raises(hive_exc.OperationalError, match="nope"):
        cursor.execute("select ${nope} as x as t;")
    with pytest.raises(hive_exc.OperationalError, match="(?i)unknown data source"):
        cursor.execute("load nosuchformat.`x` as t;")
    with pytest.raises(hive_exc.OperationalError, match="`NoSuchAlg` is not found"):
        cursor.execute(ROWS + "train raw as NoSuchAlg.`models/rf`;")
    with pytest.raises(hive_exc.OperationalError, match="shell"):
        cursor.execute('set x = "ls" where type="shell";')


def test_sessions_have_separate_mlsql_contexts(gateway):
    a = hive.connect(host=gateway.host, port=gateway.port, username="u1").cursor()
    b = hive.connect(host=gateway.host, port=gateway.port, username="u2").cursor()
    a.execute("set secret = \"forty-two\"; select '${secret}' as s as t;")
    assert a.fetchall() == [("forty-two",)]
    with pytest.raises(hive_exc.OperationalError, match="secret"):
        b.execute("select '${secret}' as s as t;")


@pytest.mark.slow
def test_beeline_runs_an_mlsql_file(beeline, tmp_path):
    script = tmp_path / "job.mlsql"
    script.write_text(ROWS + "select name, id from raw where score is not null as good;\n"
                      "select count(*) as n from good;\n")
    result = beeline("--outputformat=tsv2", "-f", str(script))
    assert result.returncode == 0, result.output
    assert "n\n2" in result.stdout.replace("\r", "")


def test_sparksql_dialect_switch_bypasses_mlsql(gateway):
    raw = hive.connect(host=gateway.host, port=gateway.port, username="u3",
                       configuration={"mlsql.dialect": "sparksql"}).cursor()
    raw.execute("select 1 as a")
    assert raw.fetchall() == [(1,)]
    with pytest.raises(hive_exc.OperationalError, match="PARSE_SYNTAX_ERROR"):
        raw.execute("select 1 as a as t")  # MLSQL's select-as is not Spark SQL
    with pytest.raises(hive_exc.OperationalError, match="mlsql.dialect"):
        hive.connect(host=gateway.host, port=gateway.port, username="u4", configuration={"mlsql.dialect": "x"})


def test_operation_log_masks_passwords(cursor, gateway):
    cursor.execute('connect jdbc where url="jdbc:postgresql://127.0.0.1:1/x" and user="u" '
                   'and password="hunter2-secret" as db;')
    logs = "\n".join(cursor.fetch_logs())
    assert "connect jdbc" in logs and "hunter2-secret" not in logs
    assert "hunter2-secret" not in gateway.log_text()
