# CollabDocs: the two commands.
#   make run    set up and serve http://127.0.0.1:8000 (SQLite, in-memory layer)
#   make test   install what the tests need and run the whole suite
# and, while working (docs/development.md):
#   make check      ruff (lint + format), mypy, eslint, tsc, the layer contract: seconds
#   make test-fast  the suite without the browser and cluster tests
#   make test-js    the browser client's node unit tests (tests/js)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
APT_PACKAGES := postgresql redis-server zookeeper haproxy prometheus chromium fonts-liberation poppler-utils libpango-1.0-0 libpangoft2-1.0-0
PYTEST_ARGS ?=
# Test files run in parallel processes (pytest-xdist), each with its own
# PostgreSQL, Redis, ZooKeeper and daphnes on free ports; a file stays on one
# process so its module fixtures (one Chromium, one cluster) are shared.
# TEST_WORKERS=0 runs everything in this process.
TEST_WORKERS ?= 2
XDIST = $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)

.PHONY: run test test-fast test-js check venv test-venv bundle migrate system-packages superuser bench-ot bench-compaction clean cluster cluster-stop

run: venv bundle migrate
	@echo "CollabDocs on http://$(HOST):$(PORT)/  (Ctrl-C stops; 'make superuser' creates an admin)"
	COLLABDOCS_SITE_URL=$${COLLABDOCS_SITE_URL:-http://$(HOST):$(PORT)} \
	  $(VENV)/bin/daphne -b $(HOST) -p $(PORT) collabdocs.asgi:application

# --durations: the slowest tests in every CI log, to keep the suite short.
# The Chromium tests run after the others, on their own: they type and click
# against timers, and sharing two cores with a second process of server
# tests made them flaky. Exit status 5 is pytest's "nothing selected" (a
# PYTEST_ARGS that picks tests of one kind only).
test: system-packages test-venv bundle
	@status=0; \
	$(PY) -m pytest $(XDIST) -m "not browser" --durations=25 $(PYTEST_ARGS) \
	  || { s=$$?; [ $$s = 5 ] || status=$$s; }; \
	$(PY) -m pytest -m browser --durations=10 $(PYTEST_ARGS) \
	  || { s=$$?; [ $$s = 5 ] || status=$$s; }; \
	exit $$status

# The markers are set in tests/conftest.py: a test that drives Chromium is
# `browser`, one that starts a cluster of runworker processes is `cluster`.
test-fast: system-packages test-venv bundle
	$(PY) -m pytest $(XDIST) -m "not browser and not cluster" $(PYTEST_ARGS)

test-js: node_modules/.installed
	NODE_OPTIONS= node --test tests/js/*.test.mjs

# Every tool runs even when an earlier one fails, so one run shows all that
# is wrong; the target fails if any did.
check: test-venv node_modules/.installed
	@failed=""; \
	run() { echo "== $$*"; "$$@" || failed="$$failed\n  $$*"; }; \
	run $(VENV)/bin/ruff check --quiet .; \
	run $(VENV)/bin/ruff format --check --quiet .; \
	run $(VENV)/bin/mypy --no-error-summary; \
	run npm run --silent lint; \
	run npm run --silent typecheck; \
	run $(PY) -m pytest -q --no-header -p no:django -W ignore::pytest.PytestConfigWarning \
	    tests/test_architecture.py tests/test_suppressions.py; \
	if [ -n "$$failed" ]; then printf "make check failed:$$failed\n"; exit 1; fi

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.runtime-installed: requirements.txt | $(VENV)/bin/activate
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.test-installed: requirements.txt requirements-test.txt | $(VENV)/bin/activate
	$(PIP) install --quiet -r requirements-test.txt
	touch $@ $(VENV)/.runtime-installed

venv: $(VENV)/.runtime-installed
test-venv: $(VENV)/.test-installed

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is required (apt-get install npm)"; exit 1; }
	npm install --no-audit --no-fund --loglevel=error
	touch $@

bundle: node_modules/.installed
	npm run --silent build

migrate: venv
	$(PY) manage.py migrate --noinput

superuser: venv
	$(PY) manage.py createsuperuser

# PostgreSQL, Redis, ZooKeeper, HAProxy, Prometheus (promtool and a real
# scraper for the dashboard and alert tests) and Chromium for the real-server tests (and
# node for the bundle and the quill-delta differential tests). As root they
# are installed with apt when missing (prometheus without its recommended
# node exporter), with services kept from starting (policy-rc.d): the suite
# starts its own servers on loopback; otherwise they must be present.
system-packages:
	@missing=""; \
	[ -x /usr/lib/postgresql/15/bin/initdb ] || missing="$$missing postgresql"; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	[ -f /usr/share/java/zookeeper.jar ] || missing="$$missing zookeeper"; \
	[ -x /usr/sbin/haproxy ] || missing="$$missing haproxy"; \
	command -v promtool >/dev/null || lean="prometheus"; \
	command -v chromium >/dev/null || missing="$$missing chromium fonts-liberation"; \
	command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	command -v pdftotext >/dev/null || missing="$$missing poppler-utils"; \
	ldconfig -p | grep -q 'libpangoft2-1.0.so.0' || missing="$$missing libpango-1.0-0 libpangoft2-1.0-0"; \
	if [ -n "$$missing$$lean" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing $$lean"; \
	    blocked=""; \
	    if [ ! -e /usr/sbin/policy-rc.d ]; then \
	      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; blocked=1; \
	    fi; \
	    apt-get update -qq \
	      && { [ -z "$$missing" ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; } \
	      && { [ -z "$$lean" ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$lean >/dev/null; }; \
	    status=$$?; \
	    [ -z "$$blocked" ] || rm -f /usr/sbin/policy-rc.d; \
	    [ $$status = 0 ] || exit $$status; \
	  else \
	    echo "missing system packages:$$missing $$lean (run as root, or install them)"; exit 1; \
	  fi; \
	fi

bench-ot: venv node_modules/.installed
	$(PY) bench/ot_bench.py

# Compaction throughput and load times before/after (docs/history.md).
bench-compaction: venv system-packages
	$(PY) bench/compaction_bench.py

# A local scale-out cluster (docs/scaleout.md): PostgreSQL, Redis and ZooKeeper
# in .cluster/, three runworker processes on 127.0.0.1:8001-8003 and HAProxy,
# the front door, on 127.0.0.1:8000 (haproxy from Debian: make system-packages).
cluster: venv bundle
	$(PY) scripts/cluster.py start

cluster-stop:
	@if [ -x $(PY) ]; then $(PY) scripts/cluster.py stop; else echo "no venv: nothing to stop"; fi

clean:
	rm -rf $(VENV) node_modules static/dist staticfiles db.sqlite3
