"""Sessions: one HS2 session = one isolated SparkSession (temp views, SQL conf, current database) + state."""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from gateway.errors import GatewayError, InvalidHandle
from gateway.operation.state import OperationState

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from gateway.operation.base import Operation

log = logging.getLogger(__name__)

FETCH_SIZE_KEY = "hive.server2.thrift.resultset.default.fetch.size"
# Session option: "mlsql" (default: scripts and plain SQL) or "sparksql" (every statement straight to spark.sql).
DIALECT_KEY = "mlsql.dialect"
DIALECTS = ("mlsql", "sparksql")
# Keys clients send that configure the HS2 connection, not Spark.
_IGNORED_PREFIXES = ("hive.server2.", "set:system:")


# Statements after which other sessions' cached table relations (schemas, file listings) may be stale.
_CATALOG_CHANGE = re.compile(
    r"\b(create|drop|alter|truncate|insert|replace|msck|refresh|rename|save|merge|update|delete|load\s+data)\b",
    re.IGNORECASE)


class CatalogEpoch:
    """Counts catalog changes made through any session, so the others can drop stale cached relations.

    Every SparkSession caches resolved tables (schema, file listing); a table dropped and re-created, or
    written to, by one HS2 session would otherwise look unchanged to the others.
    """

    def __init__(self) -> None:
        self.value = 0
        self._lock = threading.Lock()

    def bump(self) -> None:
        with self._lock:
            self.value += 1


