"""Numpy scorers for MLlib decision trees and tree ensembles (RandomForest, GBT, DecisionTree).

Export reads the nodes Spark saved with the model (parquet under ``spark/data``: one row per node, with a
``treeID`` for ensembles) into flat arrays, one ``trees.npz``: per node its split feature, threshold or
categorical row, children and leaf statistics, all trees concatenated. Scoring walks every row through
every tree at once, one tree level per numpy step. The outputs reproduce MLlib's own arithmetic:

- RandomForest classifier: rawPrediction = sum over trees of the leaf's class counts divided by their
  total (in tree order); probability = rawPrediction / its sum.
- DecisionTree classifier: rawPrediction = the leaf's class counts; probability = counts / their sum.
- GBT classifier: margin m = sum of tree weight x leaf prediction; rawPrediction = [-m, m];
  probability = [1 / (1 + exp(2m)), 1 - that] (MLlib's logistic loss probability, 1/(1+exp(-2m)) for class 1).
- GBT regressor: m; RandomForest regressor: mean of the leaf predictions; DecisionTree regressor: the leaf's.

Splits: a continuous split sends a row left when ``value <= threshold`` (NaN goes right); a categorical
split (``numCategories >= 0``) sends it left when the value is one of the saved left categories.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from gateway.ml import scoring, vectors
from gateway.ml.scoring import FunctionSpec, Scorer, ScorerError

TREES_FILE = "trees.npz"
# Scorer modes: what the leaves mean and how trees combine.
FOREST, TREE, GBT = "forest", "tree", "gbt"
MODES = {FOREST, TREE, GBT}


def _lists(array: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(flat float64 values, start of each row's list in them, each list's length) of a list<double> array."""
    offsets = array.offsets.to_numpy(zero_copy_only=False).astype(np.int64)
    flat = array.flatten().to_numpy(zero_copy_only=False).astype(np.float64)
    return flat, offsets[:-1] - offsets[0], np.diff(offsets)


def read_nodes(data_dir: Path) -> dict[str, np.ndarray]:
    """The saved nodes of a tree model (``spark/data``) as flat arrays, trees concatenated in treeID order.

    Returns feature (-1 at leaves), threshold, left/right (global indices, -1 at leaves), cat_row (-1 for
    continuous splits, else a row of ``categories``), categories (bool [rows, max numCategories]: the left
    categories), stats (impurityStats, [nodes, width]), prediction, roots (each tree's root index).
    """
    import pyarrow.parquet as pq

    table = pq.read_table(str(data_dir))
    names = ("id", "prediction", "impurityStats", "leftChild", "rightChild", "split")
    if "nodeData" in table.column_names:  # ensembles: (treeID, nodeData)
        tree_ids = table.column("treeID").to_numpy().astype(np.int64)
        node_struct = table.column("nodeData").combine_chunks()
        field = {name: node_struct.field(name) for name in names}
    else:  # a single tree: one node per row
        tree_ids = np.zeros(table.num_rows, dtype=np.int64)
        field = {name: table.column(name).combine_chunks() for name in names}
    ids = field["id"].to_numpy(zero_copy_only=False).astype(np.int64)
    order = np.lexsort((ids, tree_ids))
    tree_ids, ids = tree_ids[order], ids[order]
    _, first = np.unique(tree_ids, return_index=True)
    offset = np.repeat(first, np.diff(np.append(first, len(ids))))  # global index of each node's tree root
    if np.any(ids != np.arange(len(ids)) - offset):
        raise ScorerError("tree model data has non-contiguous node ids")

    def column(array: pa.Array) -> np.ndarray:
        return array.to_numpy(zero_copy_only=False)[order]

    split = field["split"]
    left, right = column(field["leftChild"]).astype(np.int64), column(field["rightChild"]).astype(np.int64)
    internal = left >= 0
    feature = np.where(internal, column(split.field("featureIndex")), -1).astype(np.int32)
    num_categories = column(split.field("numCategories"))
    flat, starts, lengths = _lists(split.field("leftCategoriesOrThreshold"))
    starts, lengths = starts[order], lengths[order]
    categorical = internal & (num_categories >= 0)
    continuous = internal & ~categorical
    if (lengths[continuous] < 1).any():
        raise ScorerError("tree model data has a continuous split without a threshold")
    threshold = np.zeros(len(ids))
    threshold[continuous] = flat[starts[continuous]]
    cat_nodes = np.flatnonzero(categorical)
    cat_row = np.full(len(ids), -1, dtype=np.int32)
    cat_row[cat_nodes] = np.arange(len(cat_nodes))
    width = int(num_categories[categorical].max()) if len(cat_nodes) else 0
    categories = np.zeros((len(cat_nodes), width), dtype=bool)
    for row, node in enumerate(cat_nodes):  # categorical splits only (usually few)
        values = flat[starts[node]:starts[node] + lengths[node]].astype(np.int64)
        categories[row, values[(values >= 0) & (values < width)]] = True
    stat_values, stat_starts, stat_lengths = _lists(field["impurityStats"])
    stat_starts, stat_lengths = stat_starts[order], stat_lengths[order]
    stats = np.zeros((len(ids), int(stat_lengths.max()) if len(ids) else 0))
    for j in range(stats.shape[1]):  # column j of every node that has it
        has = stat_lengths > j
        stats[has, j] = stat_values[stat_starts[has] + j]
    return {
        "feature": feature, "threshold": threshold,
        "left": np.where(internal, left + offset, -1).astype(np.int32),
        "right": np.where(internal, right + offset, -1).astype(np.int32),
        "cat_row": cat_row, "categories": categories, "stats": stats,
        "prediction": column(field["prediction"]).astype(np.float64), "roots": first.astype(np.int32),
    }


