# rightsizer: the two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test check lint types unit bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: setup
	$(BIN)/rightsizer demo

lint: setup
	$(BIN)/ruff check rightsizer tests bench
	$(BIN)/ruff format --check rightsizer tests bench

types: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/pytest

# check: the fast gate (lint and types); test: the whole gate (lint, types, tests).
check: lint types

test: check unit

bench: setup
	for b in bench/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
