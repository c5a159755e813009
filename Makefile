# SlimZoo: two commands on a fresh machine (Python 3.11 on PATH):
#   make zoo    create .venv from requirements.lock, run the pipeline (dvc repro) and build the site
#   make test   create .venv from requirements.lock and run the tests
PYTHON ?= python3.11
VENV := .venv
STAMP := $(VENV)/.installed
# Stages call `python -m stages...`; this puts the environment's python first on their PATH.
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: zoo test env

env: $(STAMP)

$(STAMP): requirements.lock
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --no-deps -r requirements.lock
	touch $@

zoo: $(STAMP)
	dvc repro
	mkdocs build --strict

test: $(STAMP)
	python -m pytest
