"""The cross-process late/due page with 500 processes and 20,000 milestones, next to the raw SQL it needs.

    .venv/bin/python -m bench.processes [--processes 500] [--milestones 20000] [--rounds 30] [--database-url URL]
                                        [--skip-sqlite]

Two runs, each on a throw-away database:
- PostgreSQL (--database-url or LOTS_BENCH_DATABASE_URL: an EMPTY scratch database, wiped afterwards);
  skipped, and said so, when no URL is given;
- SQLite (a temporary file).

Each builds 30 agencies, a process leader (password + TOTP), 500 processes with 4–6 participating agencies,
20,000 milestones (40 per process; due dates from 200 days ago to 400 days ahead; most past ones done, so
about 3 % are late and 2–3 % due within 14 days; a dependency chain inside each process) and one meeting per
process with 4 action items. Then GET /processes/due as the process leader (who sees every process) through the
Flask test client, logged in through the real login form, --rounds times, interleaved round by round with two
raw-SQL baselines sent straight to the driver:
- the plain late/due SELECT (open milestones and action items due by today + 14 days, with process and agency
  names, ordered by agency and date);
- the page's own two queries (windowed per agency, as app.processes.due runs them), compiled with literal values.
Prints median and p95 of each. Target: the page < 300 ms (median).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import secrets
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench import bench_app, claim_database, release_database

PAGE_TARGET_MS = 300.0
EMAIL = "bench.processledare@example.org"
PASSWORD = secrets.token_urlsafe(16)
AGENCIES = 30


def build(db, processes: int, milestones: int, seed: int = 6) -> str:
    """Agencies, the process leader, processes, milestones (with dependencies), meetings and action items.

    Returns the leader's TOTP key.
    """
    from sqlalchemy import func, insert, select

    from app.admin import service as admin_service
    from app.admin.models import AgencyKind
    from app.processes.dates import local_today
    from app.processes.models import (
        ActionItem,
        Meeting,
        MeetingKind,
        Milestone,
        Process,
        ProcessStatus,
        ProcessType,
        WorkStatus,
        milestone_dependency,
        process_agency,
    )
    from bench.cases import _user

    rng = random.Random(seed)
    today = local_today()
    t0 = time.perf_counter()
    kinds = list(AgencyKind)
    agencies = [admin_service.create_agency(f"Fiktiv myndighet {i + 1:02d} (bench)", kinds[i % len(kinds)])
                for i in range(AGENCIES)]
    leader = _user(agencies[0], ["process_leader"], EMAIL, PASSWORD)
    db.session.flush()
    totp_key = leader.totp_key
    agency_ids = [a.id for a in agencies]
    types = list(ProcessType)
    db.session.execute(insert(Process.__table__), [
        {"name": f"Fiktiv process {n + 1:03d}", "type": types[n % len(types)].value,
         "status": ProcessStatus.ACTIVE.value, "owner_id": leader.id, "owner_agency_id": agency_ids[0],
         "goal": "Fiktivt mål.", "start_date": today - timedelta(days=rng.randrange(100, 400)),
         "end_date": today + timedelta(days=rng.randrange(100, 500)), "version": 1}
        for n in range(processes)])
    process_ids = list(db.session.scalars(select(Process.id).order_by(Process.id)))
    participants = {pid: rng.sample(agency_ids[1:], rng.randrange(4, 7)) for pid in process_ids}
    db.session.execute(insert(process_agency), [{"process_id": pid, "agency_id": a}
                                                for pid, ids in participants.items() for a in ids])
    per_process = milestones // len(process_ids)
    rows = []
    for pid in process_ids:
        for k in range(per_process):
            due = today + timedelta(days=rng.randrange(-200, 400))
            if due < today:
                status = WorkStatus.DONE if rng.random() < 0.9 else rng.choice(
                    [WorkStatus.IN_PROGRESS, WorkStatus.PLANNED, WorkStatus.CANCELLED])
            else:
                status = rng.choice([WorkStatus.PLANNED, WorkStatus.PLANNED, WorkStatus.IN_PROGRESS])
            rows.append({"process_id": pid, "title": f"Fiktivt delmål {k + 1}", "due_date": due,
                         "agency_id": rng.choice(participants[pid]), "status": status.value, "version": 1})
    db.session.execute(insert(Milestone.__table__), rows)
    by_process: dict[int, list[int]] = {}
    for mid, pid in db.session.execute(select(Milestone.id, Milestone.process_id).order_by(Milestone.id)):
        by_process.setdefault(pid, []).append(mid)
    deps = [{"milestone_id": ids[i], "depends_on_id": ids[i - 1]}
            for ids in by_process.values() for i in range(1, len(ids)) if rng.random() < 0.3]
    db.session.execute(insert(milestone_dependency), deps)
    db.session.commit()
    for n, pid in enumerate(process_ids):
        meeting = Meeting(kind=MeetingKind.PROCESS, process_id=pid, title=f"Fiktivt möte {n + 1}",
                          held_on=today - timedelta(days=rng.randrange(1, 60)), created_by_id=leader.id)
        meeting.minutes, meeting.decisions = "Fiktivt protokoll.", "Fiktivt beslut."
        db.session.add(meeting)
        for k in range(4):
            db.session.add(ActionItem(meeting=meeting, title=f"Fiktiv åtgärd {k + 1}",
                                      agency_id=rng.choice(participants[pid]),
                                      due_date=today + timedelta(days=rng.randrange(-30, 60)),
                                      status=rng.choice([WorkStatus.PLANNED, WorkStatus.DONE])))
        if n % 100 == 99:
            db.session.commit()
    db.session.commit()
    _analyze(db)
    horizon = today + timedelta(days=14)
    open_ = Milestone.status.not_in([WorkStatus.DONE.value, WorkStatus.CANCELLED.value])
    late = db.session.scalar(select(func.count()).select_from(Milestone).where(open_, Milestone.due_date < today))
    soon = db.session.scalar(select(func.count()).select_from(Milestone).where(
        open_, Milestone.due_date >= today, Milestone.due_date <= horizon))
    print(f"  set-up: {len(process_ids)} processes, {len(rows):,} milestones ({late:,} late, {soon:,} due within "
          f"14 days), {len(deps):,} dependencies, {len(process_ids) * 4:,} action items, {AGENCIES} agencies "
          f"in {time.perf_counter() - t0:.1f} s")
    return totp_key


def _analyze(db) -> None:
    from sqlalchemy import text

    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def login(client, email: str, password: str, totp_key: str) -> None:
    """Log in through the real forms: password, then a TOTP code."""
    import pyotp

    def csrf(html):
        return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)

    page = client.get("/login")
    resp = client.post("/login", data={"email": email, "password": password, "csrf_token": csrf(page.text)})
    page = client.get(resp.headers["Location"])
    resp = client.post("/tf-validate", data={"code": pyotp.TOTP(totp_key).now(), "csrf_token": csrf(page.text)})
    assert resp.status_code == 302, "login failed"


def timings(fns, rounds: int) -> list[list[float]]:
    """Milliseconds of each function per round, run in turn within every round (a busy machine slows all alike)."""
    for fn in fns:
        fn()  # warm-up: templates compiled, statements prepared
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(rounds):
        for fn, out in zip(fns, samples):
            t0 = time.perf_counter()
            fn()
            out.append((time.perf_counter() - t0) * 1000)
    return samples


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


def raw_runner(raw, sqls: list[str]):
    """Send each statement straight to the driver and fetch every row."""
    def run():
        for sql in sqls:
            cur = raw.cursor()
            cur.execute(sql)
            cur.fetchall()
            cur.close()
    return run


def _plain_sql(today, horizon) -> list[str]:
    """The late/due SELECT written by hand: what any page of this kind has to fetch."""
    return [
        ("SELECT m.id, m.title, m.due_date, m.status, p.name, a.name FROM milestone m "
         "JOIN process p ON p.id = m.process_id JOIN agency a ON a.id = m.agency_id "
         f"WHERE m.status NOT IN ('done', 'cancelled') AND m.due_date <= '{horizon.isoformat()}' "
         "ORDER BY a.name, m.due_date, m.id"),
        ("SELECT ai.id, ai.title, ai.due_date, ai.status, mt.title, a.name FROM action_item ai "
         "JOIN meeting mt ON mt.id = ai.meeting_id JOIN agency a ON a.id = ai.agency_id "
         f"WHERE ai.status NOT IN ('done', 'cancelled') AND ai.due_date <= '{horizon.isoformat()}' "
         "ORDER BY a.name, ai.due_date, ai.id"),
    ]


def _page_sql(app, db, today) -> list[str]:
    """The due page's own queries for the leader, compiled with literal values (captured while it runs once)."""
    from sqlalchemy import event, select

    from app.processes import due
    from app.security.models import User

    captured: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "row_number" in statement.lower():
            captured.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        with app.test_request_context():
            leader = db.session.scalar(select(User).where(User.email == EMAIL))
            due.due_overview(leader, today)
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    return [_inline(db, statement, parameters) for statement, parameters in captured]


