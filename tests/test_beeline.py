"""Beeline 2.3.10 (hive-jdbc, from the pyspark wheel) against the live gateway.

Each beeline run starts a JVM (about 4 s), so the statements are batched: one ``-f`` script over SASL, one
interactive session of ``!`` metadata commands on stdin, and one ``-e`` run over ``auth=noSasl``.
"""

from __future__ import annotations

import re

import pytest

from tests import typecases as tc

pytestmark = pytest.mark.beeline

PROMPT = re.compile(r"\d+: jdbc:hive2://[^\s>]*> ")
CONTINUATION = re.compile(r"^(?:(?:\. )+\.?> ?)+", re.MULTILINE)

SCRIPT = [
    " ".join(tc.types_sql().split("\n")),  # 0
    tc.YM_SQL,  # 1
    "DROP TABLE IF EXISTS bl_chars",  # 2
    "CREATE TABLE bl_chars (c CHAR(5), v VARCHAR(10)) USING parquet",  # 3
    "INSERT INTO bl_chars VALUES ('ab', 'xyz'), (NULL, NULL)",  # 4
    "SELECT c, v, length(c) AS n FROM bl_chars ORDER BY c NULLS LAST",  # 5
    "CREATE OR REPLACE TEMPORARY VIEW bl_v AS SELECT id, CAST(id * 1.5 AS DECIMAL(10, 2)) AS amt FROM range(5)",  # 6
    "SELECT * FROM bl_v ORDER BY id",  # 7
    "SELECT * FROM bl_no_such_table",  # 8: fails; --force goes on
    "SELECT 'after error' AS msg, count(*) AS n FROM bl_v",  # 9
    "SELECT id, concat('r', CAST(id AS STRING)) AS s FROM range(0, 3000, 1, 3) ORDER BY id DESC",  # 10
    tc.YM_SQL + " LIMIT 0",  # 11: an empty result with year-month interval columns
]


def segments(stdout: str) -> list[str]:
    """The output of each statement/command, in order (beeline prints its prompt before each one)."""
    return [CONTINUATION.sub("", part) for part in PROMPT.split(stdout)[1:]]


@pytest.fixture(scope="module")
def script_run(beeline, tmp_path_factory):
    path = tmp_path_factory.mktemp("beeline") / "script.sql"
    path.write_text("".join(f"{stmt};\n" for stmt in SCRIPT), encoding="utf-8")
    result = beeline("--outputformat=tsv2", "--force=true", "-f", str(path), url_suffix=";fetchSize=700")
    parts = segments(result.stdout)
    assert len(parts) >= len(SCRIPT), result.output
    return result, [tc.parse_separated(part) for part in parts[: len(SCRIPT)]]


def test_connect_banner_and_script_exit(script_run):
    result, _ = script_run
    assert result.returncode == 0, result.output
    assert "Connected to: Spark SQL (version 4.3.0)" in result.stderr
    assert "Driver: Hive JDBC (version 2.3.10)" in result.stderr


def _bmp(text: str) -> str:
    """Beeline's console output keeps only the low 16 bits of characters beyond U+FFFF."""
    return "".join(chr(ord(ch) & 0xFFFF) if ord(ch) > 0xFFFF else ch for ch in text)


def test_every_type(script_run):
    _, outputs = script_run
    header, *rows = outputs[0]
    assert header == [c.name for c in tc.COLUMNS]
    expected = tc.beeline_rows()
    assert len(rows) == len(expected)
    for got_row, want_row in zip(rows, expected, strict=True):
        for col, got, want in zip(tc.COLUMNS, got_row, want_row, strict=True):
            assert got in (want, _bmp(want)), f"{col.name}: {got!r} != {want!r}"


def test_year_month_intervals(script_run):
    result, outputs = script_run
    assert outputs[1] == [["c_ym", "c_ym_arr", "c_ym_st"]] + [
        ["NULL" if v is None else v for v in row] for row in tc.YM_ROWS]
    assert outputs[11] == [["c_ym", "c_ym_arr", "c_ym_st"]]
    # No statement of this script fails while its rows are read (the one failing statement fails at execution).
    assert "Error retrieving next row" not in result.stderr and "month_interval" not in result.stderr


