"""The evaluation of an intervention over 1,000,000 reports, next to the raw SQL GROUP BY it needs.

    .venv/bin/python -m bench.evaluation [--reports 1000000] [--sqlite-reports 100000] [--rounds 15]
                                         [--database-url URL] [--skip-sqlite]

Two runs, each on a throw-away database, populated by bench.overview.build (the same 10 areas, 16 categories
and two years of reports, bulk-loaded with COPY on PostgreSQL):
- PostgreSQL (--database-url or LOTS_BENCH_DATABASE_URL: an EMPTY scratch database, wiped afterwards) with
  --reports reports; skipped, and said so, when no URL is given;
- SQLite (a temporary file) with --sqlite-reports reports.

An intervention over 2 areas × 3 categories starts on the Monday 16 weeks ago. Timed, interleaved round by
round (median and p95 of --rounds):
- baseline: the raw SQL GROUP BY (area, ISO week) of accepted reports of those categories in all 10 areas over
  the 25 weeks, written by hand and sent straight to the driver;
- baseline: evaluate()'s own query, compiled with literal values, sent straight to the driver;
- app.processes.evaluation.evaluate() with 12 weeks before and after and the 8 other areas as comparison;
- GET /interventions/<id>/evaluation (analyst, through the real login form): the page with its chart.
Target: evaluate() < 1 s on PostgreSQL (on SQLite for information).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from bench.processes import _inline, p95, raw_runner, timings

from bench import bench_app, claim_database, release_database

TARGET_MS = 1000.0
AREAS = ("omr00", "omr01")
CATEGORIES = ("skadegorelse", "klotter", "samling")
WEEKS_BEFORE = WEEKS_AFTER = 12
START_WEEKS_AGO = 16


def _setup(db):
    """The intervention and the evaluate() arguments."""
    from sqlalchemy import select

    from app.admin.models import Agency
    from app.overview.models import Area, Category
    from app.processes.dates import local_today
    from app.processes.models import Intervention, InterventionKind

    today = local_today()
    start = today - timedelta(days=today.weekday(), weeks=START_WEEKS_AGO)
    areas = {a.code: a for a in db.session.scalars(select(Area))}
    categories = [c for c in db.session.scalars(select(Category)) if c.code in CATEGORIES]
    intervention = Intervention(title="Fiktiv insats (bench)", kind=InterventionKind.EXTRA_PATROLS,
                                agency_id=db.session.scalar(select(Agency.id).limit(1)), start_date=start,
                                description="Fiktiv.")
    intervention.areas = [areas[c] for c in AREAS]
    intervention.categories = categories
    db.session.add(intervention)
    db.session.commit()
    targeted = [areas[c].id for c in AREAS]
    kwargs = {"area_ids": targeted, "category_ids": [c.id for c in categories], "start": start,
              "weeks_before": WEEKS_BEFORE, "weeks_after": WEEKS_AFTER,
              "comparison_area_ids": [a.id for code, a in areas.items() if code not in AREAS], "today": today}
    return intervention.id, kwargs


def _plain_sql(kwargs) -> str:
    first = kwargs["start"] - timedelta(weeks=WEEKS_BEFORE)
    last = kwargs["start"] + timedelta(weeks=WEEKS_AFTER + 1) - timedelta(days=1)
    ids = ", ".join(str(i) for i in kwargs["area_ids"] + kwargs["comparison_area_ids"])
    cats = ", ".join(str(i) for i in kwargs["category_ids"])
    return ("SELECT area_id, iso_year, iso_week, count(*) FROM incident_report "
            f"WHERE status = 'accepted' AND local_date BETWEEN '{first.isoformat()}' AND '{last.isoformat()}' "
            f"AND category_id IN ({cats}) AND area_id IN ({ids}) GROUP BY area_id, iso_year, iso_week")


def _own_sql(app, db, kwargs) -> list[str]:
    """evaluate()'s statements, captured while it runs once, with literal values."""
    from sqlalchemy import event

    from app.processes.evaluation import evaluate

    captured = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "incident_report" in statement:
            captured.append(_inline(db, statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        with app.test_request_context():
            evaluate(**kwargs)
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    return captured


def run_one(url: str, reports: int, rounds: int, tmp: Path) -> bool:

    from app.db import db
    from app.processes.evaluation import evaluate
    from bench import overview

    app = bench_app(url, tmp)
    with app.app_context():
        if not claim_database(db):
            return False
        raw = None
        try:
            print(f"Database: {db.engine.dialect.name}")
            overview.build(db, reports)
            intervention_id, kwargs = _setup(db)
            own = _own_sql(app, db, kwargs)
            raw = db.engine.raw_connection()
            client = app.test_client()
            overview._login(client)
            result = {}

            def run_evaluate():
                with app.test_request_context():
                    result["ev"] = evaluate(**kwargs)

            path = f"/interventions/{intervention_id}/evaluation"

            def page():
                resp = client.get(path)
                assert resp.status_code == 200, resp.status_code

            plain_ms, own_ms, eval_ms, page_ms = timings(
                [raw_runner(raw, [_plain_sql(kwargs)]), raw_runner(raw, own), run_evaluate, page], rounds)
            median = statistics.median(eval_ms)
            postgres = db.engine.dialect.name == "postgresql"
            ok = median < TARGET_MS or not postgres
            ev = result["ev"]
            verdict = ("met" if median < TARGET_MS else "MISSED") if postgres else "for information"
            print(f"  intervention: {len(AREAS)} areas × {len(CATEGORIES)} categories from {kwargs['start']}, "
                  f"{ev.before_weeks}+{ev.after_weeks} weeks counted, {ev.treated_before_total + ev.treated_after_total:,} "
                  f"targeted and {ev.comparison_before_total + ev.comparison_after_total:,} comparison reports")
            print(f"  {rounds} rounds (median / p95):")
            print(f"  baseline: raw SQL GROUP BY area and week (10 areas, 25 weeks)   "
                  f"{statistics.median(plain_ms):8.1f} / {p95(plain_ms):8.1f} ms")
            print(f"  baseline: raw SQL, evaluate()'s own query ({len(own)})                 "
                  f"{statistics.median(own_ms):8.1f} / {p95(own_ms):8.1f} ms")
            print(f"  evaluate() 12 weeks before/after, 8 comparison areas        {median:8.1f} / "
                  f"{p95(eval_ms):8.1f} ms   target < {TARGET_MS:.0f} ms on PostgreSQL: {verdict}")
            print(f"  GET {path} (analyst, with chart)           "
                  f"{statistics.median(page_ms):8.1f} / {p95(page_ms):8.1f} ms")
            return ok
        finally:
            if raw is not None:
                raw.close()
            release_database(db)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.evaluation", description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=1_000_000, help="reports on PostgreSQL")
    parser.add_argument("--sqlite-reports", type=int, default=100_000, help="reports on SQLite")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--database-url", default=os.environ.get("LOTS_BENCH_DATABASE_URL"),
                        help="an EMPTY scratch PostgreSQL database, wiped afterwards")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args(argv)

    ok = True
    with tempfile.TemporaryDirectory(prefix="lots-bench-") as tmp:
        if args.database_url:
            ok = run_one(args.database_url, args.reports, args.rounds, Path(tmp)) and ok
        else:
            print("PostgreSQL: skipped (set LOTS_BENCH_DATABASE_URL or --database-url to an empty scratch database)")
        if not args.skip_sqlite:
            sqlite_dir = Path(tmp) / "sqlite"
            sqlite_dir.mkdir()
            ok = run_one(f"sqlite:///{sqlite_dir / 'bench.db'}", args.sqlite_reports, args.rounds, sqlite_dir) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
