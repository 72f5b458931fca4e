#!/usr/bin/env bash
# The whole suite on SQLite and on PostgreSQL, the two engines side by side (lines prefixed [sqlite],
# [postgresql] or [postgresql-browser]; LOTS_TEST_SERIAL=1 runs them one after the other).
# In CI a skipped PostgreSQL run is a failure.
set -uo pipefail
BIN=${VENV:-.venv}/bin
PG_ADMIN_URL=${LOTS_PG_ADMIN_URL:-postgresql://postgres@127.0.0.1:5432/postgres}
PG_DB=${LOTS_PG_TEST_DB:-lots_test_$$}
RESULTS=$(mktemp -d)
status=0

# run_suite NAME URL [PYTEST ARGS ...]: pytest on the database URL ('' = SQLite), its output prefixed by NAME;
# its exit status lands in $RESULTS/NAME. pytest's exit code 5 (no test collected) counts as a failure.
run_suite() {
  local name=$1 url=$2; shift 2
  (
    LOTS_TEST_DATABASE_URL="$url" "$BIN/python" -m pytest "$@" 2>&1
    rc=$?
    if [ $rc -eq 5 ]; then
      echo "pytest collected no tests" >&2
      rc=1
    fi
    echo $rc > "$RESULTS/$name"
  ) | sed -u "s/^/[$name] /"
}

echo "== Migrations agree with the models (SQLite) =="
tmpdb=$(mktemp -d)/check.db
LOTS_ENV=test LOTS_DATABASE_URL="sqlite:///$tmpdb" "$BIN/flask" --app wsgi db upgrade >/dev/null 2>&1 \
  && LOTS_ENV=test LOTS_DATABASE_URL="sqlite:///$tmpdb" "$BIN/flask" --app wsgi db check || status=1

pg_ok=0
if "$BIN/python" -c "import psycopg,sys; psycopg.connect('$PG_ADMIN_URL', connect_timeout=3).close()" 2>/dev/null; then
  pg_ok=1
fi
PG_URL="postgresql+psycopg://postgres@127.0.0.1:5432/$PG_DB"
if [ $pg_ok = 1 ]; then
  "$BIN/python" - "$PG_ADMIN_URL" "$PG_DB" <<'PY'
import sys, psycopg
with psycopg.connect(sys.argv[1], autocommit=True) as conn:
    conn.execute(f'DROP DATABASE IF EXISTS "{sys.argv[2]}"')
    conn.execute(f'CREATE DATABASE "{sys.argv[2]}"')
PY
  echo "== Migrations agree with the models (PostgreSQL) =="
  LOTS_ENV=test LOTS_DATABASE_URL="$PG_URL" "$BIN/flask" --app wsgi db upgrade >/dev/null 2>&1 \
    && LOTS_ENV=test LOTS_DATABASE_URL="$PG_URL" "$BIN/flask" --app wsgi db check || status=1
else
  echo "PostgreSQL is not reachable at $PG_ADMIN_URL: the PostgreSQL run is skipped." >&2
  if [ "${CI:-}" = "true" ]; then
    echo "In CI the PostgreSQL run is required." >&2
    status=1
  fi
fi

started=$(date +%s)
if [ $pg_ok = 1 ] && [ "${LOTS_TEST_SERIAL:-}" != "1" ]; then
  echo "== Test suite on SQLite and on PostgreSQL, side by side =="
  # SQLite reaches the Chromium tests early (tests/browser sorts third); PostgreSQL runs them last, so the two
  # browser runs do not compete for the CPUs.
  run_suite sqlite "" &
  (run_suite postgresql "$PG_URL" --ignore=tests/browser; run_suite postgresql-browser "$PG_URL" tests/browser)
  wait
  runs="sqlite postgresql postgresql-browser"
else
  echo "== Test suite on SQLite =="
  run_suite sqlite ""
  runs="sqlite"
  if [ $pg_ok = 1 ]; then
    echo "== Test suite on PostgreSQL =="
    run_suite postgresql "$PG_URL"
    runs="sqlite postgresql"
  fi
fi
echo "== Test suites took $(( $(date +%s) - started )) s =="

for name in $runs; do
  rc=$(cat "$RESULTS/$name" 2>/dev/null || echo 1)
  echo "== $name: pytest exit status $rc =="
  [ "$rc" = 0 ] || status=1
done

if [ $pg_ok = 1 ]; then
  "$BIN/python" - "$PG_ADMIN_URL" "$PG_DB" <<'PY'
import sys, psycopg
with psycopg.connect(sys.argv[1], autocommit=True) as conn:
    conn.execute(f'DROP DATABASE IF EXISTS "{sys.argv[2]}" WITH (FORCE)')
    conn.execute(f'DROP DATABASE IF EXISTS "{sys.argv[2]}_browser" WITH (FORCE)')
PY
fi
rm -rf "$RESULTS"
exit $status
