"""The audit chain's head lock: how long each event holds it, and chained writes next to plain inserts.

    .venv/bin/python -m bench audit_lock [--database-url URL] [--seconds 5] [--writers 1,2,4,8]

Runs against a throw-away SQLite database in a temporary directory, or a scratch PostgreSQL database given
by --database-url (or LOTS_BENCH_DATABASE_URL): an empty one (migrated here and wiped afterwards), or one
already migrated whose audit log holds nothing but this benchmark's events (left as it is, less the baseline
table). Measured in the same run:

(a) the lock hold per chained event: from the moment the head row is locked (the ``UPDATE audit_head ...
    RETURNING`` has returned) to the moment the commit has returned, as the writer sees it; median and p95.
    Target on PostgreSQL: under 1 ms.
(b) throughput with 1, 2, 4 and 8 concurrent writer processes (multiprocessing, spawned: each its own app
    and connection), --seconds each, every event its own transaction like an audited read's request:
    - baseline: the same event, prepared and HMAC'd the same way, INSERTed into ``bench_plain_event`` (the
      columns and indexes of audit_event, no chain) and committed;
    - chained:  ``audited_read(...)`` around an empty render, then the commit, as a request does.
    Events/s of both, the ratio and the target (chained >= 50 % of plain at every writer count).
(c) after every run the whole chain is verified (app.security.audit.verify_chain) and the head must have
    moved by exactly the events the writers counted.

On SQLite the write lock is the database's, taken by ``BEGIN IMMEDIATE`` (app.db) at the transaction's first
statement, so plain inserts are serialised too; the hold is measured the same way.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

LOCK_TARGET_MS = 1.0
RATIO_TARGET = 0.50
PLAIN_TABLE = "bench_plain_event"
ACTION = "bench.read"
#: Each worker's baseline ids start here × its number, so no two workers (or runs) collide.
ID_BLOCK = 10**12


def _plain_table(metadata):
    """audit_event's columns and indexes under another name, without the chain (and without its triggers)."""
    from sqlalchemy import Index, Table

    from app.audit.models import AuditEvent

    events = AuditEvent.__table__
    table = Table(PLAIN_TABLE, metadata, *[column._copy() for column in events.columns])
    for index in events.indexes:
        Index(index.name.replace("ix_audit_event_", "ix_bench_plain_"), *[table.c[c.name] for c in index.columns])
    return table


def _event(number: int, i: int) -> dict:
    """What a case page's audited read names: the case code and the field sets shown."""
    return {"object_type": "case", "object_id": f"K-{number}-{i}", "field_sets": ["case.summary", "person.identity"],
            "actor": None}


def _render():
    return "the page"


def _app(url: str, tmp: str):
    from bench import bench_app

    return bench_app(url, Path(tmp))


# ------------------------------------------------------------------ one writer process


def _worker(number: int, url: str, tmp: str, commands, results) -> None:
    """A writer: its own app, session and connection; runs each round it is sent, reports count and timings."""
    from sqlalchemy import MetaData, event, insert

    from app.audit.models import GENESIS_HMAC
    from app.db import db, utcnow
    from app.security import audit

    app = _app(url, tmp)
    with app.app_context():
        plain = _plain_table(MetaData())
        locked = [0.0]

        def on_execute(_conn, _cursor, statement, *_args):
            if statement.startswith("UPDATE audit_head SET seq"):
                locked[0] = time.perf_counter()

        event.listen(db.engine, "after_cursor_execute", on_execute)
        session = db.session
        session.execute(plain.select().limit(1)).all()  # connect before the first round
        session.rollback()
        next_id = ID_BLOCK * (number + 1)
        i = 0
        results.put(("ready", number))
        while (command := commands.get()) is not None:
            mode, start_at, seconds = command
            time.sleep(max(0.0, start_at - time.time()))
            end = start_at + seconds
            count, holds, latencies = 0, [], []
            while time.time() < end:
                i += 1
                started = time.perf_counter()
                if mode == "chained":
                    audit.audited_read(ACTION, _render, **_event(number, i))
                    session.commit()
                    done = time.perf_counter()
                    holds.append(done - locked[0])
                else:
                    key, content = audit._prepare(ACTION, **_event(number, i))
                    at = utcnow()
                    next_id += 1
                    mac = audit.event_mac(key, (next_id, audit.canonical_time(at), *content.values()), GENESIS_HMAC)
                    session.execute(insert(plain).values(id=next_id, occurred_at=at, prev_hmac=GENESIS_HMAC, hmac=mac,
                                                         **content))
                    session.commit()
                    done = time.perf_counter()
                latencies.append(done - started)
                count += 1
            results.put((number, mode, count, holds, latencies))
        db.session.remove()
        db.engine.dispose()


