"""Errors that reach clients: a message, a SQLSTATE and an error code, whatever front door they use."""

from __future__ import annotations


class GatewayError(Exception):
    """An error with a client-facing message and SQLSTATE."""

    sqlstate = "HY000"
    error_code = 0

    def __init__(self, message: str, sqlstate: str | None = None, error_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if sqlstate is not None:
            self.sqlstate = sqlstate
        if error_code is not None:
            self.error_code = error_code


class InvalidHandle(GatewayError):
    """An unknown, closed or expired session or operation handle."""

    sqlstate = "HY010"


class ServerBusy(GatewayError):
    """The background pool cannot accept more work."""

    sqlstate = "53000"


class InvalidRequest(GatewayError):
    """A request the server understands but refuses (bad fetch orientation, fetch before results...)."""

    sqlstate = "HY024"


class QueryTimeout(GatewayError):
    sqlstate = "HYT00"


class QueryCanceled(GatewayError):
    sqlstate = "HY008"


def spark_error(exc: BaseException) -> GatewayError:
    """Turn a (py)Spark exception into a GatewayError, keeping Spark's own SQLSTATE when it has one."""
    if isinstance(exc, GatewayError):
        return exc
    sqlstate = None
    getter = getattr(exc, "getSqlState", None)
    if callable(getter):
        try:
            sqlstate = getter()
        except Exception:  # noqa: BLE001 - a broken py4j link must not hide the real error
            sqlstate = None
    message = _spark_message(exc)
    if not sqlstate:
        name = type(exc).__name__
        sqlstate = "42000" if name in ("AnalysisException", "ParseException") else "HY000"
    return GatewayError(message, sqlstate)


def _spark_message(exc: BaseException) -> str:
    getter = getattr(exc, "getMessage", None)
    text = None
    if callable(getter):
        try:
            text = getter()
        except Exception:  # noqa: BLE001
            text = None
    text = text or str(exc) or type(exc).__name__
    # PySpark appends the JVM stack trace; clients want the message.
    return text.split("\n\nJVM stacktrace:")[0].strip()
