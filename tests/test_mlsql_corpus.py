"""Executed-result corpus: the MLSQL executor returns exactly what plain ``spark.sql`` returns.

Every entry of ``tests/corpus/spark_queries.sql`` is valid Spark SQL sent by a client as one statement.
Each runs twice through the same gateway: in a default (MLSQL) session and in a session opened with
``mlsql.dialect=sparksql`` (the plain executor: ``spark.sql(text)`` unchanged). Both must give the same
``cursor.description`` (names, type codes, ...) and the same rows: in order for entries marked
``-- next: ordered``, as multisets (sorted by ``repr``) otherwise. Floats compare exactly: the same Spark
computes both sides. After an entry that ends with ``AS <name>``, the MLSQL session must also have no
temporary view beyond the fixture's: a trailing Spark alias misread as an MLSQL select-as view name
registers one even when the rows are right.

Not in the corpus, because they differ by design: ``${OWNER}``-style MLSQL built-in variables (replaced
in MLSQL sessions) and ``SHOW USER FUNCTIONS`` (MLSQL sessions register the ML function bundle).

The fixture tables live in the database ``corpus_db`` (created here, dropped at the end); the temporary
views are per session, so they are created in both sessions. An entry that fails in the sparksql session
is a corpus bug; one that fails or differs only in the MLSQL session is a product bug.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pyhive import hive

CORPUS = Path(__file__).resolve().parent / "corpus" / "spark_queries.sql"
MIN_QUERIES = 220
SEPARATOR = re.compile(r"^-- next(: ordered)?[ \t]*$", re.MULTILINE)
#: Only a statement ending with ``AS <name>`` can be taken for an MLSQL select-as (which registers a view).
TRAILING_AS = re.compile(r"(?is)\bas\s+\S+[\s;]*\Z")

#: Settings of both sessions, for speed only (the comparison holds for any settings both sides share): one
#: shuffle partition is plenty for these tables, and interpreted execution saves compiling generated code
#: for every query (measured: about a third less gateway CPU for the corpus).
SPARK_CONF = {"spark.sql.shuffle.partitions": "1", "spark.sql.codegen.wholeStage": "false",
              "spark.sql.codegen.factoryMode": "NO_CODEGEN"}

#: Tables shared by both sessions (tiny; COALESCE(1) keeps each one a single file, so scans are ordered).
TABLES = [
    "DROP DATABASE IF EXISTS corpus_db CASCADE",
    "CREATE DATABASE corpus_db",
    """CREATE TABLE corpus_db.emp USING parquet AS
SELECT /*+ COALESCE(1) */ id, name, dept_id, CAST(salary AS DECIMAL(10, 2)) AS salary, CAST(hired AS DATE) AS hired,
       manager_id, bonus, CAST(tags AS ARRAY<STRING>) AS tags, CAST(attrs AS MAP<STRING, STRING>) AS attrs
FROM VALUES
  (1, 'Alice', 10, 5000.00, '2020-01-15', CAST(NULL AS INT), 0.1D, array('a', 'b'), map('k1', 'v1')),
  (2, 'Bob', 10, 4000.50, '2019-03-01', 1, CAST(NULL AS DOUBLE), array('b'), map('k1', 'v2', 'k2', 'x')),
  (3, 'Carol', 20, 6000.00, '2021-07-30', 1, 0.2D, array(), map()),
  (4, 'Dan', 20, NULL, '2018-11-11', 3, 0.15D, NULL, NULL),
  (5, 'Eve', NULL, 3000.00, '2022-02-28', 3, NULL, array('c', 'a', 'c'), map('k2', 'y')),
  (6, 'Frank', 30, 4000.50, '2020-01-15', 1, 0.05D, array('d'), map('k1', 'v1')),
  (7, 'bob', 10, 2500.25, NULL, 2, 0.0D, array('a'), map())
AS v(id, name, dept_id, salary, hired, manager_id, bonus, tags, attrs)""",
    """CREATE TABLE corpus_db.dept USING parquet AS
SELECT /*+ COALESCE(1) */ * FROM VALUES
  (10, 'Eng', 'NYC'), (20, 'Sales', 'SF'), (30, 'Ops', 'NYC'), (40, 'HR', CAST(NULL AS STRING))
AS v(dept_id, dname, location)""",
    """CREATE TABLE corpus_db.sales USING parquet AS
