# The portal's front door: make run, make test, make lint, make bench, make translations.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app portal
LOCALES := en tr ar ru uk pl ro bg de@ls
INSTANCE := instance
export PORTAL_INSTANCE_PATH ?= $(CURDIR)/$(INSTANCE)

.PHONY: help venv system-deps qa-deps translations extract update-catalogs compile check-translations \
        db run test test-postgres lint bench bench-deps bench-scale lock audit clean

help:
	@echo "make run    serve the portal at http://127.0.0.1:5000 with demo data and a mail catcher"
	@echo "make test   install what the tests need and run the whole suite"
	@echo "make lint   ruff, mypy and the import contracts (.importlinter)"
	@echo "make bench  benchmarks: public pages against a bare WSGI app, submissions against a slow mail server, booking, catalogue search"
	@echo "make bench-scale  deploy/ for real: nginx, two app servers, two workers, a mail outage, crashes"
	@echo "make translations  extract, update and compile the message catalogs"
	@echo "make lock   pin every production dependency with hashes into requirements.lock"
	@echo "make audit  pip-audit over requirements.lock (exit 1: a vulnerability; 2: packages left unchecked)"

$(BIN)/python:
	@$(PYTHON) -c "import ensurepip, venv" 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq python3-venv >/dev/null; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

venv: $(VENV)/.installed

# Debian packages: gettext tools, Chromium for browser tests, Java for the Nu Html Checker,
# Dovecot for the IMAP tests, Redis for the shared rate limits and nginx for the deploy/ checks
# (the tests start their own instances; no system service is used).
system-deps:
	@missing=""; \
	command -v msgfmt >/dev/null || missing="$$missing gettext"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	command -v java >/dev/null || missing="$$missing openjdk-17-jre-headless"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	command -v psql >/dev/null || missing="$$missing postgresql-client"; \
	[ -x /usr/lib/dovecot/imap ] || missing="$$missing dovecot-imapd"; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	[ -x /usr/sbin/nginx ] || missing="$$missing nginx"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

# The Nu Html Checker (vnu.jar) from the npm registry, pinned; run with the system Java.
.cache/node/node_modules/vnu-jar/build/dist/vnu.jar:
	mkdir -p .cache/node
	cd .cache/node && npm install --silent --no-audit --no-fund --ignore-scripts -E vnu-jar@26.9.27 >/dev/null

qa-deps: system-deps .cache/node/node_modules/vnu-jar/build/dist/vnu.jar

extract: venv
	$(BIN)/pybabel extract -F translations/babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
	  --add-comments=Translators: --project="Soziales Duo portal" --copyright-holder="Städte Verl und Schloß Holte-Stukenbrock" \
	  -o translations/messages.pot . >/dev/null

update-catalogs: extract
	@for l in $(LOCALES); do \
	  if [ -f translations/$$l/LC_MESSAGES/messages.po ]; then \
	    $(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete -i translations/messages.pot -d translations -l $$l >/dev/null; \
	  else \
	    $(BIN)/pybabel init -i translations/messages.pot -d translations -l $$l >/dev/null; \
	  fi; \
	done
	@# Leichte Sprache keeps only what it shows: staff-area and full legal-text messages are left out.
	$(BIN)/python -m portal.tools.check_translations --prune

compile: venv
	$(BIN)/pybabel compile --use-fuzzy -d translations >/dev/null 2>&1 || $(BIN)/pybabel compile -d translations

translations: update-catalogs compile check-translations

check-translations: venv
	$(BIN)/python -m portal.tools.check_translations

$(INSTANCE)/portal.cfg:
	mkdir -p $(INSTANCE)
	@echo "# Local development settings, written by make run. Not for production." > $@
	@echo "SECRET_KEY = '$$($(BIN)/python -c 'import secrets; print(secrets.token_hex(32))')'" >> $@
	@echo "DEBUG = True" >> $@

db: venv compile $(INSTANCE)/portal.cfg
	$(FLASK) db upgrade

run: venv compile db
	$(FLASK) demo load
	$(BIN)/python -m portal.tools.devserver

test: venv qa-deps compile
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check portal tests scripts
	$(BIN)/ruff format --check portal tests scripts
	$(BIN)/mypy portal tests
	$(BIN)/lint-imports --no-cache

# wrk (Debian's package) drives scripts/bench_pages.py.
bench-deps:
	@command -v wrk >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk >/dev/null; }

bench: venv compile bench-deps
	@# Marks a page under target FAIL (exit 1); the other benchmarks run all the same.
	$(BIN)/python scripts/bench_pages.py || true
	$(BIN)/python scripts/bench_submit.py
	$(BIN)/python scripts/bench_catalogue.py
	$(BIN)/python scripts/bench_booking.py

# deploy/ run for real on this machine: nginx (Debian's package, installed when missing) in front
# of two app servers and two delivery workers on PostgreSQL at 127.0.0.1:5432, rate limits in
# Redis at 127.0.0.1:6379 (BENCH_POSTGRES_URL, BENCH_REDIS_URL to point elsewhere).
bench-scale: venv compile
	@[ -x /usr/sbin/nginx ] || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nginx >/dev/null; }
	$(BIN)/python scripts/bench_scale.py

# Production pins with hashes, from PyPI only (the machine's pip configuration is left out, so no
# local wheel or mirror ends up in the hashes). Install with: pip install --require-hashes -r requirements.lock
LOCK_INDEX ?= https://pypi.org/simple
lock: venv
	$(BIN)/pip install --quiet 'pip-tools>=7.4,<8'
	env -u PIP_FIND_LINKS PIP_CONFIG_FILE=/dev/null $(BIN)/pip-compile --quiet --generate-hashes \
	  --allow-unsafe --strip-extras --extra postgres --index-url $(LOCK_INDEX) --no-emit-index-url \
	  --output-file requirements.lock setup.cfg

audit: venv
	$(BIN)/python scripts/audit_lock.py

clean:
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache
