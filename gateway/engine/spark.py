"""The Spark side: one SparkSession per gateway (the SparkContext), a child session per HS2 session."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterable

log = logging.getLogger(__name__)


def spark_version() -> str:
    import pyspark

    return pyspark.__version__


def build_spark(master: str = "local[*]", conf: Iterable[tuple[str, str]] = (), app_name: str = "mlsql-gateway"):
    """Start (or reuse) the gateway's SparkSession with loopback networking and sane defaults."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(master).appName(app_name)
    defaults = {
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.scheduler.mode": "FAIR",
        # Results stream one partition (or a chunk of small ones) at a time through the driver; a partition in
        # flight exists in a few copies there, so the JVM default of 1g is too tight for large partitions.
        "spark.driver.memory": "2g",
        # Let G1 spend a little more time collecting instead of growing the heap while results stream
        # (measured: 10M rows over 16 partitions grew the JVM by 882 MB with the defaults, 428 MB with these).
        "spark.driver.extraJavaOptions": "-XX:GCTimeRatio=4 -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=30",
    }
    user = dict(conf)
    for key, value in {**defaults, **user}.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(user.get("mlsql.log.level", "WARN"))
    log.info("Spark %s started: master=%s", spark.version, spark.sparkContext.master)
    return spark
