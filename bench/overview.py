"""The weekly overview on a large database: page, period view and PDF, next to the raw SQL they need.

    .venv/bin/python -m bench.overview [--reports 1000000] [--sqlite-reports 100000] [--database-url URL]
                                       [--rounds 15]

Two runs, each on a throw-away database:
- PostgreSQL (--database-url or LOTS_BENCH_DATABASE_URL: an EMPTY scratch database, wiped afterwards) with
  --reports reports (bulk-loaded with COPY; descriptions NULL), about two years of weeks ending this week.
  Skipped, and said so, when no URL is given.
- SQLite (a temporary file) with --sqlite-reports reports, bulk-loaded with executemany.

Each timing is the median of --rounds requests (interleaved with its baseline, round by round, so a busy
machine slows both alike) through the Flask test client, logged in as an analyst
through the real login form (password + TOTP), and is printed beside its target and beside the raw SQL
aggregation measured in the same run: the GROUP BY that week_figures runs (the week, the 12 weeks before it
and the same week last year), sent straight to the driver. Targets: the week page < 300 ms (both engines)
and <= 3x that raw SQL (PostgreSQL); the year period view < 1 s and the weekly PDF < 3 s (on PostgreSQL, or
on SQLite when PostgreSQL is skipped). No index beyond migration 0005's is needed for these.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bench import bench_app, claim_database, release_database

PAGE_TARGET_MS = 300.0
PAGE_RATIO_TARGET = 3.0
PERIOD_TARGET_MS = 1000.0
PDF_TARGET_MS = 3000.0
EMAIL = "bench.analytiker@example.org"
PASSWORD = secrets.token_urlsafe(16)
WEEKS = 104
CATEGORIES = [("skadegorelse", "Skadegörelse", "Vandalism"), ("klotter", "Klotter", "Graffiti"),
              ("nedskrapning", "Nedskräpning", "Littering"), ("brand", "Brand", "Fire"),
              ("samling", "Otrygghetsskapande samling", "Insecurity-creating gathering"), ("hot", "Hot", "Threats"),
              ("vald", "Våld/bråk", "Violence, fights"), ("narkotika", "Misstänkt narkotikahantering", "Suspected drugs"),
              ("otrygg_plats", "Otrygg plats", "Unsafe place"), ("personal", "Incident mot personal", "Against staff"),
              ("stold", "Inbrott/stöld", "Burglary, theft"), ("buskorning", "Buskörning", "Reckless driving"),
              ("ordning", "Ordningsstörning", "Public disorder"), ("sociala_medier", "Oro i sociala medier", "Unrest online"),
              ("arrangemang", "Arrangemang/information", "Planned event"), ("ovrigt", "Övrigt", "Other")]


def _grid_polygon(i: int) -> list[list[float]]:
    """Ten fictitious areas in a 5 × 2 grid around 17.9 E, 59.43 N, with a slanted edge so they are not boxes."""
    col, row = i % 5, i // 5
    x0, y0, w, h = 17.86 + col * 0.03, 59.40 + row * 0.035, 0.03, 0.035
    return [[x0, y0], [x0 + w, y0 + 0.004 * (col % 2)], [x0 + w, y0 + h], [x0 + 0.006, y0 + h]]


def build(db, reports: int, seed: int = 5) -> tuple[int, int]:
    """Areas, categories, an agency, an analyst with TOTP, and ``reports`` reports; returns the week to show."""
    import pyotp

    from app.admin import service as admin_service
    from app.admin.models import Agency, AgencyKind
    from app.extensions import security
    from app.overview.models import Area, Category
    from app.overview.service import description_key, local_week

    rng = random.Random(seed)
    areas = [Area(code=f"omr{i:02d}", name=f"Fiktivt område {i + 1}", polygon=json.dumps(_grid_polygon(i)))
             for i in range(10)]
    categories = [Category(code=code, name_sv=sv, name_en=en, sort_order=i)
                  for i, (code, sv, en) in enumerate(CATEGORIES)]
    agency = Agency(name="Fiktiva fältgruppen", kind=AgencyKind.YOUTH)
    db.session.add_all([*areas, *categories, agency])
    db.session.flush()
    user = admin_service.create_user(EMAIL, "Fiktiv Analytiker", agency, ["analyst"], PASSWORD)
    user.totp_key = pyotp.random_base32()
    user.tf_totp_secret = security._totp_factory._totp(key=user.totp_key, format="base32").to_json(encrypt=True)
    user.tf_primary_method = "authenticator"
    user.mf_recovery_codes = ["bench-reservkod-1"]  # enrolled: the start page asks for none
    db.session.commit()
    TOTP["key"] = user.totp_key

    now = datetime.now(timezone.utc)
    first = now - timedelta(weeks=WEEKS)
    keys = {}
    weights = [[rng.uniform(0.2, 3.0) for _ in categories] for _ in areas]
    cells = [(a.id, c.id, weights[i][j]) for i, a in enumerate(areas) for j, c in enumerate(categories)]
    cell_weights = [w for _, _, w in cells]
    span = (now - first).total_seconds()

    def rows():
        for _ in range(reports):
            # Seasonal: more in late spring and summer evenings.
            while True:
                at = first + timedelta(seconds=rng.random() * span)
                season = 1 + 0.4 * math.sin((at.timetuple().tm_yday - 80) / 365 * 6.283)
                if rng.random() < season / 1.4:
                    break
            area_id, category_id, _w = rng.choices(cells, cell_weights)[0]
            day, iso_year, iso_week = local_week(at)
            month = (day.year, day.month)
            if month not in keys:
                keys[month] = description_key(day).id
            r = rng.random()
            status = "accepted" if r < 0.9 else "rejected" if r < 0.95 else "new"
            yield (uuid.uuid4(), keys[month], at, day, iso_year, iso_week, area_id, category_id, "public", status,
                   agency.id, "import", 1)

    columns = ("id", "data_key_id", "occurred_at", "local_date", "iso_year", "iso_week", "area_id", "category_id",
               "setting", "status", "organisation_id", "source", "version")
    t0 = time.perf_counter()
    if db.engine.dialect.name == "postgresql":
        generated = list(rows())
        db.session.commit()
        raw = db.session.connection().connection.driver_connection
        with raw.cursor() as cur, cur.copy(f"COPY incident_report ({', '.join(columns)}) FROM STDIN") as copy:
            for row in generated:
                copy.write_row(row)
        raw.commit()
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE incident_report")
    else:
        from sqlalchemy import insert, text

        from app.overview.models import IncidentReport

        batch = []
        for row in rows():
            batch.append(dict(zip(columns, row)))
            if len(batch) == 20_000:
                db.session.execute(insert(IncidentReport.__table__), batch)
                batch = []
        if batch:
            db.session.execute(insert(IncidentReport.__table__), batch)
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    print(f"  set-up: {reports:,} reports over {WEEKS} weeks loaded in {time.perf_counter() - t0:.1f} s")
    iso = (now - timedelta(weeks=1)).astimezone(timezone.utc).isocalendar()
    return iso[0], iso[1]


#: The bench analyst's TOTP secret, set by build().
TOTP: dict[str, str] = {}


def _login(client):
    import re

    import pyotp

    def csrf(text):
        return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', text).group(1)

    page = client.get("/login")
    resp = client.post("/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": csrf(page.text)})
    page = client.get(resp.headers["Location"])
    resp = client.post("/tf-validate", data={"code": pyotp.TOTP(TOTP["key"]).now(), "csrf_token": csrf(page.text)})
    assert resp.status_code == 302, "login failed"


def _median_ms(fn, rounds: int) -> float:
    return _interleaved_ms([fn], rounds)[0]


def _interleaved_ms(fns, rounds: int) -> list[float]:
    """Median time of each function, run in turn within every round so that a busy machine slows all alike."""
    for fn in fns:
        fn()  # warm-up: templates compiled, caches filled, statements prepared
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(rounds):
        for fn, out in zip(fns, samples):
            t0 = time.perf_counter()
            fn()
            out.append((time.perf_counter() - t0) * 1000)
    return [statistics.median(out) for out in samples]


def _raw_week_sql(db, year: int, week: int) -> tuple[str, str]:
    """The GROUP BY of week_figures, compiled to SQL with literal values, and the one-week-only variant."""
    from sqlalchemy import func, select

    from app.overview.figures.aggregate import R, _week_ranges, week_counts_query
    from app.overview.figures.weeks import same_week_last_year, shift_week
    from app.overview.models import ReportStatus

    last = same_week_last_year(year, week)
    ranges = _week_ranges([shift_week(year, week, -k) for k in range(12, -1, -1)]) + [(last[0], last[1], last[1])]
    one = (select(R.category_id, R.area_id, func.count())
           .where(R.status == ReportStatus.ACCEPTED, R.iso_year == year, R.iso_week == week)
           .group_by(R.category_id, R.area_id))
    compile_kwargs = {"literal_binds": True}
    return (str(week_counts_query(ranges).compile(db.engine, compile_kwargs=compile_kwargs)),
            str(one.compile(db.engine, compile_kwargs=compile_kwargs)))


def _raw_runner(raw, sql: str):
    """Send ``sql`` straight to the driver and fetch every row."""
    def run():
        cur = raw.cursor()
        cur.execute(sql)
        cur.fetchall()
        cur.close()
    return run


def run_one(url: str, reports: int, rounds: int, tmp: Path, *, pdf_and_period: bool) -> bool:

    from app.db import db

    app = bench_app(url, tmp)
    with app.app_context():
        if not claim_database(db):
            return False
        raw = None
        try:
            print(f"Database: {db.engine.dialect.name}")
            year, week = build(db, reports)
            full_sql, one_sql = _raw_week_sql(db, year, week)
            raw = db.engine.raw_connection()
            client = app.test_client()
            _login(client)
            path = f"/overview/{year}/{week}"

            def page():
                resp = client.get(path)
                assert resp.status_code == 200, resp.status_code

            raw_full, raw_one, page_ms = _interleaved_ms(
                [_raw_runner(raw, full_sql), _raw_runner(raw, one_sql), page], rounds)
            ratio_ok = page_ms <= PAGE_RATIO_TARGET * raw_full
            # The issue sets the ratio target on PostgreSQL only; on SQLite the target is < 300 ms.
            postgres = db.engine.dialect.name == "postgresql"
            ok = page_ms < PAGE_TARGET_MS and (ratio_ok or not postgres)
            ratio_verdict = ("met" if ratio_ok else "MISSED") if postgres else "for information"
            print(f"  week {year}-W{week:02d}, {rounds} rounds, medians:")
            print(f"  baseline: raw SQL, the week's GROUP BY as week_figures runs it (14 weeks) {raw_full:8.1f} ms")
            print(f"  baseline: raw SQL, GROUP BY of this one week only                  {raw_one:8.1f} ms")
            print(f"  GET {path} (analyst, live figures)                      {page_ms:8.1f} ms   "
                  f"target < {PAGE_TARGET_MS:.0f} ms: {'met' if page_ms < PAGE_TARGET_MS else 'MISSED'}; "
                  f"{page_ms / raw_full:.1f}x the 14-week raw SQL (target <= {PAGE_RATIO_TARGET:.0f}x on "
                  f"PostgreSQL): {ratio_verdict}")
            if pdf_and_period:
                period_path = f"/overview/period?preset={year - 1}"

                def period():
                    resp = client.get(period_path)
                    assert resp.status_code == 200, resp.status_code

                start = f"{year - 1}-01-01"
                raw_period, period_ms = _interleaved_ms([_raw_runner(raw, (
                    "SELECT iso_year, iso_week, category_id, area_id, count(*) FROM incident_report "
                    f"WHERE status = 'accepted' AND local_date BETWEEN '{start}' AND '{year - 1}-12-31' "
                    "GROUP BY iso_year, iso_week, category_id, area_id")), period], max(rounds // 3, 3))
                print(f"  baseline: raw SQL, a year's GROUP BY by week, category and area    {raw_period:8.1f} ms")
                print(f"  GET {period_path} (a year, against the year before)    {period_ms:8.1f} ms   "
                      f"target < {PERIOD_TARGET_MS:.0f} ms: {'met' if period_ms < PERIOD_TARGET_MS else 'MISSED'}")

                def pdf():
                    resp = client.get(path + ".pdf")
                    assert resp.status_code == 200 and resp.data.startswith(b"%PDF"), resp.status_code

                pdf_ms = _median_ms(pdf, 3)
                print(f"  baseline: the week page itself (above)                             {page_ms:8.1f} ms")
                print(f"  GET {path}.pdf (live, Swedish)                          {pdf_ms:8.1f} ms   "
                      f"target < {PDF_TARGET_MS:.0f} ms: {'met' if pdf_ms < PDF_TARGET_MS else 'MISSED'}")
                ok = ok and period_ms < PERIOD_TARGET_MS and pdf_ms < PDF_TARGET_MS
            return ok
        finally:
            if raw is not None:
                raw.close()
            release_database(db)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.overview", description=__doc__.splitlines()[0])
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
            ok = run_one(args.database_url, args.reports, args.rounds, Path(tmp), pdf_and_period=True) and ok
        else:
            print("PostgreSQL: skipped (set LOTS_BENCH_DATABASE_URL or --database-url to an empty scratch database)")
        if not args.skip_sqlite:
            sqlite_dir = Path(tmp) / "sqlite"
            sqlite_dir.mkdir()
            ok = run_one(f"sqlite:///{sqlite_dir / 'bench.db'}", args.sqlite_reports, args.rounds, sqlite_dir,
                         pdf_and_period=not args.database_url) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
