"""Split an MLSQL script into statements.

A ``;`` ends a statement only at the top level: never inside ``'...'`` / ``"..."`` strings (backslash
escapes as in Spark), ``r'...'`` raw strings, `` `back-quoted` `` names and paths (```` `` ```` is an
escaped back-quote), ``'''block strings'''``, ``-- line`` comments or ``/* block */`` comments (which
nest, as in Spark). A statement's text runs from its first token to its last token: comments before
the first token or after the last one are not part of it, and a chunk made only of comments is no
statement. An unterminated string, name or comment is a :class:`MLSQLSyntaxError` at its opening quote.

A ``'''`` that is never closed is read the Spark way instead (``''`` followed by ``'``), so plain SQL
that happens to contain three quotes in a row still splits as Spark would split it.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from dialect.errors import MLSQLSyntaxError

# One alternative per lexical element; "other" is a run of anything that cannot start one.
_SCAN = re.compile(
    r"""(?P<ws>\s+)
      | (?P<line>--[^\n]*)
      | (?P<block>/\*)
      | (?P<semi>;)
      | (?P<triple>''')
      | (?P<quote>['"])
      | (?P<bq>`(?:[^`]|``)*`)
      | (?P<open>`)
      | (?P<other>(?:[^\s'"`;/\-]|/(?!\*)|-(?!-))+)
    """,
    re.VERBOSE,
)
_STRINGS = {"'": re.compile(r"'(?:[^'\\]|\\.)*'", re.DOTALL), '"': re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)}
_COMMENT_EDGE = re.compile(r"/\*|\*/")


class LineIndex:
    """Maps 0-based character offsets of a text to 1-based (line, column)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def position(self, offset: int) -> tuple[int, int]:
        """1-based line and column of ``offset`` (clamped to the text)."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._starts, offset)
        return line, offset - self._starts[line - 1] + 1


@dataclass(frozen=True)
class Chunk:
    """One statement's source: its text and where it starts in the script (0-based offset, 1-based
    line and column)."""

    text: str
    start: int
    line: int
    column: int


def _skip_block_comment(text: str, pos: int, index: LineIndex) -> int:
    """Offset just after the (possibly nested) block comment opening at ``pos``."""
    depth = 0
    for m in _COMMENT_EDGE.finditer(text, pos):
        depth += 1 if m.group() == "/*" else -1
        if depth == 0:
            return m.end()
    line, column = index.position(pos)
    raise MLSQLSyntaxError("Unterminated /* comment: expected */", line, column)


def _string_end(text: str, pos: int, index: LineIndex) -> int:
    """End offset of the string literal whose quote is at ``pos`` (``r'...'``: no escapes)."""
    quote = text[pos]
    if pos > 0 and text[pos - 1] in "rR" and (pos < 2 or not (text[pos - 2].isalnum() or text[pos - 2] in "_$")):
        close_at = text.find(quote, pos + 1)
        if close_at >= 0:
            return close_at + 1
    else:
        m = _STRINGS[quote].match(text, pos)
        if m:
            return m.end()
    line, column = index.position(pos)
    raise MLSQLSyntaxError(f"Unterminated string: expected a closing {quote}", line, column)


def split_statements(text: str, index: LineIndex | None = None) -> list[Chunk]:
    """Split ``text`` into statement chunks (see the module docstring for the rules)."""
    index = index or LineIndex(text)
    chunks: list[Chunk] = []
    start = -1  # first significant offset of the current statement
    last_end = -1  # end offset of its last significant element
    pos, size = 0, len(text)

    def close() -> None:
        if start >= 0:
            line, column = index.position(start)
            chunks.append(Chunk(text[start:last_end], start, line, column))

    while pos < size:
        m = _SCAN.match(text, pos)
        assert m is not None  # the alternatives cover every character
        kind = m.lastgroup
        end = m.end()
        if kind in ("ws", "line"):
            pos = end
            continue
        if kind == "block":
            pos = _skip_block_comment(text, pos, index)
            continue
        if kind == "semi":
            close()
            start = last_end = -1
            pos = end
            continue
        if kind == "triple":
            close_at = text.find("'''", end)
            # never closed: Spark reads '' and then a new '...' string
            end = close_at + 3 if close_at >= 0 else pos + 2
        elif kind == "quote":
            end = _string_end(text, pos, index)
        elif kind == "open":
            line, column = index.position(pos)
            raise MLSQLSyntaxError("Unterminated back-quoted name: expected a closing `", line, column)
        if start < 0:
            start = pos
        last_end = end
        pos = end
    close()
    return chunks
