"""Supervised Spark MLlib algorithms: NaiveBayes, RandomForest, GBTs, GBTRegressor, LogisticRegressor,
LinearRegression, LSVM and DecisionTree.

Training, ``predict`` and ``modelExplain`` use MLlib itself (:mod:`gateway.ml.mllib_base`); each algorithm
also exports a numpy scorer (:mod:`gateway.ml.mllib_tree_scorers`, :mod:`gateway.ml.mllib_scorers`) so a
registered function runs without the JVM and gives MLlib's own numbers:

- classifiers: ``fn(features) -> vector`` is MLlib's ``probability`` column and ``fn_raw(features) -> vector``
  its ``rawPrediction`` (LSVM has no probability: ``fn`` returns rawPrediction ``[-margin, margin]``);
  ``vec_argmax(fn(features))`` is the predicted class index, as ``predict``'s ``prediction``.
- regressors: ``fn(features) -> double`` is MLlib's ``prediction``.

Labels are class indices (0.0, 1.0, ...), as MLlib requires. A classifier trained with ``thresholds`` (or
LogisticRegression's ``threshold``) applies them in ``predict``'s prediction only; the functions return the
unthresholded vectors, as MLlib's probability/rawPrediction columns do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from gateway.ml import mllib_scorers, mllib_tree_scorers
from gateway.ml.algorithm import CLASSIFICATION, REGRESSION, TrainError, TrainJob
from gateway.ml.mllib_base import NATIVE_DIR, MLlibAlgorithm
from gateway.mlsql.transformers import REGISTRY, Param

_GROUPS = Param("fitParam.N.<param>", "any parameter of the MLlib estimator listed below, per parameter group N "
                "(e.g. fitParam.0.maxDepth=\"3\" and fitParam.1.maxDepth=\"5\")")
_DATA = ("select vec_dense(array(cast(id % 7 as double), cast(id % 5 as double), cast(id % 3 as double))) "
         "as features, cast(id % 7 > 3 as double) as label from range(300) as data;\n")


def _example(alg: str, path: str, fit: str, select: str) -> str:
    return (_DATA + f"train data as {alg}.`{path}` where {fit} and evaluateTable=\"data\" as info;\n"
            f"predict data as {alg}.`{path}` as scored;\n"
            f"register {alg}.`{path}` as {select[0]};\n"
            f"select {select[1]} as predicted, label from data as out;")


class _Classifier(MLlibAlgorithm):
    algo_type = CLASSIFICATION
    params: ClassVar[tuple[Param, ...]] = (_GROUPS,)

    def train(self, job: TrainJob) -> dict[str, Any]:
        _check_label(job, self.make_estimator(job.params))
        return super().train(job)

    @staticmethod
    def class_info(num_classes: int, num_features: int) -> dict[str, Any]:
        return {"labels": [float(i) for i in range(num_classes)], "numClasses": num_classes,
                "numFeatures": num_features}


class _Regressor(MLlibAlgorithm):
    algo_type = REGRESSION
    params: ClassVar[tuple[Param, ...]] = (_GROUPS,)


def _check_label(job: TrainJob, est) -> None:
    """MLlib needs class indices as labels: a clear error for a string label column."""
    label = est.getOrDefault("labelCol")
    if label not in job.df.columns:
        return  # reported by the base class with the table's columns
    kind = job.df.schema[label].dataType.typeName()
    if kind in ("string", "binary", "array", "map", "struct"):
        raise TrainError(f"label column {label} has type {kind}; MLlib classifiers need numeric class indices "
                         "0, 1, 2... (index string labels first, e.g. with StringIndex)")


# -- trees -----------------------------------------------------------------------------------------------
class RandomForest(_Classifier):
    """Random forest classifier (Spark MLlib RandomForestClassifier). The registered function returns the
    probability vector (the normalized sum of each tree's normalized leaf class counts); fn_raw returns
    rawPrediction; categorical features (vector metadata, e.g. from VectorIndexer) are supported."""

    name = "RandomForest"
    aliases = ("RandomForestClassifier",)
    estimator = "pyspark.ml.classification.RandomForestClassifier"
    model_class = "pyspark.ml.classification.RandomForestClassificationModel"
    example = _example("RandomForest", "models/rf", 'fitParam.0.maxDepth="3" and fitParam.0.numTrees="10" '
                       'and fitParam.1.maxDepth="5"', ("rf_predict", "vec_argmax(rf_predict(features))"))

    def export(self, model, out_dir: Path, job: TrainJob) -> dict[str, Any]:
        info = mllib_tree_scorers.export_trees(model, out_dir, mllib_tree_scorers.FOREST, True, model.numClasses)
        return {**info, **self.class_info(model.numClasses, model.numFeatures)}


class DecisionTree(_Classifier):
    """Decision tree classifier (Spark MLlib DecisionTreeClassifier). The registered function returns the
    probability vector (the leaf's class counts, normalized); fn_raw returns the counts (rawPrediction)."""

    name = "DecisionTree"
    aliases = ("DecisionTreeClassifier",)
    estimator = "pyspark.ml.classification.DecisionTreeClassifier"
    model_class = "pyspark.ml.classification.DecisionTreeClassificationModel"
    example = _example("DecisionTree", "models/dt", 'fitParam.0.maxDepth="4"',
                       ("dt_predict", "vec_argmax(dt_predict(features))"))

    def export(self, model, out_dir: Path, job: TrainJob) -> dict[str, Any]:
        info = mllib_tree_scorers.export_trees(model, out_dir, mllib_tree_scorers.TREE, True, model.numClasses)
        return {**info, **self.class_info(model.numClasses, model.numFeatures)}


class GBTs(_Classifier):
    """Gradient-boosted trees, binary classification (Spark MLlib GBTClassifier; labels 0 and 1). The
    registered function returns the probability vector [1 - p, p] with p = 1 / (1 + exp(-2 margin)),
    margin = the weighted sum of the trees' predictions; fn_raw returns rawPrediction [-margin, margin]."""

    name = "GBTs"
    aliases = ("GBTClassifier", "GBT")
    estimator = "pyspark.ml.classification.GBTClassifier"
    model_class = "pyspark.ml.classification.GBTClassificationModel"
    example = _example("GBTs", "models/gbt", 'fitParam.0.maxDepth="3" and fitParam.0.maxIter="10"',
                       ("gbt_predict", "vec_argmax(gbt_predict(features))"))

    def export(self, model, out_dir: Path, job: TrainJob) -> dict[str, Any]:
        info = mllib_tree_scorers.export_trees(model, out_dir, mllib_tree_scorers.GBT, True, 2)
        return {**info, **self.class_info(2, model.numFeatures)}


class GBTRegressor(_Regressor):
    """Gradient-boosted trees regression (Spark MLlib GBTRegressor). The registered function returns the
    prediction (a double): the weighted sum of the trees' predictions."""

    name = "GBTRegressor"
    estimator = "pyspark.ml.regression.GBTRegressor"
    model_class = "pyspark.ml.regression.GBTRegressionModel"
    example = _example("GBTRegressor", "models/gbtr", 'fitParam.0.maxDepth="3" and fitParam.0.maxIter="10"',
                       ("gbtr_predict", "gbtr_predict(features)"))

    def export(self, model, out_dir: Path, job: TrainJob) -> dict[str, Any]:
        info = mllib_tree_scorers.export_trees(model, out_dir, mllib_tree_scorers.GBT, False)
        return {**info, "numFeatures": model.numFeatures}


# -- linear models and NaiveBayes ------------------------------------------------------------------------
class LogisticRegressor(_Classifier):
    """Logistic regression, binomial or multinomial (Spark MLlib LogisticRegression; family auto/binomial/
    multinomial). The registered function returns the probability vector (sigmoid or softmax of the margins);
    fn_raw returns rawPrediction (binomial: [-margin, margin]; multinomial: the margins)."""

    name = "LogisticRegressor"
    aliases = ("LogisticRegression",)
    estimator = "pyspark.ml.classification.LogisticRegression"
    model_class = "pyspark.ml.classification.LogisticRegressionModel"
    example = _example("LogisticRegressor", "models/lr", 'fitParam.0.regParam="0.01" and fitParam.0.maxIter="50"',
                       ("lr_predict", "vec_argmax(lr_predict(features))"))

    def export(self, model, out_dir: Path, job: TrainJob) -> dict[str, Any]:
        import pyarrow.parquet as pq

        saved = pq.read_table(str(out_dir / NATIVE_DIR / "data"), columns=["isMultinomial"])
        multinomial = bool(saved.column("isMultinomial")[0].as_py())
        if multinomial:
            mllib_scorers.export_linear(out_dir, mllib_scorers.MULTINOMIAL, model.coefficientMatrix.toArray(),
                                        model.interceptVector.toArray())
        else:
            mllib_scorers.export_linear(out_dir, mllib_scorers.LOGISTIC, model.coefficients.toArray()[None, :],
                                        np.array([model.intercept]))
        return {**self.class_info(model.numClasses, model.numFeatures),
                "family": "multinomial" if multinomial else "binomial"}


class LSVM(_Classifier):
    """Linear support vector machine, binary (Spark MLlib LinearSVC; labels 0 and 1). LinearSVC has no
    probability, so the registered function returns rawPrediction [-margin, margin] (margin = w.x + b;
    vec_argmax gives the predicted class); fn_raw returns the same vector."""

    name = "LSVM"
    aliases = ("LinearSVC",)
    estimator = "pyspark.ml.classification.LinearSVC"
    model_class = "pyspark.ml.classification.LinearSVCModel"
    example = _example("LSVM", "models/svm", 'fitParam.0.maxIter="50" and fitParam.0.regParam="0.01"',
                       ("svm_predict", "vec_argmax(svm_predict(features))"))

    def export(self, model, out_dir: Path, job: TrainJob) -> dict[str, Any]:
        mllib_scorers.export_linear(out_dir, mllib_scorers.SVC, model.coefficients.toArray()[None, :],
                                    np.array([model.intercept]))
        return self.class_info(2, model.numFeatures)


class LinearRegression(_Regressor):
    """Linear regression (Spark MLlib LinearRegression, squaredError or huber loss). The registered function
    returns the prediction w.x + b (a double)."""

    name = "LinearRegression"
    aliases = ("LinearRegressor",)
    estimator = "pyspark.ml.regression.LinearRegression"
    model_class = "pyspark.ml.regression.LinearRegressionModel"
    example = _example("LinearRegression", "models/linreg", 'fitParam.0.regParam="0.1"',
                       ("linreg_predict", "linreg_predict(features)"))

    def export(self, model, out_dir: Path, job: TrainJob) -> dict[str, Any]:
        mllib_scorers.export_linear(out_dir, mllib_scorers.REGRESSION, model.coefficients.toArray()[None, :],
                                    np.array([model.intercept]))
        return {"numFeatures": model.numFeatures}


class NaiveBayes(_Classifier):
    """Naive Bayes (Spark MLlib NaiveBayes; modelType multinomial (default, nonnegative features), complement,
    bernoulli (0/1 features) or gaussian). The registered function returns the probability vector (softmax of
    the class log scores); fn_raw returns rawPrediction (the log scores)."""

    name = "NaiveBayes"
    estimator = "pyspark.ml.classification.NaiveBayes"
    model_class = "pyspark.ml.classification.NaiveBayesModel"
    example = _example("NaiveBayes", "models/nb", 'fitParam.0.smoothing="1.0" and fitParam.1.modelType="gaussian"',
                       ("nb_predict", "vec_argmax(nb_predict(features))"))

    def export(self, model, out_dir: Path, job: TrainJob) -> dict[str, Any]:
        model_type = model.getOrDefault("modelType")
        sigma = model.sigma.toArray() if model_type == "gaussian" else np.zeros((0, 0))
        mllib_scorers.export_naive_bayes(out_dir, model_type, model.pi.toArray(), model.theta.toArray(), sigma)
        return {**self.class_info(model.numClasses, model.numFeatures), "modelType": model_type}


ALGORITHMS = (NaiveBayes, RandomForest, GBTs, GBTRegressor, LogisticRegressor, LinearRegression, LSVM,
              DecisionTree)
for _cls in ALGORITHMS:
    REGISTRY.register(_cls)
