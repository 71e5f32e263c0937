# The two commands a newcomer needs: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)

.PHONY: run test lint bench soak venv unit integration migrate seed serve clean rasa system-deps

$(STAMP): requirements.txt requirements-dev.txt
	@echo "installing the pinned Python packages of requirements-dev.txt into $(VENV)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@rm -f $(VENV)/.installed-* && touch $@

venv: $(STAMP)

# A CJK font for PNG charts and evidence overlays (no tofu boxes); wrk for the HTTP benchmarks.
# Installed from Debian's packages when missing (needs root, as on CI); otherwise a warning.
system-deps:
	@fc-list :lang=zh 2>/dev/null | grep -q . || { echo "installing fonts-noto-cjk (Debian): a CJK font for charts and evidence overlays"; \
	  apt-get install -y -q fonts-noto-cjk >/dev/null 2>&1 || \
	  { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q fonts-noto-cjk >/dev/null 2>&1; } || \
	  echo "warning: could not install fonts-noto-cjk; charts and overlays will lack Chinese glyphs"; }
	@# Headless Chromium for the console's browser tests (driven by Playwright for Python through
	@# executable_path; Playwright's own browser download is never used).
	@test -x /usr/bin/chromium || { echo "installing chromium (Debian package) for the browser tests"; \
	  apt-get install -y -q chromium >/dev/null 2>&1 || \
	  { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; } || \
	  echo "warning: could not install chromium; tests/browser will be skipped"; }

## make run: set up everything and start the whole system in embedded mode with demo data on :8000
run: venv
	$(PY) -m config run

migrate: venv
	$(PY) -m config migrate

seed: venv
	$(PY) -m config seed

## make test: install the test needs, then lint and run the whole suite
test: venv system-deps lint
	$(PY) -m pytest -q

unit: venv
	$(PY) -m pytest -q tests/unit

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy .
	$(VENV)/bin/lint-imports

## make bench: benchmarks under tests/bench, reported as ratios to a baseline measured in the same run
bench: venv system-deps
	@command -v wrk >/dev/null || apt-get install -y -q wrk >/dev/null 2>&1 || echo "warning: wrk missing"
	$(PY) -m tests.bench

## make soak: the fault soak on the real services (SOAK_S seconds of traffic, 45 by default)
soak: venv system-deps
	$(PY) -m pytest -q -s tests/e2e/test_fault_soak.py

## make rasa: Python 3.10 venv with rasa 3.6.21 + jieba, train on nlu/ (cached by data hash), serve on :5005
RASA_TOKEN ?= wenling-dev-rasa-token
rasa:
	bash nlu/rasa_server/setup.sh
	bash nlu/rasa_server/train.sh
	RASA_TOKEN=$(RASA_TOKEN) bash nlu/rasa_server/serve.sh

clean:
	rm -rf var .mypy_cache .ruff_cache .pytest_cache
