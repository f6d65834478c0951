# Reglament developer commands. `make run` to start, `make test` before pushing.
#
# The virtualenv is built with the `python3` that .python-version selects (via
# pyenv where installed). Each requirements file has a stamp in $(VENV)/, so
# packages are re-installed only when a requirements file (or pyproject.toml)
# changed since the last install.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --quiet --disable-pip-version-check
# Pinned so `make lock` writes the same files on every machine.
UV_VERSION := 0.13.9
# Resolved for the oldest supported Python, so the pins install on 3.12 and up.
UV_COMPILE := $(BIN)/uv pip compile --quiet --no-header --annotation-style=line \
	--python $(BIN)/python --python-version 3.12

.PHONY: help run test lint bench lock messages clean

help:
	@echo "make run    install, migrate, load the demo and start Reglament on http://127.0.0.1:8000/"
	@echo "make test   lint, type-check, check import contracts, run the test suite"
	@echo "make lint   ruff, ruff format --check, mypy, lint-imports only"
	@echo "make bench  run the benchmarks in benchmarks/"
	@echo "make lock   re-resolve requirements/*.in into pinned requirements/*.txt"
	@echo "make messages  re-extract and compile translations (needs GNU gettext)"
	@echo "make clean  remove the virtualenv and caches (keeps var/, the local data)"

$(VENV)/.created: .python-version
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 12))' || { \
	  echo "Reglament needs Python >= 3.12, but '$(PYTHON)' is $$($(PYTHON) --version 2>&1)." >&2; \
	  echo "Install the version in .python-version (e.g. 'pyenv install $$(cat .python-version)')." >&2; \
	  exit 1; }
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	@touch $@

$(VENV)/.base.installed: $(VENV)/.created requirements/base.txt pyproject.toml
	$(PIP) install -r requirements/base.txt
	$(PIP) install --no-deps -e .
	@touch $@

$(VENV)/.test.installed: $(VENV)/.base.installed requirements/test.txt
	$(PIP) install -r requirements/test.txt
	@touch $@

$(VENV)/.bench.installed: $(VENV)/.base.installed requirements/bench.txt
	$(PIP) install -r requirements/bench.txt
	@touch $@

run: $(VENV)/.base.installed
	$(BIN)/reglament run --demo

lint: $(VENV)/.test.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest

bench: $(VENV)/.bench.installed
	$(BIN)/python -m benchmarks

lock: $(VENV)/.created
	$(PIP) install uv==$(UV_VERSION)
	$(UV_COMPILE) requirements/base.in -o requirements/base.txt
	@# test.txt and bench.txt start with `-r base.txt` and pin only what they add;
	@# they were resolved against base.txt, so the two never disagree.
	for name in test bench; do \
	  $(UV_COMPILE) requirements/$$name.in \
	  | grep -v -e '-r requirements/base.txt$$' \
	  | sed '1i -r base.txt' > requirements/$$name.txt; \
	done

messages: $(VENV)/.base.installed
	@command -v msgfmt >/dev/null || { echo "GNU gettext is needed: apt-get install gettext" >&2; exit 1; }
	$(BIN)/django-admin makemessages --settings=config.settings.test --locale=ru \
	  --ignore='.venv/*' --ignore='var/*' --ignore='benchmarks/*' --no-location
	$(BIN)/django-admin compilemessages --settings=config.settings.test --ignore='.venv/*'

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
	find . -name __pycache__ -type d -prune -not -path './.git/*' -exec rm -rf {} +
