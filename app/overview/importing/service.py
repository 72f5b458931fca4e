"""The import job's life: upload and preview, confirm, cancel, and its status for the progress bar."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from app.db import as_utc, db, utcnow
from sqlalchemy.exc import IntegrityError

from app.overview.importing.analysis import Analysis, analyse
from app.overview.importing.csvfile import CsvLayout, decode, read_layout
from app.overview.importing.rows import Lookup, source_key
from app.overview.importing.runner import memory_progress
from app.overview.models import ImportJob, ImportStatus
from app.overview.service import ReportError
from app.security import audit
from app.security.crypto.service import destroy_data_key

#: Rows one file may hold (a 50 MB upload holds about 300,000 short rows).
DEFAULT_MAX_ROWS = 200_000
#: Minutes a confirmed job may stay queued or running before it counts as abandoned (LOTS_IMPORT_STALE_MINUTES).
DEFAULT_STALE_MINUTES = 30
#: Invalid-row problems kept for the preview (one entry per problem); more are counted, not listed.
MAX_LISTED_ERRORS = 200_000

STATUS_LABELS = {
    ImportStatus.PREVIEW: _l("Förhandsgranskas"),
    ImportStatus.QUEUED: _l("Väntar på att starta"),
    ImportStatus.RUNNING: _l("Importeras"),
    ImportStatus.DONE: _l("Klar"),
    ImportStatus.FAILED: _l("Misslyckades"),
    ImportStatus.CANCELLED: _l("Avbruten"),
}

ERROR_MESSAGES = {
    "interrupted": _l("Importen avbröts och ingen rad sparades. Försök igen; kvarstår felet, kontakta "
                      "systemförvaltningen."),
    "stale": _l("Importen avbröts (den slutade arbeta utan att bli klar) och ingen rad sparades. Den uppladdade "
                "filen är raderad. Ladda upp filen igen."),
}


def create_import(raw: bytes, *, filename: str | None, organisation_id: int, user) -> ImportJob:
    """Read an uploaded file into a job in preview state (content kept encrypted); nothing is imported yet."""
    if not raw.strip():
        raise ReportError(str(_l("Filen är tom.")))
    text, encoding = decode(raw)
    if "\x00" in text:
        raise ReportError(str(_l("Filen verkar inte vara en textfil (CSV).")))
    most = current_app.config.get("LOTS_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS)
    if text.count("\n") > most + 1:
        raise ReportError(str(_l("Filen har fler än %(most)s rader. Dela upp den i flera filer.", most=most)))
    layout = read_layout(text)
    layout.encoding = encoding
    result = _analyse(organisation_id, text, layout)
    if result.total == 0:
        raise ReportError(str(_l("Filen har en rubrikrad men inga rader.")))
    job = ImportJob(
        organisation_id=organisation_id, user_id=user.id, status=ImportStatus.PREVIEW,
        file_hash=hashlib.sha256(raw).hexdigest(),
        filename=os.path.basename((filename or "").replace("\\", "/"))[:200] or None,
    )
    _store_preview(job, result, layout)
    job.content = text
    db.session.add(job)
    db.session.flush()
    audit.record("import.previewed", object_type="import_job", object_id=str(job.id),
                 detail={"rows": result.total, "valid": len(result.fresh), "invalid": result.invalid_rows,
                         "duplicates": result.duplicates, "encoding": encoding, "organisation": organisation_id})
    return job


def _analyse(organisation_id: int, text: str, layout: CsvLayout) -> Analysis:
    return analyse(text, layout, organisation_id, utcnow(), lookup=Lookup(organisation_id=organisation_id))


def _store_preview(job: ImportJob, result: Analysis, layout: CsvLayout) -> None:
    """The analysis as the job's preview: its counts, its mapping JSON and its encrypted review."""
    earlier = db.session.scalar(
        select(ImportJob.finished_at).where(ImportJob.organisation_id == job.organisation_id,
                                            ImportJob.file_hash == job.file_hash,
                                            ImportJob.status == ImportStatus.DONE)
        .order_by(ImportJob.finished_at.desc()).limit(1))
    job.mapping = json.dumps({
        "layout": layout.to_json(),
        "setting_default": "setting" not in layout.fields,
        "errors": result.errors[:MAX_LISTED_ERRORS],
        "error_count": len(result.errors),
        "valid": len(result.fresh),
        "sample": [[line, i.occurred_at.isoformat(), i.area_code, i.category_code, i.setting.value, i.time_unknown]
                   for line, i in result.sample],
        "flags": result.flags[:MAX_LISTED_ERRORS],
        "flag_count": len(result.flags),
        "imported_before": earlier.isoformat() if earlier else None,
    })
    job.review = json.dumps(result.review())
    job.total_rows, job.invalid, job.duplicates = result.total, result.invalid_rows, result.duplicates