def test_ddl_dml_and_char_varchar(script_run):
    _, outputs = script_run
    assert outputs[5] == [["c", "v", "n"], ["ab   ", "xyz", "5"], ["NULL", "NULL", "NULL"]]
    assert outputs[7] == [["id", "amt"], ["0", "0.00"], ["1", "1.50"], ["2", "3.00"], ["3", "4.50"], ["4", "6.00"]]


def test_error_reports_message_and_sqlstate(script_run):
    result, outputs = script_run
    assert "Error: [TABLE_OR_VIEW_NOT_FOUND] The table or view `bl_no_such_table` cannot be found" in result.stderr
    assert "(state=42P01,code=0)" in result.stderr
    assert [row for row in outputs[8] if row] == []
    # --force: the script went on after the error, in the same session (the temp view is still there).
    assert outputs[9] == [["msg", "n"], ["after error", "5"]]


def test_multi_batch_fetch_keeps_order(script_run):
    _, outputs = script_run
    header, *rows = outputs[10]
    assert header == ["id", "s"]
    assert rows == [[str(i), f"r{i}"] for i in range(2999, -1, -1)]


def test_row_by_row_reading_is_fast(script_run):
    """hive-jdbc 2.3 sends GetOperationStatus(getProgressUpdate=true) before every ResultSet.next(): answering it
    for a finished operation must be cheap (Spark's Thrift server reads these 3000 rows in about 2.5 s)."""
    result, _ = script_run
    match = re.search(r"3,?000 rows selected \(([\d.]+) seconds\)", result.stderr)
    assert match, result.stderr
    assert float(match.group(1)) < 8, match.group(0)


# ---------------------------------------------------------------- metadata commands

META_COMMANDS = [
    "CREATE TABLE IF NOT EXISTS bl_meta (id INT, name STRING, price DECIMAL(10, 2)) USING parquet;",
    "!tables",
    "!columns bl_meta",
    "!metadata getSchemas",
    "!typeinfo",
    "!primarykeys bl_meta",
]


@pytest.fixture(scope="module")
def meta_run(beeline):
    result = beeline("--outputformat=tsv2", input_text="\n".join([*META_COMMANDS, "!quit", ""]))
    outputs = {}
    for part in segments(result.stdout):
        echoed, _, body = part.partition("\n")
        outputs[echoed.strip()] = tc.parse_separated(body)
    assert {c for c in META_COMMANDS if c.startswith("!")} <= set(outputs), result.output
    return result, outputs


def _by_header(table: list[list[str]]) -> list[dict[str, str]]:
    header, *rows = table
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_tables_command(meta_run):
    result, outputs = meta_run
    assert result.returncode == 0, result.output
    header = outputs["!tables"][0]
    assert header == ["TABLE_CAT", "TABLE_SCHEM", "TABLE_NAME", "TABLE_TYPE", "REMARKS", "TYPE_CAT", "TYPE_SCHEM",
                      "TYPE_NAME", "SELF_REFERENCING_COL_NAME", "REF_GENERATION"]
    assert ["", "default", "bl_meta", "TABLE", "", "NULL", "NULL", "NULL", "NULL", "NULL"] in outputs["!tables"]


def test_columns_command(meta_run):
    _, outputs = meta_run
    rows = _by_header(outputs["!columns bl_meta"])
    keys = ["TABLE_SCHEM", "TABLE_NAME", "COLUMN_NAME", "DATA_TYPE", "TYPE_NAME", "COLUMN_SIZE", "DECIMAL_DIGITS",
            "NUM_PREC_RADIX", "NULLABLE", "ORDINAL_POSITION", "IS_NULLABLE", "IS_AUTO_INCREMENT"]
    # COLUMN_SIZE of numeric types is Spark's defaultSize in bytes (8 for a DECIMAL(10,2)), as in Spark's server.
    assert [[row[k] for k in keys] for row in rows] == [
        ["default", "bl_meta", "id", "4", "INT", "4", "0", "10", "1", "1", "YES", "NO"],
        ["default", "bl_meta", "name", "12", "STRING", "NULL", "NULL", "NULL", "1", "2", "YES", "NO"],
        ["default", "bl_meta", "price", "3", "DECIMAL(10,2)", "8", "2", "10", "1", "3", "YES", "NO"],
    ]


