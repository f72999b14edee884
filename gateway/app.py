"""Wiring: Spark, the backend and the Thrift server, with a clean SIGTERM/SIGINT shutdown."""

from __future__ import annotations

import logging
import os
import signal
import threading

from gateway.auth import make_authenticator
from gateway.backend import Backend
from gateway.config import GatewayConfig
from gateway.frontend.thrift_service import ConnectionInfo, ThriftHandler
from gateway.transport.server import ThriftServer
from thrift_idl.gen.TCLIService import TCLIService

log = logging.getLogger(__name__)


class Gateway:
    """A running gateway: call ``serve()`` to block until stopped."""

    def __init__(self, config: GatewayConfig) -> None:
        from gateway.engine.spark import build_spark

        self.config = config
        self.authenticator = make_authenticator(config.auth, config.users_file)
        self.spark = build_spark(config.master, config.spark_conf.items())
        from gateway.engine.paths import PathPolicy
        from gateway.mlsql.runner import MLSQLExecutor

        for root in (*config.data_roots, *config.script_roots):
            os.makedirs(root, exist_ok=True)
        from gateway.ml.algorithm import Limits
        from gateway.ml.service import MLRuntime

        paths = PathPolicy(config.data_roots, config.script_roots)
        limits = Limits(max_rows=config.max_train_rows, max_cells=config.max_train_cells,
                        python_timeout=config.python_alg_timeout, allow_python=config.allow_python_alg)
        self.ml = MLRuntime(paths, limits)
        from gateway.ml import python_alg

        python_alg.configure(config.allow_python_alg)
        executor = MLSQLExecutor(paths, ml=self.ml)
        self.backend = Backend(config, self.spark, executor)
        self.rest = None
        if config.rest_port:
            from gateway.rest.app import create_app
            from gateway.rest.server import RestServer

            self.rest = RestServer(create_app(self.backend, self.authenticator, self.ml), config.rest_host,
                                   config.rest_port)
            self.rest.start()
        self.thrift = ThriftServer(
            config.host, config.port, self.authenticator, self._processor,
            max_message_bytes=config.max_message_bytes, handshake_timeout=config.handshake_timeout,
            max_connections=config.max_connections,
        )
        self._stopping = threading.Lock()
        self._stopped = threading.Event()

    def _processor(self, user: str | None, peer: str, mechanism: str):
        from gateway.frontend.processor import FastProcessor

        return FastProcessor(ThriftHandler(self.backend, ConnectionInfo(user, peer, mechanism)))

    def serve(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: threading.Thread(target=self.stop, daemon=True).start())
        try:
            self.thrift.serve_forever()
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop once; concurrent callers wait until the first one has finished."""
        if not self._stopping.acquire(blocking=False):
            self._stopped.wait(120)
            return
        log.info("stopping: cancelling operations, closing sessions, stopping Spark")
        self.thrift.shutdown()
        if self.rest is not None:
            self.rest.stop()
        try:
            self.backend.shutdown()
        finally:
            try:
                self.spark.stop()
            except Exception:  # noqa: BLE001
                log.exception("Spark did not stop cleanly")
            log.info("stopped")
            self._stopped.set()


__all__ = ["Gateway", "TCLIService"]
