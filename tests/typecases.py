"""One query over every Spark type, with what each real client must return for it.

The query has three rows: row 0 and row 1 hold typical and extreme values, row 2 is NULL in every column (so the
null bitmaps are exercised for every column kind). ``c_null`` (the void type) is NULL in every row.

The expected Hive text forms were checked against Spark's own Thrift server (pyspark 4.3.0) with the same clients:
they are what ``HiveResult.toHiveString`` produces (nested strings quoted, top-level strings not, timestamps
without trailing zeros, day-time intervals ``d hh:mm:ss.nnnnnnnnn``).
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Col:
    name: str
    row0: str  # SQL expression of the value in row 0
    row1: str  # ... in row 1
    type_name: str  # TTypeId name without "_TYPE" (also impyla's description type code)
    text: tuple[str, str]  # the Hive text form of rows 0 and 1 (what the server sends as a string)
    pyhive: tuple  # PyHive values of rows 0 and 1 (DECIMAL -> Decimal, TIMESTAMP -> datetime, else as sent)
    impyla: tuple | None = None  # impyla values when they differ from PyHive's; see IMPYLA_TYPES
    beeline: tuple[str, str] | None = None  # beeline's rendering when it differs from ``text``
    precision: int | None = None
    scale: int | None = None

    def sql(self) -> str:
        if self.name == "c_null":
            return "NULL AS c_null"
        return f"CASE id WHEN 0 THEN {self.row0} WHEN 1 THEN {self.row1} END AS {self.name}"


TS0 = dt.datetime(2024, 1, 2, 3, 4, 5, 500000)
TS1 = dt.datetime(1969, 12, 31, 23, 59, 59, 1)
NTZ0 = dt.datetime(2024, 1, 2, 3, 4, 5, 123456)
NTZ1 = dt.datetime(2000, 1, 1)
DEC38 = "-12345678901234567890.123456789012345678"
STRUCT0 = '{"a":"x"y","b":[{"c":null,"d":{1:"v"}}]}'  # Hive text does not escape nested quotes
MIX = ('{"b":hi,"d":2024-01-01,"ts":2024-01-02 03:04:05.5,"dec":1.50,"f":0.1,"ntz":2000-01-01 00:00:00,'
       '"dt":-1 00:00:00.500000000}')
MIX_SQL = ("named_struct('b', X'6869', 'd', DATE'2024-01-01', 'ts', TIMESTAMP'2024-01-02 03:04:05.5', "
           "'dec', CAST(1.50 AS DECIMAL(4, 2)), 'f', CAST(0.1 AS FLOAT), 'ntz', TIMESTAMP_NTZ'2000-01-01 00:00:00', "
           "'dt', INTERVAL '-1 00:00:00.5' DAY TO SECOND)")

COLUMNS: list[Col] = [
    Col("c_bool", "true", "false", "BOOLEAN", ("true", "false"), (True, False)),
    Col("c_tinyint", "CAST(-128 AS TINYINT)", "CAST(127 AS TINYINT)", "TINYINT", ("-128", "127"), (-128, 127)),
    Col("c_smallint", "CAST(-32768 AS SMALLINT)", "CAST(300 AS SMALLINT)", "SMALLINT", ("-32768", "300"),
        (-32768, 300)),
    Col("c_int", "-2147483648", "2147483647", "INT", ("-2147483648", "2147483647"), (-2147483648, 2147483647)),
    Col("c_bigint", "9007199254740993", "-9223372036854775808", "BIGINT",
        ("9007199254740993", "-9223372036854775808"), (9007199254740993, -9223372036854775808)),
    # FLOAT goes through the float's shortest decimal text: 0.1f arrives as 0.1, not 0.10000000149011612.
    Col("c_float", "CAST(0.1 AS FLOAT)", "CAST(-3.4028235e38 AS FLOAT)", "FLOAT", ("0.1", "-3.4028235E38"),
        (0.1, -3.4028235e38)),
    Col("c_double", "-2.5e-3D", "1.7976931348623157E308D", "DOUBLE", ("-0.0025", "1.7976931348623157E308"),
        (-0.0025, 1.7976931348623157e308)),
    Col("c_dec", "CAST(-123.45 AS DECIMAL(5, 2))", "CAST(0.07 AS DECIMAL(5, 2))", "DECIMAL", ("-123.45", "0.07"),
        (Decimal("-123.45"), Decimal("0.07")), precision=5, scale=2),
    Col("c_dec38", f"CAST('{DEC38}' AS DECIMAL(38, 18))", "CAST('0.000000000000000001' AS DECIMAL(38, 18))",
        "DECIMAL", (DEC38, "0.000000000000000001"), (Decimal(DEC38), Decimal("0.000000000000000001")),
        beeline=(DEC38, "1E-18"), precision=38, scale=18),  # hive-jdbc prints BigDecimal.toString()
    Col("c_str", "'héllo ünï€😀'", "''", "STRING", ("héllo ünï€😀", ""), ("héllo ünï€😀", "")),
    Col("c_tab", "'a\\tb'", "'line1\\nline2'", "STRING", ("a\tb", "line1\nline2"), ("a\tb", "line1\nline2"),
        beeline=("a\tb", "line1line2")),  # beeline's separated-value output drops line breaks
    # BINARY is sent as bytes; its "text" here is what hive-jdbc's getString shows (the bytes decoded as UTF-8).
    Col("c_bin", "X'00FF41'", "X''", "BINARY", ("\x00\ufffdA", ""), (b"\x00\xffA", b"")),
    Col("c_date", "DATE'2024-02-29'", "DATE'0001-01-01'", "DATE", ("2024-02-29", "0001-01-01"),
        ("2024-02-29", "0001-01-01"), impyla=(dt.date(2024, 2, 29), dt.date(1, 1, 1))),
    Col("c_ts", "TIMESTAMP'2024-01-02 03:04:05.5'", "TIMESTAMP'1969-12-31 23:59:59.000001'", "TIMESTAMP",
        ("2024-01-02 03:04:05.5", "1969-12-31 23:59:59.000001"), (TS0, TS1)),
    Col("c_ntz", "TIMESTAMP_NTZ'2024-01-02 03:04:05.123456'", "TIMESTAMP_NTZ'2000-01-01 00:00:00'", "TIMESTAMP",
        ("2024-01-02 03:04:05.123456", "2000-01-01 00:00:00"), (NTZ0, NTZ1),
        beeline=("2024-01-02 03:04:05.123456", "2000-01-01 00:00:00.0")),  # java.sql.Timestamp.toString()
    Col("c_dt", "INTERVAL '3 04:05:06.789' DAY TO SECOND", "INTERVAL '-0 00:00:01' DAY TO SECOND",
        "INTERVAL_DAY_TIME", ("3 04:05:06.789000000", "-0 00:00:01.000000000"),
        ("3 04:05:06.789000000", "-0 00:00:01.000000000")),
    Col("c_arr", "array(1, NULL, 3)", "array()", "ARRAY", ("[1,null,3]", "[]"), ("[1,null,3]", "[]"),
        impyla=(b"[1,null,3]", b"[]")),  # impyla leaves ARRAY values as bytes
    Col("c_map", "map('k', 1, 'n', NULL)", "map()", "MAP", ('{"k":1,"n":null}', "{}"), ('{"k":1,"n":null}', "{}")),
    Col("c_struct", "named_struct('a', 'x\"y', 'b', array(named_struct('c', CAST(NULL AS STRING), 'd', map(1, 'v'))))",
        "named_struct('a', '', 'b', array())", "STRUCT", (STRUCT0, '{"a":"","b":[]}'), (STRUCT0, '{"a":"","b":[]}')),
    Col("c_nested", "array(array('a', NULL), NULL)", "array(array(), array('tab\\there', ''))", "ARRAY",
        ('[["a",null],null]', '[[],["tab\there",""]]'), ('[["a",null],null]', '[[],["tab\there",""]]'),
        impyla=(b'[["a",null],null]', b'[[],["tab\there",""]]')),
    # Map entries are printed sorted by their text, as Spark's HiveResult does.
    Col("c_map_ts", "map('t', TIMESTAMP'2024-01-02 03:04:05.5', 'n', NULL)", "map('z', TIMESTAMP_NTZ'2000-01-01 00:00:00')",
        "MAP", ('{"n":null,"t":2024-01-02 03:04:05.5}', '{"z":2000-01-01 00:00:00}'),
        ('{"n":null,"t":2024-01-02 03:04:05.5}', '{"z":2000-01-01 00:00:00}')),
    Col("c_mix", MIX_SQL, MIX_SQL, "STRUCT", (MIX, MIX), (MIX, MIX)),
    Col("c_null", "NULL", "NULL", "NULL", ("NULL", "NULL"), (None, None)),
]

# impyla 0.24's TTypeId table stops at CHAR_TYPE: it cannot describe interval columns (with any server).
IMPYLA_TYPES = [c for c in COLUMNS if not c.type_name.startswith("INTERVAL")]


def types_sql(columns: list[Col] = COLUMNS) -> str:
    body = ",\n  ".join(c.sql() for c in columns)
    return f"SELECT\n  {body}\nFROM range(0, 3, 1, 1)"


def expected_rows(columns: list[Col], client: str) -> list[tuple]:
    """Rows 0..2 as ``client`` ("pyhive" or "impyla") returns them."""
    rows = []
    for r in (0, 1):
        values = []
        for c in columns:
            source = c.impyla if client == "impyla" and c.impyla is not None else c.pyhive
            values.append(source[r])
        rows.append(tuple(values))
    rows.append(tuple(None for _ in columns))
    return rows


def beeline_rows(columns: list[Col] = COLUMNS) -> list[list[str]]:
    """The data rows as beeline's tsv2/csv2 output shows them (NULL for nulls)."""
    rows = []
    for r in (0, 1):
        rows.append([(c.beeline or c.text)[r] for c in columns])
    rows.append(["NULL" for _ in columns])
    return rows


