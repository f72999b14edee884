"""Answers to GetInfo (TGetInfoType codes), with ODBC-sensible defaults for the codes BI drivers ask."""

from __future__ import annotations

from gateway.engine.spark import spark_version
from thrift_idl.gen.TCLIService import ttypes

_T = ttypes.TGetInfoType


def info_value(info_type: int, user: str) -> ttypes.TGetInfoValue:
    """The TGetInfoValue for ``info_type``; unknown codes get an empty string rather than an error."""
    V = ttypes.TGetInfoValue
    strings = {
        _T.CLI_SERVER_NAME: "Spark SQL",
        _T.CLI_DBMS_NAME: "Spark SQL",
        _T.CLI_DBMS_VER: spark_version(),
        _T.CLI_DATA_SOURCE_NAME: "mlsql-gateway",
        _T.CLI_IDENTIFIER_QUOTE_CHAR: "`",
        _T.CLI_SEARCH_PATTERN_ESCAPE: "\\",
        _T.CLI_USER_NAME: user,
        _T.CLI_ACCESSIBLE_TABLES: "Y",
        _T.CLI_ACCESSIBLE_PROCEDURES: "N",
        _T.CLI_DATA_SOURCE_READ_ONLY: "N",
        _T.CLI_ORDER_BY_COLUMNS_IN_SELECT: "N",
        _T.CLI_SPECIAL_CHARACTERS: "",
        _T.CLI_DESCRIBE_PARAMETER: "N",
        _T.CLI_CATALOG_NAME: "N",
        _T.CLI_COLLATION_SEQ: "UTF-8",
        _T.CLI_XOPEN_CLI_YEAR: "1995",
        _T.CLI_INTEGRITY: "N",
        _T.CLI_ODBC_KEYWORDS: ",".join(ODBC_KEYWORDS),
    }
    lengths = {
        _T.CLI_MAX_COLUMN_NAME_LEN: 128,
        _T.CLI_MAX_SCHEMA_NAME_LEN: 128,
        _T.CLI_MAX_TABLE_NAME_LEN: 128,
        _T.CLI_MAX_CATALOG_NAME_LEN: 128,
        _T.CLI_MAX_CURSOR_NAME_LEN: 0,
        _T.CLI_MAX_IDENTIFIER_LEN: 128,
        _T.CLI_MAX_USER_NAME_LEN: 0,
        _T.CLI_MAX_ROW_SIZE: 0,
        _T.CLI_MAX_STATEMENT_LEN: 0,
        _T.CLI_MAX_INDEX_SIZE: 0,
    }
    small = {
        _T.CLI_MAX_DRIVER_CONNECTIONS: 0,
        _T.CLI_MAX_CONCURRENT_ACTIVITIES: 0,
        _T.CLI_TXN_CAPABLE: 0,  # SQL_TC_NONE
        _T.CLI_CURSOR_COMMIT_BEHAVIOR: 1,  # SQL_CB_CLOSE
        _T.CLI_IDENTIFIER_CASE: 4,  # SQL_IC_MIXED
        _T.CLI_NULL_COLLATION: 1,  # SQL_NC_LOW: nulls sort first ascending, as in Spark
        _T.CLI_MAX_COLUMNS_IN_GROUP_BY: 0,
        _T.CLI_MAX_COLUMNS_IN_INDEX: 0,
        _T.CLI_MAX_COLUMNS_IN_ORDER_BY: 0,
        _T.CLI_MAX_COLUMNS_IN_SELECT: 0,
        _T.CLI_MAX_COLUMNS_IN_TABLE: 0,
        _T.CLI_MAX_TABLES_IN_SELECT: 0,
        _T.CLI_CURSOR_SENSITIVITY: 0,
    }
    bitmasks = {
        _T.CLI_FETCH_DIRECTION: 0x1 | 0x2,  # SQL_FD_FETCH_NEXT | SQL_FD_FETCH_FIRST
        _T.CLI_DEFAULT_TXN_ISOLATION: 0,
        _T.CLI_TXN_ISOLATION_OPTION: 0,
        _T.CLI_SCROLL_CONCURRENCY: 1,  # SQL_SCCO_READ_ONLY
        _T.CLI_GETDATA_EXTENSIONS: 0x1 | 0x2,  # SQL_GD_ANY_COLUMN | SQL_GD_ANY_ORDER
        _T.CLI_ALTER_TABLE: 0x1 | 0x2,  # SQL_AT_ADD_COLUMN | SQL_AT_DROP_COLUMN
        _T.CLI_OJ_CAPABILITIES: 0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x20 | 0x40,
    }
    if info_type in strings:
        return V(stringValue=strings[info_type])
    if info_type in lengths:
        return V(lenValue=lengths[info_type])
    if info_type in small:
        return V(smallIntValue=small[info_type])
    if info_type in bitmasks:
        return V(integerBitmask=bitmasks[info_type])
    return V(stringValue="")


ODBC_KEYWORDS = (
    "ANTI", "ARRAY", "CACHE", "CLUSTER", "DATABASES", "DISTRIBUTE", "EXPLAIN", "EXTERNAL", "FUNCTIONS",
    "IGNORE", "LATERAL", "LIMIT", "MAP", "NAMESPACES", "PARTITIONED", "PIVOT", "QUALIFY", "RLIKE", "SEMI",
    "SORT", "STRUCT", "TABLESAMPLE", "TBLPROPERTIES", "TEMPORARY", "TRANSFORM", "UNCACHE", "UNPIVOT",
)
