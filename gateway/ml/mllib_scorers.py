"""Numpy scorers for MLlib's linear models and NaiveBayes, from their coefficients (``linear.npz``).

They reproduce MLlib's own formulas:

- LogisticRegression, binomial: m = w.x + b; rawPrediction = [-m, m]; probability = [p0, 1 - p0], p0 = 1/(1+e^m).
- LogisticRegression, multinomial: margins = W x + b; probability = softmax (shifted by the largest margin
  only when it is positive, as MLlib does).
- LinearSVC: rawPrediction = [-m, m] (no probability: the main function returns rawPrediction).
- LinearRegression: m.
- NaiveBayes (pi = log priors, theta, sigma as MLlib saves them): multinomial pi + theta x; complement
  theta x - logsumexp(theta x); bernoulli (theta - log(1-e^theta)) x + pi + sum(log(1-e^theta));
  gaussian pi - (sum((x - theta)^2 / sigma) + sum(log sigma)) / 2; probability = softmax(rawPrediction).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from gateway.ml import scoring, vectors
from gateway.ml.scoring import FunctionSpec, Scorer, ScorerError

LINEAR_FILE = "linear.npz"
LOGISTIC, MULTINOMIAL, SVC, REGRESSION = "logistic", "multinomial", "svc", "regression"
NB_FILE = "naive_bayes.npz"

_PROBABILITY = FunctionSpec("", "probability", "vector", ("vector",), "class probabilities (MLlib's probability)")
_RAW = FunctionSpec("_raw", "raw", "vector", ("vector",), "MLlib's rawPrediction vector")


def _matrix(features: pa.Array, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(features as a float matrix with null rows zeroed, the null-row mask)."""
    try:
        x = vectors.to_matrix(features, width)
    except vectors.VectorError as exc:
        raise ScorerError(f"{exc} (the model takes {width} features)") from None
    nulls = vectors.row_nulls(features)
    if nulls.any():
        x = np.where(nulls[:, None], 0.0, x)
    return x, nulls


