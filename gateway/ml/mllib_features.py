"""Spark MLlib feature transformers as trainable algorithms: Word2vec, StringIndex, TfIdf, StandardScaler and
Discretizer (registered by importing :mod:`gateway.ml.mllib_unsupervised`).

``train`` fits the MLlib stage(s) and saves the native model; ``predict`` runs MLlib's transform (the output
column is ``outputCol``, default ``prediction``); the registered functions are numpy scorers
(:mod:`gateway.ml.mllib_feature_scorers`) equal to that transform, so they compose in serving SQL:
``select rf(scale(vec_dense(array(a, b)))) from t``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from gateway.ml import mllib_feature_scorers as fs
from gateway.ml import scoring, vectors
from gateway.ml.algorithm import FEATURE, ModelGroup, TrainError, TrainJob
from gateway.ml.mllib_base import NATIVE_DIR, MLlibAlgorithm, _import
from gateway.ml.mllib_unsupervised import (
    GROUPS,
    NUMBER,
    SCALAR,
    STRINGS,
    VECTOR,
    Checked,
    arrow_table,
    check_columns,
    spark_message,
)
from gateway.mlsql.transformers import REGISTRY, Param

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

OUTPUT = "prediction"   # default outputCol: the column predict appends


class _Feature(Checked):
    """A single-column MLlib transformer: inputCol in, outputCol (default ``prediction``) out."""

    algo_type = FEATURE
    renames: ClassVar[dict[str, str]] = {}
    default_input: ClassVar[str | None] = None
    params: ClassVar[tuple[Param, ...]] = (GROUPS,)

    def make_estimator(self, params: dict[str, str]):
        est = super().make_estimator(params)
        if not est.isSet("inputCol"):
            if not self.default_input:
                raise TrainError(f'{self.name} needs inputCol, the column to transform (e.g. inputCol="text")')
            est._set(inputCol=self.default_input)
        if est.hasParam("outputCol") and not est.isSet("outputCol"):
            est._set(outputCol=OUTPUT)
        return est

    def input_columns(self, est) -> list[str]:
        return [est.getOrDefault("inputCol")]

    def scorer_inputs(self, est) -> list[str]:
        return [est.getOrDefault("inputCol")]

    def build(self, path: str, params: dict[str, str]):
        """Another estimator class configured from ``params`` with the same option rules."""
        helper = type(self)()
        helper.estimator = path
        return MLlibAlgorithm.make_estimator(helper, params)


class StandardScaler(_Feature):
    """Standardize a vector column (Spark MLlib StandardScaler; inputCol default features, withMean default
    false, withStd default true, std = the corrected sample standard deviation). The registered function
    fn(vector) -> vector computes (x - mean) * (1 / std) exactly as MLlib (a zero std scales to 0; a sparse
    vector stays sparse when withMean is false)."""

    name = "StandardScaler"
    estimator = "pyspark.ml.feature.StandardScaler"
    model_class = "pyspark.ml.feature.StandardScalerModel"
    default_input = "features"
    column_kinds: ClassVar[dict[str, str]] = {"inputCol": VECTOR}
    example = ("select vec_dense(array(cast(id as double), cast(id % 7 as double))) as features "
               "from range(100) as data;\n"
               'train data as StandardScaler.`models/scale` where inputCol="features" and withMean="true" as info;\n'
               "register StandardScaler.`models/scale` as scale;\n"
               "select features, scale(features) as scaled from data as out;")

    def export(self, model, out_dir: Path, job: TrainJob) -> dict[str, Any]:
        mean, std = model.mean.toArray().astype(np.float64), model.std.toArray().astype(np.float64)
        np.savez(out_dir / fs.SCALER_FILE, mean=mean, std=std)
        scoring.write_spec(out_dir, fs.StandardScalerScorer, withMean=model.getWithMean(), withStd=model.getWithStd())
        return {"featureSize": len(mean), "withMean": model.getWithMean(), "withStd": model.getWithStd(),
                "outputCol": model.getOutputCol()}


class StringIndex(_Feature):
    """Index string labels (Spark MLlib StringIndexer; inputCol required; stringOrderType default
    frequencyDesc). Functions: fn(string) -> int, the label's index; fn_array(array<string>) -> array<int>;
    fn_r(double) -> string, the label of an index (IndexToString; null when out of range);
    fn_rarray(array<double>) -> array<string>. handleInvalid decides unseen labels and nulls: "error" (the
    default) fails the query as MLlib does, "keep" gives the index numLabels, "skip" gives null (predict drops
    such rows). Numeric inputs are matched by their string form (exact for integers)."""

    name = "StringIndex"
    aliases = ("StringIndexer",)
    estimator = "pyspark.ml.feature.StringIndexer"
    model_class = "pyspark.ml.feature.StringIndexerModel"
    column_kinds: ClassVar[dict[str, str]] = {"inputCol": SCALAR}
    example = ("select case id % 3 when 0 then 'red' when 1 then 'green' else 'blue' end as color "
               "from range(30) as data;\n"
               'train data as StringIndex.`models/colors` where inputCol="color" and handleInvalid="keep" as info;\n'
               "register StringIndex.`models/colors` as color_index;\n"
               "select color, color_index(color) as idx, color_index_r(color_index(color)) as back from data as out;")

    def export(self, model, out_dir: Path, job: TrainJob) -> dict[str, Any]:
        labels = list(model.labelsArray[0])
        fs.write_strings(out_dir / fs.LABELS_FILE, labels)
        scoring.write_spec(out_dir, fs.StringIndexerScorer, handleInvalid=model.getHandleInvalid())
        return {"labelValues": labels[:1000], "numLabels": len(labels), "handleInvalid": model.getHandleInvalid(),
                "outputCol": model.getOutputCol()}


class Word2vec(_Feature):
    """Word embeddings (Spark MLlib Word2Vec over an array<string> inputCol; vectorSize, minCount, windowSize,
    maxIter, seed). Functions: fn(word string) -> vector, the word's vector (null for a word not in the
    vocabulary); fn_array(array<string>) -> vector, the sentence's average vector exactly as predict's
    output (unknown words count in the average; an empty sentence gives MLlib's empty sparse vector)."""

    name = "Word2vec"
    aliases = ("Word2Vec",)
    estimator = "pyspark.ml.feature.Word2Vec"
    model_class = "pyspark.ml.feature.Word2VecModel"
    column_kinds: ClassVar[dict[str, str]] = {"inputCol": STRINGS}
    example = ("select split(case id % 3 when 0 then 'spark is fast' when 1 then 'python is easy' "
               "else 'spark and python' end, ' ') as words from range(30) as docs;\n"
               'train docs as Word2vec.`models/w2v` where inputCol="words" and vectorSize="8" and minCount="1" '
               'and seed="7" as info;\n'
               "register Word2vec.`models/w2v` as w2v;\n"
               "select w2v('spark') as spark_vector, w2v_array(words) as doc_vector from docs as out;")

    def export(self, model, out_dir: Path, job: TrainJob) -> dict[str, Any]:
        table = arrow_table(model.getVectors())
        words = table.column("word").combine_chunks()
        size = int(model.getVectorSize())
        matrix = vectors.to_matrix(table.column("vector").combine_chunks(), size) if len(words) else \
            np.zeros((0, size))
        fs.write_strings(out_dir / fs.WORDS_FILE, words.to_pylist())
        np.savez(out_dir / fs.WORD2VEC_FILE, vectors=matrix)
        scoring.write_spec(out_dir, fs.Word2VecScorer)
        return {"vocabSize": len(words), "vectorSize": size, "outputCol": model.getOutputCol()}


TF_COLUMN = "__tfidf_tf"
_CV = "pyspark.ml.feature.CountVectorizer"
_IDF = "pyspark.ml.feature.IDF"


class TfIdf(_Feature):
    """Term frequency times inverse document frequency over an array<string> inputCol: Spark MLlib
    CountVectorizer (a vocabulary, not hashing: vocabSize, minDF, maxDF, minTF, binary) then IDF
    (minDocFreq), saved as one pipeline. The registered function fn(array<string>) -> vector returns the
    same sparse vector as predict (indices into the vocabulary, most frequent terms first)."""

    name = "TfIdf"
    estimator = _CV
    model_class = "pyspark.ml.PipelineModel"
    example = ("select split(case id % 3 when 0 then 'spark is fast' when 1 then 'python is easy' "
               "else 'spark and python' end, ' ') as words from range(30) as docs;\n"
               'train docs as TfIdf.`models/tfidf` where inputCol="words" and minDF="1" as info;\n'
               "register TfIdf.`models/tfidf` as tfidf;\n"
               "select words, tfidf(words) as features from docs as out;")

    @classmethod
    def explain_params(cls) -> list[Param]:
        out = list(cls.params)
        for path in (_CV, _IDF):
            est = _import(path)()
            for param in sorted(est.params, key=lambda p: p.name):
                if (path, param.name) in ((_CV, "outputCol"), (_IDF, "inputCol")):
                    continue
                default = est.getOrDefault(param) if est.hasDefault(param) else None
                out.append(Param(param.name, param.doc, None if default is None else str(default)))
        return out

    def train(self, job: TrainJob) -> dict[str, Any]:
        from pyspark.ml import Pipeline

        cv_probe, idf_probe = _import(_CV)(), _import(_IDF)()
        cv_params, idf_params = {}, {}
        for key, value in job.params.items():
            if key == "inputCol" or (cv_probe.hasParam(key) and not idf_probe.hasParam(key)):
                cv_params[key] = value
            elif idf_probe.hasParam(key) or key in {p.name for p in self.params} or key == "alg":
                idf_params[key] = value   # outputCol, minDocFreq
            else:
                known = sorted({p.name for p in cv_probe.params} | {p.name for p in idf_probe.params})
                raise TrainError(f"{self.name}: unknown parameter {key!r} (parameters: {', '.join(known)})")
        cv = self.build(_CV, cv_params)
        idf = self.build(_IDF, idf_params)
        if not cv.isSet("inputCol"):
            raise TrainError(f'{self.name} needs inputCol, an array<string> column (e.g. inputCol="words")')
        source = cv.getOrDefault("inputCol")
        output = idf.getOrDefault("outputCol") if idf.isSet("outputCol") else OUTPUT
        cv._set(outputCol=TF_COLUMN)
        idf._set(inputCol=TF_COLUMN, outputCol=output)
        self.require_columns(job.df, source)
        check_columns(self.name, job.df, {source: STRINGS})
        job.say(f"{self.name}: fitting CountVectorizer + IDF")
        try:
            model = Pipeline(stages=[cv, idf]).fit(job.df)
        except Exception as exc:
            raise TrainError(f"{self.name}: {spark_message(exc)}") from None
        model.write().overwrite().save(str(job.out_dir / NATIVE_DIR))
        cv_model, idf_model = model.stages
        vocabulary = list(cv_model.vocabulary)
        fs.write_strings(job.out_dir / fs.VOCAB_FILE, vocabulary)
        np.savez(job.out_dir / fs.IDF_FILE, idf=idf_model.idf.toArray().astype(np.float64))
        scoring.write_spec(job.out_dir, fs.TfIdfScorer, minTF=float(cv_model.getMinTF()),
                           binary=bool(cv_model.getBinary()))
        return {"kind": FEATURE, "inputCols": [source], "inputCol": source, "outputCol": output,
                "vocabSize": len(vocabulary), "numDocs": int(idf_model.numDocs)}

    def batch_predict(self, spark: SparkSession, df: DataFrame, model: ModelGroup) -> DataFrame:
        return super().batch_predict(spark, df, model).drop(TF_COLUMN)


_QD = "pyspark.ml.feature.QuantileDiscretizer"
_BUCKETIZER = "pyspark.ml.feature.Bucketizer"


def parse_splits(text: str) -> list[float]:
    """``"-inf,0,10,inf"`` or ``"[-Infinity, 0, 10, Infinity]"`` -> floats."""
    body = text.strip()
    if body.startswith("[") and body.endswith("]"):
        body = body[1:-1]
    try:
        return [float(part) for part in body.split(",") if part.strip()]
    except ValueError:
        raise TrainError(f'Discretizer: splits must be comma-separated numbers (e.g. "-inf,0,10,inf"), '
                         f"not {text!r}") from None


class Discretizer(_Feature):
    """Bucket a numeric column: Spark MLlib QuantileDiscretizer (numBuckets, relativeError) learns the
    splits, or Bucketizer uses the given splits (splits="-inf,0,10,inf"). The registered function
    fn(double) -> double returns the bucket index as predict does. handleInvalid (NaN values): "error" (the
    default) fails the query, "keep" gives the extra bucket numBuckets, "skip" gives null (predict drops the
    row); a value outside the splits fails as in MLlib; null gives null."""

    name = "Discretizer"
    estimator = _QD
    model_class = _BUCKETIZER
    column_kinds: ClassVar[dict[str, str]] = {"inputCol": NUMBER}
    params: ClassVar[tuple[Param, ...]] = (
        GROUPS, Param("splits", "explicit bucket boundaries (Bucketizer), e.g. \"-inf,0,10,inf\"; without it "
                      "QuantileDiscretizer learns numBuckets quantile buckets"))
    example = ("select cast(id as double) as x from range(100) as data;\n"
               'train data as Discretizer.`models/buckets` where inputCol="x" and numBuckets="4" as info;\n'
               "register Discretizer.`models/buckets` as bucket;\n"
               "select x, bucket(x) as b from data as out;")

    def train(self, job: TrainJob) -> dict[str, Any]:
        params = dict(job.params)
        splits = params.pop("splits", None)
        if splits is None:
            return super().train(job)
        est = self.build(_BUCKETIZER, params)
        if not est.isSet("inputCol"):
            raise TrainError(f'{self.name} needs inputCol, the numeric column to bucket (e.g. inputCol="x")')
        self.require_columns(job.df, est.getInputCol())
        check_columns(self.name, job.df, {est.getInputCol(): NUMBER})
        if not est.isSet("outputCol"):
            est._set(outputCol=OUTPUT)
        try:
            est.setSplits(parse_splits(splits))
            _ = est.transform(job.df.limit(0)).schema   # analysis checks the column and its type
        except TrainError:
            raise
        except Exception as exc:
            raise TrainError(f"{self.name}: {spark_message(exc)}") from None
        est.write().overwrite().save(str(job.out_dir / NATIVE_DIR))
        column = est.getInputCol()
        return {"kind": FEATURE, "inputCols": [column], "inputCol": column, **self.export(est, job.out_dir, job)}

    def export(self, model, out_dir: Path, job: TrainJob) -> dict[str, Any]:
        splits = np.array(model.getSplits(), dtype=np.float64)
        np.savez(out_dir / fs.SPLITS_FILE, splits=splits)
        scoring.write_spec(out_dir, fs.BucketizerScorer, handleInvalid=model.getHandleInvalid())
        return {"splits": json.dumps([float(s) for s in splits]), "numBuckets": len(splits) - 1,
                "handleInvalid": model.getHandleInvalid(), "outputCol": model.getOutputCol()}


for _cls in (StandardScaler, StringIndex, Word2vec, TfIdf, Discretizer):
    REGISTRY.register(_cls)
