# Two commands on a fresh machine: `make run` serves the gateway, `make test` runs the suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint pytest emulators bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.dev: requirements-dev.txt requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(VENV)/.runtime $@

run: $(VENV)/.runtime  ## serve the gateway on http://$(HOST):$(PORT) (Swagger UI at /docs)
	$(BIN)/uvicorn main:app --host $(HOST) --port $(PORT) --no-access-log

test: $(VENV)/.dev lint pytest  ## lint, type-check and run the whole test suite

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

pytest: $(VENV)/.dev
	$(BIN)/python -m pytest

emulators: $(VENV)/.runtime  ## run the OpenAI (9101) and BFL (9201/9202) emulators
	$(BIN)/python -m emulators openai --port 9101 & \
	$(BIN)/python -m emulators bfl --port 9201 --poll-port 9202; kill %1

bench: $(VENV)/.runtime  ## benchmark (bench/README.md) -> bench/out/results.{md,json}; BENCH_ARGS=--quick
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
