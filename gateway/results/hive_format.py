"""Vectorised Hive text formatting of Arrow columns, matching Spark's ``HiveResult.toHiveString``.

The Spark Thrift Server sends every type without a native TColumn variant (decimal, date, timestamp, intervals,
arrays, maps, structs, void) as text produced by ``HiveResult.toHiveString``. This module produces the same text
from Arrow arrays with ``pyarrow.compute`` and numpy, nested values included. Python runs per value only for
invalid UTF-8 (rare) and for TIMESTAMPs after 2037 in zones with daylight saving time (once per distinct
second, through ``zoneinfo``, because Arrow ignores the time zone rules beyond the tz database's table):

* decimal: plain notation keeping the scale (``1.10``, ``0.00000010``);
* date ``yyyy-MM-dd``; timestamp ``yyyy-MM-dd HH:mm:ss[.fraction]`` (trailing zeros of the fraction dropped),
  in the session time zone (TIMESTAMP) or as is (TIMESTAMP_NTZ); years above 9999 get a ``+`` sign;
* year-month interval ``[-]y-m``; day-time interval ``[-]d hh:mm:ss.nnnnnnnnn`` (Hive style, whatever the
  interval's fields);
* inside arrays/maps/structs: strings in double quotes (not escaped), nulls as ``null``, binary as its UTF-8
  text, floats and doubles as Java's ``Float.toString``/``Double.toString``; map entries sorted by their
  ``key:value`` text in Java string order; struct fields as ``"name":value``.

Types Arrow cannot carry (calendar interval, variant, geometry, time) must be cast to strings by the caller.
A user-defined type is formatted as its SQL type (Spark prints the user object's ``toString``).
"""

from __future__ import annotations

import codecs
import functools
import re
import zoneinfo
from datetime import datetime, timedelta, timezone

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import types as T

_STR = pa.string()
_NULL_STR = pa.scalar(None, _STR)
_MICROS_PER_DAY = 86_400_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ONE_MICRO = timedelta(microseconds=1)
_GREGORIAN_CYCLE_S = 146_097 * 86_400  # 400 years: calendars and time zone rules repeat
_MIN_DATETIME_S = (datetime(1, 1, 2, tzinfo=timezone.utc) - _EPOCH) // timedelta(seconds=1)
_MAX_DATETIME_S = (datetime(9999, 1, 1, tzinfo=timezone.utc) - _EPOCH) // timedelta(seconds=1)
# Local days/microseconds where the 4-digit years start and end.
_FIRST_DAY_OF_10000 = 2_932_897
_FIRST_MICRO_OF_10000 = _FIRST_DAY_OF_10000 * _MICROS_PER_DAY
_FIRST_MICRO_OF_0 = -719_528 * _MICROS_PER_DAY

# Java's ZoneId.SHORT_IDS, which Spark applies to the session time zone.
_SHORT_IDS = {
    "ACT": "Australia/Darwin",
    "AET": "Australia/Sydney",
    "AGT": "America/Argentina/Buenos_Aires",
    "ART": "Africa/Cairo",
    "AST": "America/Anchorage",
    "BET": "America/Sao_Paulo",
    "BST": "Asia/Dhaka",
    "CAT": "Africa/Harare",
    "CNT": "America/St_Johns",
    "CST": "America/Chicago",
    "CTT": "Asia/Shanghai",
    "EAT": "Africa/Addis_Ababa",
    "ECT": "Europe/Paris",
    "IET": "America/Indiana/Indianapolis",
    "IST": "Asia/Kolkata",
    "JST": "Asia/Tokyo",
    "MIT": "Pacific/Apia",
    "NET": "Asia/Yerevan",
    "NST": "Pacific/Auckland",
    "PLT": "Asia/Karachi",
    "PNT": "America/Phoenix",
    "PRT": "America/Puerto_Rico",
    "PST": "America/Los_Angeles",
    "SST": "Pacific/Guadalcanal",
    "VST": "Asia/Ho_Chi_Minh",
    "EST": "-05:00",
    "MST": "-07:00",
    "HST": "-10:00",
}
_OFFSET_RE = re.compile(r"^(?:GMT|UTC|UT)?([+-])(\d{1,2})(?::?(\d{2}))?(?::?(\d{2}))?$")