# ------------------------------------------------------------------ the run


def _ms(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if q == 0.5:
        return statistics.median(values) * 1000
    return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1] * 1000


def _head(db) -> int:
    from sqlalchemy import select

    from app.audit.models import AuditHead

    seq = db.session.scalar(select(AuditHead.seq).where(AuditHead.id == 1))
    db.session.rollback()
    return seq


def _verify(db) -> tuple[bool, str, float]:
    from app.security.audit import audit_key, verify_chain

    started = time.perf_counter()
    result = verify_chain(db.session.connection(), audit_key())
    db.session.rollback()
    return result.ok, result.problem or f"{result.checked:,} events", time.perf_counter() - started


def _prepare_database(db) -> tuple[bool, bool]:
    """(usable, migrated here): an empty database is migrated; a migrated one must hold only bench events."""
    from flask_migrate import upgrade
    from sqlalchemy import inspect, select

    from app.audit.models import AuditEvent

    tables = set(inspect(db.engine).get_table_names())
    if not tables:
        upgrade()
        return True, True
    if "audit_event" not in tables:
        print("refused: the database has tables but no audit log; give an empty or a migrated scratch database",
              file=sys.stderr)
        return False, False
    other = db.session.scalar(select(AuditEvent.id).where(AuditEvent.action != ACTION).limit(1))
    db.session.rollback()
    if other is not None:
        print("refused: the audit log holds events other than this benchmark's; give a scratch database",
              file=sys.stderr)
        return False, False
    upgrade()
    return True, False


