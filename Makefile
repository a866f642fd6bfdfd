# M4S: two commands. `make demo` sets up and serves the demo; `make test` runs the suite.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint format screenshots bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)  ## migrate, load demo data, serve http://127.0.0.1:8000 with a worker
	DEBUG=1 $(BIN)/m4s demo

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
