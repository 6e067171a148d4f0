# Two commands do everything: `make run` and `make test` (see README).
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: install test lint typecheck unit run clean fuzz

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

## The test command: lint, types, then every test (starts and stops PostgreSQL on 127.0.0.1).
test: lint typecheck
	scripts/run-tests.sh

unit: $(STAMP)
	$(VENV)/bin/pytest tests/unit

## Install, migrate, load the demo organization once, print the URLs and an admin token, serve.
run: $(STAMP)
	VENV=$(VENV) scripts/run.sh

## schemathesis against a live demo service, long (the test command runs it bounded):
## FUZZ_EXAMPLES (default 100), FUZZ_SEED, FUZZ_ROLES, FUZZ_PHASES; see scripts/fuzz.sh.
fuzz: $(STAMP)
	VENV=$(VENV) scripts/fuzz.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis

## Benchmark of the read side at a million customers on PostgreSQL (docs/benchmarks.md); starts
## the test PostgreSQL server when it is not running and stops it again. Loads once (minutes).
BENCH_ARGS ?= --customers 1000000 --database-url postgresql://postgres@127.0.0.1:55432/hub_bench
.PHONY: bench
bench: $(STAMP)
	@eval "$$(scripts/test-servers.sh start pg)"; \
	$(PY) -m benchmarks.million $(BENCH_ARGS); rc=$$?; \
	if [ "$$CUSTOMERS_HUB_TEST_STARTED_PG" = 1 ]; then scripts/test-servers.sh stop; fi; \
	exit $$rc

## The HTTP benchmark (benchmarks/http.py): the service against a bare floor app, side by side,
## on a scratch copy of the same million-customer database (loaded first when missing).
BENCH_HTTP_ARGS ?= --database-url postgresql://postgres@127.0.0.1:55432/hub_bench
.PHONY: bench-http
bench-http: $(STAMP)
	@eval "$$(scripts/test-servers.sh start pg)"; \
	$(PY) -m benchmarks.http $(BENCH_HTTP_ARGS); rc=$$?; \
	if [ "$$CUSTOMERS_HUB_TEST_STARTED_PG" = 1 ]; then scripts/test-servers.sh stop; fi; \
	exit $$rc
