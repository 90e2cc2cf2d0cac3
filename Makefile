# The two set-up commands of the README are `make run` and `make test`; both create .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: venv run test test-fast lint bench fuzz clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	sh .ci/system-deps
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

run: venv
	$(BIN)/mutualise init-db
	$(BIN)/mutualise demo
	$(BIN)/mutualise serve --host $(HOST) --port $(PORT)

test: venv
	@# axe-core for the accessibility checks of the browser tests (skipped, saying why, without npm)
	@if command -v npm >/dev/null 2>&1 && [ ! -d node_modules/axe-core ]; then npm ci --no-audit --no-fund --silent; fi
	$(BIN)/pytest

test-fast: venv
	$(BIN)/pytest -m "not slow and not browser"

lint: venv
	$(BIN)/ruff check .

bench: venv
	$(BIN)/python -m bench

# Fuzzing at depth (CI runs the same tests with 20 examples per target): about 10 000 cases.
FUZZ_EXAMPLES ?= 320
fuzz: venv
	MUTUALISE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest tests/fuzz tests/api/test_contract.py -q -p no:cacheprovider

clean:
	rm -rf $(VENV) instance bench/.cache test-output
