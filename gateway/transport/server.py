"""The binary Thrift server: one port, SASL PLAIN and/or NOSASL told apart by the first byte.

A thread serves each connection (as HiveServer2 does). Malformed handshakes, garbage bytes, oversized frames and
vanished clients end only their own connection.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Callable

from thrift.protocol.TBinaryProtocol import TBinaryProtocolAccelerated
from thrift.Thrift import TException
from thrift.transport.TTransport import TTransportException

from gateway.auth import Authenticator
from gateway.transport.framing import BufferedSocketTransport, FramedSocketTransport
from gateway.transport.sasl import START, SaslError, negotiate_plain

log = logging.getLogger(__name__)

STRICT_BINARY_FIRST_BYTE = 0x80

# Builds the Thrift processor for one connection from (user or None, peer, mechanism).
ProcessorFactory = Callable[[str | None, str, str], object]


class ThriftServer:
    """Accepts connections and runs the TCLIService processor on each in its own thread."""

    def __init__(self, host: str, port: int, authenticator: Authenticator, processor_factory: ProcessorFactory,
                 *, max_message_bytes: int = 100 << 20, handshake_timeout: float = 30.0,
                 max_connections: int = 500) -> None:
        self.authenticator = authenticator
        self.mode = authenticator.mechanism.upper()
        self.processor_factory = processor_factory
        self.max_message_bytes = max_message_bytes
        self.handshake_timeout = handshake_timeout
        self._slots = threading.BoundedSemaphore(max_connections)
        self._sock = socket.create_server((host, port), reuse_port=False, backlog=128)
        self._sock.settimeout(0.5)
        self.host, self.port = self._sock.getsockname()[:2]
        self._stop = threading.Event()
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.accepted = 0

    @property
    def accepts_sasl(self) -> bool:
        return self.mode in ("NONE", "CUSTOM")

    @property
    def accepts_nosasl(self) -> bool:
        return self.mode in ("NONE", "NOSASL")

    def serve_forever(self) -> None:
        log.info("Thrift binary server listening on %s:%d (auth %s)", self.host, self.port, self.mode)
        while not self._stop.is_set():
            try:
                conn, addr = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    break
                raise
            if not self._slots.acquire(blocking=False):
                log.warning("connection limit reached; refusing %s:%d", *addr[:2])
                conn.close()
                continue
            self.accepted += 1
            threading.Thread(target=self._serve, args=(conn, f"{addr[0]}:{addr[1]}"), name=f"conn-{addr[1]}",
                             daemon=True).start()

    def shutdown(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._sock.close()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    # -- one connection -------------------------------------------------------------------------------
    def _serve(self, conn: socket.socket, peer: str) -> None:
        with self._lock:
            self._conns.add(conn)
        try:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            conn.settimeout(self.handshake_timeout)
            transport, user, mechanism = self._handshake(conn, peer)
            if transport is None:
                return
            conn.settimeout(None)
            protocol = TBinaryProtocolAccelerated(transport, string_length_limit=self.max_message_bytes,
                                                  container_length_limit=self.max_message_bytes)
            processor = self.processor_factory(user, peer, mechanism)
            while not self._stop.is_set():
                processor.process(protocol, protocol)
        except TTransportException as exc:
            if exc.type == TTransportException.SIZE_LIMIT:
                log.warning("%s: %s; connection dropped", peer, exc)
            else:
                log.debug("%s: connection closed: %s", peer, exc)
        except (TException, EOFError, ValueError, UnicodeDecodeError, MemoryError, OverflowError) as exc:
            log.warning("%s: malformed request (%s: %s); connection dropped", peer, type(exc).__name__, exc)
        except OSError as exc:
            log.debug("%s: socket error %s", peer, exc)
        except Exception:  # noqa: BLE001 - one bad connection must never take the server down
            log.exception("%s: unexpected error; connection dropped", peer)
        finally:
            with self._lock:
                self._conns.discard(conn)
            with contextlib.suppress(OSError):
                conn.close()
            self._slots.release()

    def _handshake(self, conn: socket.socket, peer: str):
        """Detect SASL vs NOSASL from the first byte and authenticate; (None, ...) drops the connection."""
        first = conn.recv(1, socket.MSG_PEEK)
        if not first:
            return None, None, ""
        if first[0] == START and self.accepts_sasl:
            try:
                user = negotiate_plain(conn, self.authenticator)
            except SaslError as exc:
                log.warning("%s: SASL authentication failed: %s", peer, exc)
                return None, None, ""
            log.debug("%s: SASL PLAIN user %s", peer, user)
            return FramedSocketTransport(conn, self.max_message_bytes), user, "PLAIN"
        if first[0] == STRICT_BINARY_FIRST_BYTE and self.accepts_nosasl:
            return BufferedSocketTransport(conn), None, "NOSASL"
        expected = " or ".join(m for m, ok in (("SASL", self.accepts_sasl), ("NOSASL", self.accepts_nosasl)) if ok)
        log.warning("%s: unexpected first byte 0x%02x (this server expects %s); connection dropped", peer,
                    first[0], expected)
        return None, None, ""
