"""SQL, DDL and type compilers and the identifier preparer for Spark SQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import schema as sa_schema
from sqlalchemy.sql import compiler

from .escape import quote_string


class MLSQLIdentifierPreparer(compiler.IdentifierPreparer):
    """Backtick quoting; a backtick inside a name is doubled. Every identifier is quoted (Spark's ANSI mode
    reserves many keywords, and quoting is always valid)."""

    def __init__(self, dialect: Any) -> None:
        super().__init__(dialect, initial_quote="`", escape_quote="`")

    def _requires_quotes(self, value: str) -> bool:
        return True


class MLSQLCompiler(compiler.SQLCompiler):
    """Statement compiler: Spark's LIMIT/OFFSET shape and backslash-escaped string literals."""

    def limit_clause(self, select: Any, **kw: Any) -> str:
        text = ""
        if select._limit_clause is not None:
            text += "\n LIMIT " + self.process(select._limit_clause, **kw)
        if select._offset_clause is not None:
            text += "\n OFFSET " + self.process(select._offset_clause, **kw)
        return text

    def render_literal_value(self, value: Any, type_: Any) -> str:
        if isinstance(value, str):
            text = quote_string(value)
            return text.replace("%", "%%") if self.preparer._double_percents else text
        return super().render_literal_value(value, type_)

    def visit_delete(self, delete_stmt: Any, **kw: Any) -> str:
        """``DELETE FROM t`` without a WHERE clause becomes ``TRUNCATE TABLE t``: Spark's file-based (v1) tables,
        the default, reject DELETE but truncate fine. A DELETE with a WHERE clause is passed through."""
        table = delete_stmt.table
        if (not delete_stmt._where_criteria and not getattr(delete_stmt, "_extra_froms", None)
                and not delete_stmt._returning and isinstance(table, sa_schema.Table)):
            return "TRUNCATE TABLE " + self.preparer.format_table(table)
        return super().visit_delete(delete_stmt, **kw)

    def visit_char_length_func(self, fn: Any, **kw: Any) -> str:
        return f"length({self.function_argspec(fn, **kw)})"


class MLSQLDDLCompiler(compiler.DDLCompiler):
    """DDL: no PK/FK/unique/check constraints or indexes (Spark has none); USING/PARTITIONED BY/COMMENT."""

    def get_column_specification(self, column: Any, **kw: Any) -> str:
        spec = f"{self.preparer.format_column(column)} " + self.dialect.type_compiler_instance.process(
            column.type, type_expression=column)
        default = self.get_column_default_string(column)
        if default is not None:
            spec += f" DEFAULT {default}"
        if column.comment:
            spec += " COMMENT " + self.sql_compiler.render_literal_value(column.comment, None)
        return spec

    def visit_primary_key_constraint(self, constraint: Any, **kw: Any) -> None:
        return None  # None (not ""): SQLAlchemy drops it from the CREATE TABLE list instead of joining ", "

    def visit_foreign_key_constraint(self, constraint: Any, **kw: Any) -> None:
        return None

    def visit_unique_constraint(self, constraint: Any, **kw: Any) -> None:
        return None

    def visit_check_constraint(self, constraint: Any, **kw: Any) -> None:
        return None

    def visit_column_check_constraint(self, constraint: Any, **kw: Any) -> None:
        return None

    def visit_create_index(self, create: Any, **kw: Any) -> str:
        return ""  # Spark has no indexes; the driver treats an empty statement as a no-op

    def visit_drop_index(self, drop: Any, **kw: Any) -> str:
        return ""

    def post_create_table(self, table: Any) -> str:
        opts = table.dialect_options["mlsql"]
        lit = self.sql_compiler.render_literal_value
        text = ""
        if opts.get("using"):
            text += f"\nUSING {opts['using']}"
        if opts.get("partitioned_by"):
            cols = opts["partitioned_by"]
            cols = [cols] if isinstance(cols, str) else cols
            text += "\nPARTITIONED BY (" + ", ".join(self.preparer.quote(c) for c in cols) + ")"
        if table.comment:
            text += "\nCOMMENT " + lit(table.comment, None)
        if opts.get("location"):
            text += "\nLOCATION " + lit(opts["location"], None)
        if opts.get("tblproperties"):
            props = ", ".join(f"{lit(str(k), None)}={lit(str(v), None)}" for k, v in opts["tblproperties"].items())
            text += f"\nTBLPROPERTIES ({props})"
        return text


class MLSQLTypeCompiler(compiler.GenericTypeCompiler):
    """Spark DDL type names."""

    def visit_INTEGER(self, type_: Any, **kw: Any) -> str:
        return "INT"

    def visit_TINYINT(self, type_: Any, **kw: Any) -> str:
        return "TINYINT"

    def visit_FLOAT(self, type_: Any, **kw: Any) -> str:
        precision = getattr(type_, "precision", None)
        return "FLOAT" if precision is not None and precision <= 24 else "DOUBLE"

    def visit_REAL(self, type_: Any, **kw: Any) -> str:
        return "FLOAT"

    def visit_DOUBLE(self, type_: Any, **kw: Any) -> str:
        return "DOUBLE"

    visit_DOUBLE_PRECISION = visit_DOUBLE
    visit_double = visit_DOUBLE

    def visit_NUMERIC(self, type_: Any, **kw: Any) -> str:
        if type_.precision is None:
            return "DECIMAL"
        if type_.scale is None:
            return f"DECIMAL({type_.precision})"
        return f"DECIMAL({type_.precision}, {type_.scale})"

    visit_DECIMAL = visit_NUMERIC

    def visit_STRING(self, type_: Any, **kw: Any) -> str:
        return "STRING"

    visit_string = visit_unicode = visit_text = visit_unicode_text = visit_STRING
    visit_TEXT = visit_CLOB = visit_NCLOB = visit_enum = visit_uuid = visit_UUID = visit_STRING
    visit_JSON = visit_TIME = visit_time = visit_null = visit_STRING

    def visit_VARCHAR(self, type_: Any, **kw: Any) -> str:
        return f"VARCHAR({type_.length})" if type_.length else "STRING"

    visit_NVARCHAR = visit_VARCHAR

    def visit_CHAR(self, type_: Any, **kw: Any) -> str:
        return f"CHAR({type_.length})" if type_.length else "STRING"

    visit_NCHAR = visit_CHAR

    def visit_TIMESTAMP(self, type_: Any, **kw: Any) -> str:
        return "TIMESTAMP"

    visit_DATETIME = visit_datetime = visit_TIMESTAMP

    def visit_TIMESTAMP_NTZ(self, type_: Any, **kw: Any) -> str:
        return "TIMESTAMP_NTZ"

    def visit_BINARY(self, type_: Any, **kw: Any) -> str:
        return "BINARY"

    visit_BLOB = visit_VARBINARY = visit_large_binary = visit_BINARY

    def visit_ARRAY(self, type_: Any, **kw: Any) -> str:
        return f"ARRAY<{self.process(type_.item_type, **kw)}>"

    def visit_MAP(self, type_: Any, **kw: Any) -> str:
        return f"MAP<{self.process(type_.key_type, **kw)}, {self.process(type_.value_type, **kw)}>"

    def visit_STRUCT(self, type_: Any, **kw: Any) -> str:
        fields = ", ".join(f"`{n.replace('`', '``')}`: {self.process(t, **kw)}" for n, t in type_.fields)
        return f"STRUCT<{fields}>"

    def visit_INTERVAL(self, type_: Any, **kw: Any) -> str:
        return f"INTERVAL {type_.qualifier}".strip().upper()

    visit_interval = visit_INTERVAL
