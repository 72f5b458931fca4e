"""Running a confirmed import: every row in ONE transaction, progress reported beside it.

The rows are inserted in chunks with SQLAlchemy Core (executemany of prepared
dicts; descriptions encrypted with the month's data key), all inside one
savepoint: a failure in any chunk rolls back every row of the job, and the
job is marked failed with a message. Progress is written where a status
request can see it while the transaction is still open:

- in a background thread on PostgreSQL: through a separate connection (autocommit);
- in a background thread on SQLite: in this process's memory (SQLite has one
  writer at a time, and the import holds that lock until it commits);
- run synchronously (tests, ``LOTS_IMPORT_SYNC``): on the job itself.
"""

from __future__ import annotations

import json
import threading
import uuid
from datetime import date, datetime
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import insert, update

from app.db import db, utcnow
from app.overview.importing.analysis import analyse
from app.overview.importing.csvfile import CsvLayout
from app.overview.importing.rows import Incident, Lookup
from app.overview.models import ImportJob, ImportStatus, IncidentReport, ReportSource, ReportStatus
from app.overview.service import description_key, local_week
from app.security import audit
from app.security.crypto.service import destroy_data_key

CHUNK_SIZE = 2000
_table = IncidentReport.__table__
_job_table = ImportJob.__table__
_description = IncidentReport.__encrypted_fields__["description"]
_place = IncidentReport.__encrypted_fields__["place"]

#: job id → processed rows, for background imports on SQLite (see the module docstring).
_memory_progress: dict[uuid.UUID, int] = {}
_memory_lock = threading.Lock()


class ImportInterrupted(RuntimeError):
    """Raised inside the import transaction to abandon it (tests use it to simulate a failure)."""


# ------------------------------------------------------------------ progress


class SessionProgress:
    """Synchronous runs: nobody polls while the request runs, so the job object itself is enough."""

    def __init__(self, job: ImportJob):
        self.job = job

    def start(self, total: int) -> None:
        self.job.total_rows = total
        self.job.status = ImportStatus.RUNNING

    def update(self, processed: int) -> None:
        self.job.processed_rows = processed


class ConnectionProgress:
    """Background runs on PostgreSQL: each update commits at once on its own connection."""

    def __init__(self, job_id: uuid.UUID):
        self.job_id = job_id

    def _write(self, **values) -> None:
        with db.engine.begin() as connection:
            connection.execute(update(_job_table).where(_job_table.c.id == self.job_id).values(**values))

    def start(self, total: int) -> None:
        self._write(total_rows=total, processed_rows=0, status=ImportStatus.RUNNING)

    def update(self, processed: int) -> None:
        self._write(processed_rows=processed)


class MemoryProgress:
    """Background runs on SQLite (one process): progress kept in memory until the job ends."""

    def __init__(self, job_id: uuid.UUID):
        self.job_id = job_id

    def start(self, total: int) -> None:
        with _memory_lock:
            _memory_progress[self.job_id] = 0

    def update(self, processed: int) -> None:
        with _memory_lock:
            _memory_progress[self.job_id] = processed

    def clear(self) -> None:
        with _memory_lock:
            _memory_progress.pop(self.job_id, None)


def memory_progress(job_id: uuid.UUID) -> int | None:
    with _memory_lock:
        return _memory_progress.get(job_id)


# ------------------------------------------------------------------ rows


def prepare_rows(incidents: list[Incident], *, organisation_id: int, job_id: uuid.UUID | None, status: ReportStatus,
                 reviewer_id: int | None, source: ReportSource, keys: dict[tuple[int, int], object],
                 now: datetime) -> list[dict]:
    """Insert-ready dicts (same keys in each) for the incident_report table."""
    rows = []
    reviewed_at = now if status is ReportStatus.ACCEPTED else None
    reviewed_by = reviewer_id if status is ReportStatus.ACCEPTED else None
    for incident in incidents:
        day, iso_year, iso_week = local_week(incident.occurred_at)
        key = keys[(day.year, day.month)]
        row_id = uuid.uuid4()
        blob = place = None
        row = SimpleNamespace(id=row_id, data_key=key)
        if incident.description:
            blob = _description.encrypt(row, incident.description.encode("utf-8"))
        if incident.place:
            place = _place.encrypt(row, incident.place.encode("utf-8"))
        rows.append({
            "id": row_id, "data_key_id": key.id, "occurred_at": incident.occurred_at,
            "occurred_until": incident.occurred_until, "time_unknown": incident.time_unknown, "local_date": day,
            "iso_year": iso_year, "iso_week": iso_week,
            "area_id": incident.area_id, "category_id": incident.category_id, "setting": incident.setting,
            "place_ct": place, "latitude": incident.latitude, "longitude": incident.longitude,
            "description_ct": blob, "status": status, "reject_reason": None, "duplicate_of_id": None,
            "reviewed_at": reviewed_at, "reviewed_by_id": reviewed_by, "reporter_id": None,
            "organisation_id": organisation_id, "source": source, "external_id": incident.external_id,
            "fingerprint": incident.fingerprint, "submission_id": None, "import_job_id": job_id, "version": 1,
            "created_at": now, "updated_at": now,
        })
    return rows


def month_keys(incidents: list[Incident]) -> dict[tuple[int, int], object]:
    """The description data key of every month the incidents fall in (created on first use)."""
    months = {(day.year, day.month) for day, _, _ in (local_week(i.occurred_at) for i in incidents)}
    return {month: description_key(date(month[0], month[1], 1)) for month in sorted(months)}


