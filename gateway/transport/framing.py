"""Socket transports that thrift's C-accelerated protocol can read from (CReadableTransport).

* ``FramedSocketTransport``: after SASL negotiation every message travels as a 4-byte big-endian length plus
  payload (no QOP wrapping for PLAIN).
* ``BufferedSocketTransport``: raw, unframed Thrift for NOSASL clients.
Both refuse messages over ``max_bytes`` and raise TTransportException on EOF, so a vanished client ends
only its own connection.
"""

from __future__ import annotations

import contextlib
import socket
import struct
from io import BytesIO

from thrift.transport.TTransport import CReadableTransport, TTransportBase, TTransportException

_LEN = struct.Struct(">i")


def recv_exact(sock: socket.socket, size: int) -> bytes:
    """Read exactly ``size`` bytes or raise TTransportException(END_OF_FILE)."""
    chunks = []
    remaining = size
    while remaining:
        try:
            chunk = sock.recv(min(remaining, 1 << 20))
        except OSError as exc:
            raise TTransportException(TTransportException.END_OF_FILE, f"socket read failed: {exc}") from None
        if not chunk:
            raise TTransportException(TTransportException.END_OF_FILE, "client closed the connection")
        chunks.append(chunk)
        remaining -= len(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def send_all(sock: socket.socket, *parts: bytes) -> None:
    try:
        for part in parts:
            sock.sendall(part)
    except OSError as exc:
        raise TTransportException(TTransportException.END_OF_FILE, f"socket write failed: {exc}") from None


class _SocketTransport(TTransportBase, CReadableTransport):
    """Shared plumbing: a read buffer refilled by ``_more()``, writes gathered until ``flush()``."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._rbuf = BytesIO(b"")
        self._wbuf: list[bytes] = []

    def _more(self, wanted: int) -> bytes:
        raise NotImplementedError

    def isOpen(self) -> bool:
        return True

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()

    def read(self, sz: int) -> bytes:
        data = self._rbuf.read(sz)
        if data:
            return data
        self._rbuf = BytesIO(self._more(sz))
        return self._rbuf.read(sz)

    def write(self, buf: bytes) -> None:
        self._wbuf.append(buf if isinstance(buf, bytes) else bytes(buf))

    # CReadableTransport: what the C-accelerated protocol reads from directly.
    @property
    def cstringio_buf(self) -> BytesIO:
        return self._rbuf

    def cstringio_refill(self, partialread: bytes, reqlen: int) -> BytesIO:
        data = partialread
        while len(data) < reqlen:
            data += self._more(reqlen - len(data))
        self._rbuf = BytesIO(data)
        return self._rbuf


class FramedSocketTransport(_SocketTransport):
    """Length-prefixed frames over a socket (SASL's post-negotiation framing)."""

    def __init__(self, sock: socket.socket, max_bytes: int) -> None:
        super().__init__(sock)
        self.max_bytes = max_bytes

    def _more(self, wanted: int) -> bytes:
        (length,) = _LEN.unpack(recv_exact(self.sock, 4))
        if length < 0 or length > self.max_bytes:
            raise TTransportException(TTransportException.SIZE_LIMIT,
                                      f"frame of {length} bytes exceeds the limit of {self.max_bytes}")
        return recv_exact(self.sock, length)

    def flush(self) -> None:
        parts, self._wbuf = self._wbuf, []
        send_all(self.sock, _LEN.pack(sum(len(p) for p in parts)), *parts)


class BufferedSocketTransport(_SocketTransport):
    """Unframed Thrift over a socket with read buffering; messages are bounded by the protocol's limits."""

    def __init__(self, sock: socket.socket, buffer_size: int = 1 << 16) -> None:
        super().__init__(sock)
        self._size = buffer_size

    def _more(self, wanted: int) -> bytes:
        try:
            data = self.sock.recv(max(wanted, self._size))
        except OSError as exc:
            raise TTransportException(TTransportException.END_OF_FILE, f"socket read failed: {exc}") from None
        if not data:
            raise TTransportException(TTransportException.END_OF_FILE, "client closed the connection")
        return data

    def flush(self) -> None:
        parts, self._wbuf = self._wbuf, []
        send_all(self.sock, *parts)
