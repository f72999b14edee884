"""MLSQL load/save over JDBC against real PostgreSQL and MariaDB servers with Debian's JDBC drivers."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from pyhive import exc as hive_exc
from pyhive import hive

from bench.peers import free_port, start_gateway
from tests import dbservers

pytestmark = pytest.mark.slow

if dbservers.missing():
    pytest.skip(f"not installed: {', '.join(dbservers.missing())} (`make test` installs them with apt-get)",
                allow_module_level=True)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    base = tmp_path_factory.mktemp("db", numbered=True)
    # The postgres user must reach its data directory (pytest's tmp is private to root), and unix socket
    # paths must stay short: both servers live in a fresh directory under /tmp.
    short = Path(tempfile.mkdtemp(prefix="mlsql-db-", dir="/tmp"))
    os.chmod(short, 0o755)
    pg_port, mdb_port = free_port(), free_port()
    pg = dbservers.start_postgres(short / "pg", pg_port)
    mdb = None
    gateway = None
    try:
        dbservers.psql(pg_port, "create table people(id int primary key, name text, score double precision); "
                                "insert into people select g, 'p' || g, g * 1.5 from generate_series(1, 1000) g;")
        mdb = dbservers.start_mariadb(short / "mdb", mdb_port)
        dbservers.mariadb(short / "mdb", "create table db.items(id int primary key, label varchar(20), v double); "
                                         "insert into db.items values (1,'one',1.0),(2,'two',2.0),(3,'three',3.0);")
        port = free_port()
        gateway = start_gateway(port, base / "gw", extra_args=[
            "--data-root", str(base / "gw" / "data"),
            "--conf", f"spark.jars={dbservers.PG_JAR},{dbservers.MARIADB_JAR}"])
        yield {"port": port, "pg": pg_port, "mdb": mdb_port, "mdb_base": short / "mdb"}
    finally:
        if gateway is not None:
            gateway.stop()
        if mdb is not None:
            mdb.stop()
        pg.stop()
        shutil.rmtree(short, ignore_errors=True)


@pytest.fixture
def cursor(env):
    conn = hive.connect(host="127.0.0.1", port=env["port"], username="jdbc_user")
    yield conn.cursor()
    conn.close()


def _pg_connect(env) -> str:
    return (f'connect jdbc where url="jdbc:postgresql://127.0.0.1:{env["pg"]}/postgres" '
            'and driver="org.postgresql.Driver" and user="postgres" as pg;\n')


def test_postgres_alias_load_direct_query_and_partitions(cursor, env):
    cursor.execute(_pg_connect(env) + "load jdbc.`pg.people` as people;\n"
                   "select count(*) as n, sum(id) as s from people as agg;")
    assert cursor.fetchall() == [(1000, 500500)]
    cursor.execute("load jdbc.`pg.people` where directQuery='''select name from people where id <= 3''' as few; "
                   "select name from few order by name as out;")
    assert cursor.fetchall() == [("p1",), ("p2",), ("p3",)]
    cursor.execute('load jdbc.`pg.people` where partitionColumn="id" and lowerBound="1" and upperBound="1000" '
                   'and numPartitions="4" as parted; select count(*) as n from parted as c;')
    assert cursor.fetchall() == [(1000,)]
    cursor.execute("select spark_partition_id() as p, count(*) from parted group by 1 order by 1")
    assert len(cursor.fetchall()) == 4


def test_postgres_save_append_and_overwrite(cursor, env):
    cursor.execute(_pg_connect(env) + "load jdbc.`pg.people` as people;\n"
                   "select id, name from people where id <= 10 as top10;\n"
                   "save overwrite top10 as jdbc.`pg.top10`;")
    assert dbservers.psql(env["pg"], "select count(*), sum(id) from top10").strip() == "10|55"
    cursor.execute("save append top10 as jdbc.`pg.top10`;")
    assert dbservers.psql(env["pg"], "select count(*) from top10").strip() == "20"


def test_mariadb_inline_url_with_mysql_scheme(cursor, env):
    url = f"jdbc:mysql://127.0.0.1:{env['mdb']}/db?permitMysqlScheme"
    cursor.execute(f'load jdbc.`items` where url="{url}" and driver="org.mariadb.jdbc.Driver" and user="spark" '
                   'and password="spark" as items; select label, v from items order by id as out;')
    assert cursor.fetchall() == [("one", 1.0), ("two", 2.0), ("three", 3.0)]
    cursor.execute(f'connect jdbc where url="{url}" and driver="org.mariadb.jdbc.Driver" and user="spark" '
                   'and password="spark" as mdb; select id * 10 as id, label from items as tens; '
                   'save append tens as jdbc.`mdb.items`;')
    assert dbservers.mariadb(env["mdb_base"], "select count(*) from db.items").strip() == "6"


def test_jdbc_without_url_is_a_clear_error(cursor):
    with pytest.raises(hive_exc.OperationalError, match="no url"):
        cursor.execute("load jdbc.`nowhere.table` as t;")