def test_schemas_typeinfo_primarykeys(meta_run):
    result, outputs = meta_run
    schemas = outputs["!metadata getSchemas"]
    assert schemas[0] == ["TABLE_SCHEM", "TABLE_CATALOG"]
    assert ["default", ""] in schemas and ["global_temp", ""] in schemas

    types = {row["TYPE_NAME"]: row for row in _by_header(outputs["!typeinfo"])}
    jdbc = {"VOID": 0, "BOOLEAN": 16, "TINYINT": -6, "SMALLINT": 5, "INT": 4, "BIGINT": -5, "FLOAT": 6, "DOUBLE": 8,
            "DECIMAL": 3, "STRING": 12, "CHAR": 1, "VARCHAR": 12, "BINARY": -2, "DATE": 91, "TIMESTAMP": 93,
            "ARRAY": 2003, "MAP": 2000, "STRUCT": 2002}
    assert {name: int(types[name]["DATA_TYPE"]) for name in jdbc if name in types} == jdbc
    assert types["INT"]["PRECISION"] == "10" and types["INT"]["NUM_PREC_RADIX"] == "10"
    assert types["DECIMAL"]["PRECISION"] == "38"

    assert outputs["!primarykeys bl_meta"] == [["TABLE_CAT", "TABLE_SCHEM", "TABLE_NAME", "COLUMN_NAME", "KEY_SEQ",
                                               "PK_NAME"]]
    assert "Error" not in result.stderr


# ---------------------------------------------------------------- noSasl, verbose, progress, URL confs

SLOW_QUERY = "SELECT k, count(*) AS c FROM (SELECT id % 3 AS k FROM range(300000000)) GROUP BY k ORDER BY k"
# Fails in its last partition, after the first rows are ready: the error may arrive with a FetchResults reply.
LATE_ERROR = "SELECT if(id = 2500, raise_error('late boom'), id) AS x FROM range(0, 3000, 1, 3)"


@pytest.fixture(scope="module")
def nosasl_run(beeline):
    statements = [SLOW_QUERY, "SELECT current_user() AS u, ${bl_var} + 1 AS v", "SET spark.sql.shuffle.partitions",
                  LATE_ERROR]
    return beeline("--outputformat=csv2", "--verbose=true", "--force=true", "-e", "; ".join(statements),
                   url_suffix=";auth=noSasl?spark.sql.shuffle.partitions=3#bl_var=41")


@pytest.mark.slow
def test_nosasl_results_and_url_confs(nosasl_run):
    # (The exit code is 1 because the last statement, LATE_ERROR, fails by design.)
    assert "Connected to: Spark SQL (version 4.3.0)" in nosasl_run.stderr
    lines = [line for line in CONTINUATION.sub("", nosasl_run.stdout).splitlines() if line]
    assert lines[:8] == ["k,c", "0,100000000", "1,100000000", "2,100000000",
                     "u,v", "tester,42",
                     "key,value", "spark.sql.shuffle.partitions,3"]


@pytest.mark.slow
def test_late_error_reports_message_and_sqlstate(nosasl_run):
    # hive-jdbc rebuilds the server-side exception from TStatus.infoMessages: they must parse.
    assert "IndexOutOfBoundsException" not in nosasl_run.stderr
    # The gateway streams, so a failure in a later partition reaches beeline while it reads rows (STS collects
    # first and reports it as a failed statement); either way the user sees Spark's message and SQLSTATE.
    assert re.search(r"HiveSQLException: \[USER_RAISED_EXCEPTION\] late boom SQLSTATE: P0001", nosasl_run.stderr), \
        nosasl_run.stderr


@pytest.mark.slow
def test_progress_bar_and_operation_logs(nosasl_run):
    err = nosasl_run.stderr
    # The in-place progress table beeline draws from TProgressUpdateResp.
    assert re.search(r"STAGES\s+ATTEMPT\s+STATUS\s+TOTAL\s+COMPLETED\s+RUNNING\s+PENDING\s+FAILED", err), err
    assert re.search(r"Stage-\d+ ", err)
    assert re.search(r"STAGES: \d\d/\d\d\s+\[=*>>-*\]\s+\d+%\s+ELAPSED TIME: [\d.]+ s", err)
    assert re.search(r"STAGES: \d\d/\d\d\s+\[=+>>\]\s+100%", err)
    # Operation logs (FetchResults with fetchType=1), printed while and after the statement runs.
    log_lines = [line for line in err.splitlines() if " INFO " in line]
    assert any("range(300000000)" in line for line in log_lines), err
    assert "1 row selected" in err and "3 rows selected" in err
