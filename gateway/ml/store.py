"""The model store: one directory per model, written atomically, readable after a restart.

Layout of a model path (always inside a data root)::

    <path>/meta.json            the model: algorithm, options, input schema, feature SQL, groups, versions
    <path>/group_<N>/...        parameter group N: scorer.json plus the algorithm's own files

With ``keepVersion="true"`` every train adds ``<path>/_model_<k>/`` (k = newest + 1) holding the same
layout, and readers take the newest unless ``modelVersion`` names one. A model is built in a hidden
sibling temp dir and renamed into place in one step, so a crash mid-train never leaves a half model
visible, and a failed train leaves the previous model untouched.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import shutil
import time
import uuid
from dataclasses import dataclass
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from gateway.ml.algorithm import ModelGroup, TrainError

META_FILE = "meta.json"
FORMAT = 1
_VERSION_DIR = re.compile(r"^_model_(\d+)$")
# Lower is better for these metrics; higher for the rest (f1, accuracy, r2...).
LOWER_IS_BETTER = {"rmse", "mae", "mse", "loss", "logloss"}


def library_versions(*extra: str) -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for dist in ("pyspark", "numpy", "pyarrow", *extra):
        with contextlib.suppress(importlib_metadata.PackageNotFoundError):
            versions[dist] = importlib_metadata.version(dist)
    return versions


class ModelWriter:
    """Builds a model in a temp dir; :meth:`commit` renames it into place (or :meth:`abort` drops it)."""

    def __init__(self, path: str | os.PathLike, keep_version: bool) -> None:
        self.path = Path(path)
        self.keep_version = keep_version
        parent = self.path if keep_version else self.path.parent
        self._created = [p for p in (parent, *parent.parents) if not p.exists()]  # removed again on abort
        parent.mkdir(parents=True, exist_ok=True)
        self.temp = parent / f".{self.path.name}.tmp-{uuid.uuid4().hex[:12]}"
        self.temp.mkdir()
        self.final: Path | None = None

    def group_dir(self, index: int) -> Path:
        directory = self.temp / f"group_{index}"
        directory.mkdir(exist_ok=True)
        return directory

    def final_group_dir(self, index: int) -> Path:
        """Where group ``index`` will live once committed (for paths recorded in the status table)."""
        return self._target() / f"group_{index}"

    def _target(self) -> Path:
        if not self.keep_version:
            return self.path
        if self.final is None:
            self.final = self.path / f"_model_{_next_version(self.path)}"
        return self.final

    def drop_group(self, index: int) -> None:
        shutil.rmtree(self.temp / f"group_{index}", ignore_errors=True)

    def commit(self, meta: dict[str, Any]) -> Path:
        (self.temp / META_FILE).write_text(json.dumps({"format": FORMAT, **meta}, indent=1, default=str))
        target = self._target()
        if self.keep_version:
            while True:
                try:
                    os.rename(self.temp, target)  # fails if another train took this version meanwhile
                    break
                except OSError:
                    if not target.exists():
                        raise
                    self.final = None
                    target = self._target()
        else:
            _replace_dir(self.temp, target)
        return target

    def abort(self) -> None:
        shutil.rmtree(self.temp, ignore_errors=True)
        for directory in self._created:  # innermost first; only the empty ones this writer made
            try:
                directory.rmdir()
            except OSError:
                break


def _replace_dir(new: Path, target: Path) -> None:
    if not target.exists():
        os.rename(new, target)
        return
    trash = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:12]}"
    os.rename(target, trash)
    try:
        os.rename(new, target)
    except BaseException:
        os.rename(trash, target)
        raise
    shutil.rmtree(trash, ignore_errors=True)


def _versions(path: Path) -> list[int]:
    if not path.is_dir():
        return []
    return sorted(int(m.group(1)) for p in path.iterdir() if (m := _VERSION_DIR.match(p.name)))


def _next_version(path: Path) -> int:
    existing = _versions(path)
    return existing[-1] + 1 if existing else 0


@dataclass
class StoredModel:
    """A committed model (one version) read back from disk."""

    directory: Path
    meta: dict[str, Any]
    version: int | None

    @property
    def algorithm(self) -> str:
        return self.meta["algorithm"]

    def groups(self) -> list[ModelGroup]:
        return [self._group(g) for g in self.meta.get("groups", []) if g.get("status") == "success"]

    def _group(self, entry: dict[str, Any]) -> ModelGroup:
        return ModelGroup(directory=self.directory / entry["dir"], index=int(entry["index"]),
                          algorithm=self.algorithm, params=dict(entry.get("params", {})),
                          info=dict(entry.get("info", {})), metrics=dict(entry.get("metrics", {})))

    def select(self, alg_index: str | None = None, metric: str | None = None) -> ModelGroup:
        """The group for ``algIndex``, else the best by ``autoSelectByMetric`` (default f1), else the first."""
        groups = self.groups()
        if not groups:
            raise TrainError(f"model {self.directory} has no successfully trained group")
        if alg_index not in (None, ""):
            for group in groups:
                if str(group.index) == str(alg_index).strip():
                    return group
            raise TrainError(f"model {self.directory} has no trained group {alg_index} "
                             f"(groups: {', '.join(str(g.index) for g in groups)})")
        metric = (metric or "f1").strip()
        scored = [g for g in groups if metric in g.metrics]
        if not scored:
            return groups[0]
        lower = metric.lower() in LOWER_IS_BETTER
        return (min if lower else max)(scored, key=lambda g: g.metrics[metric])


def open_model(path: str | os.PathLike, version: str | None = None) -> StoredModel:
    """The model at ``path`` (newest version, or ``modelVersion``); a clear error if there is none."""
    root = Path(path)
    versions = _versions(root)
    if version not in (None, ""):
        try:
            wanted = int(str(version).strip())
        except ValueError:
            raise TrainError(f"modelVersion must be an integer, not {version!r}") from None
        if wanted not in versions:
            raise TrainError(f"model {root} has no version {wanted} "
                             f"(versions: {', '.join(map(str, versions)) or 'none'})")
        return _read(root / f"_model_{wanted}", wanted)
    if (root / META_FILE).exists():
        return _read(root, None)
    if versions:
        return _read(root / f"_model_{versions[-1]}", versions[-1])
    raise TrainError(f"no model at {root} (train one first)")


def _read(directory: Path, version: int | None) -> StoredModel:
    try:
        meta = json.loads((directory / META_FILE).read_text())
    except (OSError, ValueError) as exc:
        raise TrainError(f"cannot read the model at {directory}: {exc}") from None
    return StoredModel(directory, meta, version)


def now() -> float:
    return time.time()
