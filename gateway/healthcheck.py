"""``python -m gateway.healthcheck``: open and close an HS2 session (exit 0 when the gateway is healthy)."""

from __future__ import annotations

import argparse
import socket
import struct
import sys

from thrift.protocol.TBinaryProtocol import TBinaryProtocolAccelerated
from thrift.transport.TTransport import TMemoryBuffer

from thrift_idl.gen.TCLIService import TCLIService, ttypes


class _SaslPlainSocket:
    """Just enough of a SASL PLAIN client transport (framed after negotiation) for a health probe."""

    def __init__(self, host: str, port: int, user: str, timeout: float) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self._send(1, b"PLAIN")
        self._send(5, b"\0" + user.encode() + b"\0healthcheck")
        status, payload = self._recv()
        if status != 5:
            raise RuntimeError(f"SASL refused: {payload.decode(errors='replace')}")
        self._rbuf = b""
        self._wbuf = TMemoryBuffer()

    def _send(self, status: int, payload: bytes) -> None:
        self.sock.sendall(struct.pack(">BI", status, len(payload)) + payload)

    def _exact(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise RuntimeError("connection closed")
            data += chunk
        return data

    def _recv(self) -> tuple[int, bytes]:
        status, length = struct.unpack(">BI", self._exact(5))
        return status, self._exact(length)

    def call(self, name: str, args) -> bytes:
        buf = TMemoryBuffer()
        proto = TBinaryProtocolAccelerated(buf)
        proto.writeMessageBegin(name, 1, 1)
        args.write(proto)
        proto.writeMessageEnd()
        body = buf.getvalue()
        self.sock.sendall(struct.pack(">i", len(body)) + body)
        (length,) = struct.unpack(">i", self._exact(4))
        return self._exact(length)


def check(host: str, port: int, user: str = "healthcheck", timeout: float = 15.0) -> None:
    conn = _SaslPlainSocket(host, port, user, timeout)
    try:
        reply = conn.call("OpenSession", TCLIService.OpenSession_args(req=ttypes.TOpenSessionReq()))
        proto = TBinaryProtocolAccelerated(TMemoryBuffer(reply))
        proto.readMessageBegin()
        result = TCLIService.OpenSession_result()
        result.read(proto)
        resp = result.success
        if resp is None or resp.status.statusCode != ttypes.TStatusCode.SUCCESS_STATUS:
            raise RuntimeError(f"OpenSession failed: {resp}")
        conn.call("CloseSession", TCLIService.CloseSession_args(req=ttypes.TCloseSessionReq(resp.sessionHandle)))
    finally:
        conn.sock.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=10000)
    args = p.parse_args(argv)
    try:
        check(args.host, args.port)
    except Exception as exc:  # noqa: BLE001
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    print("healthy")
    return 0


if __name__ == "__main__":
    sys.exit(main())
