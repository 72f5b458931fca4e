"""Report pages: the reporting form, the reporter's own reports and corrections, the review list and detail."""

from __future__ import annotations

from types import SimpleNamespace

from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user

from app.db import db
from app.overview import reporting, taxonomy
from app.overview.forms_reports import CorrectForm, ReportFilterForm, ReportForm, ReviewForm, as_local
from app.overview.models import IncidentReport, ReportStatus
from app.overview.reporting import labels
from app.overview.reporting.queries import (OWN_SORTS, ReportFilter, count_waiting, load_report, may_read_places,
                                            next_new_report, own_reports_query, parse_week, possible_duplicates,
                                            review_query, statuses_readable, visible)
from app.overview.service import ReportError
from app.overview.views import form_status, page_arg, per_page, reports_bp
from app.security.audit import audited_read
from app.security.authz import authorize, can, gate, requires
from app.security.permissions import Permission


@reports_bp.app_template_filter("incident_time")
def incident_time(report) -> str:
    """When a report happened: "2026-03-10 14:05", or "2026-03-11, tid okänd" for a date without a time."""
    from app.web import local_date, local_datetime

    if getattr(report, "time_unknown", False):
        return f"{local_date(report.occurred_at)}, {_('tid okänd')}"
    return local_datetime(report.occurred_at)

DESCRIPTION = "incident.description"


def _locale() -> str:
    return str(get_locale() or "sv")


def _names() -> dict:
    """Lookup tables the report templates use (areas and categories by id, labels)."""
    return {"area_names": taxonomy.area_names(), "category_names": taxonomy.category_names(_locale()),
            "labels": labels}


def _attach(incident_forms, errors: dict[int, dict[str, str]]) -> None:
    for index, problems in errors.items():
        sub = incident_forms[index]
        for name, message in problems.items():
            sub[name].errors = list(sub[name].errors) + [message]


def _render_new(form: ReportForm, status: int = 200):
    entry = form.incidents[0].form
    ready = len(entry.area_id.choices) > 1 and len(entry.category_id.choices) > 1
    return render_template("reports/new.html", form=form, max_incidents=reporting.MAX_INCIDENTS,
                           labels=labels, ready=ready), status


@reports_bp.route("/new", methods=["GET", "POST"])
@requires(Permission.REPORT_CREATE)
def new():
    """The report form: one or more incidents filed together (all or none)."""
    form = ReportForm()
    action = request.form.get("action", "submit") if request.method == "POST" else ""
    if action == "add":
        if len(form.incidents) < reporting.MAX_INCIDENTS:
            form.incidents.append_entry()
        return _render_new(form)
    if action.startswith("remove-"):
        if len(form.incidents) > 1:
            form.incidents.entries = [e for e in form.incidents.entries if e.name != f"incidents-{action[7:]}"]
        return _render_new(form)
    if request.method == "POST" and form.submitted_blocks() > reporting.MAX_INCIDENTS:
        form.form_errors.append(_("Högst %(max)d händelser per rapport. Inget har sparats.",
                                  max=reporting.MAX_INCIDENTS))
        return _render_new(form, 400)
    if form.validate_on_submit():
        try:
            reports = reporting.file_reports([entry.form.to_input() for entry in form.incidents], current_user)
        except reporting.SubmissionInvalid as exc:
            _attach([entry.form for entry in form.incidents], exc.errors)
            form.form_errors.append(str(exc))
        except ReportError as exc:
            form.form_errors.append(str(exc))
        else:
            flash(ngettext("Händelsen är rapporterad. Tack!", "%(num)d händelser är rapporterade. Tack!",
                           len(reports)), "success")
            return redirect(url_for("reports.mine"))
    elif request.method == "POST" and not form.form_errors:
        form.form_errors.append(_("Rätta de markerade uppgifterna. Inget har sparats."))
    return _render_new(form, form_status(form))


