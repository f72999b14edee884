"""pytest plugin for the SQLAlchemy suite run (loaded with ``-p sa_plugin``; not a conftest on purpose)."""

import pytest
from sqlalchemy.dialects import registry

registry.register("mlsql", "sqlalchemy_mlsql.dialect", "MLSQLDialect")
registry.register("mlsql.mlsql", "sqlalchemy_mlsql.dialect", "MLSQLDialect")  # the suite names it mlsql+mlsql
pytest.register_assert_rewrite("sqlalchemy.testing.assertions")

from sqlalchemy.testing.plugin.pytestplugin import *  # noqa: E402,F403
