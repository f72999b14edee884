"""``mlsql_model``: save and load a PythonAlg script's model in :func:`mlsql.model_dir`.

``sk_save_model(model)`` pickles to ``<model dir>/model.pickle`` (as the reference did) and, for a
classifier with numeric ``classes_``, records them in ``mlsql_info.json`` so the ``predict`` statement
maps the probability vector's largest entry to the class label. ``sk_load_model()`` reads it back.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
from typing import Any

import mlsql

MODEL_FILE = "model.pickle"
INFO_FILE = "mlsql_info.json"


def sk_save_model(model: Any) -> str:
    path = os.path.join(mlsql.model_dir(), MODEL_FILE)
    with open(path, "wb") as handle:
        pickle.dump(model, handle, protocol=2)
    classes = getattr(model, "classes_", None)
    if classes is not None:
        with contextlib.suppress(TypeError, ValueError):
            save_info(labels=[float(c) for c in classes])
    return path


def sk_load_model() -> Any:
    with open(os.path.join(mlsql.model_dir(), MODEL_FILE), "rb") as handle:
        return pickle.load(handle)


def save_info(**fields: Any) -> None:
    """Small facts about the model the gateway keeps (``labels``: class labels in probability order)."""
    path = os.path.join(mlsql.model_dir(), INFO_FILE)
    info = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            info = json.load(handle)
    info.update(fields)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(info, handle)
