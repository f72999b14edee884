"""SQLAlchemy 2.x dialect ``mlsql://`` for mlsql-gateway (and other Spark HS2 servers).

URL: ``mlsql://user:password@host:10000/default?auth=NONE`` (query keys: auth, timeout, fetch_size,
complex_types, and ``conf_<key>=value`` for session configuration).
"""

from __future__ import annotations

import contextlib
import json
import re
from types import ModuleType
from typing import Any

from sqlalchemy import exc, util
from sqlalchemy import schema as sa_schema
from sqlalchemy.engine import default, reflection
from sqlalchemy.engine.url import URL

from .compiler import MLSQLCompiler, MLSQLDDLCompiler, MLSQLIdentifierPreparer, MLSQLTypeCompiler
from .types import COLSPECS, parse_spark_type

_NOT_FOUND_TEXT = ("TABLE_OR_VIEW_NOT_FOUND", "SCHEMA_NOT_FOUND", "Table or view not found", "NoSuchTableException",
                   "not found", "does not exist", "SemanticException")


class MLSQLExecutionContext(default.DefaultExecutionContext):
    """Execution context (no transactions, no lastrowid)."""


class MLSQLDialect(default.DefaultDialect):
    """Spark SQL over HiveServer2 (mlsql-gateway)."""

    name = "mlsql"
    driver = "mlsql"
    supports_statement_cache = True
    default_paramstyle = "pyformat"
    statement_compiler = MLSQLCompiler
    ddl_compiler = MLSQLDDLCompiler
    type_compiler_cls = MLSQLTypeCompiler
    preparer = MLSQLIdentifierPreparer
    execution_ctx_cls = MLSQLExecutionContext
    colspecs = COLSPECS
    construct_arguments = [
        (sa_schema.Table, {"using": None, "partitioned_by": None, "tblproperties": None, "location": None}),
    ]
    supports_comments = True
    inline_comments = True

    supports_alter = True
    supports_views = True
    supports_sequences = False
    supports_native_decimal = True
    supports_native_boolean = True
    supports_native_enum = False
    supports_sane_rowcount = False
    supports_sane_multi_rowcount = False
    supports_multivalues_insert = True
    supports_default_values = False
    supports_empty_insert = False
    supports_pk_autoincrement = False
    supports_server_side_cursors = False
    supports_is_distinct_from = True
    postfetch_lastrowid = False
    implicit_returning = False
    full_returning = False
    insert_returning = False
    update_returning = False
    delete_returning = False
    div_is_floordiv = False
    returns_native_bytes = True
    requires_name_normalize = False
    max_identifier_length = 128
    default_schema_name = "default"
    _describe_json_supported = True  # set False on the instance when the server rejects DESCRIBE ... AS JSON

    @classmethod
    def import_dbapi(cls) -> ModuleType:
        from . import dbapi

        return dbapi

    def create_connect_args(self, url: URL) -> tuple[list[Any], dict[str, Any]]:
        opts: dict[str, Any] = {
            "host": url.host or "localhost",
            "port": url.port or 10000,
            "username": url.username,
            "password": url.password,
            "database": url.database or "default",
        }
        conf: dict[str, str] = {}
        for key, value in url.query.items():
            value = value[-1] if isinstance(value, tuple) else value
            if key.startswith("conf_"):
                conf[key[5:]] = value
            elif key == "timeout":
                opts[key] = float(value)
            elif key == "fetch_size":
                opts[key] = int(value)
            elif key == "complex_types":
                opts[key] = util.asbool(value)
            else:
                opts[key] = value
        if conf:
            opts["configuration"] = conf
        return [], opts

    # -- connection-level behaviour -------------------------------------------------------------------------

    def do_begin(self, dbapi_connection: Any) -> None:
        """No transactions."""

    def do_commit(self, dbapi_connection: Any) -> None:
        """No transactions."""

    def do_rollback(self, dbapi_connection: Any) -> None:
        """No transactions."""

    def get_isolation_level(self, dbapi_connection: Any) -> str:
        return "AUTOCOMMIT"

    def get_default_isolation_level(self, dbapi_conn: Any) -> str:
        return "AUTOCOMMIT"

    def get_isolation_level_values(self, dbapi_connection: Any) -> list[str]:
        return ["AUTOCOMMIT"]

    def set_isolation_level(self, dbapi_connection: Any, level: str) -> None:
        """Every statement is autocommitted; nothing to set."""

    def do_ping(self, dbapi_connection: Any) -> bool:
        """A cheap GetInfo round trip (no Spark job)."""
        from thrift_idl.gen.TCLIService import ttypes

        dbapi_connection.get_info(ttypes.TGetInfoType.CLI_DBMS_VER)
        return True

    def is_disconnect(self, e: Exception, connection: Any, cursor: Any) -> bool:
        from .exc import InterfaceError, OperationalError

        if isinstance(e, OperationalError) and getattr(e, "sqlstate", None) in ("08S01", "08001"):
            return True
        return isinstance(e, InterfaceError) and "closed" in str(e)

    def _get_server_version_info(self, connection: Any) -> tuple[int, ...] | None:
        from thrift_idl.gen.TCLIService import ttypes

        try:
            text = connection.connection.dbapi_connection.get_info(ttypes.TGetInfoType.CLI_DBMS_VER)
        except Exception:  # noqa: BLE001 - the version is informative only
            return None
        nums = re.findall(r"\d+", str(text or ""))
        return tuple(int(n) for n in nums[:3]) or None

    def _get_default_schema_name(self, connection: Any) -> str:
        return connection.exec_driver_sql("SELECT current_database()").scalar() or "default"

    # -- reflection helpers ---------------------------------------------------------------------------------

    def _q(self, *names: str | None) -> str:
        quote = self.identifier_preparer.quote_identifier
        return ".".join(quote(n) for n in names if n)

    def _rows(self, connection: Any, sql: str) -> tuple[list[str], list[tuple]]:
        result = connection.exec_driver_sql(sql)
        return list(result.keys()), [tuple(r) for r in result.fetchall()]

    @staticmethod
    def _is_not_found(err: exc.DBAPIError) -> bool:
        orig = err.orig
        state = getattr(orig, "sqlstate", None) or ""
        text = str(orig)
        if state in ("42P01", "42704", "42S02", "3F000"):
            return True
        return any(marker in text for marker in _NOT_FOUND_TEXT[:5]) or (
            state.startswith("42") and any(m in text for m in _NOT_FOUND_TEXT[5:]))

    def _describe(self, connection: Any, table_name: str, schema: str | None,
                  extended: bool = False) -> list[tuple]:
        sql = f"DESCRIBE TABLE {'EXTENDED ' if extended else ''}{self._q(schema, table_name)}"
        try:
            return self._rows(connection, sql)[1]
        except exc.DBAPIError as err:
            if self._is_not_found(err):
                name = f"{schema}.{table_name}" if schema else table_name
                raise exc.NoSuchTableError(name) from err
            raise

    @staticmethod
    def _name_column(keys: list[str], preferred: tuple[str, ...]) -> int:
        lowered = [k.lower() for k in keys]
        for name in preferred:
            if name.lower() in lowered:
                return lowered.index(name.lower())
        return 1 if len(keys) >= 2 else 0

    def _show(self, connection: Any, what: str, schema: str | None) -> list[tuple[str, bool]]:
        """(name, is_temporary) rows of SHOW TABLES / SHOW VIEWS [IN schema]."""
        sql = f"SHOW {what}" + (f" IN {self._q(schema)}" if schema else "")
        keys, rows = self._rows(connection, sql)
        idx = self._name_column(keys, ("tableName", "viewName", "tab_name"))
        tmp = [k.lower() for k in keys].index("istemporary") if "istemporary" in [k.lower() for k in keys] else None
        return [(r[idx], bool(r[tmp]) if tmp is not None else False) for r in rows]

    # -- reflection -----------------------------------------------------------------------------------------

    @reflection.cache
    def get_schema_names(self, connection: Any, **kw: Any) -> list[str]:
        return [r[0] for r in self._rows(connection, "SHOW SCHEMAS")[1]]

    @reflection.cache
    def get_table_names(self, connection: Any, schema: str | None = None, **kw: Any) -> list[str]:
        views = set(self.get_view_names(connection, schema, **kw))
        return [n for n, temp in self._show(connection, "TABLES", schema) if not temp and n not in views]

    @reflection.cache
    def get_view_names(self, connection: Any, schema: str | None = None, **kw: Any) -> list[str]:
        return [n for n, temp in self._show(connection, "VIEWS", schema) if not temp]

    @reflection.cache
    def get_temp_view_names(self, connection: Any, schema: str | None = None, **kw: Any) -> list[str]:
        """Session temporary views (MLSQL's ``... as name`` tables live here)."""
        return [n for n, temp in self._show(connection, "VIEWS", schema) if temp]

    def get_temp_table_names(self, connection: Any, schema: str | None = None, **kw: Any) -> list[str]:
        return []

    @reflection.cache
    def has_table(self, connection: Any, table_name: str, schema: str | None = None, **kw: Any) -> bool:
        """True if the table or view exists; never raises for a missing table or schema."""
        try:
            self._describe(connection, table_name, schema)
            return True
        except exc.NoSuchTableError:
            return False

    def has_schema(self, connection: Any, schema_name: str, **kw: Any) -> bool:
        return schema_name in self.get_schema_names(connection, **kw)

    @staticmethod
    def _split_describe(rows: list[tuple]) -> tuple[list[tuple], list[str]]:
        """(column rows, partition column names) from DESCRIBE TABLE output."""
        columns: list[tuple] = []
        partitions: list[str] = []
        section = "columns"
        for row in rows:
            name = (row[0] or "").strip()
            if not name:
                if section == "columns":
                    section = "done"
                continue
            if name.startswith("#"):
                section = "partition" if name == "# Partition Information" else (
                    section if name == "# col_name" else "done")
                continue
            if section == "columns":
                columns.append(row)
            elif section == "partition":
                partitions.append(name)
        return columns, partitions

    def _describe_json(self, connection: Any, table_name: str, schema: str | None) -> dict[str, dict[str, Any]]:
        """Per-column ``nullable``/``default`` from ``DESCRIBE TABLE EXTENDED ... AS JSON`` (Spark 4.0+), keyed by
        lower-cased column name; empty when the server cannot answer it (older Spark: remembered)."""
        if not self._describe_json_supported:
            return {}
        sql = f"DESCRIBE TABLE EXTENDED {self._q(schema, table_name)} AS JSON"
        try:
            rows = self._rows(connection, sql)[1]
            doc = json.loads(rows[0][0]) if rows and rows[0] and rows[0][0] else {}
        except exc.DBAPIError as err:
            if self._is_not_found(err):
                raise exc.NoSuchTableError(f"{schema}.{table_name}" if schema else table_name) from err
            if getattr(err.orig, "sqlstate", None) in ("42601", "0A000"):  # parse error / unsupported: old Spark
                self._describe_json_supported = False
            return {}
        except ValueError:
            return {}
        return {str(c.get("name", "")).lower(): c for c in doc.get("columns") or [] if isinstance(c, dict)}

    @reflection.cache
    def get_columns(self, connection: Any, table_name: str, schema: str | None = None,
                    **kw: Any) -> list[dict[str, Any]]:
        """Types from DESCRIBE TABLE (it keeps ``varchar(n)``, the JSON form does not); nullability and defaults
        from the JSON form. No ``autoincrement`` key: Spark has no auto-increment columns, and SQLAlchemy's
        policy is to leave the key out rather than report False for an integer primary key."""
        columns, _ = self._split_describe(self._describe(connection, table_name, schema))
        extra = self._describe_json(connection, table_name, schema)
        out = []
        for row in columns:
            comment = row[2] if len(row) > 2 and row[2] not in (None, "") else None
            info = extra.get(str(row[0]).lower(), {})
            default = info.get("default")
            out.append({"name": row[0], "type": parse_spark_type(row[1] or "string"),
                        "nullable": bool(info.get("nullable", True)),
                        "default": None if default is None else str(default), "comment": comment})
        return out

    def get_pk_constraint(self, connection: Any, table_name: str, schema: str | None = None,
                          **kw: Any) -> dict[str, Any]:
        return {"constrained_columns": [], "name": None}

    def get_foreign_keys(self, connection: Any, table_name: str, schema: str | None = None,
                         **kw: Any) -> list[dict[str, Any]]:
        return []

    def get_unique_constraints(self, connection: Any, table_name: str, schema: str | None = None,
                               **kw: Any) -> list[dict[str, Any]]:
        return []

    def get_check_constraints(self, connection: Any, table_name: str, schema: str | None = None,
                              **kw: Any) -> list[dict[str, Any]]:
        return []

    @reflection.cache
    def get_indexes(self, connection: Any, table_name: str, schema: str | None = None,
                    **kw: Any) -> list[dict[str, Any]]:
        """Partition columns as one non-unique pseudo-index named ``partition`` (what Superset expects)."""
        _, partitions = self._split_describe(self._describe(connection, table_name, schema))
        if not partitions:
            return []
        return [{"name": "partition", "column_names": partitions, "unique": False}]

    def _extended_info(self, connection: Any, table_name: str, schema: str | None) -> dict[str, str]:
        rows = self._describe(connection, table_name, schema, extended=True)
        info: dict[str, str] = {}
        seen_detail = False
        for row in rows:
            name = (row[0] or "").strip()
            if name.startswith("# Detailed Table Information"):
                seen_detail = True
            elif seen_detail and name:
                info.setdefault(name, row[1])
        return info

    @reflection.cache
    def get_table_comment(self, connection: Any, table_name: str, schema: str | None = None,
                          **kw: Any) -> dict[str, Any]:
        comment = self._extended_info(connection, table_name, schema).get("Comment")
        return {"text": comment or None}

    @reflection.cache
    def get_view_definition(self, connection: Any, view_name: str, schema: str | None = None,
                            **kw: Any) -> str:
        text = self._extended_info(connection, view_name, schema).get("View Text")
        if text is None:
            raise exc.NoSuchTableError(view_name)
        return text

    def get_partitions(self, connection: Any, table_name: str, schema: str | None = None) -> list[str]:
        """``SHOW PARTITIONS`` rows (``k=v/k2=v2``)."""
        return [r[0] for r in self._rows(connection, f"SHOW PARTITIONS {self._q(schema, table_name)}")[1]]

    def _check_unicode_returns(self, connection: Any, additional_tests: Any = None) -> bool:
        return True


with contextlib.suppress(Exception):  # also usable without installing the entry point
    from sqlalchemy.dialects import registry

    registry.register("mlsql", "sqlalchemy_mlsql.dialect", "MLSQLDialect")

dialect = MLSQLDialect
