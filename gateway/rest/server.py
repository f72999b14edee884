"""Run the REST API on uvicorn in a background thread of the gateway process."""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger(__name__)


class RestServer:
    """uvicorn in a daemon thread; ``start`` returns once the port is bound (or raises)."""

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        import uvicorn

        config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                                lifespan="off", timeout_keep_alive=30)
        self.server = uvicorn.Server(config)
        self.host, self.port = host, port
        self._thread = threading.Thread(target=self.server.run, name="rest-api", daemon=True)

    def start(self, timeout: float = 30.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"the REST API could not start on {self.host}:{self.port}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the REST API did not start on {self.host}:{self.port} in {timeout:.0f} s")
            time.sleep(0.02)
        log.info("REST API listening on http://%s:%d", self.host, self.port)

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(10)