class Session:
    """A client session: its own SparkSession, variables, executor state and operations."""

    def __init__(self, spark: SparkSession, user: str, protocol: int, client: str = "",
                 epoch: CatalogEpoch | None = None) -> None:
        self.guid = uuid.uuid4()
        self.secret = uuid.uuid4().bytes
        self.spark = spark
        self.user = user
        self.protocol = protocol
        self.client = client
        self.created = time.time()
        self.last_access = time.monotonic()
        self.variables: dict[str, str] = {}
        self.executor_state: dict[str, Any] = {}
        self.job_registry: Any = None  # the gateway's JobRegistry (set by the backend)
        self.client_info: dict[str, str] = {}
        self.dialect = "mlsql"
        self.epoch = epoch or CatalogEpoch()
        self._seen_epoch = self.epoch.value
        self.operations: dict[uuid.UUID, Operation] = {}
        self._lock = threading.RLock()
        self._sql_conf = None
        self.closed = False

    @property
    def id(self) -> str:
        return str(self.guid)

    def touch(self) -> None:
        self.last_access = time.monotonic()

    def sync_catalog(self) -> None:
        """Forget cached table relations if another session changed the catalog since this one last ran."""
        current = self.epoch.value
        if current != self._seen_epoch:
            self._seen_epoch = current
            self.spark._jsparkSession.sessionState().catalog().invalidateAllCachedTables()

    def note_statement(self, statement: str) -> None:
        """Record a statement that may have changed tables, so other sessions refresh before their next one."""
        if _CATALOG_CHANGE.search(statement):
            self.epoch.bump()
            self._seen_epoch = self.epoch.value

    def arrow_params(self):
        """The session's current Arrow conversion settings (time zone, batch size...)."""
        from gateway.engine.arrow_stream import ConversionParams

        if self._sql_conf is None:
            self._sql_conf = self.spark._jsparkSession.sessionState().conf()
        return ConversionParams.of(self._sql_conf)

    # -- configuration --------------------------------------------------------------------------------
    def configure(self, configuration: dict[str, str]) -> None:
        """Apply OpenSession's configuration: use:database, set:hiveconf:*, set:hivevar:*, raw keys."""
        database = None
        for key, value in (configuration or {}).items():
            if key == "use:database":
                database = value
            elif key.startswith("set:hivevar:"):
                name = key[len("set:hivevar:"):]
                self.variables[name] = value
                self._set_conf(name, value, quiet=True)
            elif key.startswith("set:hiveconf:"):
                self._set_conf(key[len("set:hiveconf:"):], value)
            elif key in (DIALECT_KEY, f"set:hiveconf:{DIALECT_KEY}"):
                if value.lower() not in DIALECTS:
                    raise GatewayError(f"{DIALECT_KEY} must be one of {', '.join(DIALECTS)}, not {value!r}", "42000")
                self.dialect = value.lower()
            elif key == "hive.server2.proxy.user":
                raise GatewayError("impersonation (hive.server2.proxy.user) is not enabled on this server", "28000")
            else:
                self._set_conf(key, value)
        if database and database.lower() != "default":
            try:
                self.spark.catalog.setCurrentDatabase(database)
            except Exception as exc:
                from gateway.errors import spark_error

                raise spark_error(exc) from None

    def _set_conf(self, key: str, value: str, quiet: bool = False) -> None:
        if key.startswith(_IGNORED_PREFIXES) or key.startswith("use:"):
            return
        try:
            self.spark.conf.set(key, value)
        except Exception as exc:  # noqa: BLE001 - static or unknown confs are reported, not fatal
            if not quiet:
                log.warning("session %s: cannot set %s: %s", self.id, key, str(exc).splitlines()[0])

    @contextlib.contextmanager
    def conf_overlay(self, overlay: dict[str, str]) -> Iterator[None]:
        """Apply a statement's confOverlay for the duration of the statement, then restore."""
        if not overlay:
            yield
            return
        conf = self.spark.conf
        previous: dict[str, str | None] = {}
        for key, value in overlay.items():
            if key.startswith(_IGNORED_PREFIXES):
                continue
            previous[key] = conf.get(key, None)
            conf.set(key, value)
        try:
            yield
        finally:
            for key, value in previous.items():
                if value is None:
                    conf.unset(key)
                else:
                    conf.set(key, value)

    # -- operations -----------------------------------------------------------------------------------
    def add_operation(self, op: Operation) -> None:
        with self._lock:
            if self.closed:
                raise InvalidHandle("session is closed")
            self.operations[op.guid] = op

    def remove_operation(self, op: Operation) -> None:
        with self._lock:
            self.operations.pop(op.guid, None)

    def close(self) -> None:
        """Cancel and close every operation, uncache this session's temp views, drop the SparkSession."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            ops = list(self.operations.values())
            self.operations.clear()
        for op in ops:
            try:
                op.close()
            except Exception:  # noqa: BLE001
                log.exception("closing operation %s", op.id)
        try:
            if self.spark._jsparkSession.sharedState().cacheManager().isEmpty():
                return  # nothing cached anywhere: the temp views go away with this SparkSession
            for table in self.spark.catalog.listTables():
                if table.isTemporary and table.namespace in (None, [], [""]):
                    with contextlib.suppress(Exception):
                        self.spark.catalog.uncacheTable(table.name)
                    with contextlib.suppress(Exception):
                        self.spark.catalog.dropTempView(table.name)
        except Exception:  # noqa: BLE001 - the context may already be stopping
            log.debug("session %s: temp view cleanup failed", self.id, exc_info=True)


class SessionManager:
    """Creates, finds and expires sessions; all child SparkSessions share one SparkContext."""

    def __init__(self, spark: SparkSession, idle_session_timeout: float = 0, idle_operation_timeout: float = 0,
                 check_interval: float = 60.0) -> None:
        self.root = spark
        self.epoch = CatalogEpoch()
        self.sessions: dict[uuid.UUID, Session] = {}
        self.idle_session_timeout = idle_session_timeout
        self.idle_operation_timeout = idle_operation_timeout
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._reaper = threading.Thread(target=self._reap_loop, args=(check_interval,), name="session-reaper",
                                        daemon=True)
        self._reaper.start()

    def open(self, user: str, protocol: int, configuration: dict[str, str], client: str = "") -> Session:
        session = Session(self.root.newSession(), user, protocol, client, self.epoch)
        try:
            session.configure(configuration)
        except Exception:
            session.close()
            raise
        with self._lock:
            self.sessions[session.guid] = session
        log.info("session %s opened for %s (protocol V%d) from %s", session.id, user, protocol + 1, client)
        return session

    def get(self, guid: uuid.UUID, secret: bytes) -> Session:
        with self._lock:
            session = self.sessions.get(guid)
        if session is None or session.secret != secret or session.closed:
            raise InvalidHandle(f"invalid session handle {guid}")
        session.touch()
        return session

    def close(self, session: Session) -> None:
        with self._lock:
            self.sessions.pop(session.guid, None)
        session.close()
        log.info("session %s closed", session.id)

    def close_all(self) -> None:
        with self._lock:
            sessions = list(self.sessions.values())
            self.sessions.clear()
        for session in sessions:
            session.close()

    def stop(self) -> None:
        self._stop.set()
        self.close_all()

    # -- expiry ---------------------------------------------------------------------------------------
    def reap(self) -> None:
        """Close idle sessions and idle finished operations."""
        now = time.monotonic()
        with self._lock:
            sessions = list(self.sessions.values())
        for session in sessions:
            idle_ops = [op for op in list(session.operations.values()) if not _busy(op)]
            if self.idle_session_timeout and now - session.last_access > self.idle_session_timeout and \
                    len(idle_ops) == len(session.operations):
                log.info("session %s expired after %.0f s idle", session.id, now - session.last_access)
                self.close(session)
                continue
            if self.idle_operation_timeout:
                for op in idle_ops:
                    if now - op.last_access > self.idle_operation_timeout:
                        log.info("operation %s expired", op.id)
                        op.close()
                        session.remove_operation(op)

    def _reap_loop(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self.reap()
            except Exception:  # noqa: BLE001
                log.exception("session reaper failed")


def _busy(op: Operation) -> bool:
    return op.state in (OperationState.PENDING, OperationState.RUNNING, OperationState.INITIALIZED)
