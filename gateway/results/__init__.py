"""Result sets: Spark schemas as HS2 type descriptors, Hive text formatting, and TRowSet encoding."""

from gateway.results.fast_rowset import (
    ColumnPayload,
    encode_columnar_rowset,
    encode_fetch_results_resp,
    null_bitmap,
)
from gateway.results.hive_format import arrow_time_zone, format_values
from gateway.results.rowset import RowSetEncoder
from gateway.results.types import (
    JdbcTypeInfo,
    jdbc_type_info,
    raw_field_type,
    table_schema,
    ttype_id,
    type_desc,
    type_sql,
)

__all__ = [
    "ColumnPayload",
    "JdbcTypeInfo",
    "RowSetEncoder",
    "arrow_time_zone",
    "encode_columnar_rowset",
    "encode_fetch_results_resp",
    "format_values",
    "jdbc_type_info",
    "null_bitmap",
    "raw_field_type",
    "table_schema",
    "ttype_id",
    "type_desc",
    "type_sql",
]
