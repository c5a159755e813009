# SlimZoo: two commands on a fresh machine (Python 3.11 on PATH):
#   make zoo    create .venv from requirements.lock, run the pipeline (dvc repro) and build the site
#   make test   create .venv from requirements.lock and run the tests
PYTHON ?= python3.11
VENV := .venv
STAMP := $(VENV)/.installed
# Stages call `python -m stages...`; this puts the environment's python first on their PATH.
export PATH := $(abspath $(VENV))/bin:$(PATH)

# mkdocs prints a banner about MkDocs 2 on every build; it is not about this site.
export NO_MKDOCS_2_WARNING := 1
# root installs system packages directly, anyone else through sudo
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: zoo test env browser

env: $(STAMP)

$(STAMP): requirements.lock
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --no-deps -r requirements.lock
	touch $@

zoo: $(STAMP)
	dvc repro
	mkdocs build --strict

# The site's browser test drives Debian's chromium through chromedriver (no browser download);
# fonts-noto-cjk renders the Chinese pages in its screenshots.
browser:
	command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends \
	    chromium chromium-driver fonts-noto-cjk)

# Two pytest-xdist workers: one test at a time leaves one of the 2 cores idle; tests that share an expensive
# fixture are kept on one worker (their xdist_group marks).
test: $(STAMP) browser
	python -m pytest -n 2 --dist loadgroup