def export_trees(model, out_dir: Path, mode: str, classifier: bool, num_classes: int = 0) -> dict[str, Any]:
    """Write ``trees.npz`` + ``scorer.json`` for a fitted MLlib tree model already saved in ``out_dir/spark``."""
    nodes = read_nodes(out_dir / "spark" / "data")
    weights = np.asarray(getattr(model, "treeWeights", [1.0]), dtype=np.float64)
    if len(weights) != len(nodes["roots"]):
        raise ScorerError(f"tree model has {len(nodes['roots'])} trees but {len(weights)} weights")
    np.savez(out_dir / TREES_FILE, weights=weights, **nodes)
    cls = TreeClassifierScorer if classifier else TreeRegressorScorer
    scoring.write_spec(out_dir, cls, mode=mode, numFeatures=int(model.numFeatures), numClasses=int(num_classes))
    categorical = int((nodes["cat_row"] >= 0).sum())
    return {"numTrees": len(nodes["roots"]), "numNodes": len(nodes["feature"]), "categoricalSplits": categorical}


class _Trees:
    """Flat node arrays of one or more trees, traversed for all rows and trees at once."""

    def __init__(self, data: dict[str, np.ndarray]) -> None:
        self.feature = data["feature"]
        self.threshold = data["threshold"]
        self.left = data["left"]
        self.right = data["right"]
        self.cat_row = data["cat_row"]
        self.categories = data["categories"]
        self.roots = data["roots"]
        self.weights = data["weights"]

    def leaves(self, x: np.ndarray) -> np.ndarray:
        """Leaf index (global) per row and tree: int array [rows, trees]."""
        rows, trees = x.shape[0], len(self.roots)
        node = np.broadcast_to(self.roots, (rows, trees)).copy()
        if not rows or not trees:
            return node
        row_index = np.broadcast_to(np.arange(rows)[:, None], (rows, trees))
        width = self.categories.shape[1]
        for _ in range(len(self.feature) + 1):  # at most one step per level
            feature = self.feature[node]
            active = feature >= 0
            if not active.any():
                return node
            r, n, f = row_index[active], node[active], feature[active]
            value = x[r, f]
            go_left = value <= self.threshold[n]
            cat = self.cat_row[n]
            is_cat = cat >= 0
            if is_cat.any():
                v = value[is_cat]
                code = np.where(np.isfinite(v), v, -1.0)
                integral = (code == np.floor(code)) & (code >= 0) & (code < width)
                idx = np.where(integral, code, 0).astype(np.int64)
                go_left[is_cat] = integral & self.categories[cat[is_cat], idx]
            node[active] = np.where(go_left, self.left[n], self.right[n])
        raise ScorerError("tree model data has a cycle")


