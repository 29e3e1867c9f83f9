# Two commands do everything on a fresh clone: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: run test install check-python migrate register lint format bench compare soak flood backup clean lock

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' || { \
	  echo "error: Python 3.12 or newer is required; '$(PYTHON)' is $$($(PYTHON) --version 2>&1)." >&2; \
	  echo "       With pyenv, the .python-version file selects 3.12; or run: make PYTHON=python3.12 ..." >&2; \
	  exit 1; }

# The locked versions, each checked against its hash, then the project itself.
$(VENV)/.installed: pyproject.toml requirements.lock | check-python
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $@

# Pin every dependency anew (the newest versions pyproject.toml allows), with hashes.
lock: check-python
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet pip-tools
	$(VENV)/bin/pip-compile --quiet --upgrade --generate-hashes --extra dev --strip-extras \
	  --allow-unsafe --no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml

install: check-python $(VENV)/.installed

# The cache table exists only when CACHE_URL names the database cache (db://...).
migrate: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createcachetable

register: migrate
	$(PY) manage.py load_register
	$(PY) manage.py build_downloads

run: register
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

# axe-core for the accessibility tests, as tests/a11y's lockfile pins it, when npm is there:
# without it those tests are skipped (and fail under TRACKER_REQUIRE_A11Y=1, as in .ci/run).
A11Y := tests/a11y/node_modules/.installed
$(A11Y): tests/a11y/package.json tests/a11y/package-lock.json
	@if command -v npm >/dev/null; then \
	  npm ci --prefix tests/a11y --ignore-scripts --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm is not installed: the accessibility tests will be skipped." >&2; fi

# The suite on two workers, then the browser tests (they empty the tables they use) on
# their own; coverage of tracker/ is printed at the end and must reach 90 %.
test: install $(A11Y)
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest -n 2 -m "not browser" --cov --cov-report=
	$(PY) -m pytest -m browser --cov --cov-append --cov-report=term

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The benchmark builds a database of its own; it never touches the development one.
bench: install
	$(PY) manage.py benchmark

# gunicorn and Datasette serving the same benchmark file, requests per second side by side.
compare: install
	$(PY) manage.py benchmark --compare

# Gunicorn on loopback under load while the register is written; its own database too.
soak: install
	$(PY) manage.py soak

# Fifty clients asking for the whole export at once while eight browse, at 100,000 models.
flood: install
	$(PY) manage.py soak --scenario flood --models 100000 --applicants 5000

backup: migrate
	$(PY) manage.py backup

clean:
	rm -rf $(VENV) staticfiles .pytest_cache tests/a11y/node_modules
