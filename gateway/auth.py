"""Authenticators for the Thrift (and later REST) front doors.

* ``NONE``: any user and password are accepted (HiveServer2's anonymous provider).
* ``NOSASL``: no SASL; the user comes from OpenSession.
* ``CUSTOM``: a users file of salted password hashes, one ``user:pbkdf2_sha256$iterations$salt$hash`` per line,
  written by ``mlsql-gateway passwd``. The file is re-read when it changes. Passwords are never logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

SCHEME = "pbkdf2_sha256"
ITERATIONS = 200_000


class AuthenticationError(Exception):
    """The user or password was not accepted (the message never contains the password)."""


class Authenticator:
    """Checks a user name and password; raises AuthenticationError on failure."""

    mechanism = "NONE"

    def authenticate(self, user: str, password: str) -> None:
        raise NotImplementedError


class AnonymousAuthenticator(Authenticator):
    """Accepts anyone, like HiveServer2 with hive.server2.authentication=NONE."""

    def __init__(self, mechanism: str = "NONE") -> None:
        self.mechanism = mechanism

    def authenticate(self, user: str, password: str) -> None:
        if not user:
            raise AuthenticationError("empty user name")


def hash_password(password: str, *, iterations: int = ITERATIONS, salt: bytes | None = None) -> str:
    """The users-file form of a password: ``pbkdf2_sha256$iterations$salt$hash`` (base64 salt and hash)."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    b64 = base64.b64encode
    return f"{SCHEME}${iterations}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, encoded: str) -> bool:
    """Constant-time check of ``password`` against an encoded hash; False for malformed entries."""
    try:
        scheme, iterations, salt, digest = encoded.split("$")
        if scheme != SCHEME:
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(expected, actual)


def read_users_file(path: str | os.PathLike) -> dict[str, str]:
    """Parse a users file into {user: encoded hash}; blank lines and ``#`` comments are skipped."""
    users: dict[str, str] = {}
    for lineno, raw in enumerate(Path(path).read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, encoded = line.partition(":")
        if not sep or not user or not encoded:
            raise ValueError(f"{path}:{lineno}: expected 'user:hash'")
        users[user] = encoded
    return users


def write_user(path: str | os.PathLike, user: str, password: str) -> None:
    """Add or replace ``user`` in the users file, atomically (temp file + rename), mode 0600."""
    if not user or ":" in user or any(c.isspace() for c in user):
        raise ValueError("user names must be non-empty and contain no ':' or white space")
    target = Path(path)
    users = read_users_file(target) if target.exists() else {}
    users[user] = hash_password(password)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".users-", dir=target.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write("# mlsql-gateway users: written by `mlsql-gateway passwd`\n")
            handle.writelines(f"{name}:{encoded}\n" for name, encoded in sorted(users.items()))
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass
class _Snapshot:
    mtime_ns: int
    users: dict[str, str]


class FileAuthenticator(Authenticator):
    """CUSTOM authentication against a users file of salted hashes; reloads when the file changes."""

    mechanism = "CUSTOM"

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._snapshot = _Snapshot(-1, {})
        self._users()  # fail fast on a missing or malformed file

    def _users(self) -> dict[str, str]:
        mtime = self.path.stat().st_mtime_ns
        with self._lock:
            if mtime != self._snapshot.mtime_ns:
                self._snapshot = _Snapshot(mtime, read_users_file(self.path))
            return self._snapshot.users

    def authenticate(self, user: str, password: str) -> None:
        try:
            encoded = self._users().get(user)
        except (OSError, ValueError) as exc:
            raise AuthenticationError(f"users file unavailable: {exc}") from None
        # Verify against a dummy hash for unknown users so timing does not reveal which names exist.
        ok = verify_password(password, encoded or _DUMMY_HASH)
        if not ok or encoded is None:
            raise AuthenticationError(f"authentication failed for user '{user}'")


_DUMMY_HASH = hash_password("not-a-real-password", salt=b"\0" * 16)


def make_authenticator(mode: str, users_file: str | None = None) -> Authenticator:
    """Build the authenticator for ``--auth`` NONE, NOSASL or CUSTOM."""
    mode = mode.upper()
    if mode in ("NONE", "NOSASL"):
        return AnonymousAuthenticator(mode)
    if mode == "CUSTOM":
        if not users_file:
            raise ValueError("--auth CUSTOM needs --users-file (create one with `mlsql-gateway passwd`)")
        return FileAuthenticator(users_file)
    raise ValueError(f"unsupported auth mode {mode!r}: expected NONE, NOSASL or CUSTOM")
