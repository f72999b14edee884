"""``run`` with the built-in ETs and the built-in macros (!show jobs, !kill, !split), through PyHive."""

from __future__ import annotations

import time

import pytest
from pyhive import exc as hive_exc
from pyhive import hive
from TCLIService.ttypes import TOperationState

from gateway.mlsql.transformers import (
    ET,
    REGISTRY,
    ETError,
    RateSampler,
    Registry,
    RepartitionExt,
    SQLTransform,
)

# 3000 rows: label a (70 %), b (20 %), c (10 %).
LABELLED = ("select id, case when id % 10 < 7 then 'a' when id % 10 < 9 then 'b' else 'c' end as label "
            "from range(3000) as labelled;")


@pytest.fixture
def conn(gateway):
    connection = hive.connect(host=gateway.host, port=gateway.port, username="run_user",
                              configuration={"spark.sql.shuffle.partitions": "4"})
    yield connection
    connection.close()


@pytest.fixture
def cursor(conn):
    cur = conn.cursor()
    yield cur
    cur.close()


def split_counts(cursor, table: str) -> dict[tuple[str, int], int]:
    cursor.execute(f"select label, __split__, count(*) from {table} group by label, __split__")
    return {(label, part): n for label, part, n in cursor.fetchall()}


def test_repartition_ext_sets_the_partition_count(cursor):
    cursor.execute(LABELLED + 'run labelled as RepartitionExt.`` where partitionNum="5" as parts;'
                   "select count(distinct p) as n, count(*) as c from "
                   "(select spark_partition_id() as p from parts) as stats;")
    assert cursor.fetchall() == [(5, 3000)]
    # The first letter may be lower case; partitionCols hash-partitions (3 labels -> at most 3 non-empty).
    cursor.execute('run labelled as repartitionExt.`` where partitionNum="7" and partitionCols="label" as p7;'
                   "select count(distinct p) as n, count(distinct p, label) as pairs from "
                   "(select spark_partition_id() as p, label from p7) as stats;")
    n, pairs = cursor.fetchone()
    assert 1 <= n <= 3 and pairs == 3
    for bad, message in (('partitionNum="0"', "at least 1"), ('partitionNum="x"', "integer"),
                         ('partitionCols="label"', "'partitionNum' is required")):
        with pytest.raises(hive_exc.OperationalError, match=message):
            cursor.execute(f"run labelled as RepartitionExt.`` where {bad} as bad;")


def test_rate_sampler_is_an_exact_per_label_split(cursor):
    cursor.execute(LABELLED + 'run labelled as RateSampler.`` where labelCol="label" and sampleRate="0.8,0.2" '
                   'and seed="7" as sampled;')
    assert [d[0] for d in cursor.description] == ["id", "label", "__split__"]
    assert len(cursor.fetchall()) == 3000
    assert split_counts(cursor, "sampled") == {("a", 0): 1680, ("a", 1): 420, ("b", 0): 480, ("b", 1): 120,
                                               ("c", 0): 240, ("c", 1): 60}
    # The same seed gives the same assignment; another seed a different one with the same proportions.
    cursor.execute('run labelled as rateSampler.`` where labelCol="label" and sampleRate="0.8,0.2" and seed="7" '
                   'as again; run labelled as RateSampler.`` where labelCol="label" and sampleRate="0.8,0.2" '
                   'and seed="8" as other;'
                   "select sum(if(s.__split__ = a.__split__, 1, 0)) as same, sum(if(s.__split__ = o.__split__, 1, 0)) "
                   "as same_other from sampled s join again a using (id) join other o using (id) as cmp;")
    same, same_other = cursor.fetchone()
    assert same == 3000 and same_other < 3000
    # Three parts; the split is random within a label, not by id.
    cursor.execute('run labelled as RateSampler.`` where labelCol="label" and sampleRate="0.5,0.3,0.2" as three;')
    assert split_counts(cursor, "three") == {("a", 0): 1050, ("a", 1): 630, ("a", 2): 420, ("b", 0): 300,
                                             ("b", 1): 180, ("b", 2): 120, ("c", 0): 150, ("c", 1): 90,
                                             ("c", 2): 60}
    cursor.execute("select max(id) < 2999 as random_order from three where __split__ = 0 and label = 'a'")
    assert cursor.fetchall() == [(True,)]


def test_rate_sampler_errors(cursor):
    for options, message in (('labelCol="nope"', "labelCol 'nope' is not a column"),
                             ('labelCol="label" and sampleRate="0.8,0.3"', "sum to 1"),
                             ('labelCol="label" and sampleRate="a,b"', "comma-separated numbers")):
        with pytest.raises(hive_exc.OperationalError, match=message) as err:
            cursor.execute(LABELLED + f"run labelled as RateSampler.`` where {options} as bad;")
        assert "42000" in str(err.value)


def test_split_macro_expands_to_rate_sampler(cursor):
    cursor.execute(LABELLED + '!split labelled by label with "0.9,0.1" as halves;')
    assert [d[0] for d in cursor.description] == ["id", "label", "__split__"]
    assert split_counts(cursor, "halves") == {("a", 0): 1890, ("a", 1): 210, ("b", 0): 540, ("b", 1): 60,
                                              ("c", 0): 270, ("c", 1): 30}
    with pytest.raises(hive_exc.OperationalError, match="usage: !split"):
        cursor.execute('!split labelled label "0.9,0.1" as halves;')
    with pytest.raises(hive_exc.OperationalError, match="sum to 1"):
        cursor.execute('!split labelled by label with "0.9,0.2" as halves;')


