# The two commands: `make run` serves the app, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
HOST ?= 127.0.0.1
PORT ?= 8000
DATA_DIR ?= data
BIN := $(VENV)/bin
PHOTOS ?= example_images

export HOST PORT DATA_DIR

.PHONY: run test test-quick lint bench install install-dev system-deps clean translations

$(BIN)/activate:
	@bash .ci/ensure-venv.sh $(PYTHON)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## make run: install, migrate and serve on the embedded default at http://$(HOST):$(PORT)
run: install
	$(BIN)/flask --app web upgrade-db
	exec $(BIN)/gunicorn --config web/gunicorn_conf.py --workers $${GUNICORN_WORKERS:-2} "web:create_app()"

## make test: install what the tests need, start MariaDB/SeaweedFS/Chromium as needed, run all
test: install-dev system-deps
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

## make test-quick: the same without the slow layers (browser, faults, schemathesis)
test-quick: install-dev system-deps
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -m "not e2e and not faults and not schemathesis"

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/ruff format --check web tests bench support

## make translations: gather the strings marked in web/ into each catalogue
## (web/translations/<language>/LC_MESSAGES/messages.po); then translate the new, empty ones
translations: install-dev
	pot=$$(mktemp) && $(BIN)/pybabel extract -F babel.cfg -k lazy_gettext \
		--no-location --sort-output -o $$pot . \
	&& $(BIN)/pybabel update -i $$pot -d web/translations --no-fuzzy-matching \
		--ignore-obsolete --width 88; status=$$?; rm -f $$pot; exit $$status

## make bench PHOTOS=folder: the benchmarks (not part of make test)
bench: install-dev system-deps
	$(BIN)/python -m bench $(PHOTOS)

## Debian packages the tests use: a MariaDB server when none runs, Chromium, docker-compose.
system-deps:
	@bash .ci/system-deps.sh

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