# Arrow's shortest float text -> Java's Double.toString/Float.toString layout: plain for 1e-3 <= |x| < 1e7
# (at least one fraction digit), otherwise d.dddE[-]n. Arrow prints plain text for 1e-6 <= |x| < 1e10.
# Each rule set only runs on the rows that need it.
_SCIENTIFIC_RULES = [  # Arrow "1e+10" / "1.5e-7" -> Java "1.0E10" / "1.5E-7"
    (r"^(-?\d)e\+?(-?\d+)$", r"\1.0E\2"),
    (r"^(-?\d)\.(\d+)e\+?(-?\d+)$", r"\1.\2E\3"),
]
_LARGE_PLAIN_RULES = [  # 1e7 <= |x| < 1e10, plain in Arrow: "12345678.5" -> "1.23456785E7"
    (r"^(-?)([1-9])(\d{7})(?:\.(\d+))?$", r"\1\2.\3\4E7"),
    (r"^(-?)([1-9])(\d{8})(?:\.(\d+))?$", r"\1\2.\3\4E8"),
    (r"^(-?)([1-9])(\d{9})(?:\.(\d+))?$", r"\1\2.\3\4E9"),
    (r"^(-?\d+\.\d*?)0+E", r"\1E"),
    (r"\.E", r".0E"),
]
_SMALL_PLAIN_RULES = [  # 1e-6 <= |x| < 1e-3, plain in Arrow: "0.000123" -> "1.23E-4"
    (r"^(-?)0\.000([1-9])(\d*)$", r"\1\2.\3E-4"),
    (r"^(-?)0\.0000([1-9])(\d*)$", r"\1\2.\3E-5"),
    (r"^(-?)0\.00000([1-9])(\d*)$", r"\1\2.\3E-6"),
    (r"\.E", r".0E"),
]


def arrow_time_zone(tz: str) -> str:
    """A Spark session time zone id (``America/Los_Angeles``, ``+08:00``, ``GMT+8``, ``PST``, ``Z``) in a form
    the Arrow time zone database accepts."""
    tz = tz.strip()
    if tz in ("Z", "GMT", "UT", "UTC", "Etc/UTC"):
        return "UTC"
    if tz in _SHORT_IDS:
        return _SHORT_IDS[tz]
    m = _OFFSET_RE.match(tz)
    if m:
        sign, hours, minutes = m.group(1), int(m.group(2)), int(m.group(3) or 0)
        return f"{sign}{hours:02d}:{minutes:02d}"
    return tz


