"""TensorFlow/Keras behind the Algorithm contract: ``train t as TensorFlow.`/m` where fitParam.0.alg="FCClassify"``.

Two built-in networks, as the reference's ``mlsql_tf_<alg>.py`` scripts offered:

- ``FCClassify``: fully connected layers (``layerGroup="300,100"``, relu) over a vector or array<double>
  column, a softmax output of ``labelSize`` classes; inputs are standardised by a Normalization layer
  adapted to the training data (``normalize="false"`` turns it off).
- ``CNNClassify``: a text CNN. The input column holds token ids (array<int>, or a vector of ids), padded
  with 0 / truncated to ``sequenceLength``; an Embedding (``vocabSize`` x ``wordEmbeddingSize``), one
  Conv1D (``filters``, relu) + global max pooling per window in ``windowGroup="3,4,5"``, softmax output.
  Id 0 is the padding id; ids outside ``[0, vocabSize)`` are read as 0 when scoring.

The model is saved in Keras format (``model.keras``); its scorer loads it once per Python process (Spark
workers, the gateway) and returns the probability vector. TensorFlow is imported lazily (never at module
import), with ``TF_CPP_MIN_LOG_LEVEL=2`` and at most two compute threads.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gateway.ml import scoring, vectors
from gateway.ml.algorithm import CLASSIFICATION, Algorithm, TrainError, TrainJob, coerce_like
from gateway.ml.scoring import FunctionSpec, Scorer, ScorerError
from gateway.ml.sklearn_alg import batches, collect_xy
from gateway.mlsql.transformers import REGISTRY, Param

MODEL_FILE = "model.keras"
ALGS = ("FCClassify", "CNNClassify")
THREADS = 2
CHUNK = 8192  # rows per forward pass when scoring
# Options every group may carry (the reference's names; gpuPercent/printInterval are accepted and ignored).
KNOWN = {"alg", "layerGroup", "epochs", "batchSize", "featureSize", "labelSize", "inputCol", "featuresCol",
         "features", "labelCol", "label", "learningRate", "seed", "sequenceLength", "vocabSize",
         "wordEmbeddingSize", "windowGroup", "filters", "dropout", "normalize", "gpuPercent", "printInterval"}
_TRAIN_LOCK = threading.Lock()  # Keras keeps global state (seeds, name scopes): one training at a time


def import_keras(threads: int = THREADS):
    """``(tensorflow, keras)``, quiet and with a modest thread pool (set before TF runs its first op)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # TF already ran an op in this process: its pools are fixed
        pass
    import keras

    return tf, keras