SELECT /*+ COALESCE(1) */ id, region, product, qty, CAST(price AS DECIMAL(8, 2)) AS price,
       CAST(sold_at AS TIMESTAMP) AS sold_at, CAST(sold_at AS DATE) AS sold_on
FROM VALUES
  (1, 'east', 'apple', 3, 1.20, '2024-01-05 09:15:00'),
  (2, 'east', 'pear', 1, 2.50, '2024-01-05 17:40:30'),
  (3, 'west', 'apple', 10, 1.10, '2024-01-06 08:00:00'),
  (4, 'west', 'fig', 2, 4.75, '2024-02-10 12:00:00'),
  (5, 'north', 'apple', 7, 1.25, '2024-02-11 23:59:59'),
  (6, 'east', 'fig', 5, 4.50, '2024-02-29 06:30:00'),
  (7, NULL, 'pear', 4, 2.40, '2024-03-01 00:00:00'),
  (8, 'west', 'pear', 6, 2.45, '2024-03-15 15:15:15'),
  (9, 'north', 'fig', 1, 5.00, '2024-03-31 10:10:10'),
  (10, 'east', 'apple', 8, 1.15, '2024-04-01 11:11:11'),
  (11, 'west', 'apple', 2, 1.30, '2023-12-31 23:00:00'),
  (12, 'north', NULL, 3, 0.99, NULL)
AS v(id, region, product, qty, price, sold_at)""",
    """CREATE TABLE corpus_db.nums USING parquet AS
SELECT /*+ COALESCE(1) */ CAST(id AS INT) AS n, CAST(id % 3 AS INT) AS m, id / 4.0D AS f,
       CAST(id * 1.25 AS DECIMAL(6, 2)) AS d, lpad(CAST(id AS STRING), 3, '0') AS s,
       CASE WHEN id % 5 = 0 THEN NULL ELSE id % 4 END AS g
FROM range(1, 21)""",
    """CREATE TABLE corpus_db.events USING parquet AS
SELECT /*+ COALESCE(1) */ id, named_struct('kind', kind, 'score', score) AS payload,
       CAST(nums AS ARRAY<INT>) AS nums, CAST(props AS MAP<STRING, INT>) AS props, js
FROM VALUES
  (1, 'click', 0.5D, array(1, 2, 3), map('a', 1), '{"user": "u1", "n": 3, "tags": ["x", "y"]}'),
  (2, 'view', 1.5D, array(4), map('a', 2, 'b', 3), '{"user": "u2", "n": 1, "tags": []}'),
  (3, 'click', NULL, array(), map(), '{"user": null, "n": 7}'),
  (4, NULL, 2.25D, NULL, NULL, NULL)
AS v(id, kind, score, nums, props, js)""",
    """CREATE TABLE corpus_db.data USING parquet AS
SELECT /*+ COALESCE(1) */ * FROM VALUES (1, 'one'), (2, 'two'), (3, CAST(NULL AS STRING)) AS v(x, data)""",
    """CREATE TABLE corpus_db.`result` USING parquet AS
