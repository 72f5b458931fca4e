#!/usr/bin/env bash
# The whole suite on SQLite, then on PostgreSQL. In CI a skipped PostgreSQL run is a failure.
set -uo pipefail
BIN=${VENV:-.venv}/bin
PG_ADMIN_URL=${LOTS_PG_ADMIN_URL:-postgresql://postgres@127.0.0.1:5432/postgres}
PG_DB=${LOTS_PG_TEST_DB:-lots_test_$$}
status=0

run_pytest() {
  "$BIN/python" -m pytest "$@"
  local rc=$?
  if [ $rc -eq 5 ]; then
    echo "pytest collected no tests for: $*" >&2
    return 1
  fi
  return $rc
}

echo "== Migrations agree with the models (SQLite) =="
tmpdb=$(mktemp -d)/check.db
LOTS_ENV=test LOTS_DATABASE_URL="sqlite:///$tmpdb" "$BIN/flask" --app wsgi db upgrade >/dev/null 2>&1 \
  && LOTS_ENV=test LOTS_DATABASE_URL="sqlite:///$tmpdb" "$BIN/flask" --app wsgi db check || status=1

echo "== Test suite on SQLite =="
run_pytest || status=1

pg_ok=0
if "$BIN/python" -c "import psycopg,sys; psycopg.connect('$PG_ADMIN_URL', connect_timeout=3).close()" 2>/dev/null; then
  pg_ok=1
fi
if [ $pg_ok = 1 ]; then
  "$BIN/python" - "$PG_ADMIN_URL" "$PG_DB" <<'PY'
import sys, psycopg
with psycopg.connect(sys.argv[1], autocommit=True) as conn:
    conn.execute(f'DROP DATABASE IF EXISTS "{sys.argv[2]}"')
    conn.execute(f'CREATE DATABASE "{sys.argv[2]}"')
PY
  PG_URL="postgresql+psycopg://postgres@127.0.0.1:5432/$PG_DB"
  echo "== Migrations agree with the models (PostgreSQL) =="
  LOTS_ENV=test LOTS_DATABASE_URL="$PG_URL" "$BIN/flask" --app wsgi db upgrade >/dev/null 2>&1 \
    && LOTS_ENV=test LOTS_DATABASE_URL="$PG_URL" "$BIN/flask" --app wsgi db check || status=1
  echo "== Test suite on PostgreSQL =="
  LOTS_TEST_DATABASE_URL="$PG_URL" run_pytest || status=1
  "$BIN/python" - "$PG_ADMIN_URL" "$PG_DB" <<'PY'
import sys, psycopg
with psycopg.connect(sys.argv[1], autocommit=True) as conn:
    conn.execute(f'DROP DATABASE IF EXISTS "{sys.argv[2]}" WITH (FORCE)')
PY
else
  echo "PostgreSQL is not reachable at $PG_ADMIN_URL: the PostgreSQL run was skipped." >&2
  if [ "${CI:-}" = "true" ]; then
    echo "In CI the PostgreSQL run is required." >&2
    status=1
  fi
fi
exit $status
