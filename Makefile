# CollabDocs: the two commands.
#   make run    set up and serve http://127.0.0.1:8000 (SQLite, in-memory layer)
#   make test   install what the tests need and run the whole suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
APT_PACKAGES := postgresql redis-server zookeeper chromium fonts-liberation
PYTEST_ARGS ?=

.PHONY: run test venv test-venv bundle migrate system-packages superuser bench-ot bench-compaction clean cluster cluster-stop

run: venv bundle migrate
	@echo "CollabDocs on http://$(HOST):$(PORT)/  (Ctrl-C stops; 'make superuser' creates an admin)"
	$(VENV)/bin/daphne -b $(HOST) -p $(PORT) collabdocs.asgi:application

test: system-packages test-venv bundle
	$(PY) -m pytest $(PYTEST_ARGS)

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

node_modules/.installed: package.json
	@command -v npm >/dev/null || { echo "npm is required (apt-get install npm)"; exit 1; }
	npm install --no-audit --no-fund --loglevel=error
	touch $@

bundle: node_modules/.installed
	npm run --silent build

migrate: venv
	$(PY) manage.py migrate --noinput

superuser: venv
	$(PY) manage.py createsuperuser

# PostgreSQL, Redis, ZooKeeper and Chromium for the real-server tests (and
# node for the bundle and the quill-delta differential tests). As root they
# are installed with apt when missing; otherwise they must be present.
system-packages:
	@missing=""; \
	[ -x /usr/lib/postgresql/15/bin/initdb ] || missing="$$missing postgresql"; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	[ -f /usr/share/java/zookeeper.jar ] || missing="$$missing zookeeper"; \
	command -v chromium >/dev/null || missing="$$missing chromium fonts-liberation"; \
	command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "missing system packages:$$missing (run as root, or install them)"; exit 1; \
	  fi; \
	fi

bench-ot: venv node_modules/.installed
	$(PY) bench/ot_bench.py

# Compaction throughput and load times before/after (docs/history.md).
bench-compaction: venv system-packages
	$(PY) bench/compaction_bench.py

# A local scale-out cluster (docs/scaleout.md): PostgreSQL, Redis and ZooKeeper
# in .cluster/ and three runworker processes on 127.0.0.1:8001-8003.
cluster: venv bundle
	$(PY) scripts/cluster.py start

cluster-stop:
	@if [ -x $(PY) ]; then $(PY) scripts/cluster.py stop; else echo "no venv: nothing to stop"; fi

clean:
	rm -rf $(VENV) node_modules static/dist staticfiles db.sqlite3
