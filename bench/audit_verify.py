"""`audit verify` over a large log, next to the raw cost of streaming the same rows.

    .venv/bin/python -m bench.audit_verify [--events 1000000] [--database-url URL]

Fills a throw-away SQLite database in a temporary directory (or a scratch
PostgreSQL database given by --database-url; the two audit tables are
created there and dropped afterwards, and the run refuses a database that
already has them) with a correctly chained log, inserted in bulk (COPY on
PostgreSQL, executemany on SQLite). Then it times, in the same run:

- baseline: streaming every row with the same query and cursor verify uses, doing nothing;
- verify:   app.security.audit.verify_chain, i.e. what `flask audit verify` runs.

The default size comes from LOTS_BENCH_AUDIT_EVENTS (1,000,000 if unset).
Target: 1,000,000 events verified in under 20 s.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

TARGET_S_PER_MILLION = 20.0
DEFAULT_EVENTS = int(os.environ.get("LOTS_BENCH_AUDIT_EVENTS", "1000000"))

ACTIONS = ["case.read", "case.read", "case.read", "plan.read", "note.read", "case.update", "login.succeeded", "access.denied"]
FIELD_SETS = ["case.summary", "case.summary,person.identity", "case.notes,case.summary", "plan.protection,plan.support", ""]
RULES = ["p, coordinator, *, case:read, assigned_to_case, allow", "p, partner, police, case:read, consent_covers, allow", None]


def _events(n: int, key: bytes, start: datetime):
    """Yield n chained rows (id, occurred_at, ..., prev_hmac, hmac) exactly as record() would write them."""
    from app.audit.models import GENESIS_HMAC
    from app.security.audit import ChainMac, canonical_time

    mac_of = ChainMac(key)
    prev = GENESIS_HMAC
    for i in range(1, n + 1):
        at = start + timedelta(microseconds=37_123 * i)  # every microsecond value occurs
        action = ACTIONS[i % len(ACTIONS)]
        outcome = "denied" if action == "access.denied" else "allowed"
        content = (
            1000 + i % 300,                     # actor_user_id
            1 + i % 40,                          # actor_agency_id
            action,
            "case",
            f"K-{2024 + i % 3}-{i % 5000:04d}",  # a case code
            FIELD_SETS[i % len(FIELD_SETS)],
            "case:read",
            "Akut skyddsbedömning" if i % 97 == 0 else None,
            RULES[i % len(RULES)],
            outcome,
            '{"factor":"password"}' if action == "login.succeeded" else None,
        )
        mac = mac_of((i, canonical_time(at), *content), prev)
        yield (i, at, *content, prev, mac)
        prev = mac


def _fill_sqlite(engine, n: int, key: bytes, start: datetime) -> str:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("BEGIN")
        last = None

        def rows():
            nonlocal last
            for row in _events(n, key, start):
                last = row[-1]
                # SQLAlchemy's storage format for DateTime on SQLite.
                yield (row[0], row[1].strftime("%Y-%m-%d %H:%M:%S.%f"), *row[2:])

        cur.executemany(
            "INSERT INTO audit_event (id, occurred_at, actor_user_id, actor_agency_id, action, object_type, object_id, "
            "field_sets, permission, purpose, rule, outcome, detail, prev_hmac, hmac) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows(),
        )
        cur.execute("UPDATE audit_head SET seq = ?, last_hmac = ? WHERE id = 1", (n, last))
        cur.execute("COMMIT")
        return last
    finally:
        raw.close()


def _fill_postgres(engine, n: int, key: bytes, start: datetime) -> str:
    raw = engine.raw_connection()
    try:
        cur = raw.driver_connection.cursor()
        last = None
        with cur.copy(
            "COPY audit_event (id, occurred_at, actor_user_id, actor_agency_id, action, object_type, object_id, "
            "field_sets, permission, purpose, rule, outcome, detail, prev_hmac, hmac) FROM STDIN"
        ) as copy:
            for row in _events(n, key, start):
                copy.write_row(row)
                last = row[-1]
        cur.execute("UPDATE audit_head SET seq = %s, last_hmac = %s WHERE id = 1", (n, last))
        raw.driver_connection.commit()
        return last
    finally:
        raw.close()


def _stream_baseline(engine) -> tuple[int, float]:
    """Read every row exactly as verify does (same query, same cursor), and do nothing with it."""
    from sqlalchemy import text

    from app.security.audit import stream_events

    started = time.perf_counter()
    count = 0
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))  # begin the transaction a server-side cursor needs
        for _row in stream_events(conn):
            count += 1
    return count, time.perf_counter() - started


def _verify(engine, key: bytes):
    from app.security.audit import verify_chain

    started = time.perf_counter()
    with engine.connect() as conn:
        result = verify_chain(conn, key)
    return result, time.perf_counter() - started


def run(url: str, n: int, *, own_database: bool) -> bool:
    from sqlalchemy import create_engine, inspect, text

    from app.audit.models import GENESIS_HMAC, AuditEvent, AuditHead
    from app.db import configure_engine, db

    engine = create_engine(url)
    configure_engine(engine)
    tables = [AuditEvent.__table__, AuditHead.__table__]
    if not own_database and set(inspect(engine).get_table_names()) & {"audit_event", "audit_head"}:
        print("refused: the database already has audit tables; give a scratch database", file=sys.stderr)
        return False
    db.metadata.create_all(engine, tables=tables)
    # The search indexes are built after the bulk load (faster); verify reads by primary key only.
    indexes = list(AuditEvent.__table__.indexes)
    for index in indexes:
        index.drop(engine)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO audit_head (id, seq, last_hmac) VALUES (1, 0, :g)"), {"g": GENESIS_HMAC})
        key = secrets.token_bytes(32)
        start = datetime(2025, 1, 1, tzinfo=timezone.utc)

        started = time.perf_counter()
        fill = _fill_postgres if engine.dialect.name == "postgresql" else _fill_sqlite
        fill(engine, n, key, start)
        for index in indexes:
            index.create(engine)
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.execute(text("ANALYZE audit_event"))
        fill_s = time.perf_counter() - started

        # Warm the cache once so neither timing pays for the first read from disk.
        _stream_baseline(engine)
        rows, baseline_s = _stream_baseline(engine)
        result, verify_s = _verify(engine, key)
    finally:
        db.metadata.drop_all(engine, tables=tables)
        engine.dispose()

    target = TARGET_S_PER_MILLION * n / 1_000_000
    print(f"database            {engine.dialect.name}")
    print(f"events              {n:,}  (bulk insert with precomputed chain: {fill_s:.1f} s)")
    print(f"baseline (stream)   {baseline_s:6.2f} s  {baseline_s / rows * 1e6:5.2f} µs/event  ({rows:,} rows)")
    print(f"audit verify        {verify_s:6.2f} s  {verify_s / n * 1e6:5.2f} µs/event  "
          f"= baseline × {verify_s / baseline_s:.1f}; HMAC + canonical JSON {(verify_s - baseline_s) / n * 1e6:.2f} µs/event")
    print(f"target              {target:6.2f} s  ({TARGET_S_PER_MILLION:.0f} s per 1,000,000)  "
          f"{'met' if verify_s < target else 'MISSED'}")
    if not result.ok or result.checked != n:
        print(f"verification did not pass: {result.problem} (checked {result.checked})", file=sys.stderr)
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=DEFAULT_EVENTS, help="how many events (default %(default)s)")
    parser.add_argument("--database-url", help="a scratch PostgreSQL database (default: temporary SQLite)")
    args = parser.parse_args(argv)
    if args.database_url:
        return 0 if run(args.database_url, args.events, own_database=False) else 1
    with tempfile.TemporaryDirectory(prefix="lots-bench-audit-") as tmp:
        return 0 if run(f"sqlite:///{Path(tmp) / 'audit.db'}", args.events, own_database=True) else 1


if __name__ == "__main__":
    sys.exit(main())
