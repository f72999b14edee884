"""PythonAlg: user Python algorithms, run as subprocesses under the reference's file-level contract.

Off unless an administrator starts the gateway with ``--allow-python-alg``: otherwise train, register and
predict fail with SQLSTATE 42501. The user-script contract (also in ``pyalg_support/README.md``):

Train, once per ``fitParam.N`` group: the script named by ``pythonScriptPath`` (a ``.py`` file inside
the gateway's script roots; inline ``code`` is refused) is copied into a fresh working directory with the
support modules ``mlsql.py`` and ``mlsql_model.py`` and ``python_temp.pickle`` (fitParam / kafkaParam /
internalSystemParam / systemParam), then run as ``<gateway python> <script>`` in its own process group.
The training table is in ``tempDataLocalPath``: JSON-lines part files, one object per row, vectors as
dense arrays (within the single-node row/value limits). The script writes its model into
``tempModelLocalPath`` and may print ``mlsql_validation_score:<float>``. Its stdout/stderr lines go to
the operation log; a non-zero exit fails the group with the last stderr lines; running past
``--python-alg-timeout`` kills the process group and fails the group.

Predict (register/predict): a function ``predict(rows: list[dict]) -> list`` (one output per row), in
the file named by ``predictScriptPath``, else in the training script itself. The model group keeps a
copy of the code; Spark's Python workers import it (once per process) with ``MLSQL_PREDICT=1`` and
``MLSQL_MODEL_DIR`` set, so ``mlsql.model_dir()`` names the stored model. Rows hold the ``inputCols``
(default: the features column), vectors as lists of floats; ``outputType`` (default ``vector``) is the
SQL type of the results. Training code must sit under ``if __name__ == "__main__":`` (or check
``mlsql.predict_mode()``) so that importing the script does not train again.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import importlib.util
import json
import os
import pickle
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from gateway.ml import scoring, vectors
from gateway.ml.algorithm import CLASSIFICATION, FEATURE, REGRESSION, Algorithm, TrainError, TrainJob
from gateway.ml.pyalg_support import SUPPORT_DIR, SUPPORT_FILES
from gateway.ml.scoring import FunctionSpec, Scorer, ScorerError
from gateway.ml.sklearn_alg import batches
from gateway.mlsql.transformers import REGISTRY, Param

PARAMS_FILE = "python_temp.pickle"
CODE_DIR = "code"
MODEL_DIR = "model"
ROWS_PER_FILE = 50_000
_SCORE = re.compile(r"^mlsql_validation_score\s*:\s*(\S+)\s*$")
_SUPPORT_MODULES = tuple(Path(f).stem for f in SUPPORT_FILES)
DISABLED = ("PythonAlg is disabled on this server: it runs user Python code, so an administrator must start "
            "the gateway with --allow-python-alg")


class PythonAlgDisabled(TrainError):
    """PythonAlg used on a gateway that does not allow user Python code."""

    sqlstate = "42501"


# -- the administrator's switch -------------------------------------------------------------------------
_POLICY: bool | None = None


def configure(allow: bool | None) -> None:
    """Set this process's PythonAlg policy (the gateway's ``Limits.allow_python``); None: derive it."""
    global _POLICY
    _POLICY = allow


def _gateway_process() -> bool:
    return _POLICY is not None or "gateway.app" in sys.modules


def python_allowed() -> bool:
    """Whether this process may run PythonAlg code: configure()'s value, else the gateway's own command
    line (``--allow-python-alg``), else the MLSQL_GATEWAY_ALLOW_PYTHON_ALG environment default."""
    if _POLICY is not None:
        return _POLICY
    if "gateway.app" in sys.modules:
        return _command_line_setting()
    from gateway.config import GatewayConfig

    return GatewayConfig().allow_python_alg


_COMMAND_LINE: list[bool] = []


def _command_line_setting() -> bool:
    if not _COMMAND_LINE:
        from gateway.cli import _serve_parser

        try:
            args, _ = _serve_parser().parse_known_args(sys.argv[1:])
            _COMMAND_LINE.append(bool(args.allow_python_alg))
        except SystemExit:
            from gateway.config import GatewayConfig

            _COMMAND_LINE.append(GatewayConfig().allow_python_alg)
    return _COMMAND_LINE[0]


def check_allowed(limits: Any = None) -> None:
    """Raise PythonAlgDisabled (SQLSTATE 42501) unless PythonAlg is enabled (``limits.allow_python``)."""
    allowed = limits.allow_python if limits is not None else python_allowed()
    if not allowed:
        raise PythonAlgDisabled(DISABLED)


# -- running a script -------------------------------------------------------------------------------------
@dataclass
class ScriptRun:
    returncode: int | None
    timed_out: bool
    score: float | None
    stderr_tail: list[str] = field(default_factory=list)
    seconds: float = 0.0


def run_script(job: TrainJob, work: Path, script: str, timeout: float) -> ScriptRun:
    """``<python> <script>`` in ``work`` (own process group, minimal environment); output lines go to the
    operation log; killed with its whole group after ``timeout`` seconds."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work), "LANG": "C.UTF-8",
           "LC_ALL": "C.UTF-8", "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1",
           "TMPDIR": str(work / "tmp"), "TF_CPP_MIN_LOG_LEVEL": "2", "OMP_NUM_THREADS": "2",
           "OPENBLAS_NUM_THREADS": "2", "MKL_NUM_THREADS": "2", "MLSQL_PARAMS": str(work / PARAMS_FILE)}
    (work / "tmp").mkdir(exist_ok=True)
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, script], cwd=work, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    scores: list[str] = []
    tail: deque[str] = deque(maxlen=20)

    def pump(stream, name: str) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")[:2000]
            if name == "stdout":
                match = _SCORE.match(line.strip())
                if match:
                    scores.append(match.group(1))
            else:
                tail.append(line)
            job.say(f"PythonAlg[{job.index}] {name}: {line}")
        stream.close()

    readers = [threading.Thread(target=pump, args=(proc.stdout, "stdout"), daemon=True),
               threading.Thread(target=pump, args=(proc.stderr, "stderr"), daemon=True)]
    for reader in readers:
        reader.start()
    timed_out = False
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:
        _kill_group(proc)  # also reaps anything the script left running in its group
    for reader in readers:
        reader.join(5)
    score = None
    for text in reversed(scores):
        try:
            score = float(text)
            break
        except ValueError:
            job.say(f"PythonAlg[{job.index}]: ignoring the unreadable score line value {text!r}")
    return ScriptRun(None if timed_out else proc.returncode, timed_out, score, list(tail),
                     time.monotonic() - started)


