"""Client-side parameter rendering: Python values as Spark SQL literals, and pyformat interpolation."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from .exc import NotSupportedError, ProgrammingError

# ``$`` is written as \u0024 so that Spark's ${var} substitution (which runs on the raw SQL text) cannot expand a
# parameter value such as '${spark.some.secret}'.
_STR_ESCAPES = str.maketrans({"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\0": "\\u0000",
                              "$": "\\u0024"})


def quote_string(value: str) -> str:
    """A Spark string literal: backslash escaping (Spark's lexer does not treat ``''`` as an escaped quote)."""
    return "'" + value.translate(_STR_ESCAPES) + "'"


def render_literal(value: Any) -> str:
    """Render ``value`` as a Spark SQL literal expression."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        if math.isnan(value):
            return "CAST('NaN' AS DOUBLE)"
        if math.isinf(value):
            return "CAST('Infinity' AS DOUBLE)" if value > 0 else "CAST('-Infinity' AS DOUBLE)"
        return repr(value) + "D"
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise NotSupportedError(f"cannot render non-finite Decimal {value!r} as a Spark literal")
        return format(value, "f") + "BD"
    if isinstance(value, str):
        return quote_string(value)
    if isinstance(value, dt.datetime):
        return "TIMESTAMP'" + value.isoformat(" ") + "'"
    if isinstance(value, dt.date):
        return "DATE'" + value.isoformat() + "'"
    if isinstance(value, dt.time):
        return quote_string(value.isoformat())
    if isinstance(value, dt.timedelta):
        return _interval_literal(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "X'" + bytes(value).hex().upper() + "'"
    if isinstance(value, Mapping):
        items = ", ".join(f"{render_literal(k)}, {render_literal(v)}" for k, v in value.items())
        return f"map({items})"
    if isinstance(value, (list, tuple, set, frozenset)):
        return "array(" + ", ".join(render_literal(v) for v in value) + ")"
    raise NotSupportedError(f"cannot render a parameter of type {type(value).__name__} as a Spark literal")


def _interval_literal(value: dt.timedelta) -> str:
    """A day-time interval literal: ``INTERVAL '7' DAY`` for whole days (what a RANGE frame over a DATE column
    needs), else ``INTERVAL '[-]d hh:mm:ss.ffffff' DAY TO SECOND``; exact to the microsecond."""
    micros = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
    sign = "-" if micros < 0 else ""
    days, rest = divmod(abs(micros), 86_400_000_000)
    if rest == 0:
        return f"INTERVAL '{sign}{days}' DAY"
    seconds, frac = divmod(rest, 1_000_000)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    return f"INTERVAL '{sign}{days} {hours:02d}:{minutes:02d}:{seconds:02d}.{frac:06d}' DAY TO SECOND"


_TOKEN = re.compile(r"%%|%\(([^()]*)\)s|%s")


def interpolate(operation: str, parameters: Mapping[str, Any] | Sequence[Any] | None) -> str:
    """Apply pyformat/format ``parameters`` to ``operation`` client-side.

    ``None`` leaves the SQL untouched (a literal ``%`` stays). Otherwise ``%%`` becomes ``%``,
    ``%(name)s`` takes a mapping value and ``%s`` the next positional value; a lone ``%`` that is neither
    is kept as is.
    """
    if parameters is None:
        return operation
    if isinstance(parameters, Mapping):
        mapping, positional = parameters, None
    elif isinstance(parameters, Sequence) and not isinstance(parameters, (str, bytes)):
        mapping, positional = None, list(parameters)
    else:
        raise ProgrammingError(f"parameters must be a mapping or a sequence, not {type(parameters).__name__}")
    index = 0

    def repl(match: re.Match[str]) -> str:
        nonlocal index
        token = match.group(0)
        if token == "%%":
            return "%"
        name = match.group(1)
        if name is not None:
            if mapping is None:
                raise ProgrammingError(f"named placeholder %({name})s needs a mapping of parameters")
            try:
                return render_literal(mapping[name])
            except KeyError:
                raise ProgrammingError(f"missing parameter {name!r}") from None
        if not positional:
            return token  # %s with a mapping / no positional values: literal text
        if index >= len(positional):
            raise ProgrammingError("not enough parameters for the %s placeholders")
        value = positional[index]
        index += 1
        return render_literal(value)

    sql = _TOKEN.sub(repl, operation)
    if positional and index != len(positional):
        raise ProgrammingError(f"{len(positional)} parameters given but {index} placeholders used")
    return sql


_INSERT_VALUES = re.compile(r"(?is)^(\s*insert\s+into\s.*?\bvalues\s*)(\(.*\))\s*;?\s*$")


def split_insert_values(operation: str) -> tuple[str, str] | None:
    """For ``INSERT INTO ... VALUES (<row template>)`` return (head, row template), else None."""
    match = _INSERT_VALUES.match(operation)
    if match is None:
        return None
    template = match.group(2)
    depth = 0
    for i, ch in enumerate(template):  # the template must be one balanced parenthesised row
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0 and i != len(template) - 1:
            return None
    return match.group(1), template


def batched_inserts(operation: str, seq_of_parameters: Sequence[Any], max_chars: int = 4 << 20,
                    max_rows: int = 5000) -> list[str] | None:
    """Multi-row ``INSERT ... VALUES (...), (...)`` statements for executemany, or None if not an INSERT."""
    parts = split_insert_values(operation)
    if parts is None:
        return None
    head, template = parts
    statements: list[str] = []
    rows: list[str] = []
    size = 0
    for params in seq_of_parameters:
        row = interpolate(template, params)
        if rows and (size + len(row) > max_chars or len(rows) >= max_rows):
            statements.append(head + ", ".join(rows))
            rows, size = [], 0
        rows.append(row)
        size += len(row) + 2
    if rows:
        statements.append(head + ", ".join(rows))
    return statements
