# The two commands a newcomer needs: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)

.PHONY: run test lint bench venv unit integration migrate seed serve clean rasa

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@rm -f $(VENV)/.installed-* && touch $@

venv: $(STAMP)

## make run: set up everything and start the whole system in embedded mode with demo data on :8000
run: venv
	$(PY) -m config run

migrate: venv
	$(PY) -m config migrate

seed: venv
	$(PY) -m config seed

## make test: install the test needs, then lint and run the whole suite
test: venv lint
	$(PY) -m pytest -q

unit: venv
	$(PY) -m pytest -q tests/unit

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy .
	$(VENV)/bin/lint-imports

## make bench: benchmarks under tests/bench, reported as ratios to a baseline measured in the same run
bench: venv
	$(PY) -m tests.bench

clean:
	rm -rf var .mypy_cache .ruff_cache .pytest_cache
