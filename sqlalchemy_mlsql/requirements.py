"""What the ``mlsql`` dialect supports, for SQLAlchemy's dialect compliance suite (``sqlalchemy.testing.suite``).

Used as ``[sqla_testing] requirement_cls = sqlalchemy_mlsql.requirements:Requirements`` (see tests/sa_suite). Spark
SQL over HiveServer2 has no transactions, no sequences or autoincrement, no enforced constraints (primary, foreign,
unique, check), no indexes and no RETURNING; each such feature is stated as closed here rather than left to fail.
Only importable where SQLAlchemy's testing package is (it always is with SQLAlchemy installed).
"""

from __future__ import annotations

from sqlalchemy.testing import exclusions
from sqlalchemy.testing.requirements import SuiteRequirements

_closed = exclusions.closed


class Requirements(SuiteRequirements):
    """Spark SQL (3.x/4.x) through mlsql-gateway or Spark's Thrift server."""

    # -- transactions and connections ----------------------------------------------------------------------
    @property
    def autocommit(self):
        return _closed()  # every statement commits; there is no non-autocommit mode to switch from

    @property
    def isolation_level(self):
        return _closed()

    @property
    def savepoints(self):
        return _closed()

    @property
    def two_phase_transactions(self):
        return _closed()

    @property
    def fetch_rows_post_commit(self):
        return exclusions.open()

    # -- identity, sequences, RETURNING --------------------------------------------------------------------
    @property
    def autoincrement_insert(self):
        return _closed()

    @property
    def autoincrement_without_sequence(self):
        return _closed()

    @property
    def identity_columns(self):
        return _closed()

    @property
    def emulated_lastrowid(self):
        return _closed()

    @property
    def dbapi_lastrowid(self):
        return _closed()

    @property
    def empty_inserts(self):
        return _closed()

    @property
    def empty_inserts_executemany(self):
        return _closed()

    @property
    def insert_returning(self):
        return _closed()

    @property
    def update_returning(self):
        return _closed()

    @property
    def delete_returning(self):
        return _closed()

    @property
    def returning(self):
        return _closed()

    # -- constraints and indexes (Spark enforces none and stores none for file-based tables) ---------------
    @property
    def foreign_keys(self):
        return _closed()

    @property
    def foreign_key_constraint_reflection(self):
        return _closed()

    @property
    def self_referential_foreign_keys(self):
        return _closed()

    @property
    def foreign_key_ddl(self):
        # Tables may declare ForeignKey()s: the DDL compiler leaves the constraint out (Spark would not enforce
        # or store it), and the column keeps its type. Reflection of FKs stays closed above.
        return exclusions.open()

    @property
    def named_constraints(self):
        return _closed()

    @property
    def implicitly_named_constraints(self):
        return _closed()

    @property
    def primary_key_constraint_reflection(self):
        return _closed()

    @property
    def unique_constraint_reflection(self):
        return _closed()

    @property
    def check_constraint_reflection(self):
        return _closed()

    @property
    def index_reflection(self):
        return _closed()

    @property
    def indexes_with_ascdesc(self):
        return _closed()

    @property
    def indexes_with_expressions(self):
        return _closed()

    @property
    def duplicate_key_raises_integrity_error(self):
        return _closed()

    @property
    def unique_index_reflect_as_unique_constraints(self):
        return _closed()

    @property
    def unique_constraints_reflect_as_index(self):
        return _closed()

    @property
    def reflects_pk_names(self):
        return _closed()

    @property
    def computed_columns(self):
        return _closed()

    # -- DDL and reflection ---------------------------------------------------------------------------------
    @property
    def table_ddl_if_exists(self):
        return exclusions.open()

    @property
    def schemas(self):
        return exclusions.open()  # the runner creates test_schema and test_schema_2

    @property
    def views(self):
        return exclusions.open()

    @property
    def comment_reflection(self):
        return exclusions.open()

    @property
    def temp_table_reflection(self):
        return _closed()  # no temporary tables (temporary views only, which are session-scoped)

    @property
    def temp_table_names(self):
        return _closed()

    @property
    def temporary_tables(self):
        return _closed()

    @property
    def temporary_views(self):
        return _closed()  # Spark has session temp views, but the suite builds its temp view on a temporary table

    @property
    def reflect_tables_no_columns(self):
        return _closed()

    @property
    def cross_schema_fk_reflection(self):
        return _closed()

    @property
    def implicit_default_schema(self):
        return _closed()

    @property
    def symbol_names_w_double_quote(self):
        return _closed()  # Spark's session catalog accepts only letters, digits and _ in table/schema names

    @property
    def schema_create_delete(self):
        return exclusions.open()

    @property
    def create_table_as(self):
        return exclusions.open()

    @property
    def create_or_replace_view(self):
        return exclusions.open()

    @property
    def server_defaults(self):
        return exclusions.open()  # DEFAULT <literal> column values (Spark 3.4+), reflected from DESCRIBE ... AS JSON

    @property
    def expression_server_defaults(self):
        return exclusions.open()

    @property
    def comment_reflection_full_unicode(self):
        return exclusions.open()

    # -- types ----------------------------------------------------------------------------------------------
    @property
    def time(self):
        return _closed()  # Spark has no TIME type

    @property
    def time_microseconds(self):
        return _closed()

    @property
    def time_timezone(self):
        return _closed()

    @property
    def datetime_timezone(self):
        return _closed()

    @property
    def json_type(self):
        return _closed()

    @property
    def uuid_data_type(self):
        return _closed()

    @property
    def array_type(self):
        return exclusions.open()  # ARRAY<T> columns; sqlalchemy.ARRAY renders as ARRAY<...> and array(...) literals

    @property
    def precision_numerics_enotation_large(self):
        return exclusions.open()

    @property
    def precision_numerics_many_significant_digits(self):
        return exclusions.open()

    @property
    def precision_numerics_retains_significant_digits(self):
        return exclusions.open()

    @property
    def infinity_floats(self):
        return exclusions.open()

    @property
    def datetime_literals(self):
        return exclusions.open()

    @property
    def timestamp_microseconds(self):
        return exclusions.open()

    @property
    def datetime_historic(self):
        return exclusions.open()

    @property
    def date_historic(self):
        return exclusions.open()

    # -- statements -----------------------------------------------------------------------------------------
    @property
    def ctes(self):
        return exclusions.open()

    @property
    def ctes_with_values(self):
        return exclusions.open()

    @property
    def table_value_constructor(self):
        return exclusions.open()

    @property
    def tuple_in(self):
        return exclusions.open()

    @property
    def intersect(self):
        return exclusions.open()

    @property
    def except_(self):
        return exclusions.open()

    @property
    def nullsordering(self):
        return exclusions.open()

    @property
    def boolean_col_expressions(self):
        return exclusions.open()

    @property
    def window_functions(self):
        return exclusions.open()

    @property
    def window_range(self):
        return exclusions.open()

    @property
    def window_range_numeric(self):
        return exclusions.open()

    @property
    def window_range_non_numeric(self):
        return exclusions.open()

    @property
    def regexp_match(self):
        return exclusions.open()  # RLIKE

    @property
    def regexp_replace(self):
        return exclusions.open()

    @property
    def mod_operator_as_percent_sign(self):
        return exclusions.open()

    @property
    def order_by_label_with_expression(self):
        return exclusions.open()

    @property
    def supports_bitwise_and(self):
        return exclusions.open()

    @property
    def supports_bitwise_or(self):
        return exclusions.open()

    @property
    def supports_bitwise_xor(self):
        return exclusions.open()

    @property
    def supports_bitwise_not(self):
        return exclusions.open()

    @property
    def supports_bitwise_shift(self):
        return exclusions.open()

    @property
    def ctes_on_dml(self):
        return _closed()

    @property
    def ctes_with_update_delete(self):
        return _closed()

    @property
    def update_from(self):
        return _closed()

    @property
    def delete_from(self):
        return _closed()

    @property
    def update_where_target_in_subquery(self):
        return _closed()

    @property
    def sql_expression_limit_offset(self):
        return exclusions.open()  # LIMIT/OFFSET take any constant-foldable expression