class _TreeScorer(Scorer):
    def __init__(self, data: dict[str, np.ndarray], mode: str, num_features: int, num_classes: int) -> None:
        self.trees = _Trees(data)
        self.mode = mode
        self.num_features = num_features
        self.num_classes = num_classes
        self.prediction = data["prediction"]
        self.stats = data["stats"]

    @classmethod
    def load(cls, directory: Path, spec: dict[str, Any]) -> _TreeScorer:
        with np.load(Path(directory) / TREES_FILE) as npz:
            data = {k: npz[k] for k in npz.files}
        return cls(data, spec["mode"], int(spec["numFeatures"]), int(spec.get("numClasses") or 0))

    def _matrix(self, features: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        try:
            x = vectors.to_matrix(features, self.num_features)
        except vectors.VectorError as exc:
            raise ScorerError(f"{exc} (the model takes {self.num_features} features)") from None
        return x, vectors.row_nulls(features)

    def _margin(self, leaves: np.ndarray) -> np.ndarray:
        """sum_t weight_t * prediction(leaf_t), accumulated in tree order (as MLlib's dot product)."""
        margin = np.zeros(leaves.shape[0])
        for t in range(leaves.shape[1]):
            margin += self.prediction[leaves[:, t]] * self.trees.weights[t]
        return margin


def _row_sum(matrix: np.ndarray) -> np.ndarray:
    """Sum of each row, left to right (the order Scala's Array.sum uses)."""
    total = np.zeros(matrix.shape[0])
    for j in range(matrix.shape[1]):
        total += matrix[:, j]
    return total


class TreeClassifierScorer(_TreeScorer):
    """``fn(features) -> vector``: MLlib's probability vector; ``fn_raw(features) -> vector``: rawPrediction."""

    functions = (
        FunctionSpec("", "probability", "vector", ("vector",), "class probabilities (MLlib's probability)"),
        FunctionSpec("_raw", "raw", "vector", ("vector",), "MLlib's rawPrediction vector"),
    )

    def __init__(self, data: dict[str, np.ndarray], mode: str, num_features: int, num_classes: int) -> None:
        super().__init__(data, mode, num_features, num_classes)
        if mode == FOREST:  # each leaf's class counts divided by their total (zero totals stay zero)
            stats = self.stats[:, :num_classes]
            total = _row_sum(stats)
            self.leaf_votes = np.divide(stats, total[:, None], out=np.zeros_like(stats), where=total[:, None] != 0)
        elif mode not in MODES:
            raise ScorerError(f"unknown tree classifier mode {mode!r}")

    def raw(self, features: pa.Array) -> np.ndarray:
        x, nulls = self._matrix(features)
        leaves = self.trees.leaves(np.where(nulls[:, None], 0.0, x))
        if self.mode == FOREST:
            out = np.zeros((x.shape[0], self.num_classes))
            for t in range(leaves.shape[1]):
                out += self.leaf_votes[leaves[:, t]]
        elif self.mode == TREE:
            out = self.stats[leaves[:, 0], :self.num_classes].copy()
        else:
            margin = self._margin(leaves)
            out = np.stack([-margin, margin], axis=1)
        out[nulls] = np.nan
        return out

    def probability(self, features: pa.Array) -> np.ndarray:
        raw = self.raw(features)
        if self.mode == GBT:
            p0 = 1.0 / (1.0 + np.exp(-2.0 * raw[:, 0]))
            return np.stack([p0, 1.0 - p0], axis=1)
        total = _row_sum(raw)
        with np.errstate(invalid="ignore", divide="ignore"):
            return raw / total[:, None]


class TreeRegressorScorer(_TreeScorer):
    """``fn(features) -> double``: MLlib's prediction."""

    functions = (FunctionSpec("", "predict", "double", ("vector",), "the predicted value"),)

    def predict(self, features: pa.Array) -> np.ndarray:
        x, nulls = self._matrix(features)
        leaves = self.trees.leaves(np.where(nulls[:, None], 0.0, x))
        if self.mode == GBT:
            out = self._margin(leaves)
        elif self.mode == FOREST:
            out = np.zeros(x.shape[0])
            for t in range(leaves.shape[1]):
                out += self.prediction[leaves[:, t]]
            out = out / leaves.shape[1]
        else:
            out = self.prediction[leaves[:, 0]].copy()
        out[nulls] = np.nan
        return out
