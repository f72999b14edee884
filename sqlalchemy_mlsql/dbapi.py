"""PEP 249 (DB-API 2.0) driver for HiveServer2-compatible servers (mlsql-gateway, Spark Thrift, Kyuubi).

Pure Python over the project's generated Thrift code; does not need pyspark. pyarrow and pandas are optional
(``Cursor.fetch_arrow()`` / ``fetch_pandas()``).
"""

from __future__ import annotations

import datetime as dt
import getpass
import threading
from collections.abc import Mapping
from typing import Any

from thrift.protocol.TBinaryProtocol import TBinaryProtocolAccelerated
from thrift.Thrift import TApplicationException, TException
from thrift.transport.TTransport import TTransportException

from thrift_idl.gen.TCLIService import TCLIService, ttypes

from .cursor import BULK_FETCH_SIZE, DEFAULT_FETCH_SIZE, Cursor
from .exc import (
    DatabaseError,
    DataError,
    Error,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    Warning,
    error_from_status,
)

__all__ = [
    "apilevel", "threadsafety", "paramstyle", "connect", "Connection", "Cursor",
    "Warning", "Error", "InterfaceError", "DatabaseError", "DataError", "OperationalError", "IntegrityError",
    "InternalError", "ProgrammingError", "NotSupportedError",
    "STRING", "BINARY", "NUMBER", "DATETIME", "ROWID",
    "Date", "Time", "Timestamp", "DateFromTicks", "TimeFromTicks", "TimestampFromTicks", "Binary",
]

apilevel = "2.0"
threadsafety = 1
paramstyle = "pyformat"

try:  # numpy present: fixed-width result columns are read straight into numpy arrays
    from . import fastfetch as _fastfetch
except ImportError:  # pragma: no cover - depends on the environment
    _fastfetch = None  # type: ignore[assignment]

_OK = (ttypes.TStatusCode.SUCCESS_STATUS, ttypes.TStatusCode.SUCCESS_WITH_INFO_STATUS)
_MIN_PROTOCOL = ttypes.TProtocolVersion.HIVE_CLI_SERVICE_PROTOCOL_V6


# -- type objects and constructors (PEP 249) ---------------------------------------------------------------


class DBAPITypeObject:
    """Compares equal to every type code (string) it groups."""

    def __init__(self, *codes: str) -> None:
        self.codes = frozenset(codes)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DBAPITypeObject):
            return self.codes == other.codes
        return other in self.codes

    def __hash__(self) -> int:
        return hash(self.codes)

    def __repr__(self) -> str:
        return f"DBAPITypeObject{tuple(sorted(self.codes))}"


STRING = DBAPITypeObject("STRING", "VARCHAR", "CHAR", "ARRAY", "MAP", "STRUCT", "UNIONTYPE",
                         "INTERVAL_YEAR_MONTH", "INTERVAL_DAY_TIME", "USER_DEFINED")
BINARY = DBAPITypeObject("BINARY")
NUMBER = DBAPITypeObject("BOOLEAN", "TINYINT", "SMALLINT", "INT", "BIGINT", "FLOAT", "DOUBLE", "DECIMAL")
DATETIME = DBAPITypeObject("DATE", "TIMESTAMP", "TIMESTAMP WITH LOCAL TIME ZONE")
ROWID = DBAPITypeObject()

Date = dt.date
Time = dt.time
Timestamp = dt.datetime
Binary = bytes


def DateFromTicks(ticks: float) -> dt.date:  # noqa: N802 - PEP 249 name
    return dt.date.fromtimestamp(ticks)


def TimeFromTicks(ticks: float) -> dt.time:  # noqa: N802 - PEP 249 name
    return dt.datetime.fromtimestamp(ticks).time()


def TimestampFromTicks(ticks: float) -> dt.datetime:  # noqa: N802 - PEP 249 name
    return dt.datetime.fromtimestamp(ticks)


# -- connection -------------------------------------------------------------------------------------------


def connect(host: str = "localhost", port: int = 10000, username: str | None = None, password: str | None = None,
            database: str | None = "default", auth: str = "NONE", configuration: Mapping[str, str] | None = None,
            timeout: float | None = None, **kwargs: Any) -> Connection:
    """Open a session. ``auth``: NONE/CUSTOM/LDAP (SASL PLAIN) or NOSASL (raw buffered thrift).

    ``configuration`` keys go to OpenSession as ``set:hiveconf:<key>`` (keys already carrying a ``set:``/``use:``
    prefix are sent as they are). Extra options: ``complex_types`` (True: ARRAY/MAP/STRUCT as Python objects,
    False: Hive text), ``fetch_size`` (rows per FetchResults).
    """
    return Connection(host, port, username, password, database, auth, configuration, timeout, **kwargs)


