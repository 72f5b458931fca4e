"""An import whose worker died is failed when an importer next looks: its upload is cleared, its key destroyed."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.overview.test_import import csv_text, good_rows, job_of, taxonomy, upload  # noqa: F401


@pytest.fixture(autouse=True)
def sync_imports(app):
    app.config["LOTS_IMPORT_SYNC"] = True
    yield
    app.config["LOTS_IMPORT_SYNC"] = True


def _queued(app, db, job, *, minutes_ago: int, status="queued"):
    """Pretend the job was confirmed ``minutes_ago`` and its worker never finished it."""
    from app.db import utcnow
    from app.overview.models import ImportStatus

    with app.app_context():
        mapping = json.loads(job.mapping)
        mapping["confirmed_at"] = (utcnow() - timedelta(minutes=minutes_ago)).isoformat()
        job.mapping = json.dumps(mapping)
        job.created_at = utcnow() - timedelta(minutes=minutes_ago + 5)
        job.status = ImportStatus(status)
        db.flush()


@pytest.mark.parametrize("status", ["queued", "running"])
def test_abandoned_import_is_failed_with_its_upload_destroyed(app, client, db, login_as, factory, taxonomy, status):
    from app.audit.models import AuditEvent
    from app.overview.models import ImportStatus, IncidentReport

    login_as("analyst")
    org = factory.agency(kind="housing")
    job = job_of(db, upload(client, csv_text(taxonomy, good_rows(taxonomy)).encode(), org))
    _queued(app, db, job, minutes_ago=31, status=status)
    resp = client.get(f"/reports/import/{job.id}/status")
    assert resp.status_code == 200
    state = resp.get_json()
    assert state["status"] == "failed" and "Ladda upp filen igen" in state["message"]
    db.refresh(job)
    assert job.status is ImportStatus.FAILED and job.error == "stale" and job.finished_at is not None
    assert job.content_ct is None and job.data_key.destroyed_at is not None
    assert db.scalar(select(func.count()).select_from(IncidentReport).where(IncidentReport.import_job_id == job.id)) == 0
    events = db.scalars(select(AuditEvent).where(AuditEvent.action == "import.finished",
                                                 AuditEvent.object_id == str(job.id))).all()
    assert len(events) == 1 and events[0].outcome == "failed"
    # The job's page says so too, and a second look changes nothing more.
    page = client.get(f"/reports/import/{job.id}")
    assert page.status_code == 200 and "Ladda upp filen igen" in page.text
    assert db.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "import.finished", AuditEvent.object_id == str(job.id))) == 1


def test_recent_and_live_imports_are_left_alone(app, client, db, login_as, factory, taxonomy):
    from app.overview.importing import runner
    from app.overview.models import ImportStatus

    login_as("analyst")
    org = factory.agency(kind="housing")
    recent = job_of(db, upload(client, csv_text(taxonomy, good_rows(taxonomy, prefix="R")).encode(), org))
    _queued(app, db, recent, minutes_ago=5)
    live = job_of(db, upload(client, csv_text(taxonomy, good_rows(taxonomy, prefix="L")).encode(), org))
    _queued(app, db, live, minutes_ago=45, status="running")
    runner.MemoryProgress(live.id).start(3)  # a thread in this process is still working on it
    try:
        assert client.get("/reports/import").status_code == 200
    finally:
        runner.MemoryProgress(live.id).clear()
    db.refresh(recent)
    db.refresh(live)
    assert recent.status is ImportStatus.QUEUED and recent.content_ct is not None
    assert live.status is ImportStatus.RUNNING and live.content_ct is not None


def test_stale_limit_is_configurable(app, client, db, login_as, factory, taxonomy):
    from app.overview.models import ImportStatus

    login_as("analyst")
    org = factory.agency(kind="housing")
    job = job_of(db, upload(client, csv_text(taxonomy, good_rows(taxonomy)).encode(), org))
    _queued(app, db, job, minutes_ago=10)
    app.config["LOTS_IMPORT_STALE_MINUTES"] = 5
    try:
        assert client.get("/reports/import").status_code == 200
    finally:
        app.config.pop("LOTS_IMPORT_STALE_MINUTES")
    db.refresh(job)
    assert job.status is ImportStatus.FAILED


def test_confirming_records_when_the_job_was_confirmed(app, client, db, login_as, factory, taxonomy):
    from app.overview.importing import service

    user = login_as("analyst")
    org = factory.agency(kind="housing")
    job = job_of(db, upload(client, csv_text(taxonomy, good_rows(taxonomy)).encode(), org))
    with app.test_request_context():
        service.confirm_import(job, accept=False, user=user)
    assert "confirmed_at" in json.loads(job.mapping)


def test_import_and_api_limits_are_read_from_the_environment(monkeypatch, tmp_path):
    from app.config import load_config

    monkeypatch.setenv("LOTS_ENV", "test")
    monkeypatch.setenv("LOTS_IMPORT_STALE_MINUTES", "7")
    monkeypatch.setenv("LOTS_IMPORT_MAX_ROWS", "1000")
    monkeypatch.setenv("LOTS_API_MAX_BODY", "4096")
    monkeypatch.setenv("LOTS_API_RATE_LIMIT", "5 per minute")
    config = load_config(tmp_path)
    assert config["LOTS_IMPORT_STALE_MINUTES"] == 7 and config["LOTS_IMPORT_MAX_ROWS"] == 1000
    assert config["LOTS_API_MAX_BODY"] == 4096 and config["LOTS_API_RATE_LIMIT"] == "5 per minute"
    monkeypatch.delenv("LOTS_IMPORT_STALE_MINUTES")
    assert load_config(tmp_path)["LOTS_IMPORT_STALE_MINUTES"] == 30
