# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
INDEX ?= index

.PHONY: run test lint index bench clean browser postgres

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $(VENV)/.installed $@

index: $(VENV)/.installed
	$(BIN)/geoarchive ingest --index $(INDEX) seeds/

run: index
	$(BIN)/geoarchive serve --index $(INDEX) --host $(HOST) --port $(PORT)

# Debian's chromium drives the browser tests; Playwright cannot download a browser here.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Debian's PostgreSQL, PostGIS and RUM for the PostgreSQL store's tests, which start a
# throw-away server of their own (tests/pgserver.py); nothing is configured system-wide.
PG_EXT := /usr/share/postgresql/15/extension
postgres:
	@if [ ! -x /usr/lib/postgresql/15/bin/initdb ] || [ ! -f $(PG_EXT)/postgis.control ] \
	    || [ ! -f $(PG_EXT)/rum.control ]; then \
	  echo "Installing Debian's postgresql, postgresql-15-postgis-3 and postgresql-15-rum for the store tests..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    postgresql postgresql-15-postgis-3 postgresql-15-rum >/dev/null; fi

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

test: $(VENV)/.installed-test browser postgres
	$(BIN)/ruff check .
	$(BIN)/mypy archive web
	$(BIN)/python -m pytest

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test,bench]'
	touch $(VENV)/.installed $(VENV)/.installed-test $@

# Benchmarks read ../shared/; see README.
bench: $(VENV)/.installed-bench
	$(BIN)/python bench/eval.py
	$(BIN)/python bench/geotag.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/search.py
	$(BIN)/python bench/map.py
	$(BIN)/python bench/load.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
	find $(INDEX) -mindepth 1 ! -name .gitkeep -delete