class Connection:
    """One HS2 session over one Thrift transport (not safe to share between threads: threadsafety=1)."""

    def __init__(self, host: str = "localhost", port: int = 10000, username: str | None = None,
                 password: str | None = None, database: str | None = "default", auth: str = "NONE",
                 configuration: Mapping[str, str] | None = None, timeout: float | None = None,
                 complex_types: bool = True, fetch_size: int = DEFAULT_FETCH_SIZE) -> None:
        from .transport import BufferedTransport, SaslPlainTransport, SocketTransport

        self.host, self.port = host, int(port)
        self.auth = (auth or "NONE").upper()
        self.username = username or _default_user()
        self.complex_types = complex_types
        self.fetch_size = int(fetch_size)
        self.database = database
        self._lock = threading.RLock()
        self._closed = False
        sock = SocketTransport(host, self.port, timeout)
        if self.auth == "NOSASL":
            self._transport = BufferedTransport(sock)
        elif self.auth in ("NONE", "CUSTOM", "LDAP", "PLAIN"):
            if password is None and self.auth != "NONE":
                raise ProgrammingError(f"auth={self.auth} needs a password")
            self._transport = SaslPlainTransport(sock, self.username, "x" if password is None else password)
        else:
            raise NotSupportedError(f"auth mechanism {auth!r} is not supported (use NONE, NOSASL, CUSTOM or LDAP)")
        protocol = TBinaryProtocolAccelerated(self._transport, string_length_limit=1 << 30)
        self._client = TCLIService.Client(protocol)
        try:
            self._transport.open()
        except TTransportException as exc:
            raise OperationalError(f"cannot connect to {host}:{port}: {exc}", "08001") from exc
        conf: dict[str, str] = {}
        if database:
            conf["use:database"] = database
        for key, value in (configuration or {}).items():
            name = key if key.startswith(("set:", "use:")) else f"set:hiveconf:{key}"
            conf[name] = str(value)
        req = ttypes.TOpenSessionReq(client_protocol=ttypes.TProtocolVersion.HIVE_CLI_SERVICE_PROTOCOL_V10,
                                     username=self.username, password=password, configuration=conf)
        try:
            resp = self._rpc("OpenSession", req)
        except Error:
            self._transport.close()
            raise
        self.server_protocol_version = resp.serverProtocolVersion
        self._session = resp.sessionHandle
        if self.server_protocol_version < _MIN_PROTOCOL:
            self.close()
            raise NotSupportedError(f"server protocol V{self.server_protocol_version + 1} has no columnar results")

    # -- plumbing ------------------------------------------------------------------------------------------

    def _rpc(self, name: str, req: Any, check: bool = True, query_id: str | None = None) -> Any:
        """Call an RPC under the connection lock; map transport failures and error statuses to PEP 249."""
        with self._lock:
            if self._closed and name != "CloseSession":
                raise InterfaceError("connection is closed")
            try:
                if name == "FetchResults" and _fastfetch is not None:
                    self._client.send_FetchResults(req)
                    resp = _fastfetch.recv_fetch_results(self._client._iprot)
                else:
                    resp = getattr(self._client, name)(req)
            except TApplicationException as exc:
                raise InterfaceError(f"{name} failed: {exc}", "08S01") from exc
            except (TTransportException, OSError, EOFError) as exc:
                raise OperationalError(f"{name} failed: connection to the server lost ({exc})", "08S01") from exc
            except TException as exc:
                raise InterfaceError(f"{name} failed: {exc}") from exc
            except ValueError as exc:  # a malformed reply (fastfetch)
                raise InterfaceError(f"{name} failed: malformed reply ({exc})", "08S01") from exc
        status = getattr(resp, "status", None)
        if check and status is not None and status.statusCode not in _OK:
            raise error_from_status(status, query_id)
        return resp

    @property
    def session_handle(self) -> ttypes.TSessionHandle:
        if self._closed:
            raise InterfaceError("connection is closed")
        return self._session

    # -- PEP 249 -------------------------------------------------------------------------------------------

    def cursor(self) -> Cursor:
        """A new cursor on this session."""
        if self._closed:
            raise InterfaceError("connection is closed")
        return Cursor(self)

    def close(self) -> None:
        """Close the session and the socket (idempotent)."""
        if self._closed:
            return
        try:
            self._rpc("CloseSession", ttypes.TCloseSessionReq(sessionHandle=self._session), check=False)
        except Error:
            pass
        finally:
            self._closed = True
            self._transport.close()

    def commit(self) -> None:
        """No transactions: a no-op."""

    def rollback(self) -> None:
        """No transactions: a no-op (nothing was ever pending)."""

    @property
    def closed(self) -> bool:
        return self._closed

    def ping(self) -> bool:
        """True if the session answers a cheap GetInfo."""
        try:
            self.get_info(ttypes.TGetInfoType.CLI_DBMS_VER)
            return True
        except Error:
            return False

    def get_info(self, info_type: int) -> Any:
        """GetInfo value (the string or number set in the TGetInfoValue)."""
        resp = self._rpc("GetInfo", ttypes.TGetInfoReq(sessionHandle=self.session_handle, infoType=info_type))
        value = resp.infoValue
        for attr in ("stringValue", "smallIntValue", "integerBitmask", "integerFlag", "binaryValue", "lenValue"):
            if getattr(value, attr, None) is not None:
                return getattr(value, attr)
        return None

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # best effort: release the server session
        try:
            if not self._closed:
                self.close()
        except Exception:  # noqa: BLE001 - never raise from a finalizer
            pass


def _default_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no passwd entry in some containers
        return "anonymous"


__all__ += ["DBAPITypeObject", "DEFAULT_FETCH_SIZE", "BULK_FETCH_SIZE"]
