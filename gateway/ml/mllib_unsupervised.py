"""Unsupervised Spark MLlib algorithms: KMeans, BisectingKMeans, LDA, ALS (ALSInPlace) and FPGrowth; the
feature transformers (Word2vec, StringIndex, TfIdf, StandardScaler, Discretizer) live in
:mod:`gateway.ml.mllib_features` and are registered by importing this module.

Training, ``predict`` and ``modelExplain`` use MLlib itself (:mod:`gateway.ml.mllib_base`); each algorithm
also exports a numpy scorer (:mod:`gateway.ml.mllib_unsup_scorers`) so its registered functions run without
the JVM and give what MLlib's ``transform`` gives:

- KMeans / BisectingKMeans: ``fn(features) -> int`` cluster id.
- LDA: ``fn(wordIndex) -> vector`` (the word's topicsMatrix row), ``fn_topic(topic, n) -> array<int>`` (top
  terms), ``fn_doc(termCounts) -> vector`` (topic distribution).
- ALS: ``fn(user, item) -> double`` predicted rating.
- FPGrowth: ``fn(items) -> array`` predicted consequents.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gateway.ml import mllib_unsup_scorers as us
from gateway.ml import scoring, vectors
from gateway.ml.algorithm import CLUSTERING, PATTERN, RECOMMENDATION, TOPIC, ModelGroup, TrainError, TrainJob
from gateway.ml.mllib_base import NATIVE_DIR, MLlibAlgorithm, _import
from gateway.mlsql.transformers import REGISTRY, Param

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

GROUPS = Param("fitParam.N.<param>", "any parameter of the MLlib estimator listed below, per parameter group N "
               "(e.g. fitParam.0.k=\"3\" and fitParam.1.k=\"5\"); without fitParam.N. the options form group 0")
_POINTS = ("select vec_dense(array(cast(id % 10 as double), cast(id % 7 as double))) as features "
           "from range(200) as points;\n")


def arrow_table(df: DataFrame) -> pa.Table:
    """A (small) Spark DataFrame as an Arrow table, in partition order."""
    return df.toArrow()


def spark_message(exc: BaseException) -> str:
    """The first line of a Spark error (a CapturedException without an error class has an empty getMessage)."""
    getter = getattr(exc, "getMessage", None)
    text = (getter() if callable(getter) else "") or str(exc) or type(exc).__name__
    return text.strip().splitlines()[0][:1000]


# Column kinds an algorithm's input params need, checked before fitting for a clear message.
VECTOR, VECTORISH, NUMBER, STRINGS, ARRAY, SCALAR = ("a vector", "a vector or an array of numbers", "numeric",
                                                     "an array of strings", "an array", "a string or a number")


def column_kind_ok(data_type, kind: str) -> bool:
    from pyspark.ml.linalg import VectorUDT
    from pyspark.sql import types as T

    is_array = isinstance(data_type, T.ArrayType)
    element = data_type.elementType if is_array else None
    return {
        VECTOR: isinstance(data_type, VectorUDT),
        VECTORISH: isinstance(data_type, VectorUDT) or isinstance(element, (T.DoubleType, T.FloatType)),
        NUMBER: isinstance(data_type, T.NumericType),
        STRINGS: isinstance(element, T.StringType),
        ARRAY: is_array,
        SCALAR: isinstance(data_type, (T.StringType, T.NumericType)),
    }[kind]


def check_columns(alg: str, df: DataFrame, wanted: dict[str, str]) -> None:
    """``{column: kind}``: a clear TrainError naming the column, its type and what is needed."""
    for column, kind in wanted.items():
        if column not in df.columns:
            continue   # reported with the table's columns by require_columns
        data_type = df.schema[column].dataType
        if not column_kind_ok(data_type, kind):
            raise TrainError(f"{alg}: column {column} has type {data_type.simpleString()}; it must be {kind}")


class Checked(MLlibAlgorithm):
    """An MLlib algorithm whose input columns are type-checked before fitting (``column_kinds``: param -> kind)."""

    column_kinds: ClassVar[dict[str, str]] = {}

    def train(self, job: TrainJob) -> dict[str, Any]:
        est = self.make_estimator(job.params)
        check_columns(self.name, job.df, {est.getOrDefault(p): kind for p, kind in self.column_kinds.items()
                                          if est.hasParam(p) and est.isDefined(p)})
        return super().train(job)


class KMeans(Checked):
    """k-means clustering (Spark MLlib KMeans: k-means|| initialisation, Lloyd iterations; real k-means, not
    the reference's bisecting k-means). The registered function returns the cluster id (int) of the nearest
    center, with MLlib's distance (distanceMeasure euclidean or cosine); first center on a tie."""

    name = "KMeans"
    algo_type = CLUSTERING
    estimator = "pyspark.ml.clustering.KMeans"
    model_class = "pyspark.ml.clustering.KMeansModel"
    column_kinds: ClassVar[dict[str, str]] = {"featuresCol": VECTORISH}
    params: ClassVar[tuple[Param, ...]] = (GROUPS,)
    example = (_POINTS + 'train points as KMeans.`models/km` where k="3" and seed="7" as info;\n'
               "predict points as KMeans.`models/km` as clustered;\n"
               "register KMeans.`models/km` as km;\n"
               "select features, km(features) as cluster from points as out;")

    def export(self, model, out_dir: Path, job: TrainJob) -> dict[str, Any]:
        centers = np.array([np.asarray(c, dtype=np.float64) for c in model.clusterCenters()])
        np.savez(out_dir / us.CENTERS_FILE, centers=centers)
        measure = model.getDistanceMeasure()
        scoring.write_spec(out_dir, us.KMeansScorer, distanceMeasure=measure)
        return {"k": int(centers.shape[0]), "featureSize": int(centers.shape[1]), "distanceMeasure": measure}


class BisectingKMeans(Checked):
    """Bisecting k-means (Spark MLlib BisectingKMeans): clusters split top-down. The registered function
    returns the cluster id (int) as MLlib assigns it: descending the cluster tree into the closer child at
    each split (usually, not always, the nearest leaf center)."""

    name = "BisectingKMeans"
    algo_type = CLUSTERING
    estimator = "pyspark.ml.clustering.BisectingKMeans"
    model_class = "pyspark.ml.clustering.BisectingKMeansModel"
    column_kinds: ClassVar[dict[str, str]] = {"featuresCol": VECTORISH}
    params: ClassVar[tuple[Param, ...]] = (GROUPS,)
    example = (_POINTS + 'train points as BisectingKMeans.`models/bkm` where k="4" and seed="7" as info;\n'
               "register BisectingKMeans.`models/bkm` as bkm;\n"
               "select features, bkm(features) as cluster from points as out;")

    def export(self, model, out_dir: Path, job: TrainJob) -> dict[str, Any]:
        import pyarrow.parquet as pq

        data = out_dir / NATIVE_DIR / "data"
        try:
            meta = json.loads(next((data / "metadata").glob("part-*")).read_text().splitlines()[0])
            nodes = pq.read_table(str(data / "data"))
        except (StopIteration, OSError, ValueError) as exc:
            raise TrainError(f"{self.name}: cannot read the saved cluster tree ({exc})") from None
        ids = nodes.column("index").to_numpy().astype(np.int64)
        centers = vectors.to_matrix(nodes.column("center").combine_chunks())
        children = nodes.column("children").to_pylist()
        if any(len(c) not in (0, 2) for c in children):
            raise TrainError(f"{self.name}: unexpected cluster tree layout")
        pairs = np.array([c if c else [us.NO_CHILD, us.NO_CHILD] for c in children], dtype=np.int64).reshape(-1, 2)
        np.savez(out_dir / us.TREE_FILE, ids=ids, centers=centers, norms=nodes.column("norm").to_numpy(),
                 children=pairs)
        measure = meta.get("distanceMeasure", model.getDistanceMeasure())
        scoring.write_spec(out_dir, us.BisectingKMeansScorer, rootId=int(meta["rootId"]), distanceMeasure=measure)
        return {"k": int((ids >= 0).sum()), "featureSize": int(centers.shape[1]), "distanceMeasure": measure}


def gamma_draws(spark: SparkSession, seed: int, shape: float, k: int) -> np.ndarray:
    """The k Gamma(shape, 1/shape) draws MLlib's LDA inference starts every document from (Breeze's sampler on
    a Commons-Math MersenneTwister seeded with the model's seed), drawn by the JVM itself."""
    sc = spark.sparkContext
    jvm, gateway = sc._jvm, sc._gateway
    words = gateway.new_array(jvm.int, 2)        # new MersenneTwister(long) == setSeed(int[]{high, low})
    for i, part in enumerate(((seed >> 32) & 0xFFFFFFFF, seed & 0xFFFFFFFF)):
        words[i] = part - (1 << 32) if part >= 1 << 31 else part
    twister = jvm.org.apache.commons.math3.random.MersenneTwister(words)
    basis = jvm.breeze.stats.distributions.RandBasis(twister)
    gamma = jvm.breeze.stats.distributions.Gamma(float(shape), 1.0 / float(shape), basis)
    return np.array([float(gamma.draw()) for _ in range(k)])


class LDA(Checked):
    """Latent Dirichlet allocation topic model (Spark MLlib LDA) over a term-count vector column (e.g. from
    CountVectorizer). Functions: fn(wordIndex int) -> vector, the word's weights over the topics (its row of
    topicsMatrix); fn_topic(topic int, n int) -> array<int>, the topic's n most important term indices in
    describeTopics order; fn_doc(termCounts vector) -> vector, the topic distribution predict's
    topicDistribution column holds: MLlib's variational inference reproduced in numpy from the same seeded
    starting point (for optimizer="em" models Spark's own transform draws a new starting point each time the
    model is loaded, so fn_doc agrees with it only to about 1e-3)."""

    name = "LDA"
    algo_type = TOPIC
    estimator = "pyspark.ml.clustering.LDA"
    model_class = "pyspark.ml.clustering.LocalLDAModel"
    column_kinds: ClassVar[dict[str, str]] = {"featuresCol": VECTORISH}
    params: ClassVar[tuple[Param, ...]] = (GROUPS,)
    example = ("select vec_dense(array(cast(id % 3 as double), cast(id % 5 as double), cast(id % 2 as double), "
               "1.0)) as features from range(60) as docs;\n"
               'train docs as LDA.`models/lda` where k="2" and maxIter="10" and seed="7" as info;\n'
               "register LDA.`models/lda` as lda;\n"
               "select lda(0) as word0, lda_topic(0, 3) as top_terms, lda_doc(features) as topics from docs as out;")

    def export(self, model, out_dir: Path, job: TrainJob) -> dict[str, Any]:
        model_class = "pyspark.ml.clustering." + ("DistributedLDAModel" if model.isDistributed() else
                                                  "LocalLDAModel")
        native = _import(model_class).load(str(out_dir / NATIVE_DIR))   # what predict will run
        topics = native.topicsMatrix().toArray().astype(np.float64)
        try:   # the inference's seed, alpha and starting point live in the JVM model (classic Spark only)
            old = native._java_obj.oldLocalModel()
            alpha = np.array(list(old.docConcentration().toArray()), dtype=np.float64)
            seed, shape = int(old.seed()), float(old.gammaShape())
            init = gamma_draws(job.spark, seed, shape, topics.shape[1])
        except AttributeError:
            raise TrainError(f"{self.name}: exporting the scorer needs a classic (JVM) Spark session") from None
        np.savez(out_dir / us.LDA_FILE, topics=topics, alpha=alpha, init_gamma=init)
        scoring.write_spec(out_dir, us.LDAScorer)
        return {"k": int(topics.shape[1]), "vocabSize": int(topics.shape[0]), "modelClass": model_class,
                "topicDistributionCol": native.getTopicDistributionCol()}

    def load_native(self, model: ModelGroup):
        return _import(model.info.get("modelClass") or self.model_class).load(str(Path(model.directory) / NATIVE_DIR))


class ALS(Checked):
    """Collaborative filtering by alternating least squares (Spark MLlib ALS; userCol, itemCol, ratingCol
    hold integer ids and ratings). The registered function fn(user, item) -> double is the predicted rating,
    the dot product of the two factor vectors (float32, as MLlib). A user or item not seen in training gives
    NaN, as coldStartStrategy="nan" (with "drop", predict drops such rows; a function cannot, so it returns
    NaN there too: filter with isnan); null ids give null."""

    name = "ALS"
    aliases = ("ALSInPlace",)
    algo_type = RECOMMENDATION
    estimator = "pyspark.ml.recommendation.ALS"
    model_class = "pyspark.ml.recommendation.ALSModel"
    column_kinds: ClassVar[dict[str, str]] = {"userCol": NUMBER, "itemCol": NUMBER, "ratingCol": NUMBER}
    renames: ClassVar[dict[str, str]] = {}
    params: ClassVar[tuple[Param, ...]] = (GROUPS,)
    example = ("select cast(id % 20 as int) as user, cast(id % 15 as int) as item, "
               "cast((id % 20) * (id % 15) % 5 + 1 as float) as rating from range(300) as ratings;\n"
               'train ratings as ALS.`models/als` where rank="4" and maxIter="5" and seed="7" as info;\n'
               "register ALS.`models/als` as als;\n"
               "select user, item, rating, als(user, item) as predicted from ratings as out;")

    def scorer_inputs(self, est) -> list[str]:
        return [est.getOrDefault("userCol"), est.getOrDefault("itemCol")]

    def export(self, model, out_dir: Path, job: TrainJob) -> dict[str, Any]:
        rank = int(model.rank)
        parts = {}
        for side, frame in (("user", model.userFactors), ("item", model.itemFactors)):
            table = arrow_table(frame.orderBy("id"))
            ids = table.column("id").to_numpy().astype(np.int64)
            flat = pc.list_flatten(table.column("features").combine_chunks())
            parts[f"{side}s"] = ids
            parts[f"{side}_factors"] = flat.to_numpy(zero_copy_only=False).astype(np.float32).reshape(len(ids), rank)
        np.savez(out_dir / us.ALS_FILE, **parts)
        scoring.write_spec(out_dir, us.ALSScorer)
        return {"rank": rank, "users": len(parts["users"]), "items": len(parts["items"]),
                "userCol": model.getUserCol(), "itemCol": model.getItemCol(),
                "coldStartStrategy": model.getColdStartStrategy()}


_ELEMENTS = {"string": "string", "int": "int", "bigint": "bigint", "double": "double", "float": "float",
             "boolean": "boolean"}


class FPGrowth(Checked):
    """Frequent item sets and association rules (Spark MLlib FPGrowth; itemsCol an array column, minSupport,
    minConfidence). The registered function fn(items array) -> array returns the predicted consequents as
    predict's prediction column: the consequents of every rule whose antecedent the items contain, in rule
    order, each once, without the items already present (null items: an empty array)."""

    name = "FPGrowth"
    algo_type = PATTERN
    estimator = "pyspark.ml.fpm.FPGrowth"
    model_class = "pyspark.ml.fpm.FPGrowthModel"
    column_kinds: ClassVar[dict[str, str]] = {"itemsCol": ARRAY}
    renames: ClassVar[dict[str, str]] = {"inputCol": "itemsCol"}
    params: ClassVar[tuple[Param, ...]] = (GROUPS,)
    example = ("select split(case id % 4 when 0 then 'a b c' when 1 then 'a b' when 2 then 'b c' else 'a c d' end, "
               "' ') as items from range(40) as baskets;\n"
               'train baskets as FPGrowth.`models/fp` where itemsCol="items" and minSupport="0.2" '
               'and minConfidence="0.5" as info;\n'
               "register FPGrowth.`models/fp` as fp;\n"
               "select items, fp(items) as suggested from baskets as out;")

    def export(self, model, out_dir: Path, job: TrainJob) -> dict[str, Any]:
        import pyarrow.feather as feather

        column = model.getItemsCol()
        kind = job.df.schema[column].dataType
        element = _ELEMENTS.get(getattr(getattr(kind, "elementType", None), "simpleString", lambda: "")())
        if element is None:
            raise TrainError(f"{self.name}: itemsCol {column} must be an array of strings or numbers, "
                             f"not {kind.simpleString()}")
        native = _import(self.model_class).load(str(out_dir / NATIVE_DIR))   # rules in predict's order
        rules = arrow_table(native.associationRules.select("antecedent", "consequent"))
        ante = rules.column("antecedent").combine_chunks()
        cons = rules.column("consequent").combine_chunks()
        arrow_kind = scoring.arrow_type_of(element)
        flat_a, flat_c = pc.list_flatten(ante).cast(arrow_kind), pc.list_flatten(cons).cast(arrow_kind)
        items = pc.unique(pa.concat_arrays([flat_a, flat_c])) if len(flat_a) else pa.array([], arrow_kind)
        feather.write_feather(pa.table({"item": items}), str(out_dir / us.ITEMS_FILE))

        def offsets(lists: pa.Array) -> np.ndarray:
            lengths = pc.list_value_length(lists).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
            return np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)

        np.savez(out_dir / us.RULES_FILE, ante_offsets=offsets(ante), ante_items=us.lookup(flat_a, items),
                 cons_offsets=offsets(cons), cons_items=us.lookup(flat_c, items))
        scoring.write_spec(out_dir, us.FPGrowthScorer, element=element)
        return {"rules": len(rules), "items": len(items), "element": element,
                "freqItemsets": int(native.freqItemsets.count())}


for _cls in (KMeans, BisectingKMeans, LDA, ALS, FPGrowth):
    REGISTRY.register(_cls)

from gateway.ml import mllib_features  # noqa: E402,F401 - registers the feature transformers