def preview_review(job: ImportJob) -> dict:
    """The refused values and unrecognised categories of a previewed job (decrypted; the caller audits)."""
    if job.status is not ImportStatus.PREVIEW or job.review is None:
        return {"refused": {}, "unknown_categories": [], "unknown_category_count": 0}
    return json.loads(job.review)


def map_categories(job: ImportJob, chosen: dict[str, int], *, user) -> int:
    """Remember the source's category names as ours (for the job's organisation) and preview the file again.

    ``chosen`` maps a source name from the job's review to one of our active category ids. Returns how many
    names were mapped. Refuses a job that is no longer in preview, and any name or category the review and
    the taxonomy do not hold; then nothing is saved.
    """
    from app.overview.models import Category, ImportCategoryAlias

    if job.status is not ImportStatus.PREVIEW:
        raise ReportError(str(_l("Importen är redan bekräftad eller avbruten.")))
    offered = {source_key(name): name for name, _rows in preview_review(job)["unknown_categories"]}
    active = set(db.session.scalars(select(Category.id).where(Category.active.is_(True))))
    wanted = {}
    for name, category_id in chosen.items():
        key = source_key(name)
        if key not in offered or category_id not in active:
            raise ReportError(str(_l("Kategorimappningen stämmer inte längre med filen. Ladda om sidan.")))
        wanted[key] = (offered[key], category_id)
    if not wanted:
        return 0
    existing = {a.source_key: a for a in db.session.scalars(select(ImportCategoryAlias).where(
        ImportCategoryAlias.organisation_id == job.organisation_id,
        ImportCategoryAlias.source_key.in_(list(wanted))))}
    try:
        with db.session.begin_nested():
            for key, (name, category_id) in wanted.items():
                alias = existing.get(key)
                if alias is None:
                    db.session.add(ImportCategoryAlias(organisation_id=job.organisation_id, source_name=name,
                                                       source_key=key, category_id=category_id,
                                                       created_by_id=user.id))
                else:
                    alias.category_id, alias.source_name = category_id, name
    except IntegrityError:
        raise ReportError(str(_l("Någon annan sparade samma mappning samtidigt. Ladda om sidan."))) from None
    layout = CsvLayout.from_json(preview_mapping(job)["layout"])
    _store_preview(job, _analyse(job.organisation_id, job.content, layout), layout)
    audit.record("import.categories_mapped", object_type="import_job", object_id=str(job.id),
                 detail={"organisation": job.organisation_id, "mapped": len(wanted),
                         "categories": ",".join(str(c) for _n, c in sorted(wanted.values(), key=lambda v: v[1]))})
    return len(wanted)


def forget_category_alias(alias_id: int, *, user) -> None:
    """Forget one remembered mapping (later imports from that source refuse the name again)."""
    from app.overview.models import ImportCategoryAlias

    alias = db.session.get(ImportCategoryAlias, alias_id)
    if alias is None:
        raise ReportError(str(_l("Mappningen finns inte (längre).")))
    audit.record("import.category_alias_removed", object_type="import_category_alias", object_id=str(alias.id),
                 detail={"organisation": alias.organisation_id, "category": alias.category_id})
    db.session.delete(alias)


def category_aliases() -> list:
    """Every remembered mapping, by organisation and name, for the import page."""
    from app.overview.models import ImportCategoryAlias

    return list(db.session.scalars(select(ImportCategoryAlias).order_by(
        ImportCategoryAlias.organisation_id, ImportCategoryAlias.source_key)))


def confirm_import(job: ImportJob, *, accept: bool, user) -> None:
    """Queue a previewed job; refuses one that was already confirmed or cancelled (e.g. a double click)."""
    changed = db.session.execute(
        update(ImportJob).where(ImportJob.id == job.id, ImportJob.status == ImportStatus.PREVIEW)
        .values(status=ImportStatus.QUEUED, accept=accept).execution_options(synchronize_session="fetch")
    ).rowcount
    if changed != 1:
        raise ReportError(str(_l("Importen är redan bekräftad eller avbruten.")))
    db.session.refresh(job)
    _note_confirmed(job)
    audit.record("import.confirmed", object_type="import_job", object_id=str(job.id),
                 detail={"accept": "yes" if accept else "no", "rows": job.total_rows})


