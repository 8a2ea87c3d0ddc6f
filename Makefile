# Paceline's commands. The README starts with the first two.
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: setup demo test test-slow bench lint data

setup:            ## create .venv and install everything (idempotent)
	@scripts/setup.sh

demo: setup       ## (1) set up, prepare data, run the NAdamW baseline on the dev suite, print scores
	@$(VENV)/bin/paceline data prepare
	@$(VENV)/bin/paceline run --submission nadamw --workload mnist --workload suite --seed 0 --overwrite

test: setup       ## (2) the default test suite (fast; CI runs this)
	@$(PY) -m pytest -q

test-slow: setup  ## long end-to-end tests
	@$(PY) -m pytest -q -m slow

bench: setup      ## every benchmark under benchmarks/
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

lint: setup
	@$(VENV)/bin/ruff check .
