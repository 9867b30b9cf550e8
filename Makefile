# Mbrojtje: developer and CI tasks. `make help` lists them.
#
# Everything runs in .venv, built from the hashed lock files. DJANGO_DEBUG=1 is
# exported only for the development targets (demo, test, messages), never
# globally.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
STAMP := $(VENV)/.installed-from-lock

# pip ignores this machine's own configuration (extra local indexes and
# find-links, a constraints file): the locks hold the hashes of the files of
# the default package index, and installs come from there alone.
PIP := env -u PIP_FIND_LINKS -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL -u PIP_CONSTRAINT \
	-u PIP_NO_INDEX PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1 \
	$(PY) -m pip

# `make lock UPGRADE=1` moves every pin to the newest allowed release.
UV_COMPILE := $(VENV)/bin/uv pip compile pyproject.toml --quiet --no-config \
	--generate-hashes --universal --python-version 3.12 \
	--custom-compile-command "make lock" $(if $(UPGRADE),--upgrade)

# Extra pytest arguments, e.g. `make test PYTEST_ARGS="-k sign_in -x"`.
PYTEST_ARGS ?=

.PHONY: help install demo test chromium lint format messages lock

help:
	@echo "make install   create .venv (Python >= 3.12) from requirements-dev.lock"
	@echo "make demo      migrate var/mbrojtje.sqlite3, seed demo accounts, runserver on 127.0.0.1:8000"
	@echo "make test      the whole pytest suite (SQLite, or DATABASE_URL when set)"
	@echo "make lint      ruff check and ruff format --check"
	@echo "make format    ruff format and ruff check --fix"
	@echo "make messages  makemessages -l sq and compilemessages"
	@echo "make lock      regenerate requirements.lock and requirements-dev.lock (UPGRADE=1 to upgrade)"

# --- Virtualenv -------------------------------------------------------------

install: $(STAMP)
	@:

# Re-created when the interpreter it points to is gone.
$(PY):
	scripts/make-venv

# A no-op while .venv is up to date with the lock and .python-version.
$(STAMP): requirements-dev.lock .python-version $(PY)
	scripts/make-venv
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet --require-hashes -r requirements-dev.lock
	@touch $@
	@echo "install: $(VENV) is up to date with requirements-dev.lock"

# --- Development --------------------------------------------------------------

demo: export DJANGO_DEBUG := 1
demo: install
	@mkdir -p var/static
	$(MANAGE) migrate --noinput
	$(MANAGE) audit_keygen --if-missing
	$(MANAGE) seed_demo
	$(MANAGE) audit_checkpoint
	$(MANAGE) audit_verify
	@# Last before the server: the accounts and their backup codes (var/demo-accounts.txt).
	$(MANAGE) demo_accounts
	$(MANAGE) runserver 127.0.0.1:8000

test: export DJANGO_DEBUG := 1
test: install chromium
	@if [[ -n "$${DATABASE_URL:-}" ]]; then \
		echo "test: database from DATABASE_URL: $$(sed -E 's#(//[^:@/]*):[^/]*@#\1:***@#' <<<"$$DATABASE_URL")"; \
	else \
		echo "test: database: SQLite (DATABASE_URL is not set)"; \
	fi
	@mkdir -p var/static
	@status=0; $(PY) -m pytest $(PYTEST_ARGS) || status=$$?; \
	if [[ $$status -eq 5 ]]; then \
		echo "test: error: pytest ran no test (exit code 5); a run without tests is a failure." >&2; \
	fi; \
	exit $$status

chromium:
	scripts/ensure-chromium

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

messages: export DJANGO_DEBUG := 1
messages: install
	$(MANAGE) makemessages -l sq --ignore=.venv --ignore=var
	$(MANAGE) compilemessages --ignore=.venv

# --- Locks --------------------------------------------------------------------

lock:
	scripts/make-venv
	@[[ -x $(VENV)/bin/uv ]] || $(PIP) install --quiet uv
	$(UV_COMPILE) -o requirements.lock
	$(UV_COMPILE) --extra dev -o requirements-dev.lock
	@echo "lock: wrote requirements.lock and requirements-dev.lock"
