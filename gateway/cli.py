"""``mlsql-gateway``: run the gateway, or manage the CUSTOM-auth users file (``mlsql-gateway passwd``)."""

from __future__ import annotations

import argparse
import getpass
import logging
import sys

from gateway.config import GatewayConfig


def _serve_parser() -> argparse.ArgumentParser:
    defaults = GatewayConfig()
    p = argparse.ArgumentParser(prog="mlsql-gateway", description="MLSQL gateway: HiveServer2-compatible Thrift "
                                "server on Apache Spark. Subcommand: `mlsql-gateway passwd` manages users.")
    p.add_argument("--host", default=defaults.host, help="bind address (default %(default)s)")
    p.add_argument("--port", type=int, default=defaults.port, help="Thrift binary port (default %(default)s)")
    p.add_argument("--master", default=defaults.master, help="Spark master (default %(default)s)")
    p.add_argument("--auth", default=defaults.auth, choices=["NONE", "NOSASL", "CUSTOM"], type=str.upper,
                   help="NONE: SASL PLAIN (any user) and NOSASL; NOSASL: raw Thrift only; CUSTOM: SASL PLAIN "
                        "checked against --users-file")
    p.add_argument("--users-file", default=defaults.users_file, help="users file for --auth CUSTOM")
    p.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE", help="Spark configuration")
    p.add_argument("--data-root", action="append", default=[], metavar="DIR",
                   help="directory MLSQL load/save and models may use (repeatable; relative paths go to "
                        "DIR/<user>/); without one, file sources are refused")
    p.add_argument("--script-root", action="append", default=[], metavar="DIR",
                   help="directory MLSQL include may read scripts from (repeatable)")
    p.add_argument("--admin", action="append", default=list(defaults.admins), metavar="USER",
                   help="a user who may see and kill every user's jobs (repeatable)")
    p.add_argument("--rest-host", default=defaults.rest_host, help="REST API bind address (default %(default)s)")
    p.add_argument("--rest-port", type=int, default=defaults.rest_port,
                   help="REST API port (default %(default)s; 0 disables the REST API)")
    p.add_argument("--allow-python-alg", action="store_true", default=defaults.allow_python_alg,
                   help="let PythonAlg run user Python scripts (in a subprocess with a time limit); off by default")
    p.add_argument("--python-alg-timeout", type=float, default=defaults.python_alg_timeout,
                   help="seconds a PythonAlg script may run (default %(default)s)")
    p.add_argument("--max-train-rows", type=int, default=defaults.max_train_rows,
                   help="rows a single-node trainer (SKLearn, TensorFlow) may collect (default %(default)s)")
    p.add_argument("--workers", type=int, default=defaults.workers, help="statement worker threads")
    p.add_argument("--queue-size", type=int, default=defaults.queue_size, help="statements that may wait")
    p.add_argument("--idle-session-timeout", type=float, default=defaults.idle_session_timeout,
                   help="seconds before an idle session is closed (0: never)")
    p.add_argument("--idle-operation-timeout", type=float, default=defaults.idle_operation_timeout,
                   help="seconds before an idle finished operation is closed (0: never)")
    p.add_argument("--log-level", default="INFO", help="gateway log level (default %(default)s)")
    return p


def _config(args: argparse.Namespace) -> GatewayConfig:
    conf = {}
    for item in args.conf:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"--conf expects KEY=VALUE, got {item!r}")
        conf[key.strip()] = value
    return GatewayConfig(
        host=args.host, port=args.port, master=args.master, auth=args.auth, users_file=args.users_file,
        spark_conf=conf, data_roots=args.data_root, script_roots=args.script_root, workers=args.workers,
        queue_size=args.queue_size, allow_python_alg=args.allow_python_alg,
        python_alg_timeout=args.python_alg_timeout, max_train_rows=args.max_train_rows,
        admins=args.admin, rest_host=args.rest_host, rest_port=args.rest_port,
        idle_session_timeout=args.idle_session_timeout, idle_operation_timeout=args.idle_operation_timeout,
    )


def passwd(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="mlsql-gateway passwd", description="Add or change a user in a users file "
                                "(salted PBKDF2-SHA256 hashes). The password is read from the terminal, or "
                                "from standard input when it is not a terminal.")
    p.add_argument("--users-file", required=True)
    p.add_argument("user")
    args = p.parse_args(argv)
    from gateway.auth import write_user

    if sys.stdin.isatty():
        password = getpass.getpass(f"Password for {args.user}: ")
        if password != getpass.getpass("Again: "):
            print("passwords differ", file=sys.stderr)
            return 1
    else:
        password = sys.stdin.readline().rstrip("\n")
    if not password:
        print("empty password refused", file=sys.stderr)
        return 1
    write_user(args.users_file, args.user, password)
    print(f"user {args.user} written to {args.users_file}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "passwd":
        return passwd(argv[1:])
    args = _serve_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("py4j").setLevel(logging.WARNING)
    logging.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)  # PySpark duplicates every SQL error
    from gateway.app import Gateway

    try:
        gateway = Gateway(_config(args))
    except ValueError as exc:
        print(f"mlsql-gateway: {exc}", file=sys.stderr)
        return 2
    gateway.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
