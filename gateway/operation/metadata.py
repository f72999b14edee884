"""Metadata operations (GetTables, GetColumns, ...): answered from the session catalog, never by Spark jobs.

They complete synchronously: JDBC drivers go straight to FetchResults without polling.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from pyspark.sql import types as T

from gateway.operation import base
from gateway.results.resultset import ResultSet

if TYPE_CHECKING:
    from gateway.session import Session

S, I32, I16, B = T.StringType(), T.IntegerType(), T.ShortType(), T.BooleanType()
_ARROW = {T.StringType: pa.string(), T.IntegerType: pa.int32(), T.ShortType: pa.int16(), T.BooleanType: pa.bool_()}


def like_to_regex(pattern: str | None) -> re.Pattern | None:
    """A metadata pattern as a case-insensitive regex, the way HiveServer2 and Spark read them; None matches all.

    JDBC LIKE wildcards become regex (``%`` -> ``.*``, ``_`` -> ``.``, ``\\%``/``\\_`` are literals), ``*``
    means any characters (Spark's catalog patterns), and everything else stays a regular expression, so
    Impala-style ``.*`` from impyla matches too. An invalid regex falls back to a literal match.
    """
    if pattern is None or pattern in ("", "%", "*", ".*"):
        return None
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "%_":
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append({"%": ".*", "_": ".", "*": ".*"}.get(ch, ch))
        i += 1
    try:
        return re.compile("(?:" + "".join(out) + r")\Z", re.IGNORECASE | re.DOTALL)
    except re.error:
        return re.compile(re.escape(pattern) + r"\Z", re.IGNORECASE)


def _matches(regex: re.Pattern | None, value: str | None) -> bool:
    return regex is None or regex.match(value or "") is not None


class MetadataOperation(base.Operation):
    """Computes its rows up front, in the RPC thread, from the catalog."""

    columns: Sequence[tuple[str, T.DataType]] = ()
    kind = "metadata"

    def __init__(self, session: Session, **request: Any) -> None:
        super().__init__(session)
        self.request = request
        self.statement = f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in request.items())})"

    def rows(self) -> Iterable[Sequence[Any]]:
        raise NotImplementedError

    def _run(self) -> None:
        schema = T.StructType([T.StructField(name, dt, True) for name, dt in self.columns])
        data = list(self.rows())
        arrays = [pa.array([row[i] for row in data], type=_ARROW[type(dt)]) for i, (_, dt) in
                  enumerate(self.columns)]
        names = [name for name, _ in self.columns]
        self.result = ResultSet.from_table(schema, pa.Table.from_arrays(arrays, names=names))

    # helpers
    @property
    def spark(self):
        return self.session.spark

    def databases(self, pattern: str | None) -> list[str]:
        regex = like_to_regex(pattern)
        names = [db.name for db in self.spark.catalog.listDatabases()]
        return [name for name in names if _matches(regex, name)]


class GetCatalogs(MetadataOperation):
    op_type = base.GET_CATALOGS
    columns = [("TABLE_CAT", S)]

    def rows(self):
        return []  # Hive semantics: catalogs are not applicable (Spark's Thrift server returns none)


class GetSchemas(MetadataOperation):
    op_type = base.GET_SCHEMAS
    columns = [("TABLE_SCHEM", S), ("TABLE_CATALOG", S)]

    def rows(self):
        names = self.databases(self.request.get("schema"))
        global_db = self.spark.conf.get("spark.sql.globalTempDatabase", "global_temp")
        if _matches(like_to_regex(self.request.get("schema")), global_db) and global_db not in names:
            names.append(global_db)
        return [(name, "") for name in sorted(names)]


TABLE_TYPES = ("TABLE", "VIEW")


def _jdbc_table_type(table) -> str:
    kind = (table.tableType or "").upper()
    return "VIEW" if table.isTemporary or "VIEW" in kind else "TABLE"


class GetTables(MetadataOperation):
    op_type = base.GET_TABLES
    columns = [("TABLE_CAT", S), ("TABLE_SCHEM", S), ("TABLE_NAME", S), ("TABLE_TYPE", S), ("REMARKS", S),
               ("TYPE_CAT", S), ("TYPE_SCHEM", S), ("TYPE_NAME", S), ("SELF_REFERENCING_COL_NAME", S),
               ("REF_GENERATION", S)]

    def rows(self):
        wanted = {t.upper() for t in (self.request.get("table_types") or [])} or None
        name_regex = like_to_regex(self.request.get("table"))
        out = []
        for schema, table in iter_tables(self.session, self.request.get("schema")):
            table_type = _jdbc_table_type(table)
            if wanted is not None and table_type not in wanted:
                continue
            if not _matches(name_regex, table.name):
                continue
            out.append(("", schema, table.name, table_type, table.description or "", None, None, None, None,
                        None))
        out.sort(key=lambda r: (r[3], r[1] or "", r[2]))
        return out


def iter_tables(session: Session, schema_pattern: str | None):
    """(schema, catalog Table) for every table and view visible to the session; temp views under ''."""
    catalog = session.spark.catalog
    regex = like_to_regex(schema_pattern)
    databases = [db.name for db in catalog.listDatabases() if _matches(regex, db.name)]
    global_db = session.spark.conf.get("spark.sql.globalTempDatabase", "global_temp")
    if _matches(regex, global_db) and global_db not in databases:
        databases.append(global_db)
    seen_temp = False
    for db in databases:
        for table in catalog.listTables(db):
            if table.isTemporary and not table.namespace:
                if seen_temp:
                    continue
                yield None, table
                continue
            yield db, table
        seen_temp = True


class GetTableTypes(MetadataOperation):
    op_type = base.GET_TABLE_TYPES
    columns = [("TABLE_TYPE", S)]

    def rows(self):
        return [(t,) for t in TABLE_TYPES]


class GetColumns(MetadataOperation):
    op_type = base.GET_COLUMNS
    columns = [("TABLE_CAT", S), ("TABLE_SCHEM", S), ("TABLE_NAME", S), ("COLUMN_NAME", S), ("DATA_TYPE", I32),
               ("TYPE_NAME", S), ("COLUMN_SIZE", I32), ("BUFFER_LENGTH", I16), ("DECIMAL_DIGITS", I32),
               ("NUM_PREC_RADIX", I32), ("NULLABLE", I32), ("REMARKS", S), ("COLUMN_DEF", S),
               ("SQL_DATA_TYPE", I32), ("SQL_DATETIME_SUB", I32), ("CHAR_OCTET_LENGTH", I32),
               ("ORDINAL_POSITION", I32), ("IS_NULLABLE", S), ("SCOPE_CATALOG", S), ("SCOPE_SCHEMA", S),
               ("SCOPE_TABLE", S), ("SOURCE_DATA_TYPE", I16), ("IS_AUTO_INCREMENT", S)]

    def rows(self):
        from gateway.results.types import jdbc_type_info, raw_field_type

        table_regex = like_to_regex(self.request.get("table"))
        column_regex = like_to_regex(self.request.get("column"))
        out = []
        for schema, table in iter_tables(self.session, self.request.get("schema")):
            if not _matches(table_regex, table.name):
                continue
            qualified = f"`{schema}`.`{table.name}`" if schema else f"`{table.name}`"  # temp views: no schema
            try:
                fields = self.spark.table(qualified).schema.fields
            except Exception:  # noqa: BLE001 - a broken table must not hide the others
                continue
            for position, field in enumerate(fields, 1):
                if not _matches(column_regex, field.name):
                    continue
                info = jdbc_type_info(raw_field_type(field))
                comment = (field.metadata or {}).get("comment") or ""
                out.append((None, schema, table.name, field.name, info.data_type, info.type_name, info.column_size,
                            None, info.decimal_digits, info.num_prec_radix, 1 if field.nullable else 0, comment, None,
                            None, None, None, position, "YES" if field.nullable else "NO", None, None, None, None,
                            "NO"))
        return out


class GetFunctions(MetadataOperation):
    op_type = base.GET_FUNCTIONS
    columns = [("FUNCTION_CAT", S), ("FUNCTION_SCHEM", S), ("FUNCTION_NAME", S), ("REMARKS", S),
               ("FUNCTION_TYPE", I32), ("SPECIFIC_NAME", S)]
    # Describing a function costs a round trip: do it only for narrow patterns, and remember the answers.
    DESCRIBE_LIMIT = 50
    _usage: dict[str, str] = {}

    def rows(self):
        from gateway.engine.executor import run_sql

        regex = like_to_regex(self.request.get("function"))
        names = [row[0] for row in run_sql(self.spark, "SHOW FUNCTIONS").collect()]
        user = {row[0] for row in run_sql(self.spark, "SHOW USER FUNCTIONS").collect()}
        matched = sorted(name for name in names if _matches(regex, name))
        current = self.spark.catalog.currentDatabase()
        describe = len(matched) <= self.DESCRIBE_LIMIT
        out = []
        for name in matched:
            remarks = self._usage.get(name)
            if remarks is None and describe:
                remarks = self._describe(name)
                if name not in user:  # built-ins never change; session functions might
                    self._usage[name] = remarks
            schema, _, short = name.rpartition(".")
            out.append((None, schema or current, short, remarks or "", 0, name))
        return out

    def _describe(self, name: str) -> str:
        from gateway.engine.executor import run_sql

        try:
            rows = run_sql(self.spark, f"DESCRIBE FUNCTION `{name.replace('`', '``')}`").collect()
        except Exception:  # noqa: BLE001 - operators like `!` or `%` may not describe; keep the name
            return ""
        for (line,) in rows:
            if line.startswith("Usage:"):
                return line[len("Usage:"):].strip()
        return ""


class GetPrimaryKeys(MetadataOperation):
    op_type = base.UNKNOWN_TYPE
    columns = [("TABLE_CAT", S), ("TABLE_SCHEM", S), ("TABLE_NAME", S), ("COLUMN_NAME", S), ("KEY_SEQ", I32),
               ("PK_NAME", S)]

    def rows(self):
        return []  # Spark tables have no primary keys


class GetCrossReference(MetadataOperation):
    op_type = base.UNKNOWN_TYPE
    columns = [("PKTABLE_CAT", S), ("PKTABLE_SCHEM", S), ("PKTABLE_NAME", S), ("PKCOLUMN_NAME", S),
               ("FKTABLE_CAT", S), ("FKTABLE_SCHEM", S), ("FKTABLE_NAME", S), ("FKCOLUMN_NAME", S),
               ("KEY_SEQ", I32), ("UPDATE_RULE", I16), ("DELETE_RULE", I16), ("FK_NAME", S), ("PK_NAME", S),
               ("DEFERRABILITY", I16)]

    def rows(self):
        return []  # no foreign keys either


class GetTypeInfo(MetadataOperation):
    op_type = base.GET_TYPE_INFO
    columns = [("TYPE_NAME", S), ("DATA_TYPE", I32), ("PRECISION", I32), ("LITERAL_PREFIX", S),
               ("LITERAL_SUFFIX", S), ("CREATE_PARAMS", S), ("NULLABLE", I16), ("CASE_SENSITIVE", B),
               ("SEARCHABLE", I16), ("UNSIGNED_ATTRIBUTE", B), ("FIXED_PREC_SCALE", B), ("AUTO_INCREMENT", B),
               ("LOCAL_TYPE_NAME", S), ("MINIMUM_SCALE", I16), ("MAXIMUM_SCALE", I16), ("SQL_DATA_TYPE", I32),
               ("SQL_DATETIME_SUB", I32), ("NUM_PREC_RADIX", I32)]

    def rows(self):
        return type_info_rows()


@lru_cache(maxsize=1)
def type_info_rows() -> list[tuple]:
    """ODBC SQLGetTypeInfo rows for the types Spark supports."""
    # name, java.sql.Types, precision, prefix, suffix, create params, case sensitive, searchable, unsigned,
    # fixed prec/scale, max scale, radix
    specs = [
        ("VOID", 0, None, None, None, None, False, 3, True, False, 0, None),
        ("BOOLEAN", 16, None, None, None, None, False, 3, True, False, 0, None),
        ("TINYINT", -6, 3, None, None, None, False, 3, False, False, 0, 10),
        ("SMALLINT", 5, 5, None, None, None, False, 3, False, False, 0, 10),
        ("INT", 4, 10, None, None, None, False, 3, False, False, 0, 10),
        ("BIGINT", -5, 19, None, None, None, False, 3, False, False, 0, 10),
        ("FLOAT", 6, 7, None, None, None, False, 3, False, False, 0, 10),
        ("DOUBLE", 8, 15, None, None, None, False, 3, False, False, 0, 10),
        ("DECIMAL", 3, 38, None, None, "precision,scale", False, 3, False, False, 38, 10),
        ("STRING", 12, None, "'", "'", None, True, 3, True, False, 0, None),
        ("CHAR", 1, None, "'", "'", "length", True, 3, True, False, 0, None),
        ("VARCHAR", 12, None, "'", "'", "max length", True, 3, True, False, 0, None),
        ("BINARY", -2, None, "X'", "'", None, False, 0, True, False, 0, None),
        ("DATE", 91, 10, "DATE '", "'", None, False, 3, True, False, 0, None),
        ("TIMESTAMP", 93, 29, "TIMESTAMP '", "'", None, False, 3, True, False, 6, None),
        ("TIMESTAMP_NTZ", 93, 29, "TIMESTAMP_NTZ '", "'", None, False, 3, True, False, 6, None),
        ("INTERVAL_YEAR_MONTH", 1111, None, "INTERVAL '", "'", None, False, 0, True, False, 0, None),
        ("INTERVAL_DAY_TIME", 1111, None, "INTERVAL '", "'", None, False, 0, True, False, 6, None),
        ("ARRAY", 2003, None, None, None, None, False, 0, True, False, 0, None),
        ("MAP", 2000, None, None, None, None, False, 0, True, False, 0, None),
        ("STRUCT", 2002, None, None, None, None, False, 0, True, False, 0, None),
    ]
    return [(name, code, prec, prefix, suffix, params, 1, case, searchable, unsigned, fixed, False, None, 0,
             max_scale, None, None, radix)
            for name, code, prec, prefix, suffix, params, case, searchable, unsigned, fixed, max_scale, radix
            in specs]