@reports_bp.get("/mine")
@requires(Permission.REPORT_OWN)
def mine():
    """The reporter's own reports with their review status: search in the place text, status filter, sorting."""
    q = (request.args.get("q") or "").strip()[:100]
    status = request.args.get("status", "")
    sort = request.args.get("sort", "-occurred")
    sort = sort if sort in OWN_SORTS else "-occurred"
    pagination = db.paginate(own_reports_query(current_user, q=q, status=status, sort=sort), page=page_arg(),
                             per_page=per_page(), error_out=False)
    return _list_read("report.list", pagination.items, lambda: render_template(
        "reports/mine.html", pagination=pagination, q=q, status=status, sort=sort, filtered=bool(q or status),
        **_names()), Permission.REPORT_OWN, searched=bool(q))


def _list_read(action: str, reports, produce, permission: Permission, *, searched: bool, status: int = 200):
    """A list that shows places (encrypted, field set incident.description): one audit event, written once it
    is produced (audited_read: not sent if the event fails), naming the field set when a place is shown or was
    searched."""
    shows = searched or any(r.place_ct is not None for r in reports)
    if not shows:
        return produce(), status
    return audited_read(action, lambda: (produce(), status), field_sets=[DESCRIPTION], permission=permission,
                        detail={"rows": len(reports), "searched": "1" if searched else "0"})


def _correct_form(report: IncidentReport) -> CorrectForm:
    if request.method == "POST":
        form = CorrectForm()
    else:
        incident = SimpleNamespace(
            occurred_at=as_local(report.occurred_at), occurred_until=as_local(report.occurred_until),
            area_id=report.area_id, category_id=report.category_id, setting=report.setting.value,
            place=report.place or "", description=report.description or "",
            latitude="" if report.latitude is None else str(report.latitude),
            longitude="" if report.longitude is None else str(report.longitude),
        )
        form = CorrectForm(obj=SimpleNamespace(incident=incident, version=str(report.version)))
    form.incident.form.offer((report.area_id, report.area.name), (report.category_id, report.category.name(_locale())))
    return form


def _render_edit(report: IncidentReport, form: CorrectForm | None, status: int = 200, *, shows_text: bool):
    def produce():
        description = report.description if form is None else None
        return render_template("reports/edit.html", report=report, form=form, description=description,
                               **_names()), status

    if shows_text and (report.description_ct is not None or report.place_ct is not None):
        return audited_read("report.view", produce, obj=report, field_sets=[DESCRIPTION],
                            permission=Permission.REPORT_OWN)
    return produce()


@reports_bp.route("/<report_id>/edit", methods=["GET", "POST"])
@requires(Permission.REPORT_CORRECT)
def edit(report_id: str):
    """Correct one of the reporter's own reports while it is new; after review it is read-only."""
    report = load_report(report_id)
    authorize(Permission.REPORT_CORRECT, report)
    if report.status != ReportStatus.NEW:
        if request.method == "POST":
            flash(str(reporting.filing.LOCKED_MESSAGE), "error")
        return _render_edit(report, None, 409 if request.method == "POST" else 200,
                            shows_text=DESCRIPTION in gate().readable_fieldsets(current_user, report))
    form = _correct_form(report)
    if request.method == "GET":
        return _render_edit(report, form, shows_text=True)
    gate().check_write(current_user, report, ["description"])
    status = 400
    if form.validate_on_submit():
        try:
            changed = reporting.correct_report(report, current_user, form.incident.form.to_input(),
                                               expected_version=form.version.data)
        except reporting.SubmissionInvalid as exc:
            _attach([form.incident.form], exc.errors)
        except (reporting.ReportConflict, reporting.ReportLocked) as exc:
            form.form_errors.append(str(exc))
            status = 409
        except ReportError as exc:
            form.form_errors.append(str(exc))
        else:
            flash(_("Rapporten är rättad.") if changed else _("Inget ändrades."), "success")
            return redirect(url_for("reports.mine"))
    if status == 400 and not form.form_errors:
        form.form_errors.append(_("Rätta de markerade uppgifterna. Inget har sparats."))
    return _render_edit(report, form, status, shows_text=False)


