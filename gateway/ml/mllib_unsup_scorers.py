"""Numpy scorers for MLlib's clustering, topic, recommendation and frequent-pattern models.

Each one reproduces the fitted model's ``transform`` from the model's own numbers:

- KMeans: the nearest center, distances computed as MLlib does (``fastSquaredDistance``: the norm shortcut
  ``|a|^2 + |b|^2 - 2 a.b`` when its precision bound allows, else the exact squared distance; cosine:
  ``1 - a.b / |a| / |b|``); the first center wins a tie.
- BisectingKMeans: MLlib's tree descent (at each split the closer child), which is not always the nearest
  leaf center.
- LDA: ``topicsMatrix`` rows, ``describeTopics`` order, and MLlib's variational inference for a document's
  topic distribution, started from the same seeded Gamma draws the JVM uses.
- ALS: the float32 dot product of the user and item factors, summed in MLlib's order.
- FPGrowth: the union of the consequents of every rule whose antecedent the items contain, in rule order,
  without the items already present.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gateway.ml import vectors
from gateway.ml.scoring import FunctionSpec, Scorer, ScorerError

CENTERS_FILE = "centers.npz"
TREE_FILE = "tree.npz"
LDA_FILE = "lda.npz"
ALS_FILE = "factors.npz"
RULES_FILE = "rules.npz"
ITEMS_FILE = "items.arrow"
EPSILON = np.finfo(np.float64).eps  # MLUtils.EPSILON
_EULER = 0.577215664901532860606512090082
NO_CHILD = np.iinfo(np.int64).min  # tree.npz: the children of a leaf


# -- column helpers ----------------------------------------------------------------------------------------
def combine(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def numbers(column: pa.Array, what: str) -> tuple[np.ndarray, np.ndarray]:
    """A numeric column as (float64 values with NaN for nulls, null mask)."""
    column = combine(column)
    nulls = column.is_null().to_numpy(zero_copy_only=False)
    if pa.types.is_null(column.type):
        return np.full(len(column), np.nan), nulls
    if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)
            or pa.types.is_decimal(column.type)):
        raise ScorerError(f"{what} must be a number, got {column.type}")
    values = pc.cast(column, pa.float64(), safe=False).fill_null(np.nan).to_numpy(zero_copy_only=False)
    return np.asarray(values, dtype=np.float64), nulls


def indices(column: pa.Array, what: str) -> tuple[np.ndarray, np.ndarray]:
    """A numeric column as (int64 values, null mask); non-integral values are an error."""
    values, nulls = numbers(column, what)
    bad = ~nulls & ((values != np.floor(values)) | ~np.isfinite(values))
    if bad.any():
        raise ScorerError(f"{what} must be a whole number, got {values[bad][0]!r}")
    return np.where(nulls, 0, values).astype(np.int64), nulls


def list_parts(column: pa.Array, what: str) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """A list column as (flat values, lengths (0 for nulls), null mask)."""
    column = combine(column)
    if pa.types.is_null(column.type):
        n = len(column)
        return pa.array([], pa.string()), np.zeros(n, np.int64), np.ones(n, bool)
    if not (pa.types.is_list(column.type) or pa.types.is_large_list(column.type)):
        raise ScorerError(f"{what} must be an array, got {column.type}")
    nulls = column.is_null().to_numpy(zero_copy_only=False)
    lengths = pc.list_value_length(column).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    return pc.list_flatten(column), lengths, nulls


def lookup(values: pa.Array, vocabulary: pa.Array) -> np.ndarray:
    """Each value's position in ``vocabulary`` (-1 when absent or null)."""
    if len(values) == 0:
        return np.zeros(0, np.int64)
    if values.type != vocabulary.type:
        try:
            values = pc.cast(values, vocabulary.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            vocabulary = pc.cast(vocabulary, values.type)
    found = pc.index_in(values, value_set=vocabulary).fill_null(-1)
    return found.to_numpy(zero_copy_only=False).astype(np.int64)


def list_array(flat: pa.Array | np.ndarray, lengths: np.ndarray, nulls: np.ndarray, kind: pa.DataType) -> pa.Array:
    """Lists from flat values and per-row lengths; rows in ``nulls`` become null."""
    offsets = pa.array(np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32), pa.int32())
    values = flat if isinstance(flat, pa.Array) else pa.array(flat, kind)
    mask = pa.array(nulls, pa.bool_()) if nulls.any() else None
    return pa.ListArray.from_arrays(offsets, values.cast(kind), type=pa.list_(kind), mask=mask)