def _softmax(raw: np.ndarray) -> np.ndarray:
    """MLlib's Utils.softmax: exp(v - max) scaled by 1/sum (a +inf entry gets probability 1)."""
    top = raw.max(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", over="ignore"):
        e = np.exp(raw - top)
        total = np.zeros(raw.shape[0])
        for j in range(raw.shape[1]):
            total += e[:, j]
        out = e * (1.0 / total)[:, None]
    inf = np.isposinf(top[:, 0])
    if inf.any():
        first = np.argmax(np.isposinf(raw[inf]), axis=1)
        out[inf] = np.eye(raw.shape[1])[first]
    return out


def export_linear(out_dir: Path, mode: str, coefficients: np.ndarray, intercepts: np.ndarray) -> None:
    """Write ``linear.npz`` ([k, d] coefficients, [k] intercepts) and ``scorer.json``."""
    coefficients = np.atleast_2d(np.asarray(coefficients, dtype=np.float64))
    np.savez(out_dir / LINEAR_FILE, coefficients=coefficients,
             intercepts=np.atleast_1d(np.asarray(intercepts, dtype=np.float64)))
    cls = LinearRegressionScorer if mode == REGRESSION else LinearClassifierScorer
    scoring.write_spec(out_dir, cls, mode=mode, numFeatures=int(coefficients.shape[1]))


class _LinearBase(Scorer):
    def __init__(self, coefficients: np.ndarray, intercepts: np.ndarray, mode: str) -> None:
        self.coefficients = coefficients
        self.intercepts = intercepts
        self.mode = mode
        self.width = coefficients.shape[1]

    @classmethod
    def load(cls, directory: Path, spec: dict[str, Any]) -> _LinearBase:
        with np.load(Path(directory) / LINEAR_FILE) as npz:
            return cls(npz["coefficients"], npz["intercepts"], spec["mode"])

    def margins(self, features: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        x, nulls = _matrix(features, self.width)
        return x @ self.coefficients.T + self.intercepts, nulls


class LinearClassifierScorer(_LinearBase):
    """LogisticRegression (``fn`` = probability) and LinearSVC (``fn`` = rawPrediction [-m, m]); ``fn_raw``."""

    def __init__(self, coefficients: np.ndarray, intercepts: np.ndarray, mode: str) -> None:
        super().__init__(coefficients, intercepts, mode)
        if mode not in (LOGISTIC, MULTINOMIAL, SVC):
            raise ScorerError(f"unknown linear classifier mode {mode!r}")
        main = FunctionSpec("", "raw", "vector", ("vector",), "LinearSVC has no probability: the rawPrediction "
                            "vector [-margin, margin]") if mode == SVC else _PROBABILITY
        self.functions = (main, _RAW)

    def raw(self, features: pa.Array) -> np.ndarray:
        margins, nulls = self.margins(features)
        out = margins if self.mode == MULTINOMIAL else np.concatenate([-margins, margins], axis=1)
        out[nulls] = np.nan
        return out

    def probability(self, features: pa.Array) -> np.ndarray:
        raw = self.raw(features)
        if self.mode != MULTINOMIAL:  # MLlib: p0 = sigmoid(-m), p1 = 1 - p0
            with np.errstate(over="ignore"):
                p0 = 1.0 / (1.0 + np.exp(-raw[:, 0]))
            return np.stack([p0, 1.0 - p0], axis=1)
        top_index = np.argmax(np.nan_to_num(raw, nan=-np.inf), axis=1)
        top = raw[np.arange(raw.shape[0]), top_index]
        with np.errstate(over="ignore", invalid="ignore"):
            e = np.exp(np.where((top > 0)[:, None], raw - top[:, None], raw))
            total = np.zeros(raw.shape[0])
            for j in range(raw.shape[1]):
                total += e[:, j]
            out = e * (1.0 / total)[:, None]
        inf = np.isposinf(top)
        if inf.any():
            out[inf] = np.eye(raw.shape[1])[top_index[inf]]
        return out


class LinearRegressionScorer(_LinearBase):
    """LinearRegression: ``fn(features) -> double`` = w.x + b."""

    functions = (FunctionSpec("", "predict", "double", ("vector",), "the predicted value"),)

    def predict(self, features: pa.Array) -> np.ndarray:
        margins, nulls = self.margins(features)
        out = margins[:, 0].copy()
        out[nulls] = np.nan
        return out


def export_naive_bayes(out_dir: Path, model_type: str, pi: np.ndarray, theta: np.ndarray,
                       sigma: np.ndarray) -> None:
    np.savez(out_dir / NB_FILE, pi=np.asarray(pi, np.float64), theta=np.asarray(theta, np.float64),
             sigma=np.asarray(sigma, np.float64))
    scoring.write_spec(out_dir, NaiveBayesScorer, modelType=model_type, numFeatures=int(np.shape(theta)[1]))


class NaiveBayesScorer(Scorer):
    """NaiveBayes: ``fn(features) -> vector`` = probability, ``fn_raw`` = rawPrediction (log scores)."""

    functions = (_PROBABILITY, _RAW)

    def __init__(self, model_type: str, pi: np.ndarray, theta: np.ndarray, sigma: np.ndarray) -> None:
        self.model_type = model_type
        self.pi, self.theta, self.sigma = pi, theta, sigma
        self.width = theta.shape[1]
        if model_type == "bernoulli":
            neg = np.log1p(-np.exp(theta))
            self.theta_minus_neg = theta - neg
            self.neg_sum = neg.sum(axis=1)
        elif model_type == "gaussian":
            self.log_var_sum = np.log(sigma).sum(axis=1)
        elif model_type not in ("multinomial", "complement"):
            raise ScorerError(f"unknown NaiveBayes modelType {model_type!r}")

    @classmethod
    def load(cls, directory: Path, spec: dict[str, Any]) -> NaiveBayesScorer:
        with np.load(Path(directory) / NB_FILE) as npz:
            return cls(spec["modelType"], npz["pi"], npz["theta"], npz["sigma"])

    def raw(self, features: pa.Array) -> np.ndarray:
        x, nulls = _matrix(features, self.width)
        kind = self.model_type
        if kind in ("multinomial", "complement") and (x < 0).any():
            raise ScorerError(f"NaiveBayes ({kind}) requires nonnegative feature values")
        if kind == "bernoulli" and ((x != 0) & (x != 1)).any():
            raise ScorerError("NaiveBayes (bernoulli) requires 0 or 1 feature values")
        if kind == "multinomial":
            out = self.pi + x @ self.theta.T
        elif kind == "complement":
            scores = x @ self.theta.T
            top = scores.max(axis=1, keepdims=True)
            out = scores - (np.log(np.exp(scores - top).sum(axis=1, keepdims=True)) + top)
        elif kind == "bernoulli":
            out = x @ self.theta_minus_neg.T + self.pi + self.neg_sum
        else:
            squared = np.zeros((x.shape[0], len(self.pi)))
            for i in range(len(self.pi)):  # one pass per class, vectorized over rows and features
                d = x - self.theta[i]
                squared[:, i] = (d * d / self.sigma[i]).sum(axis=1)
            out = self.pi - (squared + self.log_var_sum) / 2
        out[nulls] = np.nan
        return out

    def probability(self, features: pa.Array) -> np.ndarray:
        return _softmax(self.raw(features))
