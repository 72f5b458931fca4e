"""CSV import in a background thread: its own app context and session, one commit, progress visible meanwhile.

This test commits (the thread cannot see the test's uncommitted transaction),
so it builds its own data and removes all of it afterwards.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select


def test_background_thread_commits_once_and_shows_progress_meanwhile(app, monkeypatch):
    """The thread path: own app context and session; progress is visible while its transaction is open."""
    import threading

    from sqlalchemy import delete

    from app.extensions import db as real_db
    from app.overview.importing import runner, service
    from app.overview.models import Area, Category, ImportJob, IncidentKeyPeriod, IncidentReport
    from app.admin.models import Agency
    from app.security.crypto import DataKey
    from app.security.models import User
    from tests.conftest import Factory

    paused, resume = threading.Event(), threading.Event()
    real_insert = runner.insert_chunk
    calls = {"n": 0}

    def pausing_insert(session, rows):
        calls["n"] += 1
        if calls["n"] == 2:  # the first chunk is inserted (not committed) and its progress written
            paused.set()
            assert resume.wait(20)
        real_insert(session, rows)

    monkeypatch.setattr(runner, "CHUNK_SIZE", 3)
    monkeypatch.setattr(runner, "insert_chunk", pausing_insert)
    tag = uuid.uuid4().hex[:6]
    with app.app_context():
        periods_before = set(real_db.session.scalars(select(IncidentKeyPeriod.period)))
        real_db.session.remove()
    with app.test_request_context():
        session = real_db.session()
        factory = Factory(app, session)
        analyst = factory.user(roles=("analyst",))
        area = Area(code=f"thr-{tag}", name=f"Tråd {tag}")
        category = Category(code=f"thk-{tag}", name_sv=f"Trådkat {tag}", name_en=f"Thread {tag}")
        session.add_all([area, category])
        session.flush()
        text = "id;datum/tid;område;kategori\n" + "".join(
            f"T{i};2026-05-0{1 + i % 5} 12:00;{area.code};{category.code}\n" for i in range(8))
        job = service.create_import(text.encode(), filename="t.csv", organisation_id=analyst.agency_id, user=analyst)
        service.confirm_import(job, accept=False, user=analyst)
        start = None
        app.config["LOTS_IMPORT_SYNC"] = False
        start = service.run_now_or_later(job)
        app.config["LOTS_IMPORT_SYNC"] = True
        job_id, area_id, category_id, job_key_id = job.id, area.id, category.id, job.data_key_id
        user_id, agency_id = analyst.id, analyst.agency_id
        session.commit()
    assert callable(start)
    thread = start()
    try:
        assert paused.wait(20), "the import thread did not reach its first chunk"
        with app.app_context():
            # A plain DBAPI connection: it reads the last committed state without waiting for the
            # import's write lock (SQLAlchemy connections here begin with BEGIN IMMEDIATE on SQLite).
            raw = real_db.engine.raw_connection()
            try:
                cursor = raw.cursor()
                pg = real_db.engine.dialect.name == "postgresql"
                mark, ident = ("%s", job_id) if pg else ("?", job_id.hex)
                cursor.execute(f"SELECT count(*) FROM incident_report WHERE import_job_id = {mark}", (ident,))
                # Nothing is visible to others before the one commit...
                assert cursor.fetchone()[0] == 0
                cursor.execute(f"SELECT processed_rows FROM import_job WHERE id = {mark}", (ident,))
                stored = cursor.fetchone()[0]
                raw.rollback()
            finally:
                raw.close()
            # ...but the progress is (a separate connection on PostgreSQL, this process's memory on SQLite).
            processed = max(stored, runner.memory_progress(job_id) or 0)
            assert processed == 3
    finally:
        resume.set()
        thread.join(30)
    assert not thread.is_alive()
    try:
        with app.app_context():
            job = real_db.session.get(ImportJob, job_id)
            assert job.status.value == "done" and job.imported == 8 and job.processed_rows == 8
            assert job.content_ct is None
            assert real_db.session.scalar(select(func.count()).select_from(IncidentReport)
                                          .where(IncidentReport.import_job_id == job_id)) == 8
            assert runner.memory_progress(job_id) is None
    finally:
        with app.app_context():
            # This test commits (the thread needs committed data): leave nothing behind, data keys included,
            # for the tests that count or rotate every data key.
            session = real_db.session
            new_periods = set(session.scalars(select(IncidentKeyPeriod.period))) - periods_before
            month_keys = list(session.scalars(select(IncidentKeyPeriod.data_key_id)
                                              .where(IncidentKeyPeriod.period.in_(new_periods))))
            session.execute(delete(IncidentReport).where(IncidentReport.import_job_id == job_id))
            session.execute(delete(ImportJob).where(ImportJob.id == job_id))
            session.execute(delete(IncidentKeyPeriod).where(IncidentKeyPeriod.period.in_(new_periods)))
            session.execute(delete(DataKey).where(DataKey.id.in_([job_key_id, *month_keys])))
            session.execute(delete(Area).where(Area.id == area_id))
            session.execute(delete(Category).where(Category.id == category_id))
            session.delete(session.get(User, user_id))
            session.flush()
            session.execute(delete(Agency).where(Agency.id == agency_id))
            session.commit()
            session.remove()


def test_confirm_over_http_starts_the_thread_after_the_response(app):
    """The real path: upload, preview and confirm through the views; the thread starts when the response closes."""
    import io
    import time

    from sqlalchemy import delete

    from app.admin.models import Agency
    from app.extensions import db as real_db
    from app.extensions import limiter
    from app.overview.models import Area, Category, ImportJob, IncidentKeyPeriod, IncidentReport
    from app.security.crypto import DataKey
    from app.security.models import User
    from tests.conftest import Factory, csrf_from, sign_in

    tag = uuid.uuid4().hex[:6]
    with app.app_context():
        session = real_db.session()
        periods_before = set(session.scalars(select(IncidentKeyPeriod.period)))
        analyst = Factory(app, session).user(roles=("analyst",))
        area = Area(code=f"http-{tag}", name=f"Http {tag}")
        category = Category(code=f"httpk-{tag}", name_sv=f"Httpkat {tag}", name_en=f"Http {tag}")
        session.add_all([area, category])
        session.commit()
        user_id, agency_id, area_id, category_id = analyst.id, analyst.agency_id, area.id, category.id
        area_code, category_code, totp_key = area.code, category.code, analyst.totp_key
        real_db.session.remove()
    limiter.reset()
    client = app.test_client()
    job_id = None
    app.config["LOTS_IMPORT_SYNC"] = False
    try:
        with app.app_context():
            analyst = real_db.session.get(User, user_id)
            analyst.totp_key = totp_key
            sign_in(client, analyst)
            real_db.session.remove()
        text = "id;datum/tid;område;kategori\n" + "".join(
            f"H{i};2026-06-0{1 + i % 5} 08:30;{area_code};{category_code}\n" for i in range(5))
        page = client.get("/reports/import")
        resp = client.post("/reports/import", data={"file": (io.BytesIO(text.encode()), "h.csv"),
                                                     "organisation_id": str(agency_id),
                                                     "csrf_token": csrf_from(page.text)},
                           content_type="multipart/form-data")
        assert resp.status_code == 302, resp.text[:500]
        job_id = uuid.UUID(resp.headers["Location"].rsplit("/", 1)[1])
        preview = client.get(f"/reports/import/{job_id}")
        # buffered: the test client closes the response as a WSGI server does, which starts the thread.
        confirmed = client.post(f"/reports/import/{job_id}/confirm", data={"csrf_token": csrf_from(preview.text)},
                                buffered=True)
        assert confirmed.status_code == 303
        deadline = time.monotonic() + 30
        state = client.get(f"/reports/import/{job_id}/status").get_json()
        while state["status"] in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(0.1)
            state = client.get(f"/reports/import/{job_id}/status").get_json()
        assert state == {"status": "done", "processed": 5, "total": 5, "imported": 5, "duplicates": 0, "invalid": 0}
        done = client.get(f"/reports/import/{job_id}")
        assert "Importen är klar" in done.text
    finally:
        app.config["LOTS_IMPORT_SYNC"] = True
        with app.app_context():
            session = real_db.session
            new_periods = set(session.scalars(select(IncidentKeyPeriod.period))) - periods_before
            keys = list(session.scalars(select(IncidentKeyPeriod.data_key_id)
                                        .where(IncidentKeyPeriod.period.in_(new_periods))))
            if job_id is not None:
                keys += list(session.scalars(select(ImportJob.data_key_id).where(ImportJob.id == job_id)))
                session.execute(delete(IncidentReport).where(IncidentReport.import_job_id == job_id))
                session.execute(delete(ImportJob).where(ImportJob.id == job_id))
            session.execute(delete(IncidentKeyPeriod).where(IncidentKeyPeriod.period.in_(new_periods)))
            session.execute(delete(DataKey).where(DataKey.id.in_(keys)))
            session.execute(delete(Area).where(Area.id == area_id))
            session.execute(delete(Category).where(Category.id == category_id))
            session.delete(session.get(User, user_id))
            session.flush()
            session.execute(delete(Agency).where(Agency.id == agency_id))
            session.commit()
            session.remove()
