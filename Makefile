# Two commands on a fresh machine: `make run` serves the gateway, `make test` runs the suite.
# Another interpreter: `make run PYTHON=python3.12` (3.11 or newer).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# The emulators' ports (make emulators, make demo).
OPENAI_EMULATOR_PORT ?= 9101
BFL_EMULATOR_PORT ?= 9201
BFL_EMULATOR_POLL_PORT ?= 9202
EMULATOR_PORTS = --openai-port $(OPENAI_EMULATOR_PORT) --bfl-port $(BFL_EMULATOR_PORT) \
	--bfl-poll-port $(BFL_EMULATOR_POLL_PORT)

# The major.minor version of an interpreter, or nothing when it does not run.
py_version = $$($(1) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
TOO_OLD = ""|2.*|3.[0-9]|3.10
AGAIN = make $(or $(MAKECMDGOALS),run) PYTHON=python3.12

.PHONY: run test lint pytest emulators demo bench clean check-venv

# Python 3.11+ is checked before anything is installed. A half-made venv (no pip, an interrupted
# pip upgrade) is removed, so the next run starts over instead of reusing it.
$(BIN)/python:
	@v=$(call py_version,$(PYTHON)); case "$$v" in \
	  "") echo "error: PYTHON ($(PYTHON)) is not a working Python; install Python 3.11 or newer, or pick one: $(AGAIN)" >&2; exit 1;; \
	  $(TOO_OLD)) echo "error: image-gateway needs Python 3.11 or newer; PYTHON ($(PYTHON)) is $$v. Pick another: $(AGAIN)" >&2; exit 1;; \
	esac
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip || { rm -rf $(VENV); exit 1; }

# A venv made by an older Python (or broken since) is not reused.
check-venv: | $(BIN)/python
	@v=$(call py_version,$(BIN)/python); case "$$v" in \
	  $(TOO_OLD)) echo "error: $(VENV) was made by Python $${v:-that no longer runs}; image-gateway needs 3.11 or newer. Remove it (make clean), then: $(AGAIN)" >&2; exit 1;; \
	esac

$(VENV)/.runtime: requirements.txt pyproject.toml | check-venv
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.dev: requirements-dev.txt requirements.txt pyproject.toml | check-venv
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(VENV)/.runtime $@

run: $(VENV)/.runtime  ## serve the gateway on http://$(HOST):$(PORT) (Swagger UI at /docs)
	$(BIN)/uvicorn main:app --host $(HOST) --port $(PORT) --http image_gateway.server:HttpProtocol --no-access-log --ws none

test: $(VENV)/.dev lint pytest  ## lint, type-check and run the whole test suite

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

pytest: $(VENV)/.dev
	$(BIN)/python -m pytest

emulators: $(VENV)/.runtime  ## run every emulator on its default port (OpenAI 9101, BFL 9201/9202, Gemini 9301, Azure 9501, Vertex 9601, Bedrock 9701, xAI 9801/9802; see emulators/README.md) until Ctrl+C
	$(BIN)/python -m emulators all $(EMULATOR_PORTS)

demo: $(VENV)/.runtime  ## emulators + a gateway wired to them on http://$(HOST):$(PORT); prints its keys
	$(BIN)/python -m emulators demo --host $(HOST) --port $(PORT) $(EMULATOR_PORTS)

bench: $(VENV)/.runtime  ## benchmark (bench/README.md) -> bench/out/results.{md,json}; BENCH_ARGS=--quick
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