# Year-month intervals (kept apart so that a failure there does not hide the other types).
YM_SQL = ("SELECT CASE id WHEN 0 THEN INTERVAL '1-2' YEAR TO MONTH WHEN 1 THEN INTERVAL '-0-3' YEAR TO MONTH END AS c_ym, "
          "CASE id WHEN 0 THEN array(INTERVAL '10-0' YEAR TO MONTH, NULL) END AS c_ym_arr, "
          "named_struct('m', make_ym_interval(0, 13)) AS c_ym_st FROM range(0, 3, 1, 1)")
YM_ROWS = [("1-2", "[10-0,null]", '{"m":1-1}'), ("-0-3", None, '{"m":1-1}'), (None, None, '{"m":1-1}')]

# 250k rows of (bigint, string, double): exact checksums.
BIG_ROWS = 250_000
BIG_SQL = f"SELECT id, concat('row-', CAST(id AS STRING)) AS name, id / 4 AS quarter FROM range({BIG_ROWS})"
BIG_ID_SUM = BIG_ROWS * (BIG_ROWS - 1) // 2
BIG_QUARTER_SUM = BIG_ID_SUM / 4  # every partial sum is a multiple of 0.25 below 2**33: exact in a double


def big_row(i: int) -> tuple:
    return (i, f"row-{i}", i / 4)


def parse_separated(text: str, delimiter: str = "\t") -> list[list[str]]:
    """Parse beeline tsv2/csv2 output lines (beeline quotes fields with NUL characters when needed)."""
    return list(csv.reader(text.splitlines(), delimiter=delimiter, quotechar="\0"))
