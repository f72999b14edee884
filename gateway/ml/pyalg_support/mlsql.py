"""``mlsql``: the support module a PythonAlg script imports (the reference's file-level contract).

The gateway copies this file next to the user script. Importing it loads ``python_temp.pickle`` (from
``$MLSQL_PARAMS`` or the working directory), a dict with four sub-dicts:

- ``fitParam``: the parameter group's options (strings, ``fitParam.N.`` prefix removed) plus ``modelPath``;
- ``kafkaParam``: empty (data arrives as files, never through Kafka);
- ``internalSystemParam``: ``tempModelLocalPath`` (write the model here), ``tempDataLocalPath`` (a
  directory of JSON-lines part files, one row object per line, vectors as dense arrays),
  ``stopFlagNum`` (the number of part files) and ``resource`` (name -> local path);
- ``systemParam``: ``pythonPath``, ``pythonVer``, ``envs``.

Training: the script reads rows (:func:`read_data`, :func:`sklearn_all_data`), writes its model into
:func:`model_dir` and may print ``mlsql_validation_score:<float>``. Predicting: the gateway imports the
script (or the ``predictScriptPath`` file) with ``MLSQL_PREDICT=1`` and ``MLSQL_MODEL_DIR`` set, and
calls its ``predict(rows: list[dict]) -> list``; :func:`model_dir` then names the stored model directory.
"""

from __future__ import annotations

import json
import os
import pickle
from collections.abc import Callable, Iterator
from typing import Any

PARAMS_FILE = "python_temp.pickle"
_PREDICT = os.environ.get("MLSQL_PREDICT") == "1"  # read once: the gateway sets it only while importing


def _load() -> dict[str, Any]:
    path = os.environ.get("MLSQL_PARAMS") or os.path.join(os.getcwd(), PARAMS_FILE)
    try:
        with open(path, "rb") as handle:
            loaded = pickle.load(handle)
    except FileNotFoundError:
        loaded = {}
    params = {key: dict(loaded.get(key) or {}) for key in
              ("fitParam", "kafkaParam", "internalSystemParam", "systemParam")}
    if predict_mode() and os.environ.get("MLSQL_MODEL_DIR"):
        params["internalSystemParam"]["tempModelLocalPath"] = os.environ["MLSQL_MODEL_DIR"]
    return params


def predict_mode() -> bool:
    """True when the gateway imported the script to predict (not to train)."""
    return _PREDICT


_PARAMS: dict[str, Any] = _load()
fit_param: dict[str, Any] = _PARAMS["fitParam"]
kafka_param: dict[str, Any] = _PARAMS["kafkaParam"]
internal_system_param: dict[str, Any] = _PARAMS["internalSystemParam"]
systemParam: dict[str, Any] = _PARAMS["systemParam"]
system_param = systemParam


def params() -> dict[str, Any]:
    """The whole parameter dict (fitParam, kafkaParam, internalSystemParam, systemParam)."""
    return _PARAMS


def get_param(d: dict[str, Any], name: str, default: Any = None) -> Any:
    """``d[name]`` when present and not empty, else ``default``."""
    value = d.get(name) if d else None
    return default if value is None or value == "" else value


def model_dir() -> str:
    """Where the model lives: write it here when training, read it from here when predicting."""
    path = internal_system_param.get("tempModelLocalPath") or os.path.join(os.getcwd(), "model")
    os.makedirs(path, exist_ok=True)
    return path


def data_dir() -> str:
    return internal_system_param.get("tempDataLocalPath") or os.path.join(os.getcwd(), "data")


def resource(name: str) -> str:
    """The local path of ``fitParam.N.resource.<name>``."""
    return internal_system_param.get("resource", {})[name]


def to_dense(value: Any, size: int | None = None) -> list[float] | None:
    """A vector as a list of floats: a plain array, ``{type: 1, values}`` or ``{type: 0, size, indices,
    values}`` (the three spellings data files may use)."""
    if value is None or isinstance(value, list):
        return value
    if isinstance(value, dict):
        if value.get("type", 1) == 1:
            return [float(v) for v in value["values"]]
        out = [0.0] * int(value.get("size") or size or 0)
        for i, v in zip(value["indices"], value["values"], strict=False):
            out[int(i)] = float(v)
        return out
    return [float(v) for v in value]