def token_matrix(array: pa.Array | pa.ChunkedArray, length: int, vocab: int | None = None) -> np.ndarray:
    """Token ids (array<int> or a vector of ids) as an int32 matrix ``rows x length``: padded with 0 at the
    end, truncated to the first ``length`` ids; null rows are all 0; ids outside ``[0, vocab)`` become 0."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    kind = array.type
    rows = len(array)
    if vectors.is_vector_type(kind):
        dense = vectors.to_matrix(array)
        dense = np.where(np.isnan(dense), 0, dense)
        out = np.zeros((rows, length), np.int64)
        width = min(length, dense.shape[1])
        out[:, :width] = dense[:, :width].astype(np.int64)
    elif pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        if not (pa.types.is_integer(kind.value_type) or pa.types.is_floating(kind.value_type)
                or pa.types.is_decimal(kind.value_type)):
            raise vectors.VectorError(f"expected an array of token ids, got {kind}")
        lengths = pc.list_value_length(array).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
        flat = array.flatten().cast(pa.float64()).fill_null(0).to_numpy(zero_copy_only=False)
        starts = np.cumsum(lengths) - lengths
        keep = np.minimum(lengths, length)
        row_index = np.repeat(np.arange(rows), keep)
        col_index = np.arange(int(keep.sum())) - np.repeat(np.cumsum(keep) - keep, keep)
        out = np.zeros((rows, length), np.int64)
        out[row_index, col_index] = flat[np.repeat(starts, keep) + col_index].astype(np.int64)
    else:
        raise vectors.VectorError(f"expected an array of token ids or a vector, got {kind}")
    if vocab is not None:
        out[(out < 0) | (out >= vocab)] = 0
    return out.astype(np.int32)


def _class_indices(y: np.ndarray, label_size: int | None, label: str) -> tuple[np.ndarray, list[Any], int]:
    """Labels as class indices 0..n-1, the label of each index, and n. Non-negative integer labels are
    their own index (as MLlib's); other numbers are indexed in sorted order."""
    try:
        values = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError):
        raise TrainError(f"label column {label} must be numeric class indices (index strings with "
                         f"StringIndex first)") from None
    if np.isnan(values).any():
        raise TrainError(f"label column {label} has null or NaN values")
    classes = np.unique(values)
    integral = bool(np.all(classes == np.round(classes)) and classes.min() >= 0)
    if integral and (label_size is None or classes.max() < label_size):
        size = label_size or int(classes.max()) + 1
        return values.astype(np.int64), [float(i) for i in range(size)], size
    if label_size is not None and len(classes) != label_size:
        raise TrainError(f"labelSize={label_size} but label column {label} has {len(classes)} distinct "
                         f"values ({', '.join(f'{c:g}' for c in classes[:10])}...)")
    return np.searchsorted(classes, values), [float(c) for c in classes], len(classes)


def _int_list(text: str, name: str) -> list[int]:
    try:
        items = [int(p) for p in str(text).replace(" ", "").split(",") if p]
    except ValueError:
        raise TrainError(f"TensorFlow: {name}={text!r} must be comma-separated integers") from None
    if not items or min(items) < 1:
        raise TrainError(f"TensorFlow: {name}={text!r} must list positive integers")
    return items


