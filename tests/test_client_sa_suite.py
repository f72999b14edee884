"""The mlsql dialect and SQLAlchemy's compliance suite: the requirements class, the DDL/DELETE fixes the suite
found, and a bounded slice of the suite itself against the live gateway (the full suite runs with
tests/sa_suite/run_suite.py; it takes longer than the main test run should)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.schema import CreateTable

from sqlalchemy_mlsql.dialect import MLSQLDialect

HERE = Path(__file__).resolve().parent


def test_create_table_skips_every_constraint():
    m = sa.MetaData()
    sa.Table("parent", m, sa.Column("id", sa.Integer, primary_key=True))
    t = sa.Table("child", m, sa.Column("id", sa.Integer, primary_key=True),
                 sa.Column("name", sa.String(20), nullable=False, unique=True),
                 sa.Column("parent_id", sa.ForeignKey("parent.id")),
                 sa.CheckConstraint("id > 0", name="ck_pos"), sa.UniqueConstraint("id", "name", name="uq_both"),
                 schema="s")
    ddl = str(CreateTable(t).compile(dialect=MLSQLDialect()))
    body = ddl[ddl.index("(") + 1:ddl.rindex(")")]
    assert [part.strip() for part in body.split(",")] == ["`id` INT", "`name` STRING", "`parent_id` INT"]


def test_unfiltered_delete_is_truncate():
    d = MLSQLDialect()
    t = sa.table("t", sa.column("id"), schema="s")
    tt = sa.Table("t", sa.MetaData(), sa.Column("id", sa.Integer), schema="s")
    assert str(tt.delete().compile(dialect=d)) == "TRUNCATE TABLE `s`.`t`"
    assert str(tt.delete().where(tt.c.id == 1).compile(dialect=d)).startswith("DELETE FROM `s`.`t` WHERE")
    assert str(t.delete().compile(dialect=d)).startswith("DELETE FROM")  # a lightweight table(): unchanged


def test_requirements_state_what_is_unsupported():
    from sqlalchemy.testing import exclusions

    from sqlalchemy_mlsql.requirements import Requirements

    req = Requirements()
    for name in ("autoincrement_insert", "foreign_keys", "unique_constraint_reflection", "savepoints",
                 "two_phase_transactions", "returning", "time", "temporary_tables", "index_reflection"):
        assert isinstance(getattr(req, name), exclusions.compound) and getattr(req, name).enabled is False, name
    for name in ("views", "schemas", "comment_reflection", "table_ddl_if_exists"):
        assert getattr(req, name).enabled, name


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_suite_slice_against_gateway(gateway, tmp_path):
    sys.path.insert(0, str(HERE / "sa_suite"))
    try:
        import run_suite
    finally:
        sys.path.pop(0)
    code, counts = run_suite.run(gateway.host, gateway.port,
                                 ["-k", "FetchLimitOffsetTest or BooleanTest or DateTest or ExistsTest or ExpandingBoundInTest or LikeFunctionsTest"],
                                 tmp_path / "junit.xml", timeout=500)
    assert counts.get("passed", 0) > 10, counts
    assert code == 0, counts
