#!/usr/bin/env bash
# The whole suite: install, Chromium and axe-core, migration checks, the suite on SQLite and on PostgreSQL, and the Chromium tests on PostgreSQL.
#
# Each run uses pytest-xdist with LOTS_TEST_WORKERS processes (default 2, one per CPU here; 0 = no xdist). The
# runs go one after the other, each using every CPU, so each phase's time is its own. On PostgreSQL the
# migrated database of the migration check is the template each worker copies (CREATE DATABASE ... TEMPLATE).
# Tests marked engine_independent (pure policy and catalog checks) run on SQLite only; the browser tests run on
# PostgreSQL only (their outcome does not depend on the engine; PostgreSQL is the production engine).
# In CI (CI=true) an unreachable PostgreSQL is a failure. pytest's exit code 5 (no test collected) is a failure.
# At the end: a summary of each phase and its seconds (also appended to $LOTS_TIMINGS if .ci/run set it).
set -uo pipefail
BIN=${VENV:-.venv}/bin
WORKERS=${LOTS_TEST_WORKERS:-2}
# The Chromium tests wait on the browser and the live server for about 40 % of their time: one more process than
# CPUs fills that time.
BROWSER_WORKERS=${LOTS_BROWSER_WORKERS:-3}
PG_ADMIN_URL=${LOTS_PG_ADMIN_URL:-postgresql://postgres@127.0.0.1:5432/postgres}
PG_DB=${LOTS_PG_TEST_DB:-lots_test_$$}
PG_URL="postgresql+psycopg://postgres@127.0.0.1:5432/$PG_DB"
TIMINGS=${LOTS_TIMINGS:-$(mktemp)}
status=0

# phase NAME COMMAND...: run it, note its seconds and exit status; a failure fails the whole run.
phase() {
  local name=$1 started rc
  shift
  echo "== $name =="
  started=$(date +%s)
  "$@"
  rc=$?
  printf '%-28s %5d s  exit %s\n' "$name" $(( $(date +%s) - started )) "$rc" >> "$TIMINGS"
  [ "$rc" = 0 ] || status=1
  return "$rc"
}

summary() {
  echo
  echo "== Timings =="
  cat "$TIMINGS"
  [ -n "${LOTS_TIMINGS:-}" ] || rm -f "$TIMINGS"
  echo "== overall: $([ $status = 0 ] && echo passed || echo FAILED) =="
}

# suite URL PYTEST-ARGS...: pytest on the database URL ('' = SQLite); exit code 5 counts as a failure.
suite() {
  local url=$1 rc workers=${SUITE_WORKERS:-$WORKERS}
  shift
  local xdist=()
  [ "$workers" != 0 ] && xdist=(-n "$workers")
  LOTS_TEST_DATABASE_URL="$url" "$BIN/python" -m pytest "${xdist[@]}" "$@"
  rc=$?
  if [ $rc -eq 5 ]; then
    echo "pytest collected no tests" >&2
    rc=1
  fi
  return $rc
}

migrations() {
  LOTS_ENV=test LOTS_DATABASE_URL="$1" "$BIN/flask" --app wsgi db upgrade >/dev/null 2>&1 \
    && LOTS_ENV=test LOTS_DATABASE_URL="$1" "$BIN/flask" --app wsgi db check
}

pg_admin() {  # pg_admin SQL: one statement on the maintenance database
  "$BIN/python" - "$PG_ADMIN_URL" "$1" <<'PY'
import sys, psycopg
with psycopg.connect(sys.argv[1], autocommit=True) as conn:
    conn.execute(sys.argv[2])
PY
}

pg_drop_all() {  # the template and every copy the workers may have left
  "$BIN/python" - "$PG_ADMIN_URL" "$PG_DB" <<'PY'
import sys, psycopg
with psycopg.connect(sys.argv[1], autocommit=True) as conn:
    names = [r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname = %s OR datname LIKE %s",
                                        (sys.argv[2], sys.argv[2] + "\\_%"))]
    for name in names:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
PY
}

phase "install" make --no-print-directory install || { summary; exit 1; }
phase "Chromium and axe-core" bash scripts/browser-deps.sh || { summary; exit 1; }

tmpdb=$(mktemp -d)/check.db
phase "migrations (SQLite)" migrations "sqlite:///$tmpdb"
rm -rf "$(dirname "$tmpdb")"

pg_ok=0
if "$BIN/python" -c "import psycopg,sys; psycopg.connect('$PG_ADMIN_URL', connect_timeout=3).close()" 2>/dev/null; then
  pg_ok=1
  pg_admin "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)"
  pg_admin "CREATE DATABASE \"$PG_DB\""
  phase "migrations (PostgreSQL)" migrations "$PG_URL"  # this database is the workers' template
else
  echo "PostgreSQL is not reachable at $PG_ADMIN_URL: the PostgreSQL runs are skipped." >&2
  if [ "${CI:-}" = "true" ]; then
    echo "In CI the PostgreSQL runs are required." >&2
    status=1
  fi
fi

phase "suite on SQLite" suite "" --ignore=tests/browser
if [ $pg_ok = 1 ]; then
  phase "suite on PostgreSQL" suite "$PG_URL" --ignore=tests/browser -m "not engine_independent"
  SUITE_WORKERS=$BROWSER_WORKERS phase "Chromium on PostgreSQL" suite "$PG_URL" tests/browser
  pg_drop_all
else
  printf '%-28s %s\n' "PostgreSQL runs" "SKIPPED (not reachable)" >> "$TIMINGS"
fi

summary
exit $status
