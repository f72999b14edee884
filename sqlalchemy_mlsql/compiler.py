"""SQL, DDL and type compilers and the identifier preparer for Spark SQL."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import schema as sa_schema
from sqlalchemy.sql import compiler, operators, sqltypes

from .escape import quote_string

# Words quoted as identifiers: the SQL-92 reserved words SQLAlchemy knows, Spark's ANSI-mode reserved keywords
# (``spark.sql.ansi.enforceReservedKeywords=true``), its strict-non-reserved keywords (never usable as a table
# alias: ANTI, SEMI, MINUS...), and the keywords Spark 4.3's parser rejects as a column or alias name in the default
# mode (TRUE, FALSE, CURRENT_PATH and the join words). Quoting a name that did not need it is always harmless.
SPARK_RESERVED_WORDS = frozenset(compiler.RESERVED_WORDS | {
    "anti", "asof", "current_database", "current_path", "current_schema", "div", "escape", "exists", "fetch",
    "filter", "identifier", "interval", "lateral", "minus", "over", "partition", "pivot", "qualify", "range",
    "recursive", "regexp", "rlike", "rows", "semi", "setminus", "tablesample", "time", "unknown", "unpivot",
    "values", "window", "with",
})


class MLSQLIdentifierPreparer(compiler.IdentifierPreparer):
    """Backtick quoting; a backtick inside a name is doubled. A name is quoted when it needs it: a reserved word
    (:data:`SPARK_RESERVED_WORDS`), anything but lower-case letters, digits and ``_`` (``$`` too, so Spark's
    ``${var}`` substitution never sees one), or a leading digit."""

    reserved_words = SPARK_RESERVED_WORDS
    legal_characters = re.compile(r"^[A-Z0-9_]+$", re.I)
    illegal_initial_characters = frozenset("0123456789$")

    def __init__(self, dialect: Any) -> None:
        super().__init__(dialect, initial_quote="`", escape_quote="`")


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

    def visit_empty_set_op_expr(self, type_: Any, expand_op: Any, **kw: Any) -> str:
        """An empty tuple IN/NOT IN: typed NULLs, since Spark will not compare a struct with a struct of VOIDs."""
        if len(type_) > 1 and expand_op in (operators.in_op, operators.not_in_op):
            process = self.dialect.type_compiler_instance.process
            nulls = ", ".join(f"CAST(NULL AS {process(t)})" for t in type_)
            return f"({nulls})) OR (1 = 1" if expand_op is operators.not_in_op else f"({nulls})) AND (1 != 1"
        return super().visit_empty_set_op_expr(type_, expand_op, **kw)

    def _regexp_pattern(self, binary: Any, pattern: Any, **kw: Any) -> str:
        """The pattern SQL; flags (``"i"``, ``"s"``...) become a Java inline group ``(?i)`` in front of it."""
        text = self.process(pattern, **kw)
        flags = (binary.modifiers or {}).get("flags")
        if flags:
            return f"concat({self.render_literal_value(f'(?{flags})', sqltypes.STRINGTYPE)}, {text})"
        return text

    def visit_regexp_match_op_binary(self, binary: Any, operator: Any, **kw: Any) -> str:
        return f"{self.process(binary.left, **kw)} RLIKE {self._regexp_pattern(binary, binary.right, **kw)}"

    def visit_not_regexp_match_op_binary(self, binary: Any, operator: Any, **kw: Any) -> str:
        return f"NOT ({self.visit_regexp_match_op_binary(binary, operator, **kw)})"

    def visit_regexp_replace_op_binary(self, binary: Any, operator: Any, **kw: Any) -> str:
        pattern, replacement = binary.right.clauses
        return (f"regexp_replace({self.process(binary.left, **kw)}, {self._regexp_pattern(binary, pattern, **kw)}, "
                f"{self.process(replacement, **kw)})")


class MLSQLDDLCompiler(compiler.DDLCompiler):
    """DDL: no PK/FK/unique/check constraints or indexes (Spark has none); USING/PARTITIONED BY/COMMENT."""

    def get_column_specification(self, column: Any, **kw: Any) -> str:
        spec = f"{self.preparer.format_column(column)} " + self.dialect.type_compiler_instance.process(
            column.type, type_expression=column)
        default = self.get_column_default_string(column)
        if default is not None:
            spec += f" DEFAULT {default}"
        if not column.nullable:
            # Kept by catalogs that store constraints (Delta, Iceberg, other v2 catalogs); Spark's built-in file
            # sources (parquet, the default) accept it and store the column as nullable.
            spec += " NOT NULL"
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

    def visit_string(self, type_: Any, **kw: Any) -> str:
        """``String(n)``/``Unicode(n)`` -> VARCHAR(n) (Spark checks the length on write and reflects it);
        ``String()`` -> STRING."""
        return f"VARCHAR({type_.length})" if type_.length else "STRING"

    visit_unicode = visit_string
    visit_text = visit_unicode_text = visit_STRING
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
        text = self.process(type_.item_type, **kw)
        for _ in range(type_.dimensions or 1):
            text = f"ARRAY<{text}>"
        return text

    def visit_MAP(self, type_: Any, **kw: Any) -> str:
        return f"MAP<{self.process(type_.key_type, **kw)}, {self.process(type_.value_type, **kw)}>"

    def visit_STRUCT(self, type_: Any, **kw: Any) -> str:
        fields = ", ".join(f"`{n.replace('`', '``')}`: {self.process(t, **kw)}" for n, t in type_.fields)
        return f"STRUCT<{fields}>"

    def visit_INTERVAL(self, type_: Any, **kw: Any) -> str:
        return f"INTERVAL {getattr(type_, 'qualifier', 'day to second')}".strip().upper()

    visit_interval = visit_INTERVAL