def _note_confirmed(job: ImportJob) -> None:
    """Remember when the job was confirmed (in its mapping JSON), so an abandoned job can be told apart."""
    mapping = preview_mapping(job)
    mapping["confirmed_at"] = utcnow().isoformat()
    job.mapping = json.dumps(mapping)


def sweep_stale_jobs() -> int:
    """Fail confirmed jobs whose run died (process restarted, thread killed); returns how many.

    A job QUEUED or RUNNING for longer than LOTS_IMPORT_STALE_MINUTES since it
    was confirmed, and not running in this process, has no worker left: it is
    marked FAILED with a clear message, and its encrypted upload is cleared and
    its data key destroyed (as for any ended job). A job still running in this
    process (a background thread here reports progress in memory) is left alone.
    Called when an importer opens the import page or a job's page or status.
    """
    from app.overview.importing.runner import _audit_finished, _finish

    minutes = current_app.config.get("LOTS_IMPORT_STALE_MINUTES", DEFAULT_STALE_MINUTES)
    cutoff = utcnow() - timedelta(minutes=minutes)
    candidates = db.session.scalars(select(ImportJob).where(
        ImportJob.status.in_((ImportStatus.QUEUED, ImportStatus.RUNNING)), ImportJob.created_at < cutoff)).all()
    swept = 0
    for job in candidates:
        confirmed = preview_mapping(job).get("confirmed_at")
        since = as_utc(datetime.fromisoformat(confirmed)) if confirmed else as_utc(job.created_at)
        if since >= cutoff or memory_progress(job.id) is not None:
            continue
        claimed = db.session.execute(
            update(ImportJob).where(ImportJob.id == job.id, ImportJob.status == job.status)
            .values(status=ImportStatus.FAILED).execution_options(synchronize_session=False)).rowcount
        if claimed != 1:
            continue  # it finished (or was swept) meanwhile
        db.session.refresh(job)
        job.imported = 0
        _finish(job, ImportStatus.FAILED, error="stale")
        from app.security.models import User

        _audit_finished(job, db.session.get(User, job.user_id) if job.user_id else None)
        current_app.logger.warning("import %s abandoned after %s minutes: marked failed", job.id, minutes)
        swept += 1
    if swept:
        db.session.flush()
    return swept


def cancel_import(job: ImportJob, *, user) -> None:
    """Drop a previewed job: its content is cleared and its data key destroyed."""
    if job.status is not ImportStatus.PREVIEW:
        raise ReportError(str(_l("Bara en import som inte har bekräftats kan avbrytas.")))
    job.status = ImportStatus.CANCELLED
    job.finished_at = utcnow()
    job.content = None
    job.review = None
    destroy_data_key(job.data_key)
    audit.record("import.cancelled", object_type="import_job", object_id=str(job.id))


def run_now_or_later(job: ImportJob):
    """Run synchronously when LOTS_IMPORT_SYNC is set; else return a callback that starts the thread."""
    from app.overview.importing.runner import run_import, start_background_import

    if current_app.config.get("LOTS_IMPORT_SYNC"):
        run_import(job.id)
        return None
    app = current_app._get_current_object()
    job_id = job.id
    return lambda: start_background_import(app, job_id)


def job_status(job: ImportJob) -> dict:
    """The progress JSON: {status, processed, total, imported, duplicates, invalid} (+ a message if it failed)."""
    processed = job.processed_rows
    if job.status in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        in_memory = memory_progress(job.id)
        if in_memory is not None:
            processed = max(processed, in_memory)
    data = {"status": job.status.value, "processed": processed, "total": job.total_rows, "imported": job.imported,
            "duplicates": job.duplicates, "invalid": job.invalid}
    if job.status is ImportStatus.FAILED:
        data["message"] = error_message(job)
    return data


def error_message(job: ImportJob) -> str:
    code = (job.error or "").split(":", 1)[0]
    return str(ERROR_MESSAGES.get(code, ERROR_MESSAGES["interrupted"]))


def preview_mapping(job: ImportJob) -> dict:
    return json.loads(job.mapping or "{}")


def load_job(job_id: uuid.UUID, user) -> ImportJob | None:
    """The job if this user uploaded it (an upload's content is its uploader's business only)."""
    job = db.session.get(ImportJob, job_id)
    if job is None or job.user_id != user.id:
        return None
    return job


def recent_jobs(user, limit: int = 10) -> list[ImportJob]:
    return list(db.session.scalars(
        select(ImportJob).where(ImportJob.user_id == user.id).order_by(ImportJob.created_at.desc()).limit(limit)))
