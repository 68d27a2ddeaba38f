# Trading Ecosystem Simulation: Python workspace.
#   make demo    the main job          make test    every test of the workspace
#   make up      the services, until Ctrl-C
#   make lint    ruff + mypy --strict  make proto   regenerate gRPC code from protos/
#   make build   one wheel per package into dist/
#   make bench   benchmarks            make test PYTHON=3.13   tests on another Python
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= 3.11
# uv is found on PATH or as `python3 -m uv` (where `pip install uv` puts it when ~/.local/bin
# is not on PATH); `make setup` installs it with pip when it is missing.
UV = $(shell command -v uv 2>/dev/null || (python3 -m uv --version >/dev/null 2>&1 && echo python3 -m uv) || echo uv)
export UV_PYTHON_DOWNLOADS := never
# Trust the platform's certificate store (where a site's TLS proxy CA lives), not only uv's
# bundled roots. UV_SYSTEM_CERTS is the current name, UV_NATIVE_TLS the older one.
export UV_SYSTEM_CERTS := 1
export UV_NATIVE_TLS := 1
# The default Python uses .venv; others get their own environment beside it.
ifneq ($(PYTHON),3.11)
export UV_PROJECT_ENVIRONMENT := .venv-$(PYTHON)
endif
# The interpreter: `pythonX.Y` on PATH if it runs (a pyenv shim may exist but refuse), else
# pyenv's own install of that version.
PY = $(shell for c in python$(PYTHON) $$(pyenv root 2>/dev/null)/versions/$(PYTHON)*/bin/python$(PYTHON); do \
	"$$c" -c '' >/dev/null 2>&1 && { command -v "$$c"; break; }; done)
RUN = $(UV) run --locked --python $(or $(PY),$(PYTHON))
PACKAGES = $(notdir $(wildcard packages/*))

.PHONY: help setup test lint proto build bench demo up clean

help:
	@sed -n '2,6p' Makefile | sed 's/^# \{0,1\}//'

# --compile-bytecode: the services spawned by tests and the demo import grpc, pydantic and
# redis at each start; with PYTHONDONTWRITEBYTECODE set (as on CI machines) they would be
# compiled from source every time (about 2x the start-up).
setup:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 \
		|| python3 -m pip install --quiet --disable-pip-version-check uv
	$(UV) sync --locked --all-packages --compile-bytecode --python $(or $(PY),$(PYTHON))

test: setup
	$(RUN) pytest

lint: setup
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy

proto: setup
	$(RUN) python scripts/gen_protos.py

build: setup
	rm -rf dist
	for p in $(PACKAGES); do $(UV) build --quiet --wheel --package $$p --out-dir dist; done
	@ls dist

bench: setup
	@shopt -s nullglob; benches=(benchmarks/bench_*.py); \
	if [ $${#benches[@]} -eq 0 ]; then echo "no benchmarks yet (they arrive with the libraries)"; fi; \
	for b in "$${benches[@]}"; do echo "== $$b"; $(RUN) python "$$b"; done

demo: setup
	$(RUN) python scripts/demo.py

up: setup
	$(RUN) python scripts/demo.py --up

clean:
	rm -rf dist .venv .venv-* .pytest_cache .mypy_cache .ruff_cache .hypothesis
