# The two commands of the README's quick start are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.runtime-installed
DEV := $(VENV)/.dev-installed

.PHONY: run test lint format check-deploy clean services browser bench bench-ledger

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(RUNTIME): requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(DEV): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(RUNTIME) $@

## run: install, migrate, load the demo agreement, create the admin login, serve with the worker
run: $(RUNTIME)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py ensure_admin
	scripts/run-dev

## test: install and run the whole suite (services it cannot reach are skipped, except under CI=true)
test: $(DEV)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## lint: ruff, formatting and migrations in step with the models
lint: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python manage.py makemigrations --check --dry-run

format: $(DEV)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## check-deploy: Django's deployment checklist on the production settings (with stand-in secrets)
check-deploy: $(RUNTIME)
	DJANGO_SETTINGS_MODULE=config.settings.production \
	DJANGO_SECRET_KEY=check-deploy-stand-in-secret-0123456789abcdefghijklmnopqrstuvwxyz \
	DJANGO_ALLOWED_HOSTS=cct.example.com DATABASE_URL=postgres://cct@127.0.0.1:5432/cct \
	$(BIN)/python manage.py check --deploy --fail-level WARNING

## bench: the monthly report's benchmark (PostgreSQL from DATABASE_URL; 10,000 and 100,000 orders, a few minutes)
bench: $(DEV)
	$(BIN)/python bench/monthly_report.py $(BENCH_ARGS)

## bench-ledger: the cap ledger's benchmark (approvals, utilisation, report at 1,000 to 1,000,000 orders; long)
bench-ledger: $(DEV)
	$(BIN)/python bench/ledger.py $(BENCH_ARGS)

## services: start PostgreSQL and Redis on this machine when they are not running
services:
	scripts/start-services

## browser: install Debian's chromium and chromium-driver for the browser tests
browser:
	scripts/install-browser

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
