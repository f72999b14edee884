"""Parse Hive's JSON-like text form of ARRAY / MAP / STRUCT values into Python lists and dicts.

Hive text is not JSON: nested strings are quoted but never escaped (``"x"y"``), dates, timestamps, intervals and
binary values are bare tokens, and map keys may be unquoted numbers. The parser is tolerant:

* ``null`` -> None, ``true``/``false`` -> bool, integers -> int, other numbers -> float (decimals lose exactness),
* quoted strings end at a quote followed by ``,``, ``:``, ``]``, ``}`` or the end of the text,
* other bare tokens (dates, timestamps, intervals, binary) stay strings.

A string that itself contains ``",`` or ``"}`` can be cut at the wrong place; when the text cannot be parsed at
all the raw string is returned unchanged.
"""

from __future__ import annotations

import re
from typing import Any

_INT = re.compile(r"-?\d+\Z")
_FLOAT = re.compile(r"-?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?|Infinity)\Z|NaN\Z")
_STRING_END = frozenset(",:]}")


class _ParseError(ValueError):
    pass


def _bare(token: str) -> Any:
    if token == "null":
        return None
    if token == "true":
        return True
    if token == "false":
        return False
    if _INT.match(token):
        return int(token)
    if _FLOAT.match(token):
        return float(token)
    return token


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def value(self, stops: str) -> Any:
        text = self.text
        if self.pos >= len(text):
            raise _ParseError("unexpected end")
        ch = text[self.pos]
        if ch == "[":
            return self.array()
        if ch == "{":
            return self.obj()
        if ch == '"':
            return self.string()
        start = self.pos
        while self.pos < len(text) and text[self.pos] not in stops:
            self.pos += 1
        return _bare(text[start:self.pos])

    def string(self) -> str:
        text = self.text
        start = self.pos + 1
        i = start
        while True:
            j = text.find('"', i)
            if j < 0:
                raise _ParseError("unterminated string")
            if j + 1 == len(text) or text[j + 1] in _STRING_END:
                self.pos = j + 1
                return text[start:j]
            i = j + 1

    def expect(self, ch: str) -> None:
        if self.pos >= len(self.text) or self.text[self.pos] != ch:
            raise _ParseError(f"expected {ch!r} at {self.pos}")
        self.pos += 1

    def array(self) -> list[Any]:
        self.expect("[")
        out: list[Any] = []
        if self.text.startswith("]", self.pos):
            self.pos += 1
            return out
        while True:
            out.append(self.value(",]"))
            if self.text.startswith(",", self.pos):
                self.pos += 1
                continue
            self.expect("]")
            return out

    def obj(self) -> dict[Any, Any]:
        self.expect("{")
        out: dict[Any, Any] = {}
        if self.text.startswith("}", self.pos):
            self.pos += 1
            return out
        while True:
            key = self.value(":")
            self.expect(":")
            try:
                out[key] = self.value(",}")
            except TypeError as exc:  # unhashable key (a nested map/array used as a key)
                raise _ParseError(str(exc)) from exc
            if self.text.startswith(",", self.pos):
                self.pos += 1
                continue
            self.expect("}")
            return out


def parse_hive_text(text: str) -> Any:
    """Parse one complex value's Hive text; return ``text`` itself if it does not parse."""
    if not text or text[0] not in "[{":
        return text
    parser = _Parser(text)
    try:
        value = parser.value("")
    except (_ParseError, RecursionError):
        return text
    return value if parser.pos == len(text) else text
