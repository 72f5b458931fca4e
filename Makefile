# Lots: two commands do all the set-up.
#   make run   virtualenv, install, migrate the embedded SQLite database, demo data, serve on :5000
#   make test  install, then the whole suite on SQLite and PostgreSQL (browser tests included)
#   make test-fast  the inner loop: the non-browser suite on SQLite, two processes

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
FLASK  := LOTS_ENV=development $(BIN)/flask --app wsgi
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/lots_test

.PHONY: run test test-fast install translations translations-update browser-deps bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/activate
	$(BIN)/pip install --quiet -e ".[dev]"
	$(MAKE) --no-print-directory translations

# Compile both gettext domains: messages (our own Swedish msgids) and
# flask_security (Swedish texts for Flask-Security-Too's pages and messages).
translations:
	@$(BIN)/pybabel -q compile -d app/translations -D messages
	@$(BIN)/pybabel -q compile -d app/translations -D flask_security

# After adding or changing _()/_l() texts: re-extract, merge into sv and en, then
# translate the new en msgstr (tests/test_i18n.py fails on empty ones) and compile.
# No fuzzy matching: a guessed msgstr would be shown once compiled.
translations-update:
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext --ignore-dirs=".* ._ node_modules instance" \
		--project=Lots --copyright-holder="Lots" -o app/translations/messages.pot .
	$(BIN)/pybabel -q update -i app/translations/messages.pot -d app/translations -D messages -l sv --no-fuzzy-matching
	$(BIN)/pybabel -q update -i app/translations/messages.pot -d app/translations -D messages -l en --no-fuzzy-matching
	$(MAKE) --no-print-directory translations

run: install
	$(FLASK) db upgrade
	$(FLASK) demo load
	@echo "Lots is served on http://127.0.0.1:5000 (Ctrl-C stops it)"
	$(FLASK) run --host 127.0.0.1 --port 5000

browser-deps:
	@bash scripts/browser-deps.sh

# install, Chromium and axe-core, then every phase of scripts/test.sh, with a timing summary at the end.
test: $(BIN)/activate
	@bash scripts/test.sh

# The inner loop: the non-browser suite on SQLite, in parallel (pytest-xdist), without reinstalling.
test-fast: $(BIN)/activate
	@$(BIN)/python -c "import xdist" 2>/dev/null || $(MAKE) --no-print-directory install
	@bash scripts/browser-deps.sh
	$(BIN)/python -m pytest -n $${LOTS_TEST_WORKERS:-2} --ignore=tests/browser $(ARGS)

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) node_modules instance/*.db
