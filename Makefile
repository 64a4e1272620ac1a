# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/test
REDIS_TEST_URL ?= redis://127.0.0.1:6379/15

.PHONY: install run test test-sqlite test-postgres browser-deps screenshots

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

# The page's browser tests: axe-core from npm (test-only, never served). Chromium itself
# comes from Debian (apt-get install chromium chromium-driver; .ci/run does it). Without
# npm the accessibility check is skipped and says why.
AXE_JS := tests/web/node_modules/axe-core/axe.min.js
$(AXE_JS): tests/web/package.json tests/web/package-lock.json
	npm ci --prefix tests/web --no-audit --no-fund --loglevel=error
	touch $@

browser-deps:
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory $(AXE_JS); \
	else echo "npm not found: the page's accessibility check will be skipped"; fi

# Re-take the README's screenshots of the page (docs/screenshots/) from the browser tests.
screenshots: install browser-deps
	UPDATE_SCREENSHOTS=1 $(BIN)/pytest tests/web/test_browser.py

# The whole suite on SQLite, then again on PostgreSQL with Redis as the cache: always in CI
# (CI=true), and locally whenever both answer at PG_TEST_URL and REDIS_TEST_URL.
# pytest exits 5 when it collected no test: that is not a failure of the suite.
SERVICES_UP = $(BIN)/python -c "import psycopg, redis; \
	psycopg.connect('$(PG_TEST_URL)', connect_timeout=3).close(); \
	redis.Redis.from_url('$(REDIS_TEST_URL)', socket_connect_timeout=3).ping()"

test: install browser-deps
	$(MAKE) test-sqlite
	@if [ "$$CI" = "true" ] || $(SERVICES_UP) >/dev/null 2>&1; then \
		$(MAKE) test-postgres; \
	else \
		echo "PostgreSQL ($(PG_TEST_URL)) or Redis ($(REDIS_TEST_URL)) did not answer:" \
		     "the PostgreSQL + Redis run is skipped (CI always makes it)."; \
	fi

test-sqlite:
	$(BIN)/pytest || [ $$? -eq 5 ]

test-postgres:
	DATABASE_URL=$(PG_TEST_URL) REDIS_URL=$(REDIS_TEST_URL) $(BIN)/pytest || [ $$? -eq 5 ]