def run(url: str, tmp: str, seconds: float, writer_counts: list[int], *, own_database: bool) -> bool:
    from sqlalchemy import MetaData, text

    from app.db import db

    app = _app(url, tmp)
    ok = True
    with app.app_context():
        usable, migrated_here = _prepare_database(db)
        if not usable:
            return False
        dialect = db.engine.dialect.name
        metadata = MetaData()
        plain = _plain_table(metadata)
        plain.drop(db.engine, checkfirst=True)
        metadata.create_all(db.engine)
        settings = ""
        if dialect == "postgresql":
            settings = ", ".join(f"{name}={db.session.execute(text(f'SHOW {name}')).scalar()}"
                                 for name in ("synchronous_commit", "fsync", "wal_sync_method"))
            db.session.rollback()
        verified_ok, verified, _s = _verify(db)
        if not verified_ok:
            print(f"refused: the chain does not verify before the run: {verified}", file=sys.stderr)
            return False

        spawn = multiprocessing.get_context("spawn")
        results = spawn.Queue()
        inboxes = [spawn.Queue() for _ in range(max(writer_counts))]
        workers = [spawn.Process(target=_worker, args=(n, url, tmp, inboxes[n], results), daemon=True)
                   for n in range(len(inboxes))]
        for worker in workers:
            worker.start()
        rows = []
        try:
            for _ in workers:
                results.get(timeout=300)
            for writers in writer_counts:
                row = {"writers": writers}
                for mode in ("plain", "chained"):
                    before = _head(db)
                    start_at = time.time() + 0.5
                    for n in range(writers):
                        inboxes[n].put((mode, start_at, seconds))
                    parts = [results.get(timeout=seconds + 120) for _ in range(writers)]
                    count = sum(p[2] for p in parts)
                    row[mode] = count / seconds
                    row[mode + "_latency"] = [x for p in parts for x in p[4]]
                    if mode == "chained":
                        row["holds"] = [x for p in parts for x in p[3]]
                    chain_ok, problem, verify_s = _verify(db)
                    moved = _head(db) - before
                    expected = count if mode == "chained" else 0
                    if not chain_ok or moved != expected:
                        ok = False
                        print(f"chain check FAILED after {mode} x{writers}: {problem}; head moved {moved}, "
                              f"expected {expected}", file=sys.stderr)
                    row[mode + "_verify"] = (chain_ok and moved == expected, problem, verify_s)
                rows.append(row)
        finally:
            for inbox in inboxes:
                inbox.put(None)
            for worker in workers:
                worker.join(30)
                if worker.is_alive():
                    worker.terminate()
        plain.drop(db.engine)
        if migrated_here and not own_database:
            from bench import release_database

            release_database(db)

    print(f"database            {dialect}{'  (' + settings + ')' if settings else ''}")
    print(f"each run            {seconds:g} s per writer count and mode; one transaction per event")
    print("lock hold per chained event (head row locked -> commit returned), ms")
    print(f"  {'writers':>7}  {'median':>7}  {'p95':>7}  {'plain insert+commit median':>27}  target")
    for row in rows:
        hold_50, hold_95 = _ms(row["holds"], 0.5), _ms(row["holds"], 0.95)
        met = "met" if hold_50 < LOCK_TARGET_MS and hold_95 < LOCK_TARGET_MS else "MISSED"
        if dialect != "postgresql":
            met += " (the target is PostgreSQL's)"
        print(f"  {row['writers']:>7}  {hold_50:7.3f}  {hold_95:7.3f}  {_ms(row['plain_latency'], 0.5):27.3f}  "
              f"< {LOCK_TARGET_MS:g} ms (median and p95): {met}")
    print("throughput, events/s (baseline: plain INSERT into bench_plain_event, no chain)")
    print(f"  {'writers':>7}  {'plain':>9}  {'chained':>9}  {'ratio':>6}  target  {'chain verified':<14}")
    for row in rows:
        ratio = row["chained"] / row["plain"] if row["plain"] else float("nan")
        verified = "yes" if row["chained_verify"][0] and row["plain_verify"][0] else "NO"
        print(f"  {row['writers']:>7}  {row['plain']:9.0f}  {row['chained']:9.0f}  {ratio:6.0%}  "
              f">= {RATIO_TARGET:.0%}: {'met' if ratio >= RATIO_TARGET else 'MISSED'}  "
              f"{verified} ({row['chained_verify'][1]}, {row['chained_verify'][2]:.2f} s)")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("LOTS_BENCH_DATABASE_URL"),
                        help="a scratch PostgreSQL database (default: a temporary SQLite file)")
    parser.add_argument("--seconds", type=float, default=5.0, help="per writer count and mode (default %(default)s)")
    parser.add_argument("--writers", default="1,2,4,8", help="writer process counts (default %(default)s)")
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.writers.split(",") if n.strip()]
    if not counts or min(counts) < 1:
        parser.error("--writers: positive counts, comma-separated")
    with tempfile.TemporaryDirectory(prefix="lots-bench-audit-lock-") as tmp:
        if args.database_url:
            return 0 if run(args.database_url, tmp, args.seconds, counts, own_database=False) else 1
        url = f"sqlite:///{Path(tmp) / 'audit.db'}"
        return 0 if run(url, tmp, args.seconds, counts, own_database=True) else 1


if __name__ == "__main__":
    sys.exit(main())