def _kill_group(proc: subprocess.Popen) -> None:
    """Stop the script's process group: SIGTERM to a running script, then SIGKILL to whatever is left."""
    if proc.poll() is None:
        _signal_group(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=3)
    _signal_group(proc.pid, signal.SIGKILL)
    proc.wait()


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


# -- the training data as JSON lines ----------------------------------------------------------------------
def _json_values(array: pa.Array) -> list[Any]:
    if vectors.is_vector_type(array.type):
        try:
            rows: list[Any] = vectors.to_matrix(array).tolist()
        except vectors.VectorError:  # vectors of mixed sizes
            return [vectors.to_python(v) for v in array.to_pylist()]
        for i in np.flatnonzero(vectors.row_nulls(array)):
            rows[i] = None
        return rows
    return array.to_pylist()


def write_data(job: TrainJob, directory: Path) -> tuple[int, int]:
    """The training table as JSON-lines part files in ``directory``; returns (rows, files)."""
    directory.mkdir(parents=True, exist_ok=True)
    rows = job.df.count()
    if rows > job.limits.max_rows:
        raise TrainError(f"the training table has {rows} rows; PythonAlg hands at most {job.limits.max_rows} "
                         f"to a script (sample it first, e.g. with RateSampler, or raise the limit)")
    files = written = 0
    handle = None
    try:
        for batch in batches(job.df):
            columns = [_json_values(batch.column(i)) for i in range(batch.num_columns)]
            width = sum(len(next((v for v in c if isinstance(v, list)), [0])) or 1 for c in columns)
            if rows * width > job.limits.max_cells:
                raise TrainError(f"{rows} rows x {width} values exceed the single-node limit of "
                                 f"{job.limits.max_cells}; sample or reduce the columns first")
            names = batch.schema.names
            for values in zip(*columns, strict=True):
                if handle is None or written % ROWS_PER_FILE == 0:
                    if handle is not None:
                        handle.close()
                    handle = open(directory / f"part-{files:05d}.json", "w", encoding="utf-8")  # noqa: SIM115
                    files += 1
                handle.write(json.dumps(dict(zip(names, values, strict=True)), default=str))
                handle.write("\n")
                written += 1
    finally:
        if handle is not None:
            handle.close()
    return written, files


