# M4S: two commands. `make demo` sets up and serves the demo; `make test` runs the suite.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo up test lint format screenshots bench clean

$(STAMP): pyproject.toml scripts/install.sh  ## the same install steps as the Dockerfile
	PY=$(PY) scripts/install.sh $(VENV) dev --editable
	touch $(STAMP)

demo: $(STAMP)  ## migrate, load demo data, serve http://127.0.0.1:8000 (m4s serve) with a worker
	DEBUG=1 M4S_PLAIN_HTTP=1 $(BIN)/m4s demo

up: $(STAMP)  ## web + worker + scheduler (+ MQTT / JT/T 808 ingest when configured) on this machine
	$(BIN)/m4s up

test: lint  ## lint, then the whole suite (SQLite unless DATABASE_URL says otherwise)
	$(BIN)/python scripts/check_translations.py
	$(BIN)/pytest -n 2 -q

lint: $(STAMP)  ## ruff, ruff format --check, mypy, the import layers (settings in pyproject.toml)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

format: $(STAMP)
	$(BIN)/ruff check --fix . && $(BIN)/ruff format .

screenshots: $(STAMP)  ## README pictures from headless Chromium
	$(BIN)/python scripts/screenshots.py

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) var
