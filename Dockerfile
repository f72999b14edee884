# mlsql-gateway: HiveServer2-compatible Thrift server running MLSQL on Apache Spark (local mode by default).
FROM python:3.11-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends openjdk-17-jre-headless procps \
 && rm -rf /var/lib/apt/lists/*

ENV JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SPARK_LOCAL_IP=127.0.0.1 \
    PYSPARK_PYTHON=/usr/local/bin/python

RUN useradd --create-home --uid 10001 mlsql
WORKDIR /opt/mlsql-gateway
COPY pyproject.toml README.md ./
COPY thrift_idl ./thrift_idl
COPY gateway ./gateway
COPY dialect ./dialect
COPY sqlalchemy_mlsql ./sqlalchemy_mlsql
RUN pip install --no-cache-dir '.[server]' \
 && pip uninstall -y sqlglotc || true

USER mlsql
WORKDIR /home/mlsql
# 10000: HiveServer2 binary Thrift (SASL PLAIN / NOSASL). 9003: REST API.
EXPOSE 10000 9003

# Healthy when an HS2 session can be opened and closed over the real protocol.
HEALTHCHECK --interval=30s --timeout=20s --start-period=90s --retries=3 \
  CMD ["python", "-m", "gateway.healthcheck", "--host", "127.0.0.1", "--port", "10000"]

ENTRYPOINT ["mlsql-gateway"]
CMD ["--host", "0.0.0.0", "--port", "10000", "--rest-host", "0.0.0.0", "--rest-port", "9003", "--master", "local[*]"]
