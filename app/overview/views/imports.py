"""CSV import (upload, preview, confirm, progress) and the CSV export of reports."""

from __future__ import annotations

import math
import uuid
from datetime import date, datetime

from flask import Response, abort, flash, jsonify, redirect, render_template, request, stream_with_context, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from app.admin.service import agency_choices
from app.db import db
from app.overview import export as exporting
from app.admin.models import Agency
from app.overview.forms_import import (ForgetAliasForm, ImportCancelForm, ImportConfirmForm, ImportUploadForm,
                                       category_map_form)
from app.overview.importing import service
from app.overview.importing.csvfile import FIELD_LABELS
from app.overview.importing.rows import MESSAGES
from app.overview.importing.service import STATUS_LABELS
from app.overview.models import Area, Category, ImportJob, ImportStatus
from app.overview.service import ReportError
from app.overview.views import form_status, page_arg, reports_bp
from app.security import audit
from app.security.audit import audited_read
from app.security.authz import requires
from app.security.permissions import Permission

ERRORS_PER_PAGE = 50


def _job_or_404(job_id: str) -> ImportJob:
    """The current user's own import job, or 404 (also for a malformed id); abandoned jobs are failed first."""
    service.sweep_stale_jobs()
    try:
        ident = uuid.UUID(job_id) if len(job_id) <= 40 else None
    except ValueError:
        ident = None
    job = service.load_job(ident, current_user) if ident else None
    if job is None:
        abort(404)
    return job


@reports_bp.route("/import", methods=["GET", "POST"])
@requires(Permission.REPORT_IMPORT)
def import_upload():
    """Upload a CSV export from another reporting system; it is only previewed, nothing is imported yet."""
    form = ImportUploadForm()
    form.organisation_id.choices = agency_choices()
    if request.method == "GET":
        service.sweep_stale_jobs()
    if request.method == "GET" and current_user.agency_id:
        form.organisation_id.data = current_user.agency_id
    if form.validate_on_submit():
        upload = form.file.data
        try:
            job = service.create_import(upload.read(), filename=upload.filename,
                                        organisation_id=form.organisation_id.data, user=current_user)
        except ReportError as exc:
            form.file.errors.append(str(exc))
        else:
            return redirect(url_for("reports.import_preview", job_id=job.id))
    return render_template("imports/upload.html", form=form, jobs=service.recent_jobs(current_user),
                           statuses=STATUS_LABELS, aliases=service.category_aliases(), forget=ForgetAliasForm(),
                           english=str(get_locale()).startswith("en")), form_status(form)


@reports_bp.get("/import/<job_id>")
@requires(Permission.REPORT_IMPORT)
def import_preview(job_id: str):
    """The preview (column mapping, category mapping, every invalid row), or the progress and result once
    confirmed."""
    job = _job_or_404(job_id)
    if job.status is ImportStatus.PREVIEW:
        return _render_preview(job)
    return render_template("imports/progress.html", job=job, state=service.job_status(job),
                           statuses=STATUS_LABELS)


def _category_choices(english: bool) -> list[tuple[str, str]]:
    return [(str(cat_id), en if english else sv) for cat_id, sv, en in db.session.execute(
        select(Category.id, Category.name_sv, Category.name_en).where(Category.active.is_(True))
        .order_by(Category.sort_order, Category.name_sv))]


def _read_review(job: ImportJob) -> dict:
    """The job's review. It quotes the file (refused values, the source's category names): decrypted only
    after its audit event is written, once per request."""
    audit.record("import.review_read", object_type="import_job", object_id=str(job.id))
    return service.preview_review(job)


def _render_preview(job: ImportJob, map_form=None, review: dict | None = None):
    mapping = service.preview_mapping(job)
    review = review if review is not None else _read_review(job)
    english = str(get_locale()).startswith("en")
    if map_form is None:
        map_form = category_map_form(review["unknown_categories"], _category_choices(english), formdata=None)
    errors = mapping.get("errors", [])
    pages = max(1, math.ceil(len(errors) / ERRORS_PER_PAGE))
    page = min(page_arg(), pages)
    shown = [(line, name, code, review["refused"].get(f"{line}:{name}"))
             for line, name, code in errors[(page - 1) * ERRORS_PER_PAGE:page * ERRORS_PER_PAGE]]
    # (line, at, area, category, setting, time unknown); previews stored before the flag have five.
    # The preview names areas and categories as people know them, not by their codes.
    raw = mapping.get("sample", [])
    areas = dict(db.session.execute(select(Area.code, Area.name).where(
        Area.code.in_({row[2] for row in raw}))).all())
    categories = {code: (en if english else sv) for code, sv, en in db.session.execute(
        select(Category.code, Category.name_sv, Category.name_en).where(
            Category.code.in_({row[3] for row in raw})))}
    sample = [(row[0], datetime.fromisoformat(row[1]), areas.get(row[2], row[2]),
               categories.get(row[3], row[3]), row[4], bool(row[5:6] and row[5])) for row in raw]
    earlier = mapping.get("imported_before")
    return render_template(
        "imports/preview.html", job=job, mapping=mapping, errors=shown, page=page, pages=pages, sample=sample,
        field_labels=FIELD_LABELS, messages=MESSAGES, confirm=ImportConfirmForm(), cancel=ImportCancelForm(),
        imported_before=datetime.fromisoformat(earlier) if earlier else None, review=review, map_form=map_form,
        organisation=db.session.get(Agency, job.organisation_id),
    ), form_status(map_form)


