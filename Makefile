# Two commands do all the setup: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test lint format bench clean system-deps kube rules corpus-table

run: $(VENV)/.run-installed
	@scripts/run.sh

test: $(VENV)/.dev-installed system-deps
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(PY) -m pytest -q

lint: $(VENV)/.dev-installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

format: $(VENV)/.dev-installed
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

bench: $(VENV)/.dev-installed
	$(PY) bench/scrape.py

# Measures the shipped rules beside the old ones on the labelled corpus (tests/corpus) and rewrites the table under
# "Shipped rules on the corpus" in README.md and README.ko.md; tests/corpus/test_goal.py fails while it is stale.
corpus-table: $(VENV)/.dev-installed system-deps
	$(PY) -m tests.corpus.table --write

# Writes deploy/kubernetes/base/generated/ from the rules, alertmanager.yml, the dashboard and bridge.yml.
kube: $(VENV)/.run-installed
	$(PY) -m allim.kube

# Writes the rule files, their promtool tests, the README alert tables and the kube manifests from
# deploy/prometheus/objectives.yml.
rules: $(VENV)/.run-installed
	$(PY) -m allim.rules

system-deps: $(VENV)/.dev-installed
	@VENV_PYTHON=$(PY) scripts/install-system-deps.sh

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "allim needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.run-installed: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q --disable-pip-version-check -e .
	@touch $@

$(VENV)/.dev-installed: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $@ $(VENV)/.run-installed

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
