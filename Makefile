# Lots: two commands do all the set-up.
#   make run   virtualenv, install, migrate the embedded SQLite database, demo data, serve on :5000
#   make test  install, then the whole suite on SQLite and PostgreSQL (browser tests included)

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
FLASK  := LOTS_ENV=development $(BIN)/flask --app wsgi
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/lots_test

.PHONY: run test install translations browser-deps test-sqlite test-postgres bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/activate
	$(BIN)/pip install --quiet -e ".[dev]"
	$(MAKE) --no-print-directory translations

translations:
	$(BIN)/pybabel compile --use-fuzzy -d app/translations -D messages -f >/dev/null 2>&1 || $(BIN)/pybabel compile -d app/translations -D messages
	$(BIN)/pybabel compile -d app/translations -D flask_security >/dev/null

run: install
	$(FLASK) db upgrade
	$(FLASK) demo load
	@echo "Lots is served on http://127.0.0.1:5000 (Ctrl-C stops it)"
	$(FLASK) run --host 127.0.0.1 --port 5000

browser-deps:
	@bash scripts/browser-deps.sh

test: install browser-deps
	@bash scripts/test.sh

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) node_modules instance/*.db
