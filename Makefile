# Development entry points. `make run` and `make test` are the README's two commands.
VENV   ?= .venv
# The interpreter the virtualenv is made from (`make PYTHON=python3.12 ...` picks another; an existing
# .venv is kept until `make clean`). Debian's own /usr/bin/python3 where it is 3.11 or newer and has venv: it
# is built with profile-guided and link-time optimisation and linked statically, and the whole suite took 12%
# less CPU on it (375 against 424 core-seconds, same machine, same commit) than on the python3 first on this
# kind of machine's PATH, built from source without them (as pyenv builds by default). Else python3 from PATH.
SYSTEM_PYTHON := /usr/bin/python3
PYTHON ?= $(shell $(SYSTEM_PYTHON) -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' \
  2>/dev/null && echo $(SYSTEM_PYTHON) || echo python3)
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask --app wsgi
RUNTIME := $(VENV)/.installed-runtime
DEV     := $(VENV)/.installed-dev

# Python writes each module's compiled form on first import (nothing is compiled at install, so only
# what is imported is compiled, once). An environment that forbids writing bytecode would make every
# process - each CLI call, scheduler and server the tests start - compile the whole stack again
# (about 4.5 s each here).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: install install-dev browser run test test-fast screenshots lint bench boundaries vendor clean

# The requirements are installed with uv (from PyPI, pinned): pip took ~30 s of CPU resolving our pinned
# files, uv takes ~5 s. Where pip is told to use another index than PyPI (PIP_INDEX_URL, index-url in
# pip's configuration), where uv cannot be had or where it fails, pip installs them as before (INSTALL).
UV_VERSION := 0.13.9
$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	@if [ -z "$${PIP_INDEX_URL:-}" ] && ! $(PY) -m pip config get global.index-url >/dev/null 2>&1 \
	  && ! $(PY) -m pip config get install.index-url >/dev/null 2>&1; then \
	  $(PY) -m pip install --disable-pip-version-check --no-compile -q uv==$(UV_VERSION) \
	  || echo "Note: uv could not be installed; pip installs the requirements instead."; fi
INSTALL = { [ -x $(VENV)/bin/uv ] && UV_HTTP_TIMEOUT=$${UV_HTTP_TIMEOUT:-20} $(VENV)/bin/uv pip install --python $(PY) -r $(1); } \
	  || $(PY) -m pip install --disable-pip-version-check --no-compile --progress-bar on -r $(1)

# The runtime only (what `make run` needs); uv (or pip) shows what it fetches and installs.
$(RUNTIME): requirements.txt | $(VENV)/bin/python
	@echo "Installing the runtime requirements into $(VENV) ..."
	@$(call INSTALL,requirements.txt)
	@touch $(RUNTIME)

# The runtime plus the test, lint and benchmark tools.
$(DEV): $(RUNTIME) requirements-dev.txt
	@echo "Installing the test and lint tools into $(VENV) ..."
	@$(call INSTALL,requirements-dev.txt)
	@touch $(DEV)

install: $(RUNTIME)
install-dev: $(DEV)

# Web and scheduler together, on SQLite under instance/, with demo data, on http://127.0.0.1:$(PORT).
# One setting moves both the server and the links in messages (TRACKER_PUBLIC_URL): make run PORT=8080.
# "Tracker on ..." is printed once the server answers its health check; Ctrl-C stops web and scheduler.
PORT ?= 5000
run: export TRACKER_LOG_FORMAT ?= text
run: export TRACKER_PUBLIC_URL ?= http://127.0.0.1:$(PORT)
run: install
	@$(PY) tools/local_run.py check-port $(PORT)
	@echo "Creating or upgrading the database (flask --app wsgi init-db) ..."
	@$(FLASK) init-db
	@$(FLASK) demo
	@echo "Starting the scheduler and the web server on port $(PORT) ..."
	@$(FLASK) scheduler & scheduler=$$!; \
	$(PY) tools/local_run.py announce http://127.0.0.1:$(PORT) \
	  "Tracker on http://127.0.0.1:$(PORT) (API docs: /api/v1/docs); the scheduler runs alongside. Ctrl-C stops both." \
	  & announcer=$$!; \
	trap 'kill $$scheduler $$announcer 2>/dev/null; wait $$scheduler' EXIT INT TERM; \
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

# The browser tests drive Debian's chromium; install it from the archive when it is missing and we
# may (root, apt-get); otherwise say so and go on - the browser tests are then skipped, not failed.
# Never a browser downloaded by Playwright.
browser:
	@test -x /usr/bin/chromium || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && apt-get update -qq && apt-get install -y -qq chromium; } \
	  || echo "Note: no /usr/bin/chromium and no way to install it here (needs root and apt-get): the browser tests will be skipped."