class TensorFlow(Algorithm):
    """TensorFlow/Keras classifiers trained on the driver: fitParam.N.alg = FCClassify (dense layers over a
    feature vector) or CNNClassify (a text CNN over token-id arrays); register gives fn(features) -> the
    class-probability vector. Single node: the training table is collected to the gateway through Arrow
    and must fit its limits: at most --max-train-rows rows (default 5,000,000) and 200,000,000 values
    (rows x featureSize, or rows x sequenceLength for CNNClassify); more fails with a clear error, so
    sample first (RateSampler). Memory is about 8 bytes per value while collecting plus 4 in training."""

    name = "TensorFlow"
    aliases = ("Tensorflow",)
    backend = "tensorflow"
    algo_type = CLASSIFICATION
    params: ClassVar[tuple[Param, ...]] = (
        Param("fitParam.N.alg", "FCClassify or CNNClassify", required=True),
        Param("fitParam.N.inputCol", "features: a vector/array<double> (FC) or array<int> token ids (CNN)",
              default="features"),
        Param("fitParam.N.labelCol", "numeric class labels (non-negative integers are class indices)",
              default="label"),
        Param("fitParam.N.labelSize", "number of classes (default: from the labels)"),
        Param("fitParam.N.featureSize", "FC: the feature vector size (checked against the data)"),
        Param("fitParam.N.layerGroup", "FC: hidden layer sizes", default="300,100"),
        Param("fitParam.N.normalize", "FC: standardise inputs with a Normalization layer", default="true"),
        Param("fitParam.N.sequenceLength", "CNN: ids per row after padding/truncation", default="100"),
        Param("fitParam.N.vocabSize", "CNN: embedding rows (default: largest id in the data + 1)"),
        Param("fitParam.N.wordEmbeddingSize", "CNN: embedding size", default="64"),
        Param("fitParam.N.windowGroup", "CNN: convolution window sizes", default="3,4,5"),
        Param("fitParam.N.filters", "CNN: filters per window size", default="64"),
        Param("fitParam.N.dropout", "dropout before the output layer", default="0.0"),
        Param("fitParam.N.epochs", "training epochs", default="5"),
        Param("fitParam.N.batchSize", "rows per gradient step", default="32"),
        Param("fitParam.N.learningRate", "Adam learning rate", default="0.001"),
        Param("fitParam.N.seed", "random seed (keras.utils.set_random_seed) for repeatable results"),
    )
    example = ("train iris as TensorFlow.`/models/tf` where fitParam.0.alg=\"FCClassify\" "
               "and fitParam.0.layerGroup=\"300,100\" and fitParam.0.epochs=\"20\" and fitParam.0.batchSize=\"32\" "
               "and fitParam.0.featureSize=\"4\" and fitParam.0.labelSize=\"3\" "
               "and fitParam.0.inputCol=\"features\" and fitParam.0.labelCol=\"label\";\n"
               "register TensorFlow.`/models/tf` as tf_predict;\n"
               "select vec_argmax(tf_predict(features)) as predicted from iris;")

    def train(self, job: TrainJob) -> dict[str, Any]:
        p = job.params
        alg = p.get("alg") or ""
        if alg not in ALGS:
            raise TrainError(f"TensorFlow needs fitParam.N.alg, one of {', '.join(ALGS)} (got {alg!r})")
        extra = sorted(k for k in p if k not in KNOWN)
        if extra:
            job.say(f"TensorFlow {alg} ignores the options {', '.join(extra)}")
        features = self.column_option(p, "featuresCol", "features")
        label = self.column_option(p, "labelCol", "label")
        label_size = self._opt(p, "labelSize", None, int)
        if alg == "FCClassify":
            x, y = collect_xy(job, features, label)
            size = self._opt(p, "featureSize", None, int)
            if size is not None and size != x.shape[1]:
                raise TrainError(f"TensorFlow FCClassify: featureSize={size} but column {features} holds "
                                 f"vectors of size {x.shape[1]}")
            x = x.astype(np.float32)
        else:
            x, y = self._collect_tokens(job, features, label, self._opt(p, "sequenceLength", 100, int))
        targets, labels, n_classes = _class_indices(y, label_size, label)
        with _TRAIN_LOCK:
            model, history, extra_info = self._fit(job, alg, x, targets, n_classes)
            model.save(str(job.out_dir / MODEL_FILE))
        spec = {"alg": alg, "labelSize": n_classes, **extra_info}
        scoring.write_spec(job.out_dir, TensorFlowScorer, **spec)
        return {"alg": alg, "kind": CLASSIFICATION, "featuresCol": features, "labelCol": label,
                "inputCols": [features], "labels": labels, "rows": int(x.shape[0]), **spec,
                "trainLoss": history.get("loss"), "trainAccuracy": history.get("accuracy")}

    # -- training ---------------------------------------------------------------------------------
    @staticmethod
    def _opt(params: dict[str, str], name: str, default: Any, kind: type) -> Any:
        value = params.get(name)
        if value in (None, ""):
            return default
        result = coerce_like(value, kind(0), name)
        if not isinstance(result, kind):
            raise TrainError(f"TensorFlow: {name}={value!r} must be a {kind.__name__}")
        if kind is int and result < 1:
            raise TrainError(f"TensorFlow: {name}={value!r} must be at least 1")
        return result

    def _collect_tokens(self, job: TrainJob, column: str, label: str,
                        length: int) -> tuple[np.ndarray, np.ndarray]:
        """Token-id rows padded to ``length``, streamed from Spark as Arrow within the size limits."""
        self.require_columns(job.df, column, label)
        df = job.df.select(f"`{column}`", f"`{label}`")
        rows = df.count()
        if rows == 0:
            raise TrainError("the training table is empty")
        if rows > job.limits.max_rows:
            raise TrainError(f"the training table has {rows} rows; single-node trainers take at most "
                             f"{job.limits.max_rows} (sample it first, e.g. with RateSampler, or raise the limit)")
        if rows * length > job.limits.max_cells:
            raise TrainError(f"{rows} rows x sequenceLength {length} exceed the single-node limit of "
                             f"{job.limits.max_cells} values; sample or shorten the sequences first")
        parts_x, parts_y = [], []
        for batch in batches(df):
            try:
                parts_x.append(token_matrix(batch.column(0), length))
            except vectors.VectorError as exc:
                raise TrainError(f"TensorFlow CNNClassify: column {column}: {exc}") from None
            parts_y.append(batch.column(1).to_numpy(zero_copy_only=False))
        return np.vstack(parts_x), np.concatenate(parts_y)

    def _fit(self, job: TrainJob, alg: str, x: np.ndarray, y: np.ndarray, n_classes: int):
        p = job.params
        _, keras = import_keras()
        if p.get("seed") not in (None, ""):
            seed = coerce_like(p["seed"], 0, "seed")
            if not isinstance(seed, int) or seed < 0:
                raise TrainError(f"TensorFlow: seed={p['seed']!r} must be a non-negative integer")
            keras.utils.set_random_seed(seed)
        epochs = self._opt(p, "epochs", 5, int)
        batch_size = self._opt(p, "batchSize", 32, int)
        rate = float(coerce_like(p.get("learningRate", "0.001"), 0.0, "learningRate"))
        dropout = float(coerce_like(p.get("dropout", "0.0"), 0.0, "dropout"))
        if not 0.0 <= dropout < 1.0:
            raise TrainError(f"TensorFlow: dropout={dropout} must be in [0, 1)")
        if alg == "FCClassify":
            model, info = self._fc_model(keras, p, x, n_classes, dropout)
        else:
            model, info = self._cnn_model(keras, p, x, n_classes, dropout)
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=rate),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        job.say(f"TensorFlow {alg}: {x.shape[0]} rows, {model.count_params()} weights, {epochs} epochs "
                f"of batch {batch_size}")

        class EpochLog(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                logs = logs or {}
                job.say(f"TensorFlow {alg} epoch {epoch + 1}/{epochs}: "
                        + " ".join(f"{k}={v:.4f}" for k, v in logs.items()))

        fitted = model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0, shuffle=True,
                           callbacks=[EpochLog()])
        history = {k: float(v[-1]) for k, v in fitted.history.items() if v}
        return model, history, info

    def _fc_model(self, keras, p: dict[str, str], x: np.ndarray, n_classes: int, dropout: float):
        layers = _int_list(p.get("layerGroup", "300,100"), "layerGroup")
        inputs = keras.Input((x.shape[1],), name="features")
        hidden = inputs
        if str(p.get("normalize", "true")).strip().lower() != "false":
            norm = keras.layers.Normalization(name="normalize")
            norm.adapt(x)
            hidden = norm(hidden)
        for i, units in enumerate(layers):
            hidden = keras.layers.Dense(units, activation="relu", name=f"dense_{i}")(hidden)
        if dropout:
            hidden = keras.layers.Dropout(dropout, name="dropout")(hidden)
        outputs = keras.layers.Dense(n_classes, activation="softmax", name="probability")(hidden)
        return keras.Model(inputs, outputs, name="FCClassify"), {"featureSize": int(x.shape[1]),
                                                                 "layerGroup": layers}

    def _cnn_model(self, keras, p: dict[str, str], x: np.ndarray, n_classes: int, dropout: float):
        length = x.shape[1]
        windows = _int_list(p.get("windowGroup", "3,4,5"), "windowGroup")
        if max(windows) > length:
            raise TrainError(f"TensorFlow CNNClassify: window {max(windows)} is longer than "
                             f"sequenceLength={length}")
        largest = int(x.max()) if x.size else 0
        vocab = self._opt(p, "vocabSize", largest + 1, int)
        if largest >= vocab or x.min() < 0:
            raise TrainError(f"TensorFlow CNNClassify: token ids must be in [0, vocabSize={vocab}); the data "
                             f"holds ids from {int(x.min())} to {largest}")
        embedding = self._opt(p, "wordEmbeddingSize", 64, int)
        filters = self._opt(p, "filters", 64, int)
        inputs = keras.Input((length,), dtype="int32", name="tokens")
        embedded = keras.layers.Embedding(vocab, embedding, name="embedding")(inputs)
        pooled = [keras.layers.GlobalMaxPooling1D(name=f"pool_{w}")(
            keras.layers.Conv1D(filters, w, activation="relu", name=f"conv_{w}")(embedded)) for w in windows]
        hidden = keras.layers.Concatenate(name="concat")(pooled) if len(pooled) > 1 else pooled[0]
        if dropout:
            hidden = keras.layers.Dropout(dropout, name="dropout")(hidden)
        outputs = keras.layers.Dense(n_classes, activation="softmax", name="probability")(hidden)
        info = {"sequenceLength": int(length), "vocabSize": int(vocab), "wordEmbeddingSize": embedding,
                "windowGroup": windows, "filters": filters}
        return keras.Model(inputs, outputs, name="CNNClassify"), info

    def explain_model(self, model) -> list[tuple[str, str]]:
        rows = super().explain_model(model)
        keras_model = TensorFlowScorer.load(Path(model.directory), scoring.read_spec(model.directory)).model
        for i, layer in enumerate(keras_model.layers):
            try:
                shape = tuple(layer.output.shape)
            except (AttributeError, ValueError):
                shape = "?"
            rows.append((f"layer.{i}.{layer.name}",
                         f"{type(layer).__name__} output={shape} weights={layer.count_params()}"))
        return rows


