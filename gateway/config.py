"""Gateway settings: CLI flags, with environment-variable defaults (MLSQL_GATEWAY_*)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field


def _env(name: str, default: str) -> str:
    return os.environ.get(f"MLSQL_GATEWAY_{name}", default)


@dataclass
class GatewayConfig:
    host: str = field(default_factory=lambda: _env("HOST", "127.0.0.1"))
    port: int = field(default_factory=lambda: int(_env("PORT", "10000")))
    master: str = field(default_factory=lambda: _env("MASTER", "local[*]"))
    auth: str = field(default_factory=lambda: _env("AUTH", "NONE"))
    users_file: str | None = field(default_factory=lambda: os.environ.get("MLSQL_GATEWAY_USERS_FILE"))
    spark_conf: dict[str, str] = field(default_factory=dict)
    # File access of MLSQL scripts (load/save/include, models): confined to these roots.
    data_roots: list[str] = field(default_factory=list)
    script_roots: list[str] = field(default_factory=list)
    # Users who see and kill every job (REST /runningjobs, /killjob, !show jobs, !kill).
    admins: list[str] = field(default_factory=lambda: [u for u in _env("ADMINS", "").split(",") if u])
    # REST API (FastAPI on uvicorn) in the gateway process; 0 disables it.
    rest_host: str = field(default_factory=lambda: _env("REST_HOST", "127.0.0.1"))
    rest_port: int = field(default_factory=lambda: int(_env("REST_PORT", "9003")))
    # ML runtime: user Python algorithms (PythonAlg) run user code, so they are off unless enabled.
    allow_python_alg: bool = field(default_factory=lambda: _env("ALLOW_PYTHON_ALG", "false").lower() == "true")
    python_alg_timeout: float = field(default_factory=lambda: float(_env("PYTHON_ALG_TIMEOUT", "3600")))
    # Single-node trainers (scikit-learn, TensorFlow) collect their data to the driver: at most this many.
    max_train_rows: int = field(default_factory=lambda: int(_env("MAX_TRAIN_ROWS", "5000000")))
    max_train_cells: int = field(default_factory=lambda: int(_env("MAX_TRAIN_CELLS", "200000000")))
    # Background pool for statements (HS2: 100 threads, queue 100).
    workers: int = field(default_factory=lambda: int(_env("WORKERS", "32")))
    queue_size: int = field(default_factory=lambda: int(_env("QUEUE_SIZE", "100")))
    # Idle expiry in seconds (0 disables).
    idle_session_timeout: float = field(default_factory=lambda: float(_env("IDLE_SESSION_TIMEOUT", "28800")))
    idle_operation_timeout: float = field(default_factory=lambda: float(_env("IDLE_OPERATION_TIMEOUT", "3600")))
    expiry_check_interval: float = field(default_factory=lambda: float(_env("EXPIRY_CHECK_INTERVAL", "60")))
    # Results.
    default_fetch_size: int = 10_000
    max_fetch_rows: int = 100_000
    result_retain_bytes: int = 16 << 20
    # Protocol limits.
    max_message_bytes: int = field(default_factory=lambda: int(_env("MAX_MESSAGE_BYTES", str(100 << 20))))
    long_poll_seconds: float = 5.0
    handshake_timeout: float = 30.0
    max_connections: int = field(default_factory=lambda: int(_env("MAX_CONNECTIONS", "500")))
