# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/test
REDIS_TEST_URL ?= redis://127.0.0.1:6379/15

.PHONY: install run test test-sqlite test-postgres

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(BIN)/.installed

# Serve the embedded default (SQLite in var/) with the demo data on http://127.0.0.1:8000.
# DEBUG=1 (development defaults: a dev-only SECRET_KEY, localhost hosts) unless set.
run: export DEBUG ?= 1
run: install
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo --if-empty
	$(BIN)/python manage.py runserver 127.0.0.1:8000

# The whole suite on SQLite; in CI (CI=true) again on PostgreSQL with Redis as the cache.
# pytest exits 5 when it collected no test: that is not a failure of the suite.
test: install
	$(MAKE) test-sqlite
	@if [ "$$CI" = "true" ]; then $(MAKE) test-postgres; fi

test-sqlite:
	$(BIN)/pytest || [ $$? -eq 5 ]

test-postgres:
	DATABASE_URL=$(PG_TEST_URL) REDIS_URL=$(REDIS_TEST_URL) $(BIN)/pytest || [ $$? -eq 5 ]
