# mlsql-gateway: `make run` and `make test` do all the set-up on a fresh machine.
PY ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 10000
MASTER ?= local[*]
# Where `make run` lets MLSQL scripts read and write files (load/save/include).
DATA_ROOT ?= $(CURDIR)/workspace/data
SCRIPT_ROOT ?= $(CURDIR)/workspace/scripts

export PYSPARK_PYTHON := $(abspath $(VPY))
export SPARK_LOCAL_IP := 127.0.0.1

.PHONY: install run test test-deps lint idl bench clean

$(STAMP): pyproject.toml
	test -x $(VPY) || $(PY) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q -e '.[server,dev,tensorflow]'
	@if $(VPY) -m pip show -q sqlglotc >/dev/null 2>&1; then $(VPY) -m pip uninstall -y -q sqlglotc; fi
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/mlsql-gateway --host $(HOST) --port $(PORT) --master '$(MASTER)' \
	  --data-root $(DATA_ROOT) --script-root $(SCRIPT_ROOT)

# System packages the JDBC tests use (Debian): PostgreSQL and MariaDB servers and their JDBC drivers.
TEST_DEBS := postgresql mariadb-server libpostgresql-jdbc-java libmariadb-java
test-deps:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  missing=$$(for p in $(TEST_DEBS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	  if [ -n "$$missing" ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; fi; \
	else echo "not root or no apt-get: the JDBC tests will say what is missing"; fi

test: $(STAMP) test-deps
	$(VPY) -m ruff check gateway dialect sqlalchemy_mlsql tests bench
	MLSQL_DIALECT_SPARK_CHECK=1 $(VPY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VPY) -m ruff check gateway dialect sqlalchemy_mlsql tests bench

# Regenerate the Python code of the TCLIService IDL (needs Debian's thrift-compiler).
idl:
	command -v thrift >/dev/null || (apt-get update -q && apt-get install -y -q thrift-compiler)
	rm -rf thrift_idl/gen
	thrift --gen py -out . thrift_idl/TCLIService.thrift
	rm -f thrift_idl/gen/TCLIService/TCLIService-remote

bench: $(STAMP)
	$(VPY) bench/bench_gateway.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
