# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run demo test lint typecheck unit bench bench-dask golden clean system-deps notebook examples

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

## The test files run in parallel, one file per worker process (a file's fixtures are made
## once), on every core up to 4; `pytest` alone runs them one after another.
unit: $(STAMP)
	$(BIN)/pytest -q -n auto --maxprocesses 4 --dist loadfile

test: system-deps lint typecheck unit

## System packages for PDF reports (pango, a CJK font) and for the browser and PDF tests
## (chromium, poppler-utils). Installs only what is missing, and only as root with apt; elsewhere
## it says what is missing and those tests skip.
system-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v pdftoppm >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	fc-list 2>/dev/null | grep -q "Noto Sans CJK" || missing="$$missing fonts-noto-cjk"; \
	ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0 || missing="$$missing libpango-1.0-0 libpangoft2-1.0-0"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing:$$missing"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; } \
	    || echo "could not install:$$missing (browser/PDF tests will skip)"; \
	else \
	  echo "missing system packages:$$missing (not root with apt-get: browser/PDF tests will skip)"; \
	fi

## Rewrite golden files after a deliberate change of results (review the diff!).
golden: $(STAMP)
	FISCALSIM_UPDATE_GOLDEN=1 $(BIN)/pytest -q tests/test_golden.py

## JupyterLab on the notebooks (installs the `notebook` extra first). On a server without a
## browser: make notebook NOTEBOOK_ARGS=--no-browser and open the URL it prints.
NOTEBOOK_ARGS ?=
notebook: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[notebook]"
	$(BIN)/jupyter lab $(NOTEBOOK_ARGS) notebooks/

## Example reports and their first-page screenshots in reports/examples/ (needs compare, sweep
## and target: the comparison commands).
examples: $(STAMP) system-deps
	rm -rf outputs/examples
	$(BIN)/fiscalsim run scenarios/baseline.yaml --replicates 100 --out outputs/examples/run
	$(BIN)/fiscalsim compare scenarios/baseline.yaml scenarios/examples/ganzhou_lower_thresholds.yaml \
	  scenarios/examples/ganzhou_extend_2025.yaml --replicates 20 --out outputs/examples/compare
	$(BIN)/fiscalsim sweep scenarios/baseline.yaml --replicates 20 --out outputs/examples/sweep \
	  --set "policies.ganzhou_2022.rules.GZ-2c.amount.tiers[0].threshold_wan=300,500,800,1000,1500"
	$(BIN)/fiscalsim target scenarios/baseline.yaml --replicates 20 --out outputs/examples/target \
	  --param "policies.ganzhou_2022.rules.GZ-2c.amount.tiers[0].threshold_wan" \
	  --jurisdiction ganzhou --payer city --ceiling 3520 --bracket 300,2000
	$(BIN)/python reports/examples/screenshots.py outputs/examples reports/examples

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python benchmarks/run_benchmarks.py

## Dask scaling (issue 13): the province scenario, 1000 replicates, on 1 and 2 local workers (about 14 min on 2 cores) -> benchmarks/dask_results.json.
bench-dask: $(STAMP)
	$(BIN)/python benchmarks/dask_scaling.py --replicates 1000

clean:
	rm -rf $(VENV) outputs .pytest_cache .mypy_cache .ruff_cache
	rm -rf model/fiscalsim/__pycache__/numba-*  # compiled caches, one folder per version of the sources
