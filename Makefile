# Accord: `make demo` runs the end-to-end demo, `make test` runs every check.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: install demo test lint bench clean

$(BIN)/accord: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

install: $(BIN)/accord

demo: install
	$(BIN)/accord demo

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q

bench: install
	$(BIN)/python -m pip install -q -e '.[bench]'
	$(BIN)/python bench/bench_ingest.py
	$(BIN)/python bench/bench_synth.py

clean:
	rm -rf $(VENV) accord-demo .pytest_cache .mypy_cache .ruff_cache