def _defines_predict(path: Path) -> bool:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=path.name)
    except SyntaxError as exc:
        raise TrainError(f"PythonAlg: {path.name} is not valid Python: {exc}") from None
    return any(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == "predict"
               for node in tree.body)


def _arg_type(df, column: str) -> str:
    kind = df.schema[column].dataType
    return "vector" if type(kind).__name__ == "VectorUDT" else kind.simpleString()


class PythonAlg(Algorithm):
    """User Python algorithms (off unless the gateway runs with --allow-python-alg): pythonScriptPath names
    a .py file in a script root, run once per parameter group in a subprocess with the mlsql support module
    (python_temp.pickle, JSON-lines data, a model directory, mlsql_validation_score lines, a time limit);
    register/predict call the script's predict(rows) function. The table goes to the script as files, within
    the single-node limits (--max-train-rows rows)."""

    name = "PythonAlg"
    aliases = ("Pythonalg",)
    backend = "python"
    algo_type = CLASSIFICATION
    params: ClassVar[tuple[Param, ...]] = (
        Param("pythonScriptPath", "the training script: a .py file inside a script root", required=True),
        Param("predictScriptPath", "a .py file defining predict(rows) (default: the training script)"),
        Param("inputCols", "comma-separated columns predict(rows) receives (default: featuresCol)"),
        Param("featuresCol", "the features column (inputCol in fitParam)", default="features"),
        Param("labelCol", "the label column (used by evaluateTable and the predict statement)", default="label"),
        Param("outputType", "SQL type of predict's results: vector, double, int, string, array<double>...",
              default="vector"),
        Param("fitParam.N.resource.<name>", "a file in a data root the script reads as resource[name]"),
        Param("fitParam.N.<key>", "any option: the script reads it from mlsql.fit_param"),
    )
    example = ("-- the gateway runs with --allow-python-alg; /scripts/<user>/train_lr.py uses the mlsql module\n"
               "train data as PythonAlg.`/models/py` where pythonScriptPath=\"train_lr.py\" "
               "and fitParam.0.C=\"1.0\";\n"
               "register PythonAlg.`/models/py` as py_predict;\n"
               "select vec_argmax(py_predict(features)) as predicted from data;")

    def check_allowed(self, limits: Any = None) -> None:
        """The administrator's switch, for the runtime to call before train/register/predict."""
        check_allowed(limits)

    def train(self, job: TrainJob) -> dict[str, Any]:
        check_allowed(job.limits)
        p = job.params
        if any(k.lower() == "code" for k in p):
            raise TrainError("PythonAlg does not run inline code: put the script in a script root and pass "
                             "pythonScriptPath")
        script = self._script(job, "pythonScriptPath")
        predict_script = self._script(job, "predictScriptPath") if p.get("predictScriptPath") else None
        for source in (script, predict_script):
            if source is not None and source.name in SUPPORT_FILES:
                raise TrainError(f"PythonAlg: a script may not be called {source.name} (the support module's name)")
        if predict_script is not None and predict_script.name == script.name and predict_script != script:
            raise TrainError("PythonAlg: pythonScriptPath and predictScriptPath need different file names")
        output_type = (p.get("outputType") or "vector").strip().lower()
        try:
            scoring.arrow_type_of(output_type)
        except ValueError:
            raise TrainError(f"PythonAlg: outputType {output_type!r} is not a supported type") from None
        features = self.column_option(p, "featuresCol", "features")
        label = self.column_option(p, "labelCol", "label")
        input_cols = [c.strip() for c in (p.get("inputCols") or "").split(",") if c.strip()] or [features]
        has_predict = _defines_predict(predict_script or script)
        if predict_script is not None and not has_predict:
            raise TrainError(f"PythonAlg: {predict_script.name} defines no top-level predict(rows) function")
        if has_predict:
            self.require_columns(job.df, *input_cols)
        work = Path(tempfile.mkdtemp(prefix="mlsql-pyalg-"))
        try:
            model_dir = job.out_dir / MODEL_DIR
            model_dir.mkdir()
            rows, files = write_data(job, work / "data")
            job.say(f"PythonAlg[{job.index}]: {rows} rows in {files} data file(s); running {script.name}")
            params = {
                "fitParam": {**p, "modelPath": p.get("modelPath", str(model_dir))},
                "kafkaParam": {},
                "internalSystemParam": {"tempModelLocalPath": str(model_dir), "tempDataLocalPath": str(work / "data"),
                                        "stopFlagNum": files, "resource": self._resources(job)},
                "systemParam": {"pythonPath": sys.executable, "pythonVer": platform.python_version(), "envs": {}},
            }
            for directory in (work, job.out_dir / CODE_DIR):
                directory.mkdir(exist_ok=True)
                for source in (script, predict_script, *(SUPPORT_DIR / f for f in SUPPORT_FILES)):
                    if source is not None:
                        shutil.copyfile(source, directory / source.name)
            (work / PARAMS_FILE).write_bytes(pickle.dumps(params))
            run = run_script(job, work, script.name, job.limits.python_timeout)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        self._check(run, script.name, job.limits.python_timeout)
        params["internalSystemParam"].update(tempModelLocalPath="", tempDataLocalPath="", stopFlagNum=0)
        (job.out_dir / CODE_DIR / PARAMS_FILE).write_bytes(pickle.dumps(params))
        predict_file = f"{CODE_DIR}/{(predict_script or script).name}" if has_predict else None
        kind = self._kind(output_type, label in job.df.columns)
        scoring.write_spec(job.out_dir, PythonAlgScorer, allowPython=True, inputCols=input_cols,
                           outputType=output_type, predictFile=predict_file,
                           argTypes=[_arg_type(job.df, c) for c in input_cols if c in job.df.columns])
        info: dict[str, Any] = {"kind": kind, "inputCols": input_cols, "featuresCol": features,
                                "script": script.name, "predictScript": predict_file, "outputType": output_type,
                                "rows": rows, "seconds": round(run.seconds, 3)}
        if label in job.df.columns:
            info["labelCol"] = label
        if run.score is not None:
            info["validationScore"] = run.score
            info["metrics"] = {"validationScore": run.score}
            job.say(f"PythonAlg[{job.index}]: validation score {run.score:g}")
        labels = self._labels(model_dir)
        if labels:
            info["labels"] = labels
        return info

    def _script(self, job: TrainJob, option: str) -> Path:
        value = job.params.get(option)
        if not value:
            raise TrainError(f'PythonAlg needs {option}="<a .py file in a script root>"')
        if job.paths is None:
            raise TrainError("PythonAlg: this gateway has no script roots (start it with --script-root DIR)")
        path = job.paths.script_path(value, job.user)
        if path.suffix != ".py" or not path.is_file():
            raise TrainError(f"PythonAlg: {option} {value!r} is not a .py file in a script root")
        return path

    def _resources(self, job: TrainJob) -> dict[str, str]:
        found = {}
        for key, value in job.params.items():
            if key.startswith("resource."):
                path = job.paths.data_path(value, job.user) if job.paths is not None else value
                if not Path(path).exists():
                    raise TrainError(f"PythonAlg: resource {key[9:]!r} ({value}) does not exist")
                found[key[9:]] = path
        return found

    @staticmethod
    def _check(run: ScriptRun, script: str, timeout: float) -> None:
        if run.timed_out:
            raise TrainError(f"PythonAlg script {script} ran longer than the time limit of {timeout:g} s "
                             f"(--python-alg-timeout) and was killed")
        if run.returncode != 0:
            lines = [line.strip() for line in run.stderr_tail if line.strip()]
            how = f"was killed by signal {-run.returncode}" if (run.returncode or 0) < 0 else \
                f"failed with exit code {run.returncode}"
            last = lines[-1] if lines else "(no error output)"
            raise TrainError(f"PythonAlg script {script} {how}: {last} [stderr: {' | '.join(lines[-8:])}]")

    @staticmethod
    def _kind(output_type: str, has_label: bool) -> str:
        if output_type == "vector":
            return CLASSIFICATION if has_label else FEATURE
        if output_type in ("double", "float") and has_label:
            return REGRESSION
        return FEATURE

    @staticmethod
    def _labels(model_dir: Path) -> list[float] | None:
        path = model_dir / "mlsql_info.json"
        try:
            labels = json.loads(path.read_text()).get("labels") if path.exists() else None
            return [float(v) for v in labels] if isinstance(labels, list) else None
        except (ValueError, TypeError, AttributeError):
            return None

    def batch_predict(self, spark, df, model):
        check_allowed()
        return super().batch_predict(spark, df, model)

    def explain_model(self, model) -> list[tuple[str, str]]:
        rows = super().explain_model(model)
        base = Path(model.directory)
        files = sorted(str(f.relative_to(base)) for f in (base / MODEL_DIR).rglob("*") if f.is_file())
        rows.append(("model.files", ", ".join(files)))
        return rows


