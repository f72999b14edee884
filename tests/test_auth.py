"""Users file, password hashing and the passwd helper (unit level; SASL over the wire is in test_transport)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from gateway.auth import (
    AnonymousAuthenticator,
    AuthenticationError,
    FileAuthenticator,
    hash_password,
    make_authenticator,
    read_users_file,
    verify_password,
    write_user,
)


def test_hash_roundtrip_and_salting():
    a, b = hash_password("s3cret"), hash_password("s3cret")
    assert a != b  # random salt
    assert verify_password("s3cret", a) and verify_password("s3cret", b)
    assert not verify_password("S3cret", a)
    assert not verify_password("s3cret", "garbage") and not verify_password("x", "md5$1$aa$bb")


def test_write_user_is_atomic_private_and_replaces(tmp_path):
    path = tmp_path / "users"
    write_user(path, "alice", "one")
    write_user(path, "bob", "two")
    write_user(path, "alice", "three")
    users = read_users_file(path)
    assert set(users) == {"alice", "bob"}
    assert verify_password("three", users["alice"]) and not verify_password("one", users["alice"])
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert "three" not in path.read_text() and "two" not in path.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["users"]  # no temp files left behind
    with pytest.raises(ValueError):
        write_user(path, "bad:name", "x")


def test_file_authenticator_reloads_and_hides_password(tmp_path):
    path = tmp_path / "users"
    write_user(path, "alice", "pw1")
    auth = FileAuthenticator(path)
    auth.authenticate("alice", "pw1")
    with pytest.raises(AuthenticationError) as err:
        auth.authenticate("alice", "wrong-password-123")
    assert "wrong-password-123" not in str(err.value)
    with pytest.raises(AuthenticationError):
        auth.authenticate("mallory", "pw1")
    write_user(path, "alice", "pw2")
    os.utime(path, ns=(1, os.stat(path).st_mtime_ns + 10_000_000))
    auth.authenticate("alice", "pw2")
    with pytest.raises(AuthenticationError):
        auth.authenticate("alice", "pw1")


def test_malformed_users_file(tmp_path):
    path = tmp_path / "users"
    path.write_text("no-colon-here\n")
    with pytest.raises(ValueError, match="users:1"):
        FileAuthenticator(path)


def test_make_authenticator():
    assert isinstance(make_authenticator("none"), AnonymousAuthenticator)
    assert make_authenticator("NOSASL").mechanism == "NOSASL"
    with pytest.raises(ValueError, match="users-file"):
        make_authenticator("CUSTOM")
    with pytest.raises(ValueError, match="unsupported"):
        make_authenticator("KERBEROS")


def test_passwd_command_reads_stdin(tmp_path):
    path = tmp_path / "users"
    proc = subprocess.run([sys.executable, "-m", "gateway.cli", "passwd", "--users-file", str(path), "carol"],
                          input="hunter2\n", capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "hunter2" not in proc.stderr + proc.stdout
    FileAuthenticator(path).authenticate("carol", "hunter2")