def insert_chunk(session, rows: list[dict]) -> None:
    """One executemany INSERT (psycopg pipelines it; SQLite runs it as one prepared statement)."""
    if rows:
        session.execute(insert(_table), rows)


# ------------------------------------------------------------------ the run


def _finish(job: ImportJob, status: ImportStatus, *, error: str | None = None) -> None:
    """End a job: final status, and the uploaded content cleared with its data key destroyed."""
    job.status = status
    job.error = error
    job.finished_at = utcnow()
    job.content = None
    job.review = None
    destroy_data_key(job.data_key)


def _audit_finished(job: ImportJob, actor) -> None:
    audit.record("import.finished", object_type="import_job", object_id=str(job.id), actor=actor,
                 outcome="allowed" if job.status is ImportStatus.DONE else "failed",
                 detail={"status": job.status.value, "total": job.total_rows, "imported": job.imported,
                         "duplicates": job.duplicates, "invalid": job.invalid})


class _KeyRef:
    """A month key's id and unwrapped key, usable after the session that loaded it has committed."""

    def __init__(self, key):
        self.id = key.id
        self._aead = key.aead()

    def aead(self):
        return self._aead


def run_import(job_id: uuid.UUID, *, threaded: bool = False) -> ImportJob:
    """Import a queued job's rows: all of them in one transaction, or none (the job then says why).

    In a thread the work before the inserts (parsing, validating, looking up
    duplicates, creating month keys) runs in short transactions of its own, so
    the one long transaction is the inserts alone: on SQLite, where a
    transaction holds the database's single write lock, other requests wait
    only that long.
    """
    from app.security.models import User

    session = db.session
    job = session.get(ImportJob, job_id)
    if job is None or job.status is not ImportStatus.QUEUED:
        return job
    actor_id, organisation_id, accept = job.user_id, job.organisation_id, job.accept
    if not threaded:
        progress = SessionProgress(job)
    elif session.get_bind().dialect.name == "postgresql":
        progress = ConnectionProgress(job.id)
    else:
        progress = MemoryProgress(job.id)
    savepoint = None
    try:
        now = utcnow()
        text = job.content
        layout = CsvLayout.from_json(json.loads(job.mapping)["layout"])
        lookup = Lookup(organisation_id=organisation_id)
        if threaded:
            session.commit()
        result = analyse(text, layout, organisation_id, now, lookup=lookup)
        del text
        keys = {month: _KeyRef(key) for month, key in month_keys(result.fresh).items()}
        if threaded:
            # Month keys in a short transaction of their own: other writers of the month need not wait.
            session.commit()
        progress.start(result.total)
        savepoint = session.begin_nested()
        job = session.get(ImportJob, job_id)
        status = ReportStatus.ACCEPTED if accept else ReportStatus.NEW
        done = result.invalid_rows + result.duplicates
        for start in range(0, len(result.fresh), CHUNK_SIZE):
            part = result.fresh[start:start + CHUNK_SIZE]
            insert_chunk(session, prepare_rows(part, organisation_id=organisation_id, job_id=job_id, status=status,
                                               reviewer_id=actor_id, source=ReportSource.IMPORT, keys=keys,
                                               now=now))
            done += len(part)
            progress.update(done)
        job.total_rows = result.total
        job.processed_rows = result.total
        job.imported = len(result.fresh)
        job.duplicates = result.duplicates
        job.invalid = result.invalid_rows
        _finish(job, ImportStatus.DONE)
        _audit_finished(job, session.get(User, actor_id) if actor_id else None)
        savepoint.commit()
    except Exception as exc:  # noqa: BLE001 - any failure must end the job as FAILED, rows rolled back
        if savepoint is not None and savepoint.is_active:
            savepoint.rollback()
        if threaded:
            session.rollback()
        # Only the exception's type: its message may carry bound values.
        current_app.logger.error("import %s failed: %s", job_id, type(exc).__name__)
        job = session.get(ImportJob, job_id)
        job.imported = 0
        _finish(job, ImportStatus.FAILED, error=f"interrupted:{type(exc).__name__}"[:500])
        _audit_finished(job, session.get(User, actor_id) if actor_id else None)
    finally:
        if isinstance(progress, MemoryProgress):
            progress.clear()
    session.flush()
    return job


def run_background_job(app, job_id: uuid.UUID) -> None:
    """The background thread's work: its own app context and session; statistics refreshed afterwards."""
    with app.app_context():
        try:
            job = run_import(job_id, threaded=True)
            db.session.commit()
            if job is not None and job.status is ImportStatus.DONE:
                refresh_statistics()
        except Exception as exc:  # noqa: BLE001 - a thread has nobody to raise to
            db.session.rollback()
            app.logger.error("import thread for %s crashed: %s", job_id, type(exc).__name__)
        finally:
            db.session.remove()


def refresh_statistics() -> None:
    """ANALYZE the report table on PostgreSQL after a bulk import.

    A table that just grew by 100,000 rows still has the planner statistics of
    its old size until autovacuum gets to it; the next upload's duplicate
    lookups then get a plan that scans the organisation's rows once per
    lookup (minutes instead of a second).
    """
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("ANALYZE incident_report")


def start_background_import(app, job_id: uuid.UUID) -> threading.Thread:
    """Run a queued job in a thread with its own app context and session (called after the request commits)."""
    thread = threading.Thread(target=run_background_job, args=(app, job_id), name=f"lots-import-{job_id}", daemon=True)
    thread.start()
    return thread