# -- scoring: the user's predict(rows) in the scoring process -------------------------------------------
_IMPORT_LOCK = threading.Lock()


def import_predict(directory: Path, relative: str):
    """Import the model's predict script in predict mode, with its own copies of the support modules."""
    code = directory / CODE_DIR
    path = directory / relative
    name = "mlsql_pyalg_" + hashlib.sha1(str(path).encode()).hexdigest()[:16]
    env = {"MLSQL_PREDICT": "1", "MLSQL_MODEL_DIR": str(directory / MODEL_DIR),
           "MLSQL_PARAMS": str(code / PARAMS_FILE)}
    with _IMPORT_LOCK:
        saved_modules = {m: sys.modules.pop(m) for m in _SUPPORT_MODULES if m in sys.modules}
        saved_env = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        sys.path.insert(0, str(code))
        try:
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module  # as a normal import does (dataclasses, pickle look it up)
            spec.loader.exec_module(module)
        except Exception as exc:
            sys.modules.pop(name, None)
            raise ScorerError(f"PythonAlg: importing {path.name} to predict failed: "
                              f"{type(exc).__name__}: {exc}") from exc
        finally:
            sys.path.remove(str(code))
            for m in _SUPPORT_MODULES:
                sys.modules.pop(m, None)
            sys.modules.update(saved_modules)
            for key, value in saved_env.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    if not callable(getattr(module, "predict", None)):
        raise ScorerError(f"PythonAlg: {path.name} defines no predict(rows) function")
    return module


