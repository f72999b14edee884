"""Server side of SASL PLAIN negotiation as HiveServer2 frames it.

Each negotiation message is a status byte (START=1, OK=2, BAD=3, ERROR=4, COMPLETE=5), a 4-byte big-endian
length and a payload. The client sends START with the mechanism name, then the PLAIN response
``authzid NUL authcid NUL password``; the server answers COMPLETE, or BAD/ERROR and closes.
"""

from __future__ import annotations

import logging
import socket
import struct

from gateway.auth import AuthenticationError, Authenticator
from gateway.transport.framing import recv_exact, send_all

log = logging.getLogger(__name__)

START, OK, BAD, ERROR, COMPLETE = 1, 2, 3, 4, 5
_HEADER = struct.Struct(">BI")
MAX_NEGOTIATION_BYTES = 64 << 10


class SaslError(Exception):
    """Negotiation failed; the message is safe to log (no password)."""


def _read_message(sock: socket.socket) -> tuple[int, bytes]:
    status, length = _HEADER.unpack(recv_exact(sock, 5))
    if length > MAX_NEGOTIATION_BYTES:
        raise SaslError(f"SASL message of {length} bytes is too large")
    return status, recv_exact(sock, length) if length else b""


def _send(sock: socket.socket, status: int, payload: bytes = b"") -> None:
    send_all(sock, _HEADER.pack(status, len(payload)) + payload)


def negotiate_plain(sock: socket.socket, authenticator: Authenticator) -> str:
    """Run the server side of SASL PLAIN; returns the authenticated user or raises SaslError."""
    status, mechanism = _read_message(sock)
    if status != START:
        raise SaslError(f"expected SASL START, got status {status}")
    mech = mechanism.decode("ascii", "replace").strip().upper()
    if mech != "PLAIN":
        _send(sock, BAD, f"unsupported SASL mechanism {mech}; this server speaks PLAIN".encode())
        raise SaslError(f"unsupported SASL mechanism {mech!r}")
    status, response = _read_message(sock)
    if status not in (OK, COMPLETE):
        raise SaslError(f"expected the PLAIN response, got status {status}")
    parts = response.split(b"\0")
    if len(parts) != 3:
        _send(sock, BAD, b"malformed PLAIN response")
        raise SaslError("malformed PLAIN response")
    _authzid, authcid, password = (p.decode("utf-8", "replace") for p in parts)
    try:
        authenticator.authenticate(authcid, password)
    except AuthenticationError as exc:
        _send(sock, BAD, f"Error validating the login: {exc}".encode())
        raise SaslError(str(exc)) from None
    _send(sock, COMPLETE)
    return authcid