def is_sparse_row(features: pa.Array) -> np.ndarray:
    """Per row: True for a sparse VectorUDT value."""
    features = combine(features)
    if not vectors.is_vector_type(features.type):
        return np.zeros(len(features), bool)
    kinds = features.field("type").fill_null(1).to_numpy(zero_copy_only=False)
    return (kinds == 0) & ~features.is_null().to_numpy(zero_copy_only=False)


def matrix(features: pa.Array, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(features as a float matrix with null rows zeroed, null mask)."""
    try:
        x = vectors.to_matrix(features, width)
    except vectors.VectorError as exc:
        raise ScorerError(f"{exc} (the model takes vectors of size {width})") from None
    nulls = vectors.row_nulls(features)
    if nulls.any():
        x = np.where(nulls[:, None], 0.0, x)
    return x, nulls


def seq_sum(x: np.ndarray) -> np.ndarray:
    """Row sums added left to right (as a JVM loop does)."""
    total = np.zeros(x.shape[0])
    for j in range(x.shape[1]):
        total = total + x[:, j]
    return total


def norms(x: np.ndarray) -> np.ndarray:
    """MLlib's Vectors.norm(v, 2): the square root of the squares summed in order."""
    return np.sqrt(seq_sum(x * x))


# -- distances ---------------------------------------------------------------------------------------------
def costs(x: np.ndarray, x_norm: np.ndarray, sparse: np.ndarray, centers: np.ndarray, c_norm: np.ndarray,
          measure: str) -> np.ndarray:
    """[rows, centers] costs as MLlib's DistanceMeasure.cost: squared Euclidean or cosine distance."""
    dot = x @ centers.T
    if measure == "cosine":
        with np.errstate(divide="ignore", invalid="ignore"):
            return 1 - dot / x_norm[:, None] / c_norm[None, :]
    sum_sq = c_norm[None, :] ** 2 + x_norm[:, None] ** 2
    diff = c_norm[None, :] - x_norm[:, None]
    bound1 = 2.0 * EPSILON * sum_sq / (diff * diff + EPSILON)
    exact = np.empty_like(dot)
    for j in range(centers.shape[0]):
        d = x - centers[j]
        exact[:, j] = seq_sum(d * d)
    shortcut = sum_sq - 2.0 * dot
    out = np.where(bound1 < 1e-6, shortcut, exact)
    # A sparse point whose shortcut is precise enough keeps it (MLUtils.fastSquaredDistance).
    clipped = np.maximum(shortcut, 0.0)
    bound2 = EPSILON * (sum_sq + 2.0 * np.abs(dot)) / (clipped + EPSILON)
    use_clipped = (bound1 >= 1e-6) & sparse[:, None] & (bound2 <= 1e-6)
    return np.where(use_clipped, clipped, out)


class KMeansScorer(Scorer):
    """Nearest cluster center (MLlib KMeansModel.predict)."""

    functions = (FunctionSpec("", "predict", "int", ("vector",), "the cluster id (nearest center)"),)

    def __init__(self, centers: np.ndarray, measure: str) -> None:
        self.centers = centers
        self.measure = measure
        self.center_norms = norms(centers)

    @classmethod
    def load(cls, directory: Path, spec: dict[str, Any]) -> KMeansScorer:
        with np.load(Path(directory) / CENTERS_FILE) as npz:
            return cls(npz["centers"], spec.get("distanceMeasure", "euclidean"))

    def predict(self, features: pa.Array) -> pa.Array:
        x, nulls = matrix(features, self.centers.shape[1])
        if not len(x):
            return pa.array([], pa.int32())
        cost = costs(x, norms(x), is_sparse_row(features), self.centers, self.center_norms, self.measure)
        best = np.argmin(np.where(np.isnan(cost), np.inf, cost), axis=1)  # first minimum, like the JVM loop
        return pa.array(best.astype(np.int32), pa.int32(), mask=nulls if nulls.any() else None)


class BisectingKMeansScorer(Scorer):
    """MLlib's bisecting k-means tree descent: from the root, always into the closer child."""

    functions = (FunctionSpec("", "predict", "int", ("vector",), "the cluster id (leaf reached in the tree)"),)

    def __init__(self, ids: np.ndarray, centers: np.ndarray, center_norms: np.ndarray, children: np.ndarray,
                 root: int, measure: str) -> None:
        self.position = {int(node): i for i, node in enumerate(ids)}
        self.ids = ids
        self.centers = centers
        self.center_norms = center_norms
        self.children = children          # [nodes, 2] positions of the two children, -1 for leaves
        self.root = self.position[root]
        self.measure = measure

    @classmethod
    def load(cls, directory: Path, spec: dict[str, Any]) -> BisectingKMeansScorer:
        with np.load(Path(directory) / TREE_FILE) as npz:
            ids, children = npz["ids"], npz["children"]
            position = {int(node): i for i, node in enumerate(ids)}
            child_pos = np.array([[position[int(c)] if c != NO_CHILD else -1 for c in row] for row in children],
                                 dtype=np.int64).reshape(-1, 2)
            return cls(ids, npz["centers"], npz["norms"], child_pos, int(spec["rootId"]),
                       spec.get("distanceMeasure", "euclidean"))

    def predict(self, features: pa.Array) -> pa.Array:
        x, nulls = matrix(features, self.centers.shape[1])
        x_norm, sparse = norms(x), is_sparse_row(features)
        node = np.full(len(x), self.root, dtype=np.int64)
        while True:
            inner = self.children[node, 0] >= 0
            if not inner.any():
                break
            for parent in np.unique(node[inner]):
                rows = np.flatnonzero(node == parent)
                kids = self.children[parent]
                cost = costs(x[rows], x_norm[rows], sparse[rows], self.centers[kids], self.center_norms[kids],
                             self.measure)
                node[rows] = kids[np.argmin(np.where(np.isnan(cost), np.inf, cost), axis=1)]
        return pa.array(self.ids[node].astype(np.int32), pa.int32(), mask=nulls if nulls.any() else None)



# -- LDA ---------------------------------------------------------------------------------------------------
def digamma(x: np.ndarray) -> np.ndarray:
    """Commons-Math 3.6 Gamma.digamma (what Breeze, and so MLlib's LDA, uses), elementwise."""
    x = np.asarray(x, dtype=np.float64)
    out = x.copy()
    finite = np.isfinite(x)
    y = np.where(finite, x, 1.0)
    small = finite & (y > 0) & (y <= 1e-5)
    steps: list[tuple[np.ndarray, np.ndarray]] = []
    active = finite & ~small & (y < 49)
    while active.any():
        steps.append((active, np.where(active, 1 / np.where(active, y, 1.0), 0.0)))
        y = np.where(active, y + 1, y)
        small |= active & (y > 0) & (y <= 1e-5)
        active = active & ~small & (y < 49)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1 / (y * y)
        result = np.log(y) - 0.5 / y - inv * ((1.0 / 12) + inv * (1.0 / 120 - inv / 252))
        result = np.where(small, -_EULER - 1 / y, result)
    for mask, recip in reversed(steps):
        result = np.where(mask, result - recip, result)
    return np.where(finite, result, out)


def dirichlet_expectation(gamma: np.ndarray) -> np.ndarray:
    """Row-wise E[log theta] for theta ~ Dir(gamma) (LDAUtils.dirichletExpectation)."""
    return digamma(gamma) - digamma(seq_sum(gamma))[:, None]


class LDAScorer(Scorer):
    """Topics of an LDA model: word weights, a topic's top terms, a document's topic distribution."""

    functions = (
        FunctionSpec("", "word", "vector", ("int",), "the word's weights over the topics (its topicsMatrix row)"),
        FunctionSpec("_topic", "topic", "array<int>", ("int", "int"),
                     "the n most important term indices of a topic (describeTopics order)"),
        FunctionSpec("_doc", "doc", "vector", ("vector",), "a term-count vector's topic distribution"),
    )
    max_iterations = 100_000

    def __init__(self, topics: np.ndarray, alpha: np.ndarray, init_gamma: np.ndarray) -> None:
        self.topics = topics                                   # [vocab, k]
        self.alpha = alpha
        self.init_gamma = init_gamma
        self.vocab, self.k = topics.shape
        self.exp_elog_beta = np.exp(dirichlet_expectation(topics.T)).T   # [vocab, k]
        scale = np.cumsum(np.abs(topics), axis=0)[-1] if self.vocab else np.ones(self.k)
        normalized = topics / scale[None, :]
        self.order = np.argsort(-normalized.T, axis=1, kind="stable")  # [k, vocab]: Scala's stable sortBy

    @classmethod
    def load(cls, directory: Path, spec: dict[str, Any]) -> LDAScorer:
        with np.load(Path(directory) / LDA_FILE) as npz:
            return cls(npz["topics"], npz["alpha"], npz["init_gamma"])

    def word(self, word_index: pa.Array) -> pa.Array:
        index, nulls = indices(word_index, "the word index")
        bad = nulls | (index < 0) | (index >= self.vocab)
        out = self.topics[np.where(bad, 0, index)] if self.vocab else np.zeros((len(index), self.k))
        return vectors.from_matrix(out, bad)

    def topic(self, topic: pa.Array, n: pa.Array) -> pa.Array:
        t, t_nulls = indices(topic, "the topic")
        count, n_nulls = indices(n, "the number of terms")
        nulls = t_nulls | n_nulls | (t < 0) | (t >= self.k)
        lengths = np.where(nulls, 0, np.clip(count, 0, self.vocab))
        rows = np.repeat(np.arange(len(t)), lengths)
        position = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        flat = self.order[t[rows], position] if len(rows) else np.zeros(0, np.int64)
        return list_array(flat.astype(np.int32), lengths, nulls, pa.int32())

    def doc(self, features: pa.Array) -> pa.Array:
        x, nulls = matrix(features, self.vocab)
        out = np.zeros((len(x), self.k))
        todo = np.flatnonzero(~nulls & (x != 0).any(axis=1))   # an all-zero document gets zeros (MLlib)
        chunk = max(1, 4_000_000 // max(self.vocab, 1))
        for start in range(0, len(todo), chunk):
            rows = todo[start:start + chunk]
            gamma = self._infer(x[rows])
            out[rows] = gamma / seq_sum(np.abs(gamma))[:, None]
        return vectors.from_matrix(out, nulls)

    def _infer(self, counts: np.ndarray) -> np.ndarray:
        """OnlineLDAOptimizer.variationalTopicInference for each row (all start from the seeded draws)."""
        beta = self.exp_elog_beta
        gamma = np.tile(self.init_gamma, (len(counts), 1))
        theta = np.exp(dirichlet_expectation(gamma))
        phi_norm = theta @ beta.T + 1e-100
        active = np.arange(len(counts))
        for _ in range(self.max_iterations):
            if not len(active):
                break
            last = gamma[active]
            g = theta[active] * ((counts[active] / phi_norm[active]) @ beta) + self.alpha
            t = np.exp(dirichlet_expectation(g))
            gamma[active], theta[active] = g, t
            phi_norm[active] = t @ beta.T + 1e-100
            change = seq_sum(np.abs(g - last)) / self.k
            active = active[change > 1e-3]
        return gamma


# -- ALS ---------------------------------------------------------------------------------------------------
class ALSScorer(Scorer):
    """Predicted rating: the float32 dot product of the user's and the item's factors (MLlib's order)."""

    functions = (FunctionSpec("", "rating", "double", ("int", "int"),
                              "predicted rating; NaN for a user or item not seen in training, null for null ids"),)

    def __init__(self, users: np.ndarray, user_factors: np.ndarray, items: np.ndarray,
                 item_factors: np.ndarray) -> None:
        self.users, self.user_factors = users, user_factors
        self.items, self.item_factors = items, item_factors
        self.rank = user_factors.shape[1]

    @classmethod
    def load(cls, directory: Path, spec: dict[str, Any]) -> ALSScorer:
        with np.load(Path(directory) / ALS_FILE) as npz:
            return cls(npz["users"], npz["user_factors"], npz["items"], npz["item_factors"])

    @staticmethod
    def _find(ids: np.ndarray, known: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pos = np.searchsorted(known, ids)
        pos = np.minimum(pos, max(len(known) - 1, 0))
        found = (known[pos] == ids) if len(known) else np.zeros(len(ids), bool)
        return pos, found

    def rating(self, user: pa.Array, item: pa.Array) -> pa.Array:
        u, u_nulls = indices(user, "the user id")
        i, i_nulls = indices(item, "the item id")
        nulls = u_nulls | i_nulls
        for name, ids in (("user", u), ("item", i)):
            if ((ids < -2**31) | (ids >= 2**31)).any():
                raise ScorerError(f"ALS {name} ids must be in the integer range")
        u_pos, u_found = self._find(u, self.users)
        i_pos, i_found = self._find(i, self.items)
        a, b = self.user_factors[u_pos], self.item_factors[i_pos]
        total = np.zeros(len(u), np.float32)
        for j in range(self.rank):
            total = total + a[:, j] * b[:, j]     # float32 multiply-then-add, left to right
        out = np.where(u_found & i_found, total.astype(np.float64), np.nan)
        return pa.array(out, pa.float64(), mask=nulls if nulls.any() else None)


# -- FPGrowth ----------------------------------------------------------------------------------------------
def ragged(lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row of each element, position within its row) for rows of the given lengths."""
    rows = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    starts = np.cumsum(lengths) - lengths
    return rows, np.arange(int(lengths.sum()), dtype=np.int64) - starts[rows]


class FPGrowthScorer(Scorer):
    """Predicted consequents of an item set, as FPGrowthModel.transform computes them."""

    def __init__(self, items: pa.Array, ante: tuple[np.ndarray, np.ndarray], cons: tuple[np.ndarray, np.ndarray],
                 element: str) -> None:
        self.items = items                               # the rules' vocabulary
        self.ante_offsets, self.ante_items = ante        # CSR: rule -> antecedent item ids
        self.cons_offsets, self.cons_items = cons        # CSR: rule -> consequent item ids (rule order)
        self.rules = len(self.ante_offsets) - 1
        self.ante_lengths = np.diff(self.ante_offsets)
        # item -> the rules whose antecedent holds it
        ante_rule = np.repeat(np.arange(self.rules), self.ante_lengths)
        order = np.argsort(self.ante_items, kind="stable")
        self.by_item_rules = ante_rule[order]
        self.by_item_offsets = np.searchsorted(self.ante_items[order], np.arange(len(items) + 1))
        self.element = element
        self.functions = (FunctionSpec("", "predict", f"array<{element}>", (f"array<{element}>",),
                                       "consequents of the rules the items satisfy, minus the items"),)

    @classmethod
    def load(cls, directory: Path, spec: dict[str, Any]) -> FPGrowthScorer:
        import pyarrow.feather as feather

        items = feather.read_table(Path(directory) / ITEMS_FILE).column("item").combine_chunks()
        with np.load(Path(directory) / RULES_FILE) as npz:
            return cls(items, (npz["ante_offsets"], npz["ante_items"]), (npz["cons_offsets"], npz["cons_items"]),
                       spec.get("element", "string"))

    def predict(self, items: pa.Array) -> pa.Array:
        flat, lengths, _ = list_parts(items, "the items")
        n, vocab = len(lengths), max(len(self.items), 1)
        rows, _ = ragged(lengths)
        ids = lookup(flat, self.items)
        known = ids >= 0
        present = np.unique(rows[known] * vocab + ids[known])     # (row, item) pairs, each once
        p_rows, p_items = present // vocab, present % vocab
        # Rules fire when every antecedent item is present: count present antecedent items per (row, rule).
        per_item = self.by_item_offsets[p_items + 1] - self.by_item_offsets[p_items]
        hit_rows, hit_pos = ragged(per_item)
        hit_rule = self.by_item_rules[self.by_item_offsets[p_items][hit_rows] + hit_pos]
        keys, counts = np.unique(p_rows[hit_rows] * max(self.rules, 1) + hit_rule, return_counts=True)
        f_rows, f_rules = keys // max(self.rules, 1), keys % max(self.rules, 1)
        fired = counts == self.ante_lengths[f_rules]
        f_rows, f_rules = f_rows[fired], f_rules[fired]              # sorted by row, then rule order
        # Their consequents in rule order, minus present items, first occurrence of each item kept.
        c_len = self.cons_offsets[f_rules + 1] - self.cons_offsets[f_rules]
        c_idx, c_pos = ragged(c_len)
        c_rows = f_rows[c_idx]
        c_items = self.cons_items[self.cons_offsets[f_rules][c_idx] + c_pos]
        c_keys = c_rows * vocab + c_items
        keep = ~np.isin(c_keys, present)
        c_keys, c_rows, c_items = c_keys[keep], c_rows[keep], c_items[keep]
        _, first = np.unique(c_keys, return_index=True)
        first.sort()
        out_rows, out_items = c_rows[first], c_items[first]
        out_lengths = np.bincount(out_rows, minlength=n).astype(np.int64)
        values = self.items.take(pa.array(out_items, pa.int64()))
        kind = vectors_element_type(self.element)
        return list_array(values, out_lengths, np.zeros(n, bool), kind)


def vectors_element_type(element: str) -> pa.DataType:
    from gateway.ml.scoring import arrow_type_of

    return arrow_type_of(element)
