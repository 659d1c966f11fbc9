# The two commands of the README:
#   make demo   build oxvec (release) into .venv and run `oxvec demo`
#   make test   the whole suite: lints, cargo tests, stub check, pytest (with doctests)
# Both create .venv and install what they need on first use.

SHELL := /bin/bash
PYTHON ?= python3
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
DEPS := $(VENV)/.deps-installed
export VIRTUAL_ENV := $(VENV)
export PATH := $(BIN):$(PATH)

.PHONY: demo test build build-ci lint rust-test py-test stubtest bench bench-ann clean

$(DEPS): requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $@

build: $(DEPS)
	$(BIN)/maturin develop --release -q

build-ci: $(DEPS)
	$(BIN)/maturin develop --profile ci -q

demo: build
	$(BIN)/oxvec demo

lint: $(DEPS)
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -q -- -D warnings
	$(BIN)/ruff check python tests benchmarks
	$(BIN)/ruff format --check python tests benchmarks

rust-test:
	cargo test --workspace -q

stubtest: build-ci
	$(BIN)/python -m mypy.stubtest oxvec._oxvec

py-test: build-ci
	$(BIN)/python -m pytest -q

test: lint rust-test stubtest py-test

bench: build
	$(BIN)/python -m pip install -q -r benchmarks/requirements.txt
	$(BIN)/python benchmarks/exact_search.py

# ANN indexes against hnswlib, FAISS, usearch and LanceDB (1M clustered + MiniLM; long).
bench-ann: build
	$(BIN)/python -m pip install -q -r benchmarks/requirements.txt
	$(BIN)/python benchmarks/ann_search.py

clean:
	cargo clean
	rm -rf $(VENV)
