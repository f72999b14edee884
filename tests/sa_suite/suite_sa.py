"""SQLAlchemy's own dialect compliance tests, run against the mlsql dialect."""

from sqlalchemy.testing.suite import *  # noqa: F403
