"""Views of the meetings blueprint: process meetings, the weekly EST meeting and action items.

Every page that shows minutes or decisions writes one ``meeting.read`` event
once it is produced, before it is sent (audited_read); if that write fails nothing is shown.
"""

from __future__ import annotations

from flask import abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.db import db
from app.overview.figures import is_valid_week, last_complete_week
from app.processes import action_items as actions
from app.processes import est as est_service
from app.processes import meeting_common as common
from app.processes import meetings as service
from app.processes.access import load_action_item, load_meeting, load_process, visible_meetings_query
from app.processes.dates import is_late, local_today
from app.processes.forms_meetings import (ActionItemEditForm, ActionItemForm, ActionStatusForm, DecisionForm,
                                          DeleteForm, MeetingEditForm, MeetingFilterForm, MeetingForm, OpenEstForm)
from app.processes.labels import LATE_LABEL, MEETING_KIND_LABELS, WORK_STATUS_LABELS
from app.processes.models import ActionItem, Meeting, MeetingKind, Process
from app.processes.views import meetings_bp as bp
from app.security.audit import audited_read
from app.security.authz import authorize, can, requires
from app.security.permissions import Permission
from app.web import form_status, page_arg, per_page

LABELS = {"kind": MEETING_KIND_LABELS, "status": WORK_STATUS_LABELS, "late": LATE_LABEL}


def _process_url(process: Process | None) -> str | None:
    """A link to the process page, if that page exists and the user may open it."""
    if process is None or "processes.detail" not in current_app.view_functions:
        return None
    if not can(Permission.PROCESS_VIEW, process):
        return None
    return url_for("processes.detail", process_id=process.id)


def _item_url(item: ActionItem) -> str | None:
    """Where this user can open an action item: its meeting, else its status page (the owning agency), else none."""
    if can(Permission.MEETING_VIEW, item.meeting):
        return url_for("meetings.detail", meeting_id=item.meeting_id, _anchor=f"action-{item.id}")
    if can(Permission.MILESTONE_UPDATE, item):
        return url_for("meetings.action_status", action_id=item.id)
    return None


def _render(template: str, status: int = 200, **context):
    form = context.get("form")
    hidden = form.errors.get("version") if form is not None and form.errors else None
    if hidden and hidden[0] not in form.form_errors:
        # The hidden version field has no place on the page to show its error: show it above the form.
        form.form_errors.append(hidden[0])
    return render_template(template, labels=LABELS, process_url=_process_url, item_url=_item_url, **context), status


def _fail(form, exc: common.MeetingError) -> int:
    """A service refusal shown on the form: 409 when someone else saved first, else 400."""
    form.form_errors.append(str(exc))
    return 409 if isinstance(exc, common.MeetingConflict) else 400


def _week_or_404(year: int, week: int) -> None:
    if not is_valid_week(year, week):
        abort(make_response(render_template(
            "errors/error.html", code=404, title=_("Veckan finns inte"),
            message=_("Vecka %(week)s år %(year)s finns inte. Ett år har 52 eller 53 ISO-veckor.",
                      week=week, year=year)), 404))


def _read_page(meeting: Meeting, produce):
    """Produce the page that shows the minutes, then write its one meeting.read event."""
    return audited_read("meeting.read", produce, obj=meeting, permission=Permission.MEETING_VIEW)


# ------------------------------------------------------------------ list


@bp.get("/")
@requires(Permission.MEETING_VIEW)
def index():
    """The meetings this user may open, filtered by kind, process and title, sorted and paginated."""
    form = MeetingFilterForm(request.args)
    form.set_kinds(MEETING_KIND_LABELS)
    process = None
    if request.args.get("process_id"):
        process = load_process(request.args.get("process_id"))
    sort = request.args.get("sort", "-date")
    if sort.lstrip("-") not in service.MEETING_SORTS:
        sort = "-date"
    context = dict(form=form, process=process, sort=sort, pagination=None, rows=[],
                   open_est=OpenEstForm(), manage=can(Permission.PROCESS_MANAGE, route_level=True))
    if not form.validate():
        return _render("meetings/index.html", 400, **context)
    query = service.search_meetings(
        visible_meetings_query(current_user), kind=MeetingKind(form.kind.data) if form.kind.data else None,
        process_id=process.id if process else None, q=form.q.data or "", sort=sort)
    context["pagination"] = db.paginate(query, page=page_arg(), per_page=per_page(), error_out=False)
    context["rows"] = context["pagination"].items
    return _render("meetings/index.html", **context)