def _as_array(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def _cat(*parts: pa.Array | pa.Scalar | str) -> pa.Array:
    """Element-wise concatenation (null if any part is null)."""
    return pc.binary_join_element_wise(*parts, "")


def _with_nulls_of(source: pa.Array, strings: pa.Array) -> pa.Array:
    """``strings`` with the null slots of ``source``."""
    if source.null_count == 0:
        return strings
    return pc.if_else(source.is_valid(), strings, _NULL_STR)


def _java_utf8_replace(err: UnicodeError) -> tuple[str, int]:
    """Decode errors the way Java's ``new String(bytes, UTF_8)`` does: one U+FFFD per maximal invalid subpart
    (as Python), except that a 3-byte encoded surrogate (ED A0..BF, plus a continuation byte if present) is a
    single U+FFFD."""
    assert isinstance(err, UnicodeDecodeError)
    data, start = err.object, err.start
    if data[start] == 0xED and start + 1 < len(data) and 0xA0 <= data[start + 1] <= 0xBF:
        end = start + 2
        if end < len(data) and 0x80 <= data[end] <= 0xBF:
            end += 1
        return "\ufffd", end
    return "\ufffd", err.end


codecs.register_error("mlsql-java-utf8", _java_utf8_replace)


def valid_utf8(arr: pa.Array) -> pa.Array:
    """A string array whose invalid UTF-8 sequences are replaced by U+FFFD (as Java's decoder does)."""
    arr = _as_array(arr)
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        try:
            arr.validate(full=True)
            return arr
        except pa.ArrowInvalid:
            arr = arr.view(pa.large_binary() if pa.types.is_large_string(arr.type) else pa.binary())
    try:
        return arr.cast(pa.large_string() if pa.types.is_large_binary(arr.type) else _STR)
    except pa.ArrowInvalid:
        texts = [None if b is None else b.decode("utf-8", "mlsql-java-utf8") for b in arr.to_pylist()]
        return pa.array(texts, _STR)


def format_decimal(arr: pa.Array) -> pa.Array:
    """Decimals as plain text keeping the scale (Java ``BigDecimal.toPlainString``)."""
    scale = arr.type.scale
    if arr.type.bit_width != 128:
        arr = arr.cast(pa.decimal128(38, scale))
    words = np.frombuffer(arr.buffers()[1], dtype=np.int64)[2 * arr.offset : 2 * (arr.offset + len(arr))]
    low, high = words[0::2], words[1::2]
    if arr.type.precision <= 18 or bool((high == (low >> 63)).all()):  # every unscaled value fits an int64
        if scale == 0:
            return _with_nulls_of(arr, pa.array(low).cast(_STR))
        negative, magnitude = _magnitude(low)
        sign = pc.if_else(pa.array(negative), "-", "")
        if scale > 18:  # 10**scale exceeds every int64 magnitude
            text = _cat(sign, "0.", _zero_padded(magnitude, 19, scale))
        else:
            whole, fraction = np.divmod(magnitude, np.uint64(10**scale))
            text = _cat(sign, pa.array(whole).cast(_STR), ".", _zero_padded(fraction, scale))
        return _with_nulls_of(arr, text)
    # The unscaled integer: the same buffers read as a scale-0 decimal, which Arrow prints plainly.
    unscaled = pa.Array.from_buffers(pa.decimal128(38, 0), len(arr), arr.buffers(), offset=arr.offset)
    text = unscaled.cast(_STR)
    if scale == 0:
        return text
    negative = pc.starts_with(text, "-")
    digits = pc.utf8_lpad(pc.utf8_ltrim(text, characters="-"), width=scale + 1, padding="0")
    sign = pc.if_else(negative, "-", "")
    return _cat(
        sign, pc.utf8_slice_codeunits(digits, 0, -scale), ".", pc.utf8_slice_codeunits(digits, -scale)
    )


def _zero_padded(values: np.ndarray, digits: int, width: int = 0) -> pa.Array:
    """``values`` (0 <= v < 10**digits, digits <= 19) as decimal text zero-padded to ``width`` (default
    ``digits``)."""
    if digits <= 18:
        text = pc.utf8_slice_codeunits(
            pa.array(values.astype(np.uint64) + np.uint64(10**digits)).cast(_STR), 1
        )
    else:
        text = pc.utf8_lpad(pa.array(values.astype(np.uint64)).cast(_STR), width=digits, padding="0")
    return pc.utf8_lpad(text, width=width, padding="0") if width > digits else text


def _plus_for_big_years(text: pa.Array, big: np.ndarray) -> pa.Array:
    """Java prints years above 9999 with a '+' sign."""
    return pc.if_else(pa.array(big), _cat("+", text), text) if big.any() else text


def format_date(arr: pa.Array) -> pa.Array:
    """Dates as ``yyyy-MM-dd`` (``+10000-01-01`` and ``-0001-01-01`` outside the 4-digit years)."""
    days = arr.cast(pa.date32())
    text = days.cast(_STR)
    return _plus_for_big_years(text, days.view(pa.int32()).fill_null(0).to_numpy() >= _FIRST_DAY_OF_10000)


@functools.lru_cache(maxsize=64)
def _zone_rule_cutoff(zone: str) -> int | None:
    """UTC microseconds from which Arrow's offsets for ``zone`` cannot be trusted, or None.

    Arrow reads only the transition table of the system TZif files and ignores their POSIX footer rule, so
    daylight saving time stops after the table (2037 for "fat" files, earlier for "slim" ones). Probing
    against ``zoneinfo`` (which applies the footer, like Java) finds where they part.
    """
    try:
        tz = zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return None
    probes = [datetime(y, m, 1, 12, tzinfo=timezone.utc) for y in range(1970, 2046) for m in (1, 4, 7, 10)]
    utc = np.array([(p - _EPOCH) // _ONE_MICRO for p in probes], dtype=np.int64)
    try:
        arrow_local = pc.local_timestamp(pa.array(utc, pa.timestamp("us", tz=zone)))
    except pa.ArrowInvalid:
        return int(np.iinfo(np.int64).min)
    ours = arrow_local.view(pa.int64()).to_numpy()
    theirs = np.array(
        [(p.astimezone(tz).replace(tzinfo=timezone.utc) - _EPOCH) // _ONE_MICRO for p in probes]
    )
    wrong = np.flatnonzero(ours != theirs)
    if wrong.size == 0:
        return None
    year = min(probes[int(wrong[0])].year - 1, 2037)
    return int((datetime(year, 1, 1, tzinfo=timezone.utc) - _EPOCH) // _ONE_MICRO)


def _zoneinfo_offsets(zone: str, utc: np.ndarray) -> np.ndarray:
    """UTC offsets (microseconds) of ``zone`` at the given UTC microseconds, computed with ``zoneinfo``."""
    tz = zoneinfo.ZoneInfo(zone)
    seconds, inverse = np.unique(np.floor_divide(utc, 1_000_000), return_inverse=True)
    offsets = np.empty(len(seconds), dtype=np.int64)
    for i, s in enumerate(seconds.tolist()):
        if s >= _MAX_DATETIME_S:  # beyond datetime: the same instant 400*k years earlier has the same offset
            s -= ((s - _MAX_DATETIME_S) // _GREGORIAN_CYCLE_S + 1) * _GREGORIAN_CYCLE_S
        elif s < _MIN_DATETIME_S:
            s += ((_MIN_DATETIME_S - s) // _GREGORIAN_CYCLE_S + 1) * _GREGORIAN_CYCLE_S
        offset = (_EPOCH + timedelta(seconds=s)).astimezone(tz).utcoffset() or timedelta(0)
        offsets[i] = offset // _ONE_MICRO
    return offsets[inverse.reshape(-1)]


def _local_timestamps(arr: pa.Array, time_zone: str) -> pa.Array:
    """Wall-clock timestamps (tz-naive, us) of ``arr`` in ``time_zone``, with Java's rules after 2037."""
    zone = arrow_time_zone(time_zone)
    aware = arr.cast(pa.timestamp("us", tz=zone))
    utc = aware.view(pa.int64()).fill_null(0).to_numpy()
    cutoff = _zone_rule_cutoff(zone)
    if cutoff is None:
        return pc.local_timestamp(aware)
    if cutoff == np.iinfo(np.int64).min:  # zone unknown to Arrow
        local = utc + _zoneinfo_offsets(zone, utc)
    else:
        local = pc.local_timestamp(aware).view(pa.int64()).fill_null(0).to_numpy().copy()
        late = utc >= cutoff
        if late.any():
            local[late] = utc[late] + _zoneinfo_offsets(zone, utc[late])
    return pa.array(local.view("datetime64[us]"), pa.timestamp("us"))


def _matrix_strings(matrix: np.ndarray, lengths: np.ndarray) -> pa.Array:
    """A string array from the rows of an ASCII uint8 matrix, each row cut to ``lengths``."""
    offsets = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])
    data = matrix[np.arange(matrix.shape[1]) < lengths[:, None]].tobytes()
    large = pa.Array.from_buffers(
        pa.large_string(), len(lengths), [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )
    return large.cast(_STR)


def format_timestamp(arr: pa.Array, time_zone: str | None) -> pa.Array:
    """Timestamps as ``yyyy-MM-dd HH:mm:ss[.ffffff]`` without trailing zeros; ``time_zone=None`` for NTZ."""
    local = arr.cast(pa.timestamp("us")) if time_zone is None else _local_timestamps(arr, time_zone)
    micros = local.view(pa.int64()).fill_null(0).to_numpy()
    full = local.fill_null(0).cast(_STR)  # "yyyy-MM-dd HH:mm:ss.ffffff"
    four_digit_years = bool(((micros >= _FIRST_MICRO_OF_0) & (micros < _FIRST_MICRO_OF_10000)).all())
    if four_digit_years and len(full):
        # Every text is 26 characters: cut the fraction's trailing zeros (and the dot) from a byte matrix.
        fraction = np.mod(micros, 1_000_000)
        zeros = sum((fraction % 10**k == 0).astype(np.int64) for k in range(1, 6))
        lengths = np.where(fraction == 0, 19, 26 - zeros)
        first = np.frombuffer(full.buffers()[1], dtype=np.int32)[full.offset]
        data = np.frombuffer(full.buffers()[2], dtype=np.uint8)[first : first + 26 * len(full)]
        text = _matrix_strings(data.reshape(len(full), 26), lengths)
    else:
        text = pc.replace_substring_regex(full, pattern=r"\.?0+$", replacement="")
        text = _plus_for_big_years(text, micros >= _FIRST_MICRO_OF_10000)
    return _with_nulls_of(arr, text)


def _magnitude(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(is negative, absolute value as uint64), exact even for the minimum int64."""
    v = values.astype(np.int64)
    negative = v < 0
    u = v.view(np.uint64)
    return negative, np.where(negative, ~u + np.uint64(1), u)


def format_year_month_interval(arr: pa.Array) -> pa.Array:
    """Year-month intervals (Arrow int32 months) in Hive style: ``1-2``, ``-1-2``."""
    months = arr.view(pa.int32()) if arr.type != pa.int32() else arr
    negative, a = _magnitude(months.fill_null(0).to_numpy())
    text = _cat(
        pc.if_else(pa.array(negative), "-", ""),
        pa.array(a // 12).cast(_STR),
        "-",
        pa.array(a % 12).cast(_STR),
    )
    return _with_nulls_of(arr, text)


def format_day_time_interval(arr: pa.Array) -> pa.Array:
    """Day-time intervals (microseconds) in Hive style: ``1 02:03:04.500000000``."""
    micros = arr.cast(pa.duration("us")).view(pa.int64()).fill_null(0).to_numpy()
    negative, a = _magnitude(micros)
    days, rest = np.divmod(a, np.uint64(_MICROS_PER_DAY))
    # The time of day of `rest` microseconds, as Arrow prints a timestamp: "1970-01-01 hh:mm:ss.ffffff".
    clock = pc.utf8_slice_codeunits(pa.array(rest.astype(np.int64).astype("datetime64[us]")).cast(_STR), 10)
    sign = pc.if_else(pa.array(negative), "-", "")
    return _with_nulls_of(arr, _cat(sign, pa.array(days).cast(_STR), clock, "000"))


def _rewrite_rows(text: pa.Array, rows: np.ndarray, rules: list[tuple[str, str]]) -> pa.Array:
    """Apply regex ``rules`` to the rows of ``text`` selected by the boolean mask ``rows``."""
    if not rows.any():
        return text
    mask = pa.array(rows)
    part = text.filter(mask)
    for pattern, replacement in rules:
        part = pc.replace_substring_regex(part, pattern=pattern, replacement=replacement)
    return pc.replace_with_mask(text, mask, part)


def format_java_float(arr: pa.Array) -> pa.Array:
    """Floats/doubles as Java's ``Float.toString``/``Double.toString`` (shortest round-trip digits)."""
    text = arr.cast(_STR)
    values = arr.fill_null(0).to_numpy(zero_copy_only=False)
    one = values.dtype.type(1)
    magnitude = np.abs(values)
    finite = np.isfinite(values)
    scientific = finite & ((magnitude >= one * 1e10) | ((magnitude < one * 1e-6) & (magnitude > 0)))
    large = finite & (magnitude >= one * 1e7) & ~scientific
    small = finite & (magnitude < one * 1e-3) & (magnitude > 0) & ~scientific
    plain = finite & ~(scientific | large | small)
    text = _rewrite_rows(text, scientific, _SCIENTIFIC_RULES)
    text = _rewrite_rows(text, large, _LARGE_PLAIN_RULES)
    text = _rewrite_rows(text, small, _SMALL_PLAIN_RULES)
    if plain.any():
        whole = pa.array(plain) if not plain.all() else None
        dotted = pc.match_substring(text, ".")
        needs_zero = dotted if whole is None else pc.or_(dotted, pc.invert(whole))
        text = pc.if_else(needs_zero, text, _cat(text, ".0"))
    if not finite.all():
        text = pc.replace_substring(pc.replace_substring(text, "nan", "NaN"), "inf", "Infinity")
    return _with_nulls_of(arr, text)


def _list_parts(arr: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """(offsets rebased to 0, the child values they cover) of a list or map array."""
    offsets = arr.offsets.to_numpy()
    start, stop = int(offsets[0]), int(offsets[-1])
    return offsets - start, arr.values.slice(start, stop - start)


def _join_lists(offsets: np.ndarray, items: pa.Array, opener: str, closer: str) -> pa.Array:
    lists = pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), items.cast(_STR))
    return _cat(opener, pc.binary_join(lists, ","), closer)


def _java_order_key(entries: pa.Array) -> pa.Array:
    """A binary sort key whose byte order is Java's UTF-16 ``String.compareTo`` order.

    UTF-8 byte order is code point order; UTF-16 differs only in putting U+E000..U+FFFF after the supplementary
    planes. Those characters' UTF-8 lead bytes EE/EF never occur elsewhere, so moving them above F4 suffices.
    """
    key = entries.cast(pa.binary())
    key = pc.replace_substring(key, b"\xee", b"\xf5")
    return pc.replace_substring(key, b"\xef", b"\xf6")


def _format_map(arr: pa.Array, dt: T.MapType, time_zone: str) -> pa.Array:
    offsets, entries = _list_parts(arr)
    keys = format_values(entries.field(0), dt.keyType, time_zone, nested=True)
    values = format_values(entries.field(1), dt.valueType, time_zone, nested=True)
    pairs = _cat(keys, ":", values)
    if len(pairs) > 1:
        owner = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
        ascii_only = pc.all(pc.string_is_ascii(pairs)).as_py() is not False
        key = pairs if ascii_only else _java_order_key(pairs)
        table = pa.table({"owner": owner, "key": key})
        order = pc.sort_indices(table, sort_keys=[("owner", "ascending"), ("key", "ascending")])
        pairs = pairs.take(order)
    return _with_nulls_of(arr, _join_lists(offsets, pairs, "{", "}"))


def _format_struct(arr: pa.Array, dt: T.StructType, time_zone: str) -> pa.Array:
    if not dt.fields:
        return _with_nulls_of(arr, pa.array(["{}"] * len(arr), _STR))
    parts: list[pa.Array | str] = []
    for i, f in enumerate(dt.fields):
        parts.append(('{"' if i == 0 else ',"') + f.name + '":')
        parts.append(format_values(arr.field(i), f.dataType, time_zone, nested=True))
    parts.append("}")
    return _with_nulls_of(arr, _cat(*parts))


def _format_fallback(arr: pa.Array, nested: bool) -> pa.Array:
    """Types this module does not know: strings pass through, others use Python's ``str``."""
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        text = valid_utf8(arr).cast(_STR)
        return _with_nulls_of(arr, _cat('"', text, '"')) if nested else text
    return pa.array([None if v is None else str(v) for v in arr.to_pylist()], _STR)


def format_values(
    arr: pa.Array | pa.ChunkedArray, dt: T.DataType, time_zone: str, nested: bool = False
) -> pa.Array:
    """Hive text of every value of ``arr`` (a column of Spark type ``dt``) as a string array.

    Top level (``nested=False``): nulls stay null and strings are unchanged. Inside complex values
    (``nested=True``): nulls become ``null``, strings are quoted and floats use Java's notation.
    ``time_zone`` is the session time zone used for TIMESTAMP values.
    """
    arr = _as_array(arr)
    while isinstance(dt, T.UserDefinedType):
        dt = dt.sqlType()
    if isinstance(dt, T.NullType) or pa.types.is_null(arr.type):
        text = pa.nulls(len(arr), _STR)
    elif isinstance(dt, T.BooleanType):
        text = pc.if_else(arr, "true", "false")
    elif isinstance(dt, T.IntegralType):
        text = arr.cast(_STR)
    elif isinstance(dt, (T.FloatType, T.DoubleType)):
        text = format_java_float(arr)
    elif isinstance(dt, T.DecimalType):
        text = format_decimal(arr)
    elif isinstance(dt, (T.StringType, T.CharType, T.VarcharType)):
        text = valid_utf8(arr).cast(_STR)
        if nested:
            text = _cat('"', text, '"')
    elif isinstance(dt, T.BinaryType):
        text = valid_utf8(arr).cast(_STR)
    elif isinstance(dt, T.DateType):
        text = format_date(arr)
    elif isinstance(dt, T.TimestampType):
        text = format_timestamp(arr, time_zone)
    elif isinstance(dt, T.TimestampNTZType):
        text = format_timestamp(arr, None)
    elif isinstance(dt, T.YearMonthIntervalType):
        text = format_year_month_interval(arr)
    elif isinstance(dt, T.DayTimeIntervalType):
        text = format_day_time_interval(arr)
    elif isinstance(dt, T.ArrayType):
        offsets, items = _list_parts(arr)
        inner = format_values(items, dt.elementType, time_zone, nested=True)
        text = _with_nulls_of(arr, _join_lists(offsets, inner, "[", "]"))
    elif isinstance(dt, T.MapType):
        text = _format_map(arr, dt, time_zone)
    elif isinstance(dt, T.StructType):
        text = _format_struct(arr, dt, time_zone)
    else:
        text = _format_fallback(arr, nested)
    return text.fill_null("null") if nested else text
