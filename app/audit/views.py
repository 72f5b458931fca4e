"""Auditor pages: search the audit log, and "who has accessed this object" on screen and as PDF.

Looking at the log is itself logged (audit.search, audit.report, audit.export),
and each event is written right after the page or PDF is produced, before it is sent
(app.security.audit.audited_read: if the event cannot be written, nothing is sent).
"""

from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, current_app, make_response, render_template, request
from flask_login import current_user

from app.audit import service
from app.audit.forms import OUTCOME_LABELS, AccessReportForm, EventSearchForm
from app.audit.pdf import render_pdf
from app.cases.lookups import limit_person_lookups
from app.extensions import db
from app.labels import action_labels
from app.security.audit import audited_read
from app.security.authn import fresh_login_required
from app.security.authz import requires
from app.security.permissions import Permission

bp = Blueprint("audit", __name__, url_prefix="/audit")


def _page() -> int:
    return min(max(request.args.get("page", 1, type=int) or 1, 1), 100_000)


def _per_page() -> int:
    return current_app.config.get("LOTS_PAGE_SIZE", 25)


def _events_page(form, pagination, rows):
    return render_template(
        "audit/events.html",
        form=form,
        pagination=pagination,
        rows=rows,
        outcome_labels=OUTCOME_LABELS,
        action_codes=sorted(action_labels()),
    )


@bp.get("/events")
@requires(Permission.AUDIT_READ)
def events():
    """Search the audit log by object, user, agency, action, outcome and period; newest first."""
    form = EventSearchForm(request.args)
    submitted = any(k != "page" for k in request.args)
    if submitted and not form.validate():
        return _events_page(form, None, []), 400
    query = form.to_query()
    pagination = service.search_events(query, page=_page(), per_page=_per_page())
    return audited_read(
        "audit.search",
        lambda: _events_page(form, pagination, service.event_rows(pagination.items)),
        object_type=query.object_type,
        object_id=query.object_id,
        permission=Permission.AUDIT_READ,
        detail={"filters": query.used()} if query.used() else None,
    )


@bp.get("/access")
@requires(Permission.AUDIT_READ)
def access():
    """Report who has accessed one object (a case code or another pseudonymous id)."""
    form = AccessReportForm(request.args)
    if not request.args:
        return render_template("audit/access.html", form=form, report=None)
    if not form.validate():
        return render_template("audit/access.html", form=form, report=None), 400
    object_id, object_type = form.object_id.data, form.object_type.data
    summary = service.access_summary(object_id, object_type)
    pagination = service.search_events(
        service.EventQuery(object_id=object_id, object_type=object_type), page=_page(), per_page=_per_page()
    )
    return audited_read(
        "audit.report",
        lambda: render_template(
            "audit/access.html",
            form=form,
            report={"summary": summary},
            pagination=pagination,
            rows=service.event_rows(pagination.items),
            outcome_labels=OUTCOME_LABELS,
        ),
        object_type=object_type,
        object_id=object_id,
        permission=Permission.AUDIT_READ,
    )


@bp.get("/access/export")
@requires(Permission.AUDIT_EXPORT)
@fresh_login_required
def access_export():
    """The access report for one object as PDF (re-authentication required; the export is logged)."""
    form = AccessReportForm(request.args)
    if not form.validate():
        return render_template("audit/access.html", form=form, report=None), 400
    object_id, object_type = form.object_id.data, form.object_type.data
    report = service.access_report(object_id, object_type, requested_by=current_user.id)

    def pdf_response():
        labels = {value: str(label) for value, label in OUTCOME_LABELS.items()}
        pdf = render_pdf("pdf/audit_access.html", report=report, outcome_labels=labels)
        response = make_response(pdf)
        response.headers["Content-Type"] = "application/pdf"
        response.headers["Content-Disposition"] = f'attachment; filename="atkomstrapport-{object_id}.pdf"'
        return response

    return audited_read(
        "audit.export",
        pdf_response,
        object_type=object_type,
        object_id=object_id,
        permission=Permission.AUDIT_EXPORT,
        detail={"format": "pdf", "events": report["total"]},
    )


# ------------------------------------------------------------------ a person's subject-access request (GDPR art. 15)

#: How long the case codes found for a subject-access request stay in the auditor's session for the export.
SUBJECT_MINUTES = 15


def _subject_form():
    from app.cases.forms.cases import FindParticipantForm

    return FindParticipantForm()


@bp.route("/subject", methods=["GET", "POST"])
@requires(Permission.AUDIT_READ)
@limit_person_lookups
def subject():
    """Who looked at this person: start from a personal identity number typed in a POST (never a URL), find the
    person's cases, then the access report across all of them. The search is audited and rate-limited."""
    return _subject()


def _subject():
    from flask import session

    form = _subject_form()
    if request.method == "GET":
        session.pop("lots_subject", None)
        return render_template("audit/subject.html", form=form, report=None)
    if not form.validate_on_submit():
        return render_template("audit/subject.html", form=form, report=None), 400
    from app.cases.service import cases_by_personal_number

    codes = [case.code for case in cases_by_personal_number(form.personal_number.data)]
    session["lots_subject"] = {"codes": codes, "at": datetime.now(timezone.utc).timestamp()}
    summary = service.subject_summary(codes)
    events = db.session.scalars(service.subject_events_query(codes).limit(200)).all()
    return audited_read(
        "audit.subject_search",
        lambda: render_template("audit/subject.html", form=_subject_form_blank(), codes=codes,
                                report={"summary": summary}, rows=service.event_rows(events),
                                outcome_labels=OUTCOME_LABELS),
        permission=Permission.AUDIT_READ,
        detail={"matches": len(codes), "codes": ",".join(codes)[:100]} if codes else {"matches": 0},
    )


def _subject_form_blank():
    from app.cases.forms.cases import FindParticipantForm

    return FindParticipantForm(formdata=None)


@bp.get("/subject/export")
@requires(Permission.AUDIT_EXPORT)
@fresh_login_required
def subject_export():
    """The subject-access export as PDF for the cases found by the auditor's last search (in their session for
    SUBJECT_MINUTES): which agencies and users read or changed what, and when; nothing about anyone else."""
    from flask import abort, session

    found = session.get("lots_subject") or {}
    if not found or datetime.now(timezone.utc).timestamp() - found.get("at", 0) > SUBJECT_MINUTES * 60:
        abort(404)
    codes = [str(code) for code in found.get("codes", [])][:50]
    report = service.subject_access_report(codes)

    def pdf_response():
        labels = {value: str(label) for value, label in OUTCOME_LABELS.items()}
        response = make_response(render_pdf("pdf/subject_access.html", report=report, outcome_labels=labels))
        response.headers["Content-Type"] = "application/pdf"
        response.headers["Content-Disposition"] = 'attachment; filename="registerutdrag-atkomst.pdf"'
        response.headers["Cache-Control"] = "no-store"
        return response

    return audited_read("audit.subject_export", pdf_response, permission=Permission.AUDIT_EXPORT,
                        detail={"format": "pdf", "events": report["total"], "codes": ",".join(codes)[:100]})
