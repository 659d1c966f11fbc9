# The two commands of the README:
#   make demo   build oxvec (release) into .venv and run `oxvec demo`
#   make test   the whole suite: lints, cargo tests, stub check, pytest (with doctests),
#               the documentation site built strictly
# Both create .venv and install what they need on first use.

SHELL := /bin/bash
PYTHON ?= python3
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
DEPS := $(VENV)/.deps-installed
export VIRTUAL_ENV := $(VENV)
export PATH := $(BIN):$(PATH)

.PHONY: demo test build lint rust-test py-test stubtest docs docs-check fuzz-smoke tree-before tree-unchanged bench bench-ann clean

$(DEPS): requirements-dev.txt
	@echo "== creating .venv and installing the build and test tools (requirements-dev.txt)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install --progress-bar off -r requirements-dev.txt
	touch $@

# One build, the release one, serves the demo, the tests and the benchmarks: a second
# profile would build everything again (it measured no faster to build here, 2 cores).
# Cargo's own progress shows: a cold build takes about 5 minutes.
build: $(DEPS)
	@echo "== building oxvec (release) into .venv"
	$(BIN)/maturin develop --release

demo: build
	$(BIN)/oxvec demo

lint: $(DEPS)
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -q -- -D warnings
	$(BIN)/ruff check python tests benchmarks
	$(BIN)/ruff format --check python tests benchmarks

rust-test:
	@echo "== cargo tests (a debug build of the workspace and its tests)"
	cargo test --workspace -q

stubtest: build
	$(BIN)/python -m mypy.stubtest oxvec._oxvec

py-test: build
	$(BIN)/python -m pytest -q

# The documentation site (mkdocs-material + mkdocstrings, from the docstrings) into site/;
# its examples run in py-test (--doctest-glob). docs-check builds it strictly to a temp dir.
docs: build
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build -d site

docs-check: build
	@echo "== building the documentation site (strict)"
	@out=$$(mktemp -d) && NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build -q --strict -d $$out && rm -rf $$out

# cargo-fuzz, installed into .venv on first use; the targets build on stable with no sanitizer.
CARGO_FUZZ := $(VENV)/cargo/bin/cargo-fuzz
FUZZ_SECONDS ?= 15
FUZZ_TARGETS := filter manifest fragment index text_index

$(CARGO_FUZZ):
	cargo install cargo-fuzz --version 0.13.2 --locked --root $(VENV)/cargo -q

# A short run of every fuzz target from a copy of its committed corpus (so the run does not
# rewrite it). A crash fails the step and leaves its input in fuzz/artifacts/<target>/: keep
# it in fuzz/regressions/<target>/ once fixed. Longer runs: `make fuzz-smoke FUZZ_SECONDS=600`.
fuzz-smoke: $(CARGO_FUZZ)
	@set -eo pipefail; for t in $(FUZZ_TARGETS); do \
		work=$$(mktemp -d); cp fuzz/corpus/$$t/* $$work/; \
		(cd fuzz && $(CARGO_FUZZ) run --dev --sanitizer none $$t $$work -- \
			-max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -print_final_stats=1 2>&1 \
			| grep -E '^(Done|stat::number_of_executed_units)|panicked|ERROR|crash-') ; \
		rm -rf $$work; \
	done

# The suite must leave the working tree as it found it (a lockfile it rewrites, a file it
# forgets to clean up): the tree's status before the run is compared with after it. Outside
# a git checkout there is nothing to compare.
TREE_BEFORE := $(CURDIR)/target/.tree-before
tree-before:
	@mkdir -p target; git status --porcelain --untracked-files=all > $(TREE_BEFORE) 2>/dev/null || true

tree-unchanged:
	@if git rev-parse --git-dir >/dev/null 2>&1; then \
		git status --porcelain --untracked-files=all | diff -u $(TREE_BEFORE) - \
		|| { echo "make test changed the working tree (above): lock or clean it up" >&2; exit 1; }; \
	fi

test: tree-before lint rust-test stubtest py-test docs-check fuzz-smoke tree-unchanged

bench: build
	$(BIN)/python -m pip install -q -r benchmarks/requirements.txt
	$(BIN)/python benchmarks/exact_search.py

# ANN indexes against hnswlib, FAISS, usearch and LanceDB (1M clustered + MiniLM; long),
# then where the time of one HNSW query goes (on the MiniLM set).
bench-ann: build
	$(BIN)/python -m pip install -q -r benchmarks/requirements.txt
	$(BIN)/python benchmarks/ann_search.py
	$(BIN)/python benchmarks/query_breakdown.py --real 0

clean:
	cargo clean
	rm -rf $(VENV)