def _inline(db, statement: str, parameters) -> str:
    """A captured statement with its bound parameters written in as literals (dates, numbers, strings only)."""
    from datetime import date

    def literal(value):
        if isinstance(value, (int, float)):
            return str(value)
        if isinstance(value, date):
            return f"'{value.isoformat()}'"
        return "'" + str(value).replace("'", "''") + "'"

    if isinstance(parameters, dict):
        for name in sorted(parameters, key=len, reverse=True):
            statement = statement.replace(f"%({name})s", literal(parameters[name]))
        return statement
    parts = statement.split("?")
    out = parts[0]
    for value, rest in zip(parameters, parts[1:]):
        out += literal(value) + rest
    return out


def run_one(url: str, processes: int, milestones: int, rounds: int, tmp: Path) -> bool:

    from app.db import db
    from app.processes.dates import local_today

    app = bench_app(url, tmp)
    with app.app_context():
        if not claim_database(db):
            return False
        raw = None
        try:
            print(f"Database: {db.engine.dialect.name}")
            totp_key = build(db, processes, milestones)
            today = local_today()
            plain = _plain_sql(today, today + timedelta(days=14))
            page_sql = _page_sql(app, db, today)
            raw = db.engine.raw_connection()
            client = app.test_client()
            login(client, EMAIL, PASSWORD, totp_key)

            def page():
                resp = client.get("/processes/due")
                assert resp.status_code == 200, resp.status_code

            sizes = len(client.get("/processes/due").data)
            plain_ms, own_ms, page_ms = timings([raw_runner(raw, plain), raw_runner(raw, page_sql), page], rounds)
            median = statistics.median(page_ms)
            ok = median < PAGE_TARGET_MS
            print(f"  {rounds} rounds (median / p95):")
            print(f"  baseline: raw SQL, the plain late/due SELECT (milestones + action items) "
                  f"{statistics.median(plain_ms):8.1f} / {p95(plain_ms):8.1f} ms")
            print(f"  baseline: raw SQL, the page's own windowed queries ({len(page_sql)})            "
                  f"{statistics.median(own_ms):8.1f} / {p95(own_ms):8.1f} ms")
            print(f"  GET /processes/due (process leader, {sizes // 1024} KiB of HTML)              "
                  f"{median:8.1f} / {p95(page_ms):8.1f} ms   target < {PAGE_TARGET_MS:.0f} ms: "
                  f"{'met' if ok else 'MISSED'}")
            return ok
        finally:
            if raw is not None:
                raw.close()
            release_database(db)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.processes", description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=500)
    parser.add_argument("--milestones", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--database-url", default=os.environ.get("LOTS_BENCH_DATABASE_URL"),
                        help="an EMPTY scratch PostgreSQL database, wiped afterwards")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args(argv)

    ok = True
    with tempfile.TemporaryDirectory(prefix="lots-bench-") as tmp:
        if args.database_url:
            ok = run_one(args.database_url, args.processes, args.milestones, args.rounds, Path(tmp)) and ok
        else:
            print("PostgreSQL: skipped (set LOTS_BENCH_DATABASE_URL or --database-url to an empty scratch database)")
        if not args.skip_sqlite:
            sqlite_dir = Path(tmp) / "sqlite"
            sqlite_dir.mkdir()
            ok = run_one(f"sqlite:///{sqlite_dir / 'bench.db'}", args.processes, args.milestones, args.rounds,
                         sqlite_dir) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