@reports_bp.get("/")
@requires(Permission.REPORT_READ)
def index():
    """Reports for review: filters, search in the place text, sorting and pagination (no descriptions)."""
    form = ReportFilterForm(formdata=request.args)
    statuses = statuses_readable(current_user)
    form.offer(statuses, _locale())
    may_review = can(Permission.REPORT_REVIEW, route_level=True)
    if "status" not in request.args:
        form.status.data = ReportStatus.NEW.value if may_review else "all"
    sort = request.args.get("sort", "-occurred")
    pagination, rows, status = None, [], 200
    if form.validate():
        filters = ReportFilter(status=form.status.data, category_id=form.category_id.data,
                               area_id=form.area_id.data, week=parse_week(form.week.data),
                               organisation_id=form.organisation_id.data, source=form.source.data or None,
                               q=form.q.data or "", sort=sort)
        pagination = db.paginate(review_query(current_user, filters), page=page_arg(), per_page=per_page(),
                                 error_out=False)
        rows = visible(pagination.items, current_user)
    else:
        status = 400
    organisations = dict((int(v), label) for v, label in form.organisation_id.choices if v)
    waiting = count_waiting(current_user) if may_review else 0
    show_place = may_read_places(current_user)

    def produce():
        return render_template("reports/index.html", form=form, pagination=pagination, rows=rows, sort=sort,
                               may_review=may_review, organisations=organisations, waiting=waiting,
                               show_place=show_place, **_names())

    if not show_place:
        return produce(), status
    return _list_read("report.list", rows, produce, Permission.REPORT_READ, searched=bool(form.q.data),
                      status=status)


def _render_detail(report: IncidentReport, form: ReviewForm | None = None, status: int = 200):
    """The report as this user may see it; reading a description is audited (the event is written right after
    the render, before the page is sent)."""
    may_review = can(Permission.REPORT_REVIEW, report)
    if may_review and form is None:
        form = ReviewForm(formdata=None, data={"version": str(report.version)})
    if form is not None:
        form.offer(report, _locale())
        if form.area_id.data is None:
            form.area_id.data = report.area_id
        if form.category_id.data is None:
            form.category_id.data = report.category_id
    readable = DESCRIPTION in gate().readable_fieldsets(current_user, report)

    def produce():
        from app.admin.models import Agency

        organisation = db.session.get(Agency, report.organisation_id)
        return render_template(
            "reports/detail.html", report=report, form=form if may_review else None,
            description=report.description if readable else None, readable=readable,
            history=reporting.report_history(report), organisation=organisation,
            candidates=possible_duplicates(current_user, report) if may_review else [], **_names(),
        ), status

    if readable and (report.description_ct is not None or report.place_ct is not None):
        return audited_read("report.view", produce, obj=report, field_sets=[DESCRIPTION],
                            permission=Permission.REPORT_READ)
    return produce()


@reports_bp.get("/<report_id>")
@requires(Permission.REPORT_READ)
def detail(report_id: str):
    """One report with its history and, for analysts, the review actions."""
    report = load_report(report_id)
    authorize(Permission.REPORT_READ, report)
    return _render_detail(report)


@reports_bp.post("/<report_id>/review")
@requires(Permission.REPORT_REVIEW)
def review(report_id: str):
    """Accept, reject (with a reason), mark as duplicate, or correct category and area."""
    report = load_report(report_id)
    authorize(Permission.REPORT_REVIEW, report)
    form = ReviewForm()
    form.offer(report, _locale())
    if not form.validate_on_submit():
        return _render_detail(report, form, 400)
    try:
        reporting.review_report(report, current_user, form.action.data, expected_version=form.version.data,
                                reason=form.reason.data, duplicate_of=form.duplicate_of.data,
                                category_id=form.category_id.data, area_id=form.area_id.data)
    except reporting.ReportConflict as exc:
        db.session.refresh(report)
        form.form_errors.append(str(exc))
        form.version.data = str(report.version)
        return _render_detail(report, form, 409)
    except reporting.ReviewInvalid as exc:
        target = form[exc.field] if exc.field and exc.field in form else None
        if target is not None:
            target.errors = list(target.errors) + [str(exc)]
        form.form_errors.append(str(exc))
        return _render_detail(report, form, 400)
    following = next_new_report(current_user, report) if form.action.data != "reclassify" else None
    if following is not None:
        flash(_("Granskningen är sparad. Här är nästa rapport som väntar på granskning."), "success")
        return redirect(url_for("reports.detail", report_id=following.id))
    flash(_("Granskningen är sparad."), "success")
    return redirect(url_for("reports.detail", report_id=report.id))
