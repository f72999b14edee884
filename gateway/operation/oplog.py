"""Per-operation log lines, served to clients through FetchResults(fetchType=1)."""

from __future__ import annotations

import threading
import time


class OperationLog:
    """An append-only list of log lines with a read cursor (FETCH_NEXT reads new lines, FETCH_FIRST all)."""

    def __init__(self, max_lines: int = 10_000) -> None:
        self._lines: list[str] = []
        self._cursor = 0
        self._lock = threading.Lock()
        self._max_lines = max_lines
        self._dropped = 0

    def add(self, message: str) -> None:
        stamp = time.strftime("%y/%m/%d %H:%M:%S")
        with self._lock:
            if len(self._lines) >= self._max_lines:
                self._dropped += 1
                return
            self._lines.append(f"{stamp} INFO {message}")

    def read(self, max_lines: int, from_start: bool = False) -> list[str]:
        with self._lock:
            if from_start:
                self._cursor = 0
            end = min(len(self._lines), self._cursor + max(max_lines, 0))
            out = self._lines[self._cursor:end]
            self._cursor = end
            return out

    def all(self) -> list[str]:
        with self._lock:
            return list(self._lines)