@reports_bp.post("/import/<job_id>/categories")
@requires(Permission.REPORT_IMPORT)
def import_map_categories(job_id: str):
    """Map the source's unrecognised categories to ours, remembered for the source; the file is previewed again."""
    job = _job_or_404(job_id)
    if job.status is not ImportStatus.PREVIEW:
        flash(_("Importen är redan bekräftad eller avbruten."), "error")
        return redirect(url_for("reports.import_preview", job_id=job.id), 303)
    english = str(get_locale()).startswith("en")
    review = _read_review(job)
    form = category_map_form(review["unknown_categories"], _category_choices(english), formdata=request.form)
    if not form.validate():
        return _render_preview(job, map_form=form, review=review)
    chosen = {name: int(f.data) for f, name, _rows in form.sources if f.data}
    if not chosen:
        form.form_errors.append(_("Välj en av våra kategorier för minst en av källans kategorier."))
        return _render_preview(job, map_form=form, review=review)
    try:
        mapped = service.map_categories(job, chosen, user=current_user)
    except ReportError as exc:
        form.form_errors.append(str(exc))
        return _render_preview(job, map_form=form, review=review)
    flash(ngettext("%(num)d kategori mappades. Mappningen gäller alla importer från samma organisation; filen "
                   "har förhandsgranskats igen.",
                   "%(num)d kategorier mappades. Mappningen gäller alla importer från samma organisation; filen "
                   "har förhandsgranskats igen.", mapped), "success")
    return redirect(url_for("reports.import_preview", job_id=job.id) + "#categories", 303)


@reports_bp.post("/import/categories/<int:alias_id>/forget")
@requires(Permission.REPORT_IMPORT)
def import_forget_alias(alias_id: int):
    """Forget a remembered category mapping (later files from that source refuse the name again)."""
    form = ForgetAliasForm()
    if not form.validate_on_submit():
        flash(_("Inget ändrades: bekräfta genom att kryssa i rutan."), "error")
        return redirect(url_for("reports.import_upload") + "#aliases", 303)
    try:
        service.forget_category_alias(alias_id, user=current_user)
    except ReportError as exc:
        flash(str(exc), "error")
    else:
        flash(_("Mappningen är borttagen."), "success")
    return redirect(url_for("reports.import_upload") + "#aliases", 303)


@reports_bp.post("/import/<job_id>/confirm")
@requires(Permission.REPORT_IMPORT)
def import_confirm(job_id: str):
    """Confirm a previewed import: it runs in the background (or at once when LOTS_IMPORT_SYNC is set)."""
    job = _job_or_404(job_id)
    form = ImportConfirmForm()
    if not form.validate_on_submit():
        flash(_("Formuläret har gått ut. Ladda om sidan och försök igen."), "error")
        return redirect(url_for("reports.import_preview", job_id=job.id), 303)
    try:
        service.confirm_import(job, accept=form.accept.data, user=current_user)
    except ReportError as exc:
        flash(str(exc), "error")
        return redirect(url_for("reports.import_preview", job_id=job.id), 303)
    start = service.run_now_or_later(job)
    response = redirect(url_for("reports.import_preview", job_id=job.id), 303)
    if start is not None:
        # After the response is sent, i.e. after the request's transaction has committed the queued job.
        response.call_on_close(start)
    return response


@reports_bp.post("/import/<job_id>/cancel")
@requires(Permission.REPORT_IMPORT)
def import_cancel(job_id: str):
    """Discard a previewed import (the uploaded content is destroyed)."""
    job = _job_or_404(job_id)
    form = ImportCancelForm()
    if not form.validate_on_submit():
        flash(_("Inget ändrades: bekräfta genom att kryssa i rutan."), "error")
        return redirect(url_for("reports.import_preview", job_id=job.id) + "#avbryt", 303)
    try:
        service.cancel_import(job, user=current_user)
    except ReportError as exc:
        flash(str(exc), "error")
    else:
        flash(_("Importen är avbruten. Inget har importerats."), "success")
    return redirect(url_for("reports.import_upload"), 303)


@reports_bp.get("/import/<job_id>/status")
@requires(Permission.REPORT_IMPORT)
def import_status(job_id: str):
    """Progress as JSON for the progress bar: {status, processed, total, imported, duplicates, invalid}."""
    return jsonify(service.job_status(_job_or_404(job_id)))


@reports_bp.get("/export.csv")
@requires(Permission.REPORT_READ)
def export():
    """The review list's reports as CSV for Excel (descriptions only for those who may read them)."""
    try:
        wanted = exporting.parse_request(request.args)
    except ValueError:
        abort(400)
    stmt = exporting.export_query(current_user, wanted)
    with_description = exporting.may_read_descriptions(current_user) and request.args.get("descriptions", "1") != "0"
    english = str(get_locale() or "sv").startswith("en")
    user_id = current_user.id

    def produce():
        # The rows stream after the request's transaction is committed (with the audit event) and its session
        # is gone: stream_csv loads the user again in the session the stream runs in.
        body = exporting.stream_csv(user_id, stmt, with_description=with_description, english=english)
        filename = f"lots-handelser-{date.today().isoformat()}.csv"
        return Response(stream_with_context(body), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    detail = wanted.audit_detail() | {"rows": exporting.count_rows(stmt),
                                      "descriptions": "yes" if with_description else "no"}
    return audited_read("report.export", produce, object_type="incident", permission=Permission.REPORT_READ,
                        field_sets=[exporting.DESCRIPTION] if with_description else (), detail=detail)

