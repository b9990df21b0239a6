# Two entry points: `make demo` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

demo: $(VENV)/.installed
	$(BIN)/fireline demo

# Installs PostgreSQL and Debian's chromium when missing (as root, through apt-get); the tests start
# their own PostgreSQL server, and drive chromium through the Playwright package of the [test] extra.
# Browser screenshots land in $(PYTEST_ARTIFACTS) (default tests/artifacts/).
# pytest-xdist runs the suite with one worker more than there are cores, at most 4 (each starts its own
# PostgreSQL server and builds its own demo): the tests wait on processes of their own (servers, git,
# the CLI), and on 2 cores 3 workers took 14 min 44 s against 15 min 25 s / 16 min 16 s with 2. A
# module's tests stay on one worker, the Spark modules share one (tests/conftest.py). PYTEST_ARGS come
# last: `make test PYTEST_ARGS="-n 0"` runs in one process.
XDIST_WORKERS ?= $(shell n=$$(( $$(nproc 2>/dev/null || echo 1) + 1 )); [ $$n -gt 4 ] && n=4; echo $$n)
PYTEST_XDIST ?= -n $(XDIST_WORKERS) --dist loadfile --no-loadscope-reorder
test: $(VENV)/.test-installed
	./scripts/ensure-services.sh
	$(BIN)/python -m pytest -q $(PYTEST_XDIST) $(PYTEST_ARGS)

lint: $(VENV)/.test-installed
	$(BIN)/ruff check src tests bench

bench: $(VENV)/.test-installed
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .fireline .pytest_cache .hypothesis .mypy_cache .ruff_cache .import_linter_cache