# ------------------------------------------------------------------ process meetings


@bp.route("/new", methods=["GET", "POST"])
@requires(Permission.PROCESS_MANAGE)
def new():
    """Record a meeting of a process: title, date, attending agencies, minutes and decisions."""
    if not request.args.get("process_id"):
        # A process meeting belongs to a process: it is started from the process page.
        flash(_("Välj först den process som mötet hör till och skapa mötet från processens sida."), "info")
        target = "processes.index" if "processes.index" in current_app.view_functions else "meetings.index"
        return redirect(url_for(target))
    process = load_process(request.args.get("process_id"), Permission.PROCESS_MANAGE)
    form = MeetingForm()
    form.set_agencies(common.active_agencies())
    if request.method == "GET":
        form.held_on.data = local_today()
        form.attendees.data = sorted(process.participant_agency_ids)
    status = 200
    if form.validate_on_submit():
        try:
            meeting = service.create_meeting(process, current_user, title=form.title.data, held_on=form.held_on.data,
                                             attendee_ids=form.attendees.data, minutes=form.minutes.data,
                                             decisions=form.decisions.data)
        except common.MeetingError as exc:
            status = _fail(form, exc)
        else:
            flash(_("Mötet är sparat."), "success")
            return redirect(url_for("meetings.detail", meeting_id=meeting.id))
    return _render("meetings/form.html", max(status, form_status(form)), form=form, process=process, meeting=None)


@bp.get("/<meeting_id>")
@requires(Permission.MEETING_VIEW)
def detail(meeting_id: str):
    """A meeting: facts, attendees, agenda, the decrypted minutes and decisions (audited read), action items."""
    meeting = load_meeting(meeting_id)
    agenda = est_service.agenda_of(meeting)
    context = dict(
        meeting=meeting, agenda=agenda, carried=est_service.carried_rows(agenda, current_user),
        focus=est_service.week_focus(meeting),
        rows=actions.action_rows(meeting), manage=can(Permission.PROCESS_MANAGE, meeting),
        can_update=lambda item: can(Permission.MILESTONE_UPDATE, item),
    )
    return _read_page(meeting, lambda: render_template(
        "meetings/detail.html", labels=LABELS, process_url=_process_url, item_url=_item_url, minutes=meeting.minutes,
        decisions=common.decision_lines(meeting.decisions), **context))


def _edit_form(meeting: Meeting, from_request: bool) -> MeetingEditForm:
    if from_request:
        form = MeetingEditForm()
    else:
        form = MeetingEditForm(formdata=None, data={
            "title": meeting.title, "held_on": meeting.held_on, "attendees": [a.id for a in meeting.attendees],
            "minutes": meeting.minutes, "decisions": meeting.decisions, "focus": est_service.week_focus(meeting),
            "version": meeting.version})
    form.set_agencies(common.active_agencies({a.id for a in meeting.attendees}))
    if meeting.kind != MeetingKind.EST:
        del form.focus
    return form


@bp.route("/<meeting_id>/edit", methods=["GET", "POST"])
@requires(Permission.PROCESS_MANAGE)
def edit(meeting_id: str):
    """Edit a meeting (optimistic locking); for the EST meeting also the week's focus areas."""
    meeting = load_meeting(meeting_id, Permission.PROCESS_MANAGE)
    if request.method == "GET":
        form = _edit_form(meeting, from_request=False)
        return _read_page(meeting, lambda: _render("meetings/form.html", form=form, process=meeting.process,
                                                   meeting=meeting))
    form = _edit_form(meeting, from_request=True)
    status = 200
    if form.validate_on_submit():
        try:
            service.update_meeting(meeting, current_user, expected_version=form.version.data,
                                   title=form.title.data, held_on=form.held_on.data,
                                   attendee_ids=form.attendees.data, minutes=form.minutes.data,
                                   decisions=form.decisions.data,
                                   focus=form.focus.data if "focus" in form else None)
        except common.MeetingError as exc:
            status = _fail(form, exc)
        else:
            flash(_("Mötet är ändrat."), "success")
            return redirect(url_for("meetings.detail", meeting_id=meeting.id))
    return _render("meetings/form.html", max(status, form_status(form)), form=form, process=meeting.process,
                   meeting=meeting)


