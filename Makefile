# Two commands on a fresh machine: `make run` (the panel with demo data) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint install install-test lock screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# requirements.lock pins every package, transitive ones included (`make lock` after changing pyproject.toml).
$(VENV)/.installed: pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/pip install -q -c requirements.lock -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/pip install -q -c requirements.lock -e '.[test]'
	touch $(VENV)/.installed $@

lock: install-test
	$(BIN)/pip freeze --exclude-editable | grep -v '^smmpanel' > requirements.lock

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

run: install
	$(BIN)/smmpanel serve --demo --host $(HOST) --port $(PORT)

lint: install-test
	$(BIN)/ruff check smmpanel tests benchmarks
	$(BIN)/ruff format --check smmpanel tests benchmarks
	$(BIN)/mypy

# Two processes, each test file in one of them (the suite's servers and browsers share files' fixtures).
TEST_PROCESSES ?= 2

test: lint
	$(BIN)/pytest -n $(TEST_PROCESSES) --dist loadfile $(PYTEST_ARGS)

# The README's screenshots (docs/screenshots/*.png), from a demo panel in Chromium: not a test.
screenshots: install-test
	$(BIN)/python docs/take_screenshots.py
