"""File-access policy: every path a script reads or writes resolves inside a configured root.

Data roots hold data and models (``--data-root``), script roots hold includable scripts (``--script-root``).
A relative path resolves under the user's home inside the first root (``<root>/<user>/<path>``); an
absolute path must already lie inside a root. ``..`` never escapes: paths are normalised and symlinks
resolved before the check. URIs with another scheme (hdfs://, s3a://) are refused unless an administrator
allows them.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from gateway.errors import GatewayError

_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")
_USER = re.compile(r"^[A-Za-z0-9_.@-]{1,128}$")


class PathDenied(GatewayError):
    """A path outside the configured roots, or otherwise refused."""

    sqlstate = "42501"


class PathPolicy:
    """Resolves user paths against data and script roots."""

    def __init__(self, data_roots: Sequence[str | os.PathLike], script_roots: Sequence[str | os.PathLike] = (),
                 allow_remote_schemes: bool = False) -> None:
        self.data_roots = [Path(r).resolve() for r in data_roots]
        self.script_roots = [Path(r).resolve() for r in script_roots]
        self.allow_remote_schemes = allow_remote_schemes

    def data_path(self, path: str, user: str) -> str:
        """A data or model path for ``user``: a local absolute path string (or an allowed remote URI)."""
        return self._resolve(path, user, self.data_roots, "data")

    def script_path(self, path: str, user: str) -> Path:
        return Path(self._resolve(path, user, self.script_roots, "script"))

    def home(self, user: str) -> Path:
        if not self.data_roots:
            raise PathDenied("no data root is configured (start the gateway with --data-root DIR)")
        return self.data_roots[0] / _safe_user(user)

    def _resolve(self, path: str, user: str, roots: list[Path], kind: str) -> str:
        text = (path or "").strip()
        if not text:
            raise PathDenied(f"empty {kind} path")
        scheme = _SCHEME.match(text)
        if scheme and scheme.group(1).lower() != "file":
            if self.allow_remote_schemes:
                return text
            raise PathDenied(f"{scheme.group(1)}:// paths are disabled on this server ({kind} path {text!r})")
        if scheme:
            text = text[len(scheme.group(0)) - 1:]  # file:///x -> /x
        if not roots:
            raise PathDenied(f"no {kind} root is configured, so {kind} paths are refused "
                             f"(start the gateway with --{kind}-root DIR)")
        candidate = Path(text)
        if not candidate.is_absolute():
            candidate = roots[0] / _safe_user(user) / candidate
        resolved = Path(os.path.realpath(candidate))
        for root in roots:
            if resolved == root or resolved.is_relative_to(root):
                return str(resolved)
        raise PathDenied(f"{kind} path {path!r} is outside the configured {kind} roots")


def _safe_user(user: str) -> str:
    if not _USER.match(user or "") or user in (".", ".."):
        raise PathDenied(f"user name {user!r} cannot be used as a home directory")
    return user


@contextmanager
def atomic_output(target: str | os.PathLike, mode: str = "overwrite") -> Iterator[str]:
    """Yield a temporary sibling path to write into; on success it replaces ``target`` in one rename.

    ``mode``: overwrite (replace), errorIfExists (fail if present), ignore (keep the existing target, discard
    the new output), append (callers append in place; no temp path). On failure nothing is left at the target.
    """
    target_path = Path(target)
    target_path.parent.mkdir(parents=True, exist_ok=True)
    exists = target_path.exists()
    mode_l = mode.lower()
    if mode_l == "errorifexists" and exists:
        raise GatewayError(f"path {target_path} already exists (save mode errorIfExists)", "42710")
    temp = target_path.parent / f".{target_path.name}.tmp-{uuid.uuid4().hex[:12]}"
    try:
        yield str(temp)
        if mode_l == "ignore" and exists:
            return
        if exists:
            trash = target_path.parent / f".{target_path.name}.old-{uuid.uuid4().hex[:12]}"
            os.replace(target_path, trash)
            try:
                os.replace(temp, target_path)
            except BaseException:
                os.replace(trash, target_path)
                raise
            _remove(trash)
        else:
            os.replace(temp, target_path)
    finally:
        if temp.exists():
            _remove(temp)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