def test_sql_transform_runs_a_query_over_this(cursor):
    cursor.execute(LABELLED + "run labelled as SQLTransform.`` where "
                   "statement='''select id, id * 2 as id2, upper(label) as l from __THIS__ where id < 3''' as feats;"
                   "select * from feats order by id as out;")
    assert cursor.fetchall() == [(0, 0, "A"), (1, 2, "A"), (2, 4, "A")]
    with pytest.raises(hive_exc.OperationalError, match="__THIS__"):
        cursor.execute("run labelled as SQLTransform.`` where statement='select 1 as x' as bad;")
    # The helper view is gone once the statement is analysed.
    cursor.execute("show views like '__this_*'")
    assert cursor.fetchall() == []


def test_unknown_et_is_named(cursor):
    with pytest.raises(hive_exc.OperationalError, match="`NoSuchEt` is not found") as err:
        cursor.execute(LABELLED + "run labelled as NoSuchEt.`` as x;")
    assert "42000" in str(err.value)


def test_show_jobs_lists_this_sessions_statements(conn, gateway):
    cur = conn.cursor()
    cur.execute("select 41 + 1 as answer")
    assert cur.fetchall() == [(42,)]
    other = conn.cursor()
    other.execute("!show jobs;")
    assert [d[0] for d in other.description] == ["id", "owner", "state", "statement", "start_time", "elapsed",
                                                 "name", "source", "progress", "timeout"]
    rows = {row[3]: row for row in other.fetchall()}
    assert rows["!show jobs;"][1:3] == ("run_user", "RUNNING")
    assert rows["select 41 + 1 as answer"][2] == "FINISHED"
    assert all(len(row[0]) == 36 and row[5] >= 0 for row in rows.values())
    finished = rows["select 41 + 1 as answer"][0]
    for form in (f"!show job {finished};", f"!show {finished};"):
        other.execute(form)
        assert [row[:3] for row in other.fetchall()] == [(finished, "run_user", "FINISHED")]
    # Another session's statements are not listed.
    stranger = hive.connect(host=gateway.host, port=gateway.port, username="stranger").cursor()
    stranger.execute("!show jobs;")
    assert [row[3] for row in stranger.fetchall()] == ["!show jobs;"]
    with pytest.raises(hive_exc.OperationalError, match="supported forms"):
        stranger.execute("!show tables;")
    with pytest.raises(hive_exc.OperationalError, match=f"no statement {finished}"):
        stranger.execute(f"!show job {finished};")


def test_kill_cancels_a_statement_of_the_same_session(conn):
    slow, control = conn.cursor(), conn.cursor()
    long_query = "select sum(id % 7) as s from range(0, 200000000000, 1, 2)"
    slow.execute(long_query, async_=True)
    deadline = time.monotonic() + 60
    victim = None
    while victim is None and time.monotonic() < deadline:
        control.execute("!show jobs;")
        victim = next((row[0] for row in control.fetchall() if row[3] == long_query and row[2] == "RUNNING"), None)
        time.sleep(0.2)
    assert victim is not None
    time.sleep(1)  # let its Spark job start
    started = time.monotonic()
    control.execute(f"!kill {victim};")
    assert [d[0] for d in control.description] == ["id", "killed"]
    assert control.fetchall() == [(victim, True)]
    assert slow.poll().operationState == TOperationState.CANCELED_STATE
    # Its Spark job was cancelled: both local cores are free again right away.
    control.execute("select count(*) from range(1000000, 0, -1, 2)")
    assert control.fetchall() == [(1000000,)]
    assert time.monotonic() - started < 30
    control.execute("!show jobs;")
    assert {row[0]: row[2] for row in control.fetchall()}[victim] == "CANCELED"
    # Killing it again reports that nothing was running.
    control.execute(f"!kill {victim};")
    assert control.fetchall() == [(victim, False)]


def test_kill_errors(cursor):
    with pytest.raises(hive_exc.OperationalError, match="no statement 00000000-0000-0000-0000-000000000000") as err:
        cursor.execute("!kill 00000000-0000-0000-0000-000000000000;")
    assert "42000" in str(err.value)
    with pytest.raises(hive_exc.OperationalError, match="usage: !kill"):
        cursor.execute("!kill;")


def test_registry_lookup_and_docs():
    assert type(REGISTRY.get("repartitionExt")) is RepartitionExt
    assert type(REGISTRY.get("rateSampler")) is RateSampler
    assert type(REGISTRY.get("SQLTransformer")) is SQLTransform
    assert REGISTRY.find("repartitionext") is None  # only the first letter is case-insensitive
    with pytest.raises(ETError, match="`Nope` is not found"):
        REGISTRY.get("Nope")
    assert ETError("x").sqlstate == "42000"
    assert [p.name for p in RepartitionExt.explain_params()] == ["partitionNum", "partitionCols"]
    assert "__split__" in RateSampler.doc() and "__THIS__" in SQLTransform.doc()
    assert RateSampler().unknown_options({"labelCol": "y", "fitParam.0.x": "1"}) == ["fitParam.0.x"]
    # Names ending in Ext/InPlace also find SQL<Name>, as in the reference.
    registry = Registry()

    @registry.register
    class SQLFooInPlace(ET):
        name = "SQLFooInPlace"

    assert registry.find("fooInPlace") is SQLFooInPlace and registry.find("foo") is None
    with pytest.raises(ValueError, match="twice"):
        registry.register(SQLFooInPlace)