@bp.route("/<meeting_id>/delete", methods=["GET", "POST"])
@requires(Permission.PROCESS_MANAGE)
def delete(meeting_id: str):
    """Delete a meeting after a confirmation (its minutes are crypto-shredded)."""
    meeting = load_meeting(meeting_id, Permission.PROCESS_MANAGE)
    form = DeleteForm()
    if form.validate_on_submit():
        process_id = meeting.process_id
        service.delete_meeting(meeting, current_user)
        flash(_("Mötet är borttaget."), "success")
        return redirect(url_for("meetings.index", process_id=process_id) if process_id
                        else url_for("meetings.index"))
    return _render("meetings/delete.html", form_status(form), form=form, meeting=meeting)


# ------------------------------------------------------------------ the weekly EST meeting


@bp.get("/est")
@requires(Permission.MEETING_VIEW)
def est_current():
    """The EST meeting of the week it discusses: the last complete ISO week."""
    year, week = last_complete_week()
    return redirect(url_for("meetings.est", year=year, week=week))


@bp.get("/est/<int:year>/<int:week>")
@requires(Permission.MEETING_VIEW)
def est(year: int, week: int):
    """The week's EST meeting if it is open; else the agenda it would open with."""
    _week_or_404(year, week)
    meeting = est_service.est_meeting(year, week)
    if meeting is not None:
        authorize(Permission.MEETING_VIEW, meeting)
        return redirect(url_for("meetings.detail", meeting_id=meeting.id))
    # The proposal is the live overview (draft analysis, unpublished hotspots): only its readers see it.
    agenda = est_service.proposed_agenda(year, week) if can(Permission.OVERVIEW_READ) else None
    return _render("meetings/est.html", year=year, week=week, agenda=agenda,
                   carried=est_service.carried_rows(agenda, current_user),
                   manage=can(Permission.PROCESS_MANAGE, route_level=True), form=OpenEstForm(),
                   overview_url=url_for("overview.week", year=year, week=week))


@bp.post("/est/<int:year>/<int:week>/open")
@requires(Permission.PROCESS_MANAGE)
def est_open(year: int, week: int):
    """Open the week's EST meeting with the week's hotspots, analysis and open action items as its agenda."""
    _week_or_404(year, week)
    form = OpenEstForm()
    if not form.validate_on_submit():
        flash(_("Formuläret har gått ut. Ladda om sidan och försök igen."), "error")
        return redirect(url_for("meetings.est", year=year, week=week))
    meeting, created = est_service.open_est_meeting(year, week, current_user)
    authorize(Permission.PROCESS_MANAGE, meeting)
    flash(_("EST-mötet är öppnat.") if created else _("EST-mötet för veckan var redan öppnat."),
          "success" if created else "info")
    return redirect(url_for("meetings.detail", meeting_id=meeting.id))


# ------------------------------------------------------------------ action items


def _item_form(form_cls, item: ActionItem | None = None, from_request: bool = True):
    if from_request:
        form = form_cls()
    else:
        form = form_cls(formdata=None, data={
            "title": item.title, "agency_id": item.agency_id, "responsible_id": item.responsible_id,
            "due_date": item.due_date, "status": item.status.value, "version": item.version})
    include = {item.agency_id} if item else set()
    form.set_choices(common.active_agencies(include),
                     common.responsible_choices(include=item.responsible_id if item else None))
    return form


@bp.route("/<meeting_id>/actions/new", methods=["GET", "POST"])
@requires(Permission.PROCESS_MANAGE)
def action_new(meeting_id: str):
    """Add an action item with an owning agency and a due date."""
    meeting = load_meeting(meeting_id, Permission.PROCESS_MANAGE)
    form = _item_form(ActionItemForm)
    status = 200
    if form.validate_on_submit():
        try:
            actions.create_action_item(meeting, current_user, title=form.title.data, agency_id=form.agency_id.data,
                                       responsible_id=form.responsible_id.data, due_date=form.due_date.data,
                                       status=form.status.data)
        except common.MeetingError as exc:
            status = _fail(form, exc)
        else:
            flash(_("Åtgärdspunkten är tillagd."), "success")
            return redirect(url_for("meetings.detail", meeting_id=meeting.id, _anchor="actions"))
    return _render("meetings/action_form.html", max(status, form_status(form)), form=form, meeting=meeting,
                   item=None)


