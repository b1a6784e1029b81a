# The two commands a newcomer needs: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
SAMPLE ?= samples/img.csv
# manage.py, wsgi, asgi and the Celery app default to production settings: the targets
# here run development ones, but the tests, which name project.settings.testing.
export DJANGO_SETTINGS_MODULE := project.settings.development

.PHONY: demo test install lint bench-serve bench-ingest bench-attacks bench-storage bench-lists

$(VENV)/.installed: pyproject.toml
	scripts/system-deps.sh build
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet ".[test]"
	touch $@

install: $(VENV)/.installed

## Set up, ingest the sample log once, and serve it on 127.0.0.1:$(PORT).
demo: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py ingest "$(SAMPLE)" --name img.csv --owner demo --base-url http://127.0.0.1:$(PORT)
	@echo "API write token of the demo user: $$($(PY) manage.py createtoken demo)"
	$(PY) manage.py runserver 127.0.0.1:$(PORT) --noreload

## Run the whole test suite: lint, format, types and migrations first (seconds), then the
## viewer's JavaScript helpers, then unit, API and browser tests.
test: install
	scripts/system-deps.sh test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	DJANGO_SETTINGS_MODULE=project.settings.testing $(PY) manage.py makemigrations --check --dry-run
	node --test tests/js/*.test.mjs
	DJANGO_SETTINGS_MODULE=project.settings.testing $(VENV)/bin/pytest

## Serving benchmark: ours vs stock django-large-image, ratios printed, then the workstation
## in Chromium: time to a complete well view and frame times while panning (not a test).
bench-serve: install
	$(PY) -m benchmarks.serve
	$(PY) -m benchmarks.workstation

## Ingest benchmark: ours vs pandas.read_csv + tifffile on a 2,000,000 x 360 CSV, and a
## 2,000,000 x 360-sector LAS vs lasio.read (not a test).
bench-ingest: install
	$(PY) -m benchmarks.ingest

## Replay issue 11's attacks against gunicorn with the sample and an 800,000 x 360 log (not a test).
bench-attacks: install
	$(PY) -m benchmarks.attacks

## Storage benchmark: a pyramid from a bucket (moto, 127.0.0.1) by ranged reads vs local disk (not a test).
bench-storage: install
	$(PY) -m benchmarks.storage

## Lists and details with 10,000 images in PostgreSQL (127.0.0.1:5432): p50/p95 and the plans (not a test).
bench-lists: install
	$(PY) -m benchmarks.lists

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
