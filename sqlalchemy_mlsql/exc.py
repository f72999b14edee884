"""PEP 249 exception hierarchy and the mapping from HS2 TStatus / SQLSTATE to it."""

from __future__ import annotations

from typing import Any


class Warning(Exception):  # noqa: A001 - the name is mandated by PEP 249
    """Important warnings (PEP 249)."""


class Error(Exception):
    """Base class of every error raised by the driver.

    ``sqlstate``, ``error_code`` and ``query_id`` carry the server's details when there are any.
    ``str(exc)`` keeps an ``errorMessage="..."`` fragment so Superset's PyHive-era regex still finds it.
    """

    def __init__(self, message: str = "", sqlstate: str | None = None, error_code: int | None = None,
                 query_id: str | None = None, info: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.sqlstate = sqlstate
        self.error_code = error_code
        self.query_id = query_id
        self.info = info

    def __str__(self) -> str:
        if self.sqlstate is None and self.error_code is None:
            return self.message
        return f'{self.message} (sqlState="{self.sqlstate}", errorCode={self.error_code}, errorMessage="{self.message}")'


class InterfaceError(Error):
    """Errors of the driver itself rather than the database."""


class DatabaseError(Error):
    """Errors reported by the database."""


class DataError(DatabaseError):
    """Bad data: division by zero, numeric value out of range, invalid cast..."""


class OperationalError(DatabaseError):
    """Connection lost, timeouts, cancelled operations, server busy."""


class IntegrityError(DatabaseError):
    """Relational integrity violations."""


class InternalError(DatabaseError):
    """The server hit an internal error (invalid handle, inconsistent state)."""


class ProgrammingError(DatabaseError):
    """Syntax errors, missing tables, wrong number of parameters."""


class NotSupportedError(DatabaseError):
    """An API or SQL feature the server does not support."""


_CLASS_BY_PREFIX: list[tuple[str, type[DatabaseError]]] = [
    ("HYT", OperationalError),  # timeouts
    ("HY008", OperationalError),  # cancelled
    ("HY010", InternalError),  # invalid handle / function sequence
    ("0A", NotSupportedError),
    ("08", OperationalError),
    ("53", OperationalError),  # insufficient resources / busy
    ("57", OperationalError),  # operator intervention
    ("58", OperationalError),  # system error
    ("22", DataError),
    ("23", IntegrityError),
    ("42", ProgrammingError),
    ("XX", InternalError),
]


def class_for_sqlstate(sqlstate: str | None) -> type[DatabaseError]:
    """The PEP 249 class for a SQLSTATE (``DatabaseError`` when nothing more specific fits)."""
    state = (sqlstate or "").upper()
    for prefix, cls in _CLASS_BY_PREFIX:
        if state.startswith(prefix):
            return cls
    return DatabaseError


def error_from_status(status: Any, query_id: str | None = None) -> DatabaseError:
    """Build the exception for a non-success ``TStatus`` (or a TGetOperationStatusResp)."""
    message = getattr(status, "errorMessage", None) or "unknown server error"
    sqlstate = getattr(status, "sqlState", None)
    code = getattr(status, "errorCode", None)
    cls = class_for_sqlstate(sqlstate)
    if cls is DatabaseError and getattr(status, "statusCode", None) == 4:  # INVALID_HANDLE_STATUS
        cls = InternalError
    return cls(message, sqlstate, code, query_id, status)