# The whole suite: SQLite always, PostgreSQL too when TRACKER_TEST_DATABASE_URL is set.
# Bytecode is written even where the environment says not to (PYTHONDONTWRITEBYTECODE, set on these machines):
# without it each of the four workers rewrote the asserts of every test module (7 s of CPU each) and every
# `flask` or gunicorn process a test starts compiled the tracker again. __pycache__ is ignored by git.
PYTEST := env -u PYTHONDONTWRITEBYTECODE $(PY) -m pytest
test: install-dev browser
	$(PYTEST)

# Everything but real scheduler processes, thread races and the browser.
test-fast: install-dev
	$(PYTEST) -m "not slow and not browser"

# The browser tests, saving full-page screenshots of what they see in tests/browser/screenshots/ for
# reviewers and the README (`make test` takes none: they were a fifth of Chromium's CPU in the suite).
screenshots: install-dev browser
	TRACKER_TEST_SCREENSHOTS=1 $(PYTEST) tests/browser

lint: install-dev
	$(VENV)/bin/ruff check tracker tests benchmarks tools wsgi.py
	$(VENV)/bin/ruff format --check tracker tests benchmarks tools wsgi.py
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

# The four benchmarks of benchmarks/README.md, on the local PostgreSQL, with wrk from the archive.
bench: install-dev
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(PY) benchmarks/bench_filing.py
	$(PY) benchmarks/bench_escalation_lag.py --metrics
	$(PY) benchmarks/bench_history.py
	$(PY) benchmarks/bench_board.py

# The real borders (REGION_BOUNDARIES = "natural_earth"): Natural Earth 1:10m countries (public domain)
# from the npm package world-atlas 2.0.2 (ISC), rebuilt into the committed file. Needs npm; the app never does.
BOUNDARIES := tracker/data/natural_earth_10m_boundaries.json.gz
boundaries: | $(VENV)/bin/python
	@command -v npm >/dev/null || { echo "make boundaries needs npm (Node.js)"; exit 1; }
	work=$$(mktemp -d) && trap 'rm -rf "$$work"' EXIT && cd "$$work" && npm pack --silent world-atlas@2.0.2 >/dev/null \
	  && tar -xzf world-atlas-2.0.2.tgz && cd - >/dev/null \
	  && $(PY) tools/build_boundaries.py "$$work/package/countries-10m.json" $(BOUNDARIES)

# The map page's scripts and offline base layer, committed under tracker/static/vendor/: Leaflet 1.9.4
# (BSD-2-Clause), Leaflet.markercluster 1.5.3 (MIT), and Natural Earth 1:50m land and land borders (public
# domain) from world-atlas 2.0.2 (ISC) as GeoJSON. The packages' tarballs must match tools/vendor.sha256,
# so the same command always writes the same files. Needs npm; the app never does, nor any other host.
VENDOR := tracker/static/vendor
vendor: | $(VENV)/bin/python
	@command -v npm >/dev/null || { echo "make vendor needs npm (Node.js)"; exit 1; }
	here=$$(pwd) && work=$$(mktemp -d) && trap 'rm -rf "$$work"' EXIT && cd "$$work" \
	  && npm pack --silent leaflet@1.9.4 leaflet.markercluster@1.5.3 world-atlas@2.0.2 >/dev/null \
	  && sha256sum --check --quiet "$$here/tools/vendor.sha256" \
	  && for name in leaflet leaflet.markercluster world-atlas; do mkdir "$$name" && tar -xzf "$$name"-[0-9]*.tgz -C "$$name"; done \
	  && cd "$$here" && rm -rf $(VENDOR)/leaflet $(VENDOR)/markercluster $(VENDOR)/natural-earth \
	  && mkdir -p $(VENDOR)/leaflet $(VENDOR)/markercluster $(VENDOR)/natural-earth \
	  && cp -r "$$work"/leaflet/package/dist/leaflet.js "$$work"/leaflet/package/dist/leaflet.css \
	     "$$work"/leaflet/package/dist/images "$$work"/leaflet/package/LICENSE $(VENDOR)/leaflet/ \
	  && cp "$$work"/leaflet.markercluster/package/dist/leaflet.markercluster.js \
	     "$$work"/leaflet.markercluster/package/dist/MarkerCluster.css \
	     "$$work"/leaflet.markercluster/package/dist/MarkerCluster.Default.css \
	     "$$work"/leaflet.markercluster/package/MIT-LICENCE.txt $(VENDOR)/markercluster/ \
	  && cp "$$work"/world-atlas/package/LICENSE $(VENDOR)/natural-earth/LICENSE \
	  && $(PY) tools/build_basemap.py "$$work"/world-atlas/package/countries-50m.json $(VENDOR)/natural-earth/countries-50m.geojson \
	  && find $(VENDOR) -type f -exec chmod 644 {} +

clean:
	rm -rf $(VENV) instance .pytest_cache
