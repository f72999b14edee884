"""Client transports: a raw socket, a buffered NOSASL transport and a SASL PLAIN transport.

Both client transports implement thrift's ``CReadableTransport`` (``cstringio_buf`` / ``cstringio_refill``) so
``TBinaryProtocolAccelerated`` decodes whole responses in C.
"""

from __future__ import annotations

import socket
import struct
from io import BytesIO

from thrift.transport.TTransport import CReadableTransport, TTransportBase, TTransportException

_LEN = struct.Struct(">I")
SASL_START, SASL_OK, SASL_BAD, SASL_ERROR, SASL_COMPLETE = 1, 2, 3, 4, 5
MAX_FRAME = 1 << 30
_WAITALL = getattr(socket, "MSG_WAITALL", 0)


class SocketTransport(TTransportBase):
    """A TCP socket with exact reads into preallocated buffers (no quadratic concatenation)."""

    def __init__(self, host: str, port: int, timeout: float | None = None) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.sock: socket.socket | None = None

    def isOpen(self) -> bool:  # noqa: N802 - thrift API
        return self.sock is not None

    def open(self) -> None:
        try:
            self.sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as exc:
            raise TTransportException(TTransportException.NOT_OPEN,
                                      f"could not connect to {self.host}:{self.port}: {exc}") from exc
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None

    def _socket(self) -> socket.socket:
        if self.sock is None:
            raise TTransportException(TTransportException.NOT_OPEN, "transport is not open")
        return self.sock

    def read(self, sz: int) -> bytes:
        try:
            data = self._socket().recv(sz)
        except OSError as exc:
            raise TTransportException(TTransportException.UNKNOWN, f"socket read failed: {exc}") from exc
        if not data:
            raise TTransportException(TTransportException.END_OF_FILE, "server closed the connection")
        return data

    def readAll(self, sz: int) -> bytes:  # noqa: N802 - thrift API
        """Exactly ``sz`` bytes. MSG_WAITALL lets the kernel assemble a large frame in one call (a blocking socket
        returns it whole), so a reader thread does not have to win the GIL back for every 64 KB chunk while
        another thread decodes the previous batch."""
        buf = bytearray(sz)
        view = memoryview(buf)
        sock = self._socket()
        got = 0
        while got < sz:
            try:
                n = sock.recv_into(view[got:], sz - got, _WAITALL)
            except OSError as exc:
                raise TTransportException(TTransportException.UNKNOWN, f"socket read failed: {exc}") from exc
            if n == 0:
                raise TTransportException(TTransportException.END_OF_FILE, "server closed the connection")
            got += n
        return bytes(buf)

    def write(self, buf: bytes) -> None:
        try:
            self._socket().sendall(buf)
        except OSError as exc:
            raise TTransportException(TTransportException.UNKNOWN, f"socket write failed: {exc}") from exc

    def flush(self) -> None:
        pass


class _CReadable(TTransportBase, CReadableTransport):
    """Shared read side: a BytesIO read buffer refilled by ``_next_chunk``; writes are buffered until flush."""

    def __init__(self, sock: SocketTransport) -> None:
        self.sock = sock
        self._rbuf = BytesIO(b"")
        self._wbuf: list[bytes] = []

    def isOpen(self) -> bool:  # noqa: N802 - thrift API
        return self.sock.isOpen()

    def close(self) -> None:
        self.sock.close()

    def _next_chunk(self) -> bytes:
        raise NotImplementedError

    def read(self, sz: int) -> bytes:
        data = self._rbuf.read(sz)
        if data:
            return data
        self._rbuf = BytesIO(self._next_chunk())
        return self._rbuf.read(sz)

    def write(self, buf: bytes) -> None:
        self._wbuf.append(bytes(buf))

    @property
    def cstringio_buf(self) -> BytesIO:
        return self._rbuf

    def cstringio_refill(self, partialread: bytes, reqlen: int) -> BytesIO:
        """Append chunks after ``partialread`` until at least ``reqlen`` bytes are buffered."""
        parts = [partialread]
        have = len(partialread)
        while have < reqlen:
            chunk = self._next_chunk()
            parts.append(chunk)
            have += len(chunk)
        self._rbuf = BytesIO(b"".join(parts))
        return self._rbuf


class BufferedTransport(_CReadable):
    """Unframed thrift over the socket (NOSASL)."""

    def __init__(self, sock: SocketTransport, read_size: int = 1 << 20) -> None:
        super().__init__(sock)
        self.read_size = read_size

    def open(self) -> None:
        if not self.sock.isOpen():
            self.sock.open()

    def _next_chunk(self) -> bytes:
        return self.sock.read(self.read_size)

    def flush(self) -> None:
        out = b"".join(self._wbuf)
        self._wbuf = []
        self.sock.write(out)


class SaslPlainTransport(_CReadable):
    """SASL PLAIN negotiation, then 4-byte big-endian length-prefixed frames in both directions."""

    def __init__(self, sock: SocketTransport, username: str, password: str, authzid: str = "") -> None:
        super().__init__(sock)
        self.username = username
        self.password = password
        self.authzid = authzid

    def _send_message(self, status: int, payload: bytes) -> None:
        self.sock.write(bytes([status]) + _LEN.pack(len(payload)) + payload)

    def _recv_message(self) -> tuple[int, bytes]:
        header = self.sock.readAll(5)
        status = header[0]
        (length,) = _LEN.unpack(header[1:])
        if length > MAX_FRAME:
            raise TTransportException(TTransportException.SIZE_LIMIT, f"SASL message too large ({length})")
        return status, self.sock.readAll(length) if length else b""

    def open(self) -> None:
        """Connect and run the PLAIN handshake (START + OK with ``authzid\\0user\\0password``)."""
        if not self.sock.isOpen():
            self.sock.open()
        self._send_message(SASL_START, b"PLAIN")
        initial = b"\0".join(s.encode("utf-8") for s in (self.authzid, self.username, self.password))
        self._send_message(SASL_OK, initial)
        status, payload = self._recv_message()
        while status == SASL_OK:  # PLAIN has no challenge, but tolerate an empty one
            self._send_message(SASL_OK, b"")
            status, payload = self._recv_message()
        if status != SASL_COMPLETE:
            self.sock.close()
            text = payload.decode("utf-8", "replace") or f"status {status}"
            raise TTransportException(TTransportException.NOT_OPEN, f"SASL authentication failed: {text}")

    def _next_chunk(self) -> bytes:
        (length,) = _LEN.unpack(self.sock.readAll(4))
        if length > MAX_FRAME:
            raise TTransportException(TTransportException.SIZE_LIMIT, f"frame too large ({length})")
        return self.sock.readAll(length) if length else b""

    def flush(self) -> None:
        out = b"".join(self._wbuf)
        self._wbuf = []
        self.sock.write(_LEN.pack(len(out)) + out)
