"""Exceptions raised by the MLSQL language layer.

Every error carries a 1-based ``line`` and ``column`` inside the whole script that was submitted
(``None`` only when an error has no source position, e.g. a direct call to a rendering helper) and a
SQLSTATE that the gateway can hand back to HiveServer2 clients unchanged.
"""

from __future__ import annotations


class MLSQLError(Exception):
    """Base class of every error of the MLSQL language layer."""

    default_sqlstate = "42000"

    def __init__(self, message: str, line: int | None = None, column: int | None = None,
                 sqlstate: str | None = None) -> None:
        self.message = message
        self.line = line
        self.column = column
        self.sqlstate = sqlstate or self.default_sqlstate
        super().__init__(message, line, column, self.sqlstate)

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        return f"{self.message} (line {self.line}, column {self.column})"

    def at(self, line: int | None, column: int | None, prefix: str = "") -> MLSQLError:
        """A copy of this error moved to another position, with ``prefix`` put before the message."""
        clone = type(self).__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone.message = prefix + self.message
        clone.line, clone.column = line, column
        clone.args = (clone.message, line, column, self.sqlstate)
        clone.__cause__ = self.__cause__
        return clone


class MLSQLSyntaxError(MLSQLError):
    """The script does not follow the MLSQL grammar (positions are 1-based, whole-script)."""

    def __init__(self, message: str, line: int, column: int, sqlstate: str = "42000") -> None:
        super().__init__(message, line, column, sqlstate)


class UnknownVariableError(MLSQLError):
    """A ``${name}`` reference names no variable (SQLSTATE as Spark's UNRESOLVED_VARIABLE)."""

    default_sqlstate = "42883"

    def __init__(self, name: str, line: int | None = None, column: int | None = None,
                 detail: str = "") -> None:
        self.name = name
        message = f"Unknown variable `{name}` in ${{{name}}}" + (f": {detail}" if detail else "")
        super().__init__(message, line, column)


class UnknownMacroError(MLSQLError):
    """``!name`` names neither a stored template nor a built-in command."""

    default_sqlstate = "42883"

    def __init__(self, name: str, line: int | None = None, column: int | None = None) -> None:
        self.name = name
        super().__init__(f"Command `{name}` is not found.", line, column)


class TemplateError(MLSQLError):
    """Variable cycles, too deep nesting, missing macro arguments."""


class IncludeError(MLSQLError):
    """An ``include`` could not be expanded (no resolver, cycle, depth, resolver failure)."""


class RefusedStatementError(MLSQLError):
    """A statement that is disabled by policy (``set ... type="shell"`` unless an admin enables it)."""

    default_sqlstate = "42501"
