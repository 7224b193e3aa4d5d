# rightsizer: the two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup system-demo system-test system-bench demo test check lint layers types unit bench clean

setup: $(STAMP)

# System parts (Debian packages, the MariaDB server): installed as root, else named in one line.
# They come first, so a machine without them stops before the slow Python set-up.
system-demo:
	scripts/setup-system demo

system-test:
	scripts/setup-system test

system-bench:
	scripts/setup-system bench

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "error: rightsizer needs Python >= 3.11; run make PYTHON=python3.11 ..." >&2; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: system-demo setup
	$(BIN)/rightsizer demo

lint: setup
	$(BIN)/ruff check rightsizer tests bench
	$(BIN)/ruff format --check rightsizer tests bench

# The package map of README.md, as an import-linter contract (pyproject.toml).
layers: setup
	$(BIN)/lint-imports

types: setup
	$(BIN)/mypy

unit: setup
	RIGHTSIZER_NO_SKIPS=1 $(BIN)/pytest

# check: the fast gate (lint, layers and types); test: the whole gate (check and tests).
check: lint layers types

test: system-test check unit

bench: system-bench setup
	for b in bench/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
