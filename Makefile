# The two commands of the README's quick start are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.runtime-installed
DEV := $(VENV)/.dev-installed

.PHONY: run test lint format check-deploy clean services browser pdf-tools lock smoke bench bench-ledger bench-imports bench-formats messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Installs exactly the versions (and files, by hash) of the lock files; `make lock` regenerates them.
$(RUNTIME): requirements.lock | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	touch $@

$(DEV): requirements.lock requirements-dev.lock | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.lock
	touch $(RUNTIME) $@

## lock: after editing requirements*.txt, or to upgrade: pin the newest allowed versions with their hashes
lock:
	$(PYTHON) -m venv $(VENV)-lock
	$(VENV)-lock/bin/pip install --quiet --disable-pip-version-check "pip-tools~=7.6"
	$(VENV)-lock/bin/pip-compile --quiet --upgrade --generate-hashes --strip-extras --allow-unsafe \
		--no-emit-index-url --no-emit-find-links --output-file requirements.lock requirements.txt
	$(VENV)-lock/bin/pip-compile --quiet --upgrade --generate-hashes --strip-extras --allow-unsafe \
		--no-emit-index-url --no-emit-find-links --constraint requirements.lock \
		--output-file requirements-dev.lock requirements-dev.txt

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
	DJANGO_SECRET_KEY=$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))') \
	DJANGO_ALLOWED_HOSTS=cct.example.com DATABASE_URL=postgres://cct@127.0.0.1:5432/cct \
	$(BIN)/python manage.py check --deploy --fail-level WARNING

## bench: the monthly report's benchmark (PostgreSQL from DATABASE_URL; 10,000 and 100,000 orders, a few minutes)
bench: $(DEV)
	$(BIN)/python bench/monthly_report.py $(BENCH_ARGS)

## smoke: the production path end to end: a fresh venv from requirements.lock, gunicorn, worker, beat, Redis, SMTP
smoke:
	scripts/production-smoke

## bench-ledger: the cap ledger's benchmark (approvals, utilisation, report at 1,000 to 1,000,000 orders; long)
bench-ledger: $(DEV)
	$(BIN)/python bench/ledger.py $(BENCH_ARGS)

## bench-imports: importing 100,000 and 1,000,000 invoices from CSV against a bare COPY (long)
bench-imports: $(DEV)
	$(BIN)/python bench/imports.py $(BENCH_ARGS)

## bench-formats: each PDF pack against its workbook on the same data (1,000 and 5,000 orders)
bench-formats: $(DEV)
	$(BIN)/python bench/report_formats.py $(BENCH_ARGS)

## services: start PostgreSQL and Redis on this machine when they are not running
services:
	scripts/start-services

## browser: install Debian's chromium and chromium-driver for the browser tests
browser:
	scripts/install-browser

## pdf-tools: install Debian's CJK font (fonts-wqy-zenhei) for the PDF packs and poppler-utils (pdftoppm)
pdf-tools:
	scripts/install-pdf-tools

clean:
	rm -rf $(VENV) $(VENV)-lock .pytest_cache .ruff_cache

## messages: after adding or changing product text: extract it into locale/zh_Hant and locale/zh_Hans
## (translate the new entries there), then compile; tests/test_translations.py fails on any left out
messages: $(DEV)
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python manage.py makemessages -l zh_Hant -l zh_Hans \
		--no-location --no-wrap --no-obsolete --ignore=.venv --ignore=tests --ignore=bench --ignore=scripts
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python manage.py compilemessages --ignore=.venv