def _part_files() -> list[str]:
    directory = data_dir()
    if not os.path.isdir(directory):
        return []
    return sorted(os.path.join(directory, f) for f in os.listdir(directory)
                  if f.startswith("part-") and f.endswith(".json"))


def _rows() -> Iterator[dict[str, Any]]:
    for path in _part_files():
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield json.loads(line)


class _DataReader:
    """Batches of row dicts: ``for batch in read_data()`` or, as the reference, ``read_data()(max_records=k)``."""

    def __init__(self, max_records: int = 1000) -> None:
        self.max_records = max_records

    def __call__(self, max_records: int | None = None) -> Iterator[list[dict[str, Any]]]:
        size = max(1, int(max_records or self.max_records))
        batch: list[dict[str, Any]] = []
        for row in _rows():
            batch.append(row)
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch

    def __iter__(self) -> Iterator[list[dict[str, Any]]]:
        return self()


def read_data(max_records: int = 1000) -> _DataReader:
    """The training rows in batches (lists of dicts, one per row; vectors are lists of floats)."""
    return _DataReader(max_records)


def _columns() -> tuple[str, str]:
    features = get_param(fit_param, "inputCol", get_param(fit_param, "featuresCol", "features"))
    label = get_param(fit_param, "label", get_param(fit_param, "labelCol", "label"))
    return features, label


def sklearn_all_data() -> tuple[Any, Any]:
    """All rows as ``(X, y)`` numpy arrays: X from fitParam inputCol (default features), y from label."""
    import numpy as np

    features, label = _columns()
    xs, ys = [], []
    for row in _rows():
        value = row.get(features)
        xs.append(to_dense(value) if isinstance(value, (list, dict)) else [value])
        ys.append(row.get(label))
    return np.asarray(xs, dtype=np.float64), np.asarray(ys)


def sklearn_batch_data(fn: Callable[[Any, Any, int], Any]) -> None:
    """Call ``fn(X, y, labelSize)`` per ``batchSize`` rows (fitParam; default 1000), e.g. for partial_fit."""
    import numpy as np

    features, label = _columns()
    size = int(get_param(fit_param, "batchSize", 1000))
    label_size = int(get_param(fit_param, "labelSize", -1))
    for batch in read_data(size):
        x = np.asarray([to_dense(r.get(features)) for r in batch], dtype=np.float64)
        fn(x, np.asarray([r.get(label) for r in batch]), label_size)


def get_validate_data() -> tuple[Any, Any]:
    """The reference's validateTable rows; this gateway does not pass a validation table."""
    raise NotImplementedError("validateTable is not supported: split the data in the script and print "
                              "mlsql_validation_score:<float>")


def _coerce(value: Any, default: Any) -> Any:
    if not isinstance(value, str):
        return value
    text = value.strip()
    if isinstance(default, bool):
        return text.lower() == "true"
    if isinstance(default, int):
        number = float(text)
        return int(number) if number.is_integer() else number
    if isinstance(default, float):
        return float(text)
    if isinstance(default, (list, tuple)):
        return type(default)(json.loads(text) if text.startswith("[") else
                             [_coerce(p, "") for p in text.split(",") if p.strip()])
    if default is None:
        for parse in (int, float):
            try:
                return parse(text)
            except ValueError:
                pass
        if text.lower() in ("true", "false", "none"):
            return {"true": True, "false": False, "none": None}[text.lower()]
    return value


def sklearn_configure_params(estimator: Any) -> Any:
    """Set the estimator's parameters from fitParam keys of the same name, coerced to the defaults' types."""
    defaults = estimator.get_params()
    settings = {k: _coerce(v, defaults[k]) for k, v in fit_param.items() if k in defaults}
    if settings:
        estimator.set_params(**settings)
    return estimator


def report_score(score: float) -> None:
    """Print the validation score line the gateway records (``mlsql_validation_score:<float>``)."""
    print(f"mlsql_validation_score:{float(score)}", flush=True)