class PythonAlgScorer(Scorer):
    """Calls the user's ``predict(rows)`` on each Arrow batch (rows as dicts of the model's input columns).

    The script is imported on first use, not at load: registering a function runs no user code in the
    gateway; the Spark workers that evaluate it import the script once per process."""

    def __init__(self, directory: Path, spec: dict[str, Any]) -> None:
        self.directory = Path(directory)
        self.predict_file = spec.get("predictFile")
        self.input_cols = list(spec["inputCols"])
        self.output_type = spec.get("outputType", "vector")
        self._module = None
        args = tuple(spec.get("argTypes") or ("vector",) * len(self.input_cols))
        self.functions = (FunctionSpec("", "main", self.output_type, args, "the script's predict(rows)"),)

    @classmethod
    def load(cls, directory: Path, spec: dict[str, Any]) -> PythonAlgScorer:
        if not spec.get("allowPython"):
            raise PythonAlgDisabled("this model directory was not written by PythonAlg on a gateway that allows it")
        if _gateway_process():
            check_allowed()
        if not spec.get("predictFile"):
            raise TrainError("this PythonAlg model has no predict function: define predict(rows) in the script "
                             "or pass predictScriptPath when training")
        return cls(directory, spec)

    def main(self, *columns):
        if len(columns) != len(self.input_cols):
            raise ScorerError(f"PythonAlg model takes {len(self.input_cols)} argument(s) "
                              f"({', '.join(self.input_cols)}), got {len(columns)}")
        if self._module is None:
            self._module = import_predict(self.directory, self.predict_file)
        values = [_json_values(c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c) for c in columns]
        rows = [dict(zip(self.input_cols, row, strict=True)) for row in zip(*values, strict=True)]
        result = list(self._module.predict(rows)) if rows else []
        if len(result) != len(rows):
            raise ScorerError(f"PythonAlg predict returned {len(result)} results for {len(rows)} rows")
        if self.output_type == "vector":
            return vectors.from_rows([None if r is None else np.asarray(r, dtype=np.float64).reshape(-1)
                                      for r in result])
        plain = [v.item() if isinstance(v, np.generic) else (v.tolist() if isinstance(v, np.ndarray) else v)
                 for v in result]
        return pa.array(plain, scoring.arrow_type_of(self.output_type), from_pandas=True)


REGISTRY.register(PythonAlg)