class TensorFlowScorer(Scorer):
    """A saved Keras classifier: ``fn(features)`` -> the class-probability vector (null input, null output).

    Extra arguments (the reference's ``fn(vector, inputTensorName, outputTensorName, outputSize)``) are
    accepted and ignored."""

    def __init__(self, model, spec: dict[str, Any], forward=None) -> None:
        self.model = model
        self.forward = forward or (lambda x: model(x, training=False))
        self.alg = spec["alg"]
        self.label_size = int(spec["labelSize"])
        self.feature_size = spec.get("featureSize")
        self.sequence_length = spec.get("sequenceLength")
        self.vocab = spec.get("vocabSize")
        arg = "vector" if self.alg == "FCClassify" else "array<int>"
        self.functions = (FunctionSpec("", "main", "vector", (arg,), "the class-probability vector"),)

    @classmethod
    def load(cls, directory: Path, spec: dict[str, Any]) -> TensorFlowScorer:
        tf, keras = import_keras()
        model = keras.models.load_model(str(Path(directory) / MODEL_FILE), compile=False)
        fc = spec["alg"] == "FCClassify"
        width = int(spec["featureSize"] if fc else spec["sequenceLength"])
        # One traced graph for every batch size (Keras' predict() retraces on each new final-batch shape).
        forward = tf.function(lambda x: model(x, training=False), reduce_retracing=True,
                              input_signature=[tf.TensorSpec([None, width], tf.float32 if fc else tf.int32)])
        return cls(model, spec, forward)

    def main(self, features, *_ignored):
        try:
            if self.alg == "FCClassify":
                x = vectors.to_matrix(features, int(self.feature_size)).astype(np.float32)
                nulls = np.isnan(x).any(axis=1)
                x[nulls] = 0.0
            else:
                x = token_matrix(features, int(self.sequence_length), int(self.vocab))
                nulls = vectors.row_nulls(features)
        except vectors.VectorError as exc:
            raise ScorerError(f"TensorFlow {self.alg}: {exc}") from None
        if len(x) == 0:
            return np.zeros((0, self.label_size))
        out = np.concatenate([np.asarray(self.forward(x[i:i + CHUNK]), dtype=np.float64)
                              for i in range(0, len(x), CHUNK)])
        if nulls.any():
            out[nulls] = np.nan
        return out


REGISTRY.register(TensorFlow)
