# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run demo test lint typecheck unit bench golden clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

## The main job: the baseline projection of all five jurisdictions (1000 replicates).
run: $(STAMP)
	$(BIN)/fiscalsim run scenarios/baseline.yaml --out outputs/baseline

## The award calculator on the demo panel shipped in data/.
demo: $(STAMP)
	$(BIN)/fiscalsim awards --panel data/demo_panel.csv --out outputs/demo

## Refresh the assumption tables embedded in the README.
readme: $(STAMP)
	$(BIN)/python tests/readme_tables.py --write

lint: $(STAMP)
	$(BIN)/ruff check model tests benchmarks
	$(BIN)/ruff format --check model tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy model/fiscalsim

unit: $(STAMP)
	$(BIN)/pytest -q

test: lint typecheck unit

## Rewrite golden files after a deliberate change of results (review the diff!).
golden: $(STAMP)
	FISCALSIM_UPDATE_GOLDEN=1 $(BIN)/pytest -q tests/test_golden.py

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python benchmarks/run_benchmarks.py

clean:
	rm -rf $(VENV) outputs .pytest_cache .mypy_cache .ruff_cache
