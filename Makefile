# Two commands on a fresh machine: `make run` (the panel with demo data) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint install install-test lock screenshots messages wrap-templates

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

# Languages (README "Languages"): wrap new template texts in _(), then refresh every catalog from the code.
TEMPLATE_FILES = $(shell find smmpanel/web/templates smmpanel/notify/templates -type f)
LOCALES = smmpanel/locale
wrap-templates: install-test
	$(BIN)/python -m smmpanel.i18n.wrap $(TEMPLATE_FILES)

messages: install-test
	$(BIN)/pybabel extract -F babel.cfg -k translate -k Refused -k redirect:2 -k Phrase \
		--no-location --sort-output --omit-header -o $(LOCALES)/messages.pot .
	for lang in $$($(BIN)/python -c 'from smmpanel.i18n import LANGUAGES; print(*LANGUAGES)'); do \
		test -f $(LOCALES)/$$lang/LC_MESSAGES/messages.po || $(BIN)/pybabel init -i $(LOCALES)/messages.pot -d $(LOCALES) -l $$lang; \
	done
	$(BIN)/pybabel update -i $(LOCALES)/messages.pot -d $(LOCALES) --no-fuzzy-matching --ignore-obsolete