SELECT /*+ COALESCE(1) */ * FROM VALUES (1, 'r1'), (2, 'r2') AS v(id, `select`)""",
]

#: Temporary views: created in each of the two sessions.
VIEWS = [
    "CREATE OR REPLACE TEMPORARY VIEW people AS SELECT id, name, dept_id FROM corpus_db.emp",
    "CREATE OR REPLACE TEMPORARY VIEW `odd view` AS "
    "SELECT * FROM VALUES (1, 'x', 1.5D), (2, 'y;z', NULL) AS v(`weird col`, `from`, `a.b`)",
    "CREATE OR REPLACE TEMPORARY VIEW out AS SELECT n AS id, s AS out FROM corpus_db.nums WHERE n <= 5",
]


def _view_name(statement: str) -> str:
    """The view a VIEWS statement creates."""
    return re.match(r"CREATE OR REPLACE TEMPORARY VIEW (`[^`]+`|\w+)", statement).group(1).strip("`")


def load_corpus(path: Path = CORPUS) -> list[tuple[str, bool]]:
    """The corpus entries as (query, ordered). The header before the first separator is ignored."""
    text = path.read_text()
    marks = list(SEPARATOR.finditer(text))
    entries = []
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        query = text[mark.end():end].strip("\n")
        entries.append((query, mark.group(1) is not None))
    return entries


ENTRIES = load_corpus()


def _entry_id(index: int, query: str) -> str:
    words = re.sub(r"\s+", " ", re.sub(r"--[^\n]*|/\*.*?\*/", " ", query, flags=re.S)).strip()
    return f"{index:03d}-{re.sub(r'[^A-Za-z0-9_]+', '_', words)[:40].strip('_')}"


def _run(cursor, query: str):
    """(description, rows) of ``query``, or ("error", message) when it fails."""
    try:
        cursor.execute(query)
    except Exception as exc:  # pyhive raises OperationalError carrying the server's response
        status = getattr(exc.args[0], "status", None) if exc.args else None
        return "error", getattr(status, "errorMessage", None) or repr(exc)
    if cursor.description is None:
        return None, None
    description = [tuple(d) for d in cursor.description]
    return description, cursor.fetchall()


@pytest.fixture(scope="module")
def sessions(gateway):
    """(mlsql cursor, sparksql cursor) with the fixture tables and views; drops corpus_db at the end."""
    conns = {name: hive.connect(host=gateway.host, port=gateway.port, username="tester", configuration=conf)
             for name, conf in (("mlsql", SPARK_CONF), ("sparksql", {**SPARK_CONF, "mlsql.dialect": "sparksql"}))}
    cursors = {name: conn.cursor(arraysize=10_000) for name, conn in conns.items()}
    spark = cursors["sparksql"]
    try:
        for statement in TABLES:
            spark.execute(statement)
        for cursor in cursors.values():
            for statement in VIEWS:
                cursor.execute(statement)
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="corpus") as pool:
            yield cursors["mlsql"], cursors["sparksql"], pool
    finally:
        try:
            spark.execute("DROP DATABASE IF EXISTS corpus_db CASCADE")
        finally:
            for conn in conns.values():
                conn.close()


def test_corpus_size():
    assert len(ENTRIES) >= MIN_QUERIES, len(ENTRIES)
    queries = [q for q, _ in ENTRIES]
    assert all(q.strip() for q in queries)
    duplicates = {q for q in queries if queries.count(q) > 1}
    assert not duplicates


def _first_difference(left: list[str], right: list[str]) -> str:
    for i, (a, b) in enumerate(zip(left, right, strict=False)):
        if a != b:
            return f"first differing row #{i}:\n  sparksql: {a}\n  mlsql:    {b}"
    return f"row counts differ: sparksql {len(left)}, mlsql {len(right)}"


def _views(cursor) -> list[str]:
    cursor.execute("SHOW VIEWS")
    return sorted(row[1] for row in cursor.fetchall())


@pytest.mark.parametrize(("query", "ordered"), ENTRIES, ids=[_entry_id(i, q) for i, (q, _) in enumerate(ENTRIES)])
def test_mlsql_matches_sparksql(sessions, query, ordered):
    mlsql, sparksql, pool = sessions
    # Both sides run at the same time (separate sessions and connections): the corpus runs in half the time.
    expected_future = pool.submit(_run, sparksql, query)
    description, rows = _run(mlsql, query)
    expected_description, expected_rows = expected_future.result()
    assert expected_description != "error", f"corpus bug: Spark rejects the query\n{query}\n{expected_rows}"
    leaked: list[str] = []
    if TRAILING_AS.search(query):
        # A trailing alias misread as a select-as view name leaves a temporary view behind even when the
        # rows are right; drop it so the entries after this one see the same catalog in both sessions.
        leaked = sorted(set(_views(mlsql)) - {_view_name(v) for v in VIEWS})
        for view in leaked:
            mlsql.execute(f"DROP VIEW IF EXISTS `{view}`")
    assert description != "error", f"MLSQL fails where spark.sql succeeds\nquery:\n{query}\nerror: {rows}"
    assert description == expected_description, (
        f"descriptions differ\nquery:\n{query}\nsparksql: {expected_description}\nmlsql:    {description}")
    if expected_rows is None or rows is None:
        assert rows == expected_rows, f"result sets differ\nquery:\n{query}"
    else:
        want, got = [repr(r) for r in expected_rows], [repr(r) for r in rows]
        if not ordered:
            want, got = sorted(want), sorted(got)
        assert got == want, f"rows differ\nquery:\n{query}\n{_first_difference(want, got)}"
    assert not leaked, f"MLSQL registered temporary view(s) {leaked} for a Spark query\nquery:\n{query}"