@bp.route("/<meeting_id>/decisions/new", methods=["GET", "POST"])
@requires(Permission.PROCESS_MANAGE)
def decision_new(meeting_id: str):
    """Record a decision of the meeting and, in the same step, the action item it becomes."""
    meeting = load_meeting(meeting_id, Permission.PROCESS_MANAGE)
    form = _item_form(DecisionForm)
    if request.method == "GET":
        form.version.data = meeting.version
        form.make_action.data = True
    status = 200
    if form.validate_on_submit():
        try:
            number, item = actions.record_decision(
                meeting, current_user, expected_version=form.version.data, decision=form.decision.data,
                make_action=form.make_action.data, title=form.title.data, agency_id=form.agency_id.data,
                responsible_id=form.responsible_id.data, due_date=form.due_date.data)
        except common.MeetingError as exc:
            status = _fail(form, exc)
        else:
            flash(_("Beslutet och åtgärdspunkten är sparade.") if item else _("Beslutet är sparat."), "success")
            return redirect(url_for("meetings.detail", meeting_id=meeting.id,
                                    _anchor=f"action-{item.id}" if item else f"decision-{number}"))
    return _render("meetings/decision_form.html", max(status, form_status(form)), form=form, meeting=meeting)


@bp.route("/actions/<int:action_id>/edit", methods=["GET", "POST"])
@requires(Permission.PROCESS_MANAGE)
def action_edit(action_id: int):
    """Edit every field of an action item (optimistic locking)."""
    item = load_action_item(action_id, Permission.PROCESS_MANAGE)
    if request.method == "GET":
        return _render("meetings/action_form.html", form=_item_form(ActionItemEditForm, item, False),
                       meeting=item.meeting, item=item)
    form = _item_form(ActionItemEditForm, item)
    status = 200
    if form.validate_on_submit():
        try:
            actions.update_action_item(item, current_user, expected_version=form.version.data,
                                       title=form.title.data, agency_id=form.agency_id.data,
                                       responsible_id=form.responsible_id.data, due_date=form.due_date.data,
                                       status=form.status.data)
        except common.MeetingError as exc:
            status = _fail(form, exc)
        else:
            flash(_("Åtgärdspunkten är ändrad."), "success")
            return redirect(url_for("meetings.detail", meeting_id=item.meeting_id, _anchor="actions"))
    return _render("meetings/action_form.html", max(status, form_status(form)), form=form, meeting=item.meeting,
                   item=item)


@bp.route("/actions/<int:action_id>/status", methods=["GET", "POST"])
@requires(Permission.MILESTONE_UPDATE)
def action_status(action_id: int):
    """The owning agency updates an action item's status and completion note (nothing else)."""
    item = load_action_item(action_id, Permission.MILESTONE_UPDATE)
    if request.method == "GET":
        form = ActionStatusForm(formdata=None, data={"status": item.status.value,
                                                     "completion_note": item.completion_note,
                                                     "version": item.version})
    else:
        form = ActionStatusForm()
    status = 200
    if form.validate_on_submit():
        try:
            actions.update_action_status(item, current_user, expected_version=form.version.data,
                                         status=form.status.data, completion_note=form.completion_note.data)
        except common.MeetingError as exc:
            status = _fail(form, exc)
        else:
            flash(_("Åtgärdspunkten är uppdaterad."), "success")
            if can(Permission.MEETING_VIEW, item.meeting):
                return redirect(url_for("meetings.detail", meeting_id=item.meeting_id, _anchor="actions"))
            return redirect(url_for("meetings.action_status", action_id=item.id))
    return _render("meetings/action_status.html", max(status, form_status(form)), form=form, item=item,
                   late=is_late(item.status, item.due_date, local_today()),
                   meeting_url=(url_for("meetings.detail", meeting_id=item.meeting_id)
                                if can(Permission.MEETING_VIEW, item.meeting) else None))
