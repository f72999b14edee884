"""pytest plugin for the SQLAlchemy suite run (loaded with ``-p sa_plugin``; not a conftest on purpose).

Besides loading SQLAlchemy's own plugin it skips the few suite cases that no requirement in
``sqlalchemy_mlsql/requirements.py`` can express (the suite runs them unconditionally), each with the reason Spark
cannot do it. Everything else Spark lacks is stated in the requirements class.
"""

from __future__ import annotations

import pytest
from sqlalchemy.dialects import registry

registry.register("mlsql", "sqlalchemy_mlsql.dialect", "MLSQLDialect")
registry.register("mlsql.mlsql", "sqlalchemy_mlsql.dialect", "MLSQLDialect")  # the suite names it mlsql+mlsql
pytest.register_assert_rewrite("sqlalchemy.testing.assertions")

from sqlalchemy.testing.plugin.pytestplugin import *  # noqa: E402,F403
from sqlalchemy.testing.plugin.pytestplugin import (  # noqa: E402
    pytest_collection_modifyitems as _sa_collection_modifyitems,
)

_TABLE_NAMES = ("Spark's session catalog accepts only letters, digits and _ in table and schema names "
                "(INVALID_SCHEMA_OR_RELATION_NAME); column names may hold any character")

_NOT_NULL = ("Spark's built-in file sources (parquet, the default table format) store every column as nullable: "
             "NOT NULL is accepted and dropped, and DESCRIBE ... AS JSON reports nullable=true. The dialect emits NOT "
             "NULL and reflects nullability where the catalog keeps it (Delta, Iceberg, views)")

# (test class name, test function name or None for all, predicate on the parameters or None, reason)
UNSUPPORTED: list[tuple[str, str | None, object, str]] = [
    ("BizarroCharacterTest", None, lambda p: p.get("tablename", "plain") != "plain", _TABLE_NAMES),
    ("QuotedNameArgumentTest", None, None, _TABLE_NAMES + " (its tables are named \"quote ' one\")"),
    ("LongNameBlowoutTest", "test_long_convention_name", lambda p: p.get("type_") == "ix",
     "Spark has no indexes: CREATE INDEX compiles to nothing, so there is no index name to reflect (this case "
     "does not check the index_reflection requirement)"),
    ("ComponentReflectionTestExtra", "test_nullable_reflection", None, _NOT_NULL),
    ("ComponentReflectionTest", "test_get_multi_columns", None,
     _NOT_NULL + "; this case expects primary key columns and NOT NULL columns to reflect as nullable=False"),
]


def _unsupported_reason(item: pytest.Item) -> str | None:
    cls = getattr(item, "cls", None)
    if cls is None:
        return None
    params = dict(getattr(getattr(item, "callspec", None), "params", {}) or {})
    name = getattr(item, "originalname", item.name)
    for cls_name, fn_name, pred, reason in UNSUPPORTED:
        if not (cls.__name__ == cls_name or cls.__name__.startswith(cls_name + "_")):
            continue
        if fn_name is not None and name != fn_name:
            continue
        if pred is not None and not pred(params):  # type: ignore[operator]
            continue
        return reason
    return None


def pytest_collection_modifyitems(session, config, items):  # noqa: F811 - wraps SQLAlchemy's hook
    _sa_collection_modifyitems(session, config, items)
    for item in items:
        reason = _unsupported_reason(item)
        if reason:
            item.add_marker(pytest.mark.skip(reason=f"unsupported by Spark: {reason}"))
