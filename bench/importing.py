"""CSV import benchmark: 100,000 generated rows, preview and confirmed import, beside a raw INSERT baseline.

    .venv/bin/python -m bench.importing [--rows 100000] [--database-url URL]

Runs against a throw-away SQLite database and key file in a temporary
directory, or an EMPTY scratch PostgreSQL database given by --database-url (or
LOTS_BENCH_DATABASE_URL), which is wiped afterwards. The import runs the same
code as the background thread (one transaction, chunked Core inserts,
descriptions encrypted). The baseline, measured in the same run, inserts the
same number of already prepared rows with one executemany and no parsing,
validation, duplicate lookups or encryption (and is rolled back).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bench import release_database

TARGET_S = 30.0


def _csv(rows: int, areas: list[str], categories: list[str]) -> bytes:
    """A Swedish-style export: ';', Swedish headers, local times, every row with place and description."""
    rng = random.Random(5)
    start = datetime(2025, 1, 1, 0, 0)
    lines = ["Extern id;Datum/tid;Område;Kategori;Miljö;Plats;Beskrivning"]
    for n in range(rows):
        when = start + timedelta(minutes=rng.randrange(0, 600 * 24 * 60))
        lines.append(";".join([
            f"SRC-{n:07d}", when.strftime("%Y-%m-%d %H:%M"), rng.choice(areas), rng.choice(categories),
            rng.choice(("offentlig", "halvoffentlig")), f"Vid platsen {n % 500}",
            f"Fiktiv händelse nummer {n}: beskrivning utan namn, några ord om vad som hände.",
        ]))
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _setup(db):
    from app.admin.models import Agency, AgencyKind
    from app.overview.models import Area, Category
    from app.security.models import Role, User

    agency = Agency(name="Bench bostadsbolag", kind=AgencyKind.HOUSING)
    role = db.session.scalar(db.select(Role).where(Role.name == "analyst"))
    user = User(email="bench-analyst@example.org", full_name="Bench", fs_uniquifier=uuid.uuid4().hex,
                agency=agency, roles=[role] if role else [])
    areas = [Area(code=f"omr-{i}", name=f"Område {i}") for i in range(12)]
    categories = [Category(code=f"kat-{i}", name_sv=f"Kategori {i}", name_en=f"Category {i}") for i in range(16)]
    db.session.add_all([agency, user, *areas, *categories])
    db.session.commit()
    found = user.id, [a.code for a in areas], [c.name_sv for c in categories]
    db.session.close()
    return found


def _baseline(db, rows: int, area_id: int, category_id: int, organisation_id: int, key_id) -> float:
    """One executemany of ready rows (no parsing, validation, lookups or encryption); rolled back."""
    from sqlalchemy import insert

    from app.overview.models import IncidentReport

    now = datetime.now(timezone.utc)
    # The stored rows carry a place ciphertext of the size the import writes (the baseline does not encrypt).
    place_blob = b"v1" + bytes(16 + 12 + 32 + 16)
    prepared = [{
        "id": uuid.uuid4(), "data_key_id": key_id, "occurred_at": now, "occurred_until": None,
        "local_date": now.date(), "iso_year": 2026, "iso_week": 1, "area_id": area_id, "category_id": category_id,
        "setting": "public", "place_ct": place_blob, "latitude": None, "longitude": None,
        "description_ct": None, "status": "new", "reject_reason": None, "duplicate_of_id": None,
        "reviewed_at": None, "reviewed_by_id": None, "reporter_id": None, "organisation_id": organisation_id,
        "source": "import", "external_id": f"BASE-{n:07d}", "fingerprint": None, "submission_id": None,
        "import_job_id": None, "version": 1, "created_at": now, "updated_at": now,
    } for n in range(rows)]
    t0 = time.perf_counter()
    db.session.execute(insert(IncidentReport.__table__), prepared)
    db.session.flush()
    elapsed = time.perf_counter() - t0
    db.session.rollback()
    return elapsed


def run(db, app, rows: int) -> bool:
    from sqlalchemy import func, select

    from app.overview.importing import runner, service
    from app.overview.models import Area, Category, ImportJob, IncidentKeyPeriod, IncidentReport

    from app.security.models import User

    user_id, area_codes, category_names = _setup(db)
    raw = _csv(rows, area_codes, category_names)
    print(f"Importing {rows:,} CSV rows ({len(raw) / 1e6:.1f} MB) on {db.engine.dialect.name}")

    with app.test_request_context():
        user = db.session.get(User, user_id)
        t0 = time.perf_counter()
        job = service.create_import(raw, filename="bench.csv", organisation_id=user.agency_id, user=user)
        db.session.commit()
        preview = time.perf_counter() - t0
        assert job.invalid == 0 and job.total_rows == rows, (job.invalid, job.total_rows)
        service.confirm_import(job, accept=False, user=user)
        job_id = job.id
        db.session.commit()
        # The request context shares the outer app context's session here: end its transaction.
        db.session.close()
    t1 = time.perf_counter()
    runner.run_background_job(app, job_id)  # what the background thread runs, here in the foreground
    elapsed = time.perf_counter() - t1
    with app.app_context():
        job = db.session.get(ImportJob, job_id)
        stored = db.session.scalar(select(func.count()).select_from(IncidentReport)
                                   .where(IncidentReport.import_job_id == job_id))
        assert job.status.value == "done" and stored == rows, (job.status, job.error, stored)

        organisation_id = job.organisation_id
        db.session.close()
        with app.test_request_context():
            user = db.session.get(User, user_id)
            t2 = time.perf_counter()
            again = service.create_import(raw, filename="bench.csv", organisation_id=organisation_id, user=user)
            db.session.commit()
            reimport = time.perf_counter() - t2
            assert again.duplicates == rows

        area_id = db.session.scalar(select(Area.id).limit(1))
        category_id = db.session.scalar(select(Category.id).limit(1))
        key_id = db.session.scalar(select(IncidentKeyPeriod.data_key_id).limit(1))
        baseline = _baseline(db, rows, area_id, category_id, organisation_id, key_id)

    ok = elapsed < TARGET_S
    print(f"  upload + preview (decode, map, validate, duplicate lookup): {preview:6.2f} s")
    print(f"  confirmed import, one transaction ({rows / elapsed:,.0f} rows/s):   {elapsed:6.2f} s"
          f"   target < {TARGET_S:.0f} s: {'met' if ok else 'MISSED'}")
    print(f"  preview of the same file again (all {rows:,} rows duplicates):   {reimport:6.2f} s")
    print(f"  baseline: raw executemany of {rows:,} prepared rows:           {baseline:6.2f} s"
          f"   (import = {elapsed / baseline:.1f}x baseline)")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.importing", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", default=os.environ.get("LOTS_BENCH_DATABASE_URL"),
                        help="an EMPTY scratch PostgreSQL database, wiped afterwards; default: temporary SQLite")
    args = parser.parse_args(argv)

    from flask_migrate import upgrade
    from sqlalchemy import inspect

    from app import create_app
    from app.db import db

    with tempfile.TemporaryDirectory(prefix="lots-bench-") as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        app = create_app({"ENV": "test", "SQLALCHEMY_DATABASE_URI": url, "TESTING": True,
                          "LOTS_KEY_FILE": str(Path(tmp) / "master-keys.json")})
        with app.app_context():
            if inspect(db.engine).get_table_names():
                print("The benchmark database must be empty: it is wiped afterwards.", file=sys.stderr)
                return 2
            upgrade()
            try:
                ok = run(db, app, args.rows)
            finally:
                release_database(db)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
