# ogosync: `make test` and `make demo` install what they need into .venv (and SAM CLI into .venv-sam).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
SAM_VENV ?= .venv-sam
BIN := $(VENV)/bin
PYTEST_WORKERS ?= 2

.PHONY: all install test lint typecheck template unit integration e2e demo clean chromium

all: test

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $@

$(SAM_VENV)/.installed:
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check aws-sam-cli
	touch $@

install: $(BIN)/.installed

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy layers/common/python/ogosync infra/local/ogosync_local functions cli/ogosync_cli

# cfn-lint, `sam validate --lint` and `sam build` (no Docker) of template.yaml
template: install $(SAM_VENV)/.installed
	VENV=$(VENV) SAM_VENV=$(SAM_VENV) bash infra/template/check.sh

# The console's browser tests drive Debian's chromium (Playwright's own browser download is not used).
chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium; }

test: lint typecheck template chromium
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --durations=10

unit: install
	$(BIN)/python -m pytest -q tests/unit

# The functions' own JSON logs are hidden; DEMO_LOG_LEVEL=INFO make demo shows them.
DEMO_LOG_LEVEL ?= CRITICAL
demo: install
	POWERTOOLS_LOG_LEVEL=$(DEMO_LOG_LEVEL) $(BIN)/python -m ogosync_local.demo

# Figures of the stock flow at 20,000 SKUs on the simulators (a few minutes; not part of `make test`)
.PHONY: measure-stock
measure-stock: install
	POWERTOOLS_LOG_LEVEL=$(DEMO_LOG_LEVEL) $(BIN)/python -m ogosync_local.measure_stock

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache

# ---- proof under load and faults (issue 6): minutes each, not part of `make test` -----------------------------
CHAOS_ORDERS ?= 1000
CHAOS_SHOPIFY_ORDERS ?= 150
CHAOS_WOOCOMMERCE_ORDERS ?= 150
.PHONY: chaos bench
# 1,000 orders through the whole cycle under faults and killed workers; writes its tables into docs/reliability.md
chaos: install
	POWERTOOLS_LOG_LEVEL=CRITICAL $(BIN)/python -m ogosync_local.chaos --orders $(CHAOS_ORDERS) \
		--markdown docs/reliability.md
	POWERTOOLS_LOG_LEVEL=CRITICAL $(BIN)/python -m ogosync_local.chaos_shopify --orders $(CHAOS_SHOPIFY_ORDERS) \
		--markdown docs/reliability.md
	POWERTOOLS_LOG_LEVEL=CRITICAL $(BIN)/python -m ogosync_local.chaos_woocommerce --orders $(CHAOS_WOOCOMMERCE_ORDERS) \
		--markdown docs/reliability.md

# The busy-merchant benchmarks on the simulators (20 ms per call), then the fleet's (tick, fairness, cost) at a size
# of a few minutes; writes their tables into docs/benchmarks.md
bench: install
	POWERTOOLS_LOG_LEVEL=CRITICAL $(BIN)/python -m ogosync_local.bench --markdown docs/benchmarks.md
	POWERTOOLS_LOG_LEVEL=CRITICAL $(BIN)/python -m ogosync_local.bench_shopify --markdown docs/benchmarks.md
	POWERTOOLS_LOG_LEVEL=CRITICAL $(BIN)/python -m ogosync_local.bench_woocommerce --markdown docs/benchmarks.md
	POWERTOOLS_LOG_LEVEL=CRITICAL $(BIN)/python -m ogosync_local.bench_fleet --fleet 100,1000 --minutes 5 \
		--backlog 300 --others 20 --unfair --markdown docs/benchmarks.md
