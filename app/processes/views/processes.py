"""Process pages: the list, a process with its milestones and timeline, and the forms that change them.

The process leader (PROCESS_MANAGE) creates and edits processes and milestones;
the owning agency's officers change a milestone's status and completion note
only (MILESTONE_UPDATE on that milestone). Every read goes through
app.processes.access, so the list, the page and its counts apply the same rule.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.routing import BuildError

from app.processes import schedule, service
from app.processes.access import load_milestone, load_process, visible_processes_query
from app.processes.dates import is_late, local_today
from app.processes.form_fields import show_hidden_errors
from app.processes.forms import (DeleteForm, MilestoneEditForm, MilestoneForm, MilestoneStatusForm, ProcessEditForm,
                                 ProcessFilterForm, ProcessForm)
from app.processes.labels import (LATE_LABEL, PROCESS_STATUS_LABELS, PROCESS_TYPE_LABELS, WORK_STATUS_LABELS)
from app.processes.models import Milestone, Process, ProcessStatus, ProcessType, WorkStatus
from app.processes.views import processes_bp as bp
from app.security.authz import can, requires
from app.security.permissions import Permission
from app.web import form_status, page_arg, per_page

LABELS = {"type": PROCESS_TYPE_LABELS, "status": PROCESS_STATUS_LABELS, "work": WORK_STATUS_LABELS,
          "late": LATE_LABEL}


def _fail(form, exc: service.ProcessError) -> int:
    """Show a service refusal on the form: 409 when someone else saved first, else 400."""
    form.form_errors.append(str(exc))
    return 409 if isinstance(exc, service.ProcessConflict) else 400


def _optional_url(endpoint: str, **values) -> str | None:
    """A link to a page another part of the application provides, or None while it does not exist."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def _to_process(process_id: int, anchor: str | None = None):
    return redirect(url_for("processes.detail", process_id=process_id, _anchor=anchor))


# ------------------------------------------------------------------ list


@bp.get("/")
@requires(Permission.PROCESS_LIST)
def index():
    """The processes the user may see: search by name, filters, sorting, pagination and late counts."""
    form = ProcessFilterForm(formdata=request.args, agencies=service.agency_choices())
    sort = request.args.get("sort", "name")
    if sort.lstrip("-") not in service.PROCESS_SORTS:
        sort = "name"
    if not form.validate():
        return render_template("processes/index.html", form=form, pagination=None, rows=[], late={}, sort=sort,
                               labels=LABELS), 400
    today = local_today()
    filters = service.ProcessFilter(
        q=form.q.data or "", status=ProcessStatus(form.status.data) if form.status.data else None,
        type=ProcessType(form.type.data) if form.type.data else None, agency_id=form.agency.data, sort=sort)
    pagination = service.search_processes(visible_processes_query(current_user), filters, today, page_arg(),
                                          per_page())
    rows = pagination.items
    return render_template("processes/index.html", form=form, pagination=pagination, rows=rows,
                           late=service.late_counts(rows, today), sort=sort, labels=LABELS)


# ------------------------------------------------------------------ processes


def _process_form(form_cls, process: Process | None = None, from_request: bool = True):
    if from_request:
        form = form_cls()
    elif process is None:
        form = form_cls(formdata=None, data={"owner_id": current_user.id, "owner_agency_id": current_user.agency_id,
                                             "status": ProcessStatus.PLANNED.value, "start_date": local_today()})
    else:
        form = form_cls(formdata=None, data={
            "name": process.name, "type": process.type.value, "status": process.status.value,
            "owner_id": process.owner_id, "owner_agency_id": process.owner_agency_id,
            "agency_ids": [a.id for a in process.agencies], "goal": process.goal, "start_date": process.start_date,
            "end_date": process.end_date, "area_ids": [a.id for a in process.areas],
            "category_ids": [c.id for c in process.categories], "version": process.version})
    chosen_agencies = [process.owner_agency_id, *[a.id for a in process.agencies]] if process else []
    form.set_choices(
        owners=service.process_leader_choices(include=process.owner_id if process else None),
        agencies=service.agency_choices(include=chosen_agencies),
        areas=service.area_choices(include=[a.id for a in process.areas] if process else ()),
        categories=service.category_choices(include=[c.id for c in process.categories] if process else (),
                                            locale=str(get_locale())))
    return form


@bp.route("/new", methods=["GET", "POST"])
@requires(Permission.PROCESS_MANAGE)
def new():
    """Start a process (process leader)."""
    form = _process_form(ProcessForm, from_request=request.method == "POST")
    status = 200
    if form.validate_on_submit():
        try:
            process = service.create_process(current_user, **form.values())
        except service.ProcessError as exc:
            status = _fail(form, exc)
        else:
            flash(_("Processen är skapad."), "success")
            return _to_process(process.id)
    status = show_hidden_errors(form, max(status, form_status(form)))
    return render_template("processes/form.html", form=form, process=None), status


@bp.get("/<int:process_id>")
@requires(Permission.PROCESS_VIEW)
def detail(process_id: int):
    """A process: its facts, milestones (late ones marked, projected dates shown) and timeline."""
    process = load_process(process_id, Permission.PROCESS_VIEW)
    today = local_today()
    milestones = service.milestones_of(process)
    projected = schedule.projected_dates(milestones)
    try:
        from app.processes.timeline import timeline_svg
    except ImportError:  # drawn by its own module; the page works without it
        timeline = None
    else:
        timeline = timeline_svg(process, milestones, today, projected)
    rows = [{"m": m, "late": is_late(m.status, m.due_date, today), "projected": projected.get(m.id, m.due_date),
             "may_update": can(Permission.MILESTONE_UPDATE, m)} for m in milestones]
    links = {
        "pdf": _optional_url("processes.report_pdf", process_id=process.id)
        if can(Permission.PROCESS_EXPORT, process) else None,
        "meetings": _optional_url("meetings.index", process_id=process.id)
        if can(Permission.MEETING_VIEW, process) else None,
        "new_meeting": _optional_url("meetings.new", process_id=process.id)
        if can(Permission.PROCESS_MANAGE, process) else None,
    }
    return render_template("processes/detail.html", process=process, rows=rows, timeline=timeline, links=links,
                           today=today, late_count=sum(1 for r in rows if r["late"]), labels=LABELS,
                           manage=can(Permission.PROCESS_MANAGE, process))


@bp.route("/<int:process_id>/edit", methods=["GET", "POST"])
@requires(Permission.PROCESS_MANAGE)
def edit(process_id: int):
    """Change a process (process leader); a stale form is refused with 409 and nothing saved."""
    process = load_process(process_id, Permission.PROCESS_MANAGE)
    form = _process_form(ProcessEditForm, process, from_request=request.method == "POST")
    status = 200
    if form.validate_on_submit():
        try:
            service.update_process(process, current_user, expected_version=form.version.data, **form.values())
        except service.ProcessError as exc:
            status = _fail(form, exc)
        else:
            flash(_("Processen är sparad."), "success")
            return _to_process(process.id)
    status = show_hidden_errors(form, max(status, form_status(form)))
    return render_template("processes/form.html", form=form, process=process, delete=DeleteForm(formdata=None)), \
        status


@bp.post("/<int:process_id>/delete")
@requires(Permission.PROCESS_MANAGE)
def delete(process_id: int):
    """Remove a process and its milestones after an explicit confirmation."""
    process = load_process(process_id, Permission.PROCESS_MANAGE)
    form = DeleteForm()
    if not form.validate_on_submit():
        flash(_("Inget togs bort: bekräfta genom att kryssa i rutan."), "error")
        return redirect(url_for("processes.edit", process_id=process.id, _anchor="ta-bort"))
    try:
        service.delete_process(process, current_user)
    except service.ProcessError as exc:
        flash(str(exc), "error")
        return redirect(url_for("processes.edit", process_id=process.id, _anchor="ta-bort"))
    flash(_("Processen är borttagen."), "success")
    return redirect(url_for("processes.index"))


# ------------------------------------------------------------------ milestones


def _milestone_form(form_cls, process: Process, milestone: Milestone | None = None, from_request: bool = True):
    if from_request:
        form = form_cls()
    elif milestone is None:
        form = form_cls(formdata=None, data={"status": WorkStatus.PLANNED.value})
    else:
        form = form_cls(formdata=None, data={
            "title": milestone.title, "agency_id": milestone.agency_id, "responsible_id": milestone.responsible_id,
            "due_date": milestone.due_date, "status": milestone.status.value,
            "depends_on_ids": [d.id for d in milestone.depends_on], "completion_note": milestone.completion_note,
            "version": milestone.version})
    others = [m for m in service.milestones_of(process) if milestone is None or m.id != milestone.id]
    form.set_choices(
        agencies=service.participant_agency_choices(process),
        officers=service.officer_choices(process, include=milestone.responsible_id if milestone else None),
        milestones=[(m.id, f"{m.title} ({m.due_date.isoformat()})") for m in others])
    return form


def _pushed_message(change: service.MilestoneChange) -> str | None:
    if not change.pushes:
        return None
    moved = "; ".join(f"{p.milestone.title}: {p.before.isoformat()} → {p.after.isoformat()}" for p in change.pushes)
    return _("Ändringen flyttar beräknat datum för delmål som väntar på det: %(list)s", list=moved)


@bp.route("/<int:process_id>/milestones/new", methods=["GET", "POST"])
@requires(Permission.PROCESS_MANAGE)
def milestone_new(process_id: int):
    """Add a milestone to a process (process leader)."""
    process = load_process(process_id, Permission.PROCESS_MANAGE)
    form = _milestone_form(MilestoneForm, process, from_request=request.method == "POST")
    status = 200
    if form.validate_on_submit():
        try:
            milestone = service.create_milestone(process, current_user, **form.values())
        except service.ProcessError as exc:
            status = _fail(form, exc)
        else:
            flash(_("Delmålet är tillagt."), "success")
            return _to_process(process.id, f"milestone-{milestone.id}")
    status = show_hidden_errors(form, max(status, form_status(form)))
    return render_template("processes/milestone_form.html", form=form, process=process, milestone=None), status


@bp.route("/<int:process_id>/milestones/<int:milestone_id>/edit", methods=["GET", "POST"])
@requires(Permission.PROCESS_MANAGE)
def milestone_edit(process_id: int, milestone_id: int):
    """Change every field of a milestone (process leader); a moved date lists what it pushes."""
    process = load_process(process_id, Permission.PROCESS_MANAGE)
    milestone = load_milestone(process, milestone_id)
    form = _milestone_form(MilestoneEditForm, process, milestone, from_request=request.method == "POST")
    status = 200
    if form.validate_on_submit():
        try:
            change = service.update_milestone(milestone, current_user, expected_version=form.version.data,
                                              **form.values())
        except service.ProcessError as exc:
            status = _fail(form, exc)
        else:
            flash(_("Delmålet är sparat."), "success")
            message = _pushed_message(change)
            if message:
                flash(message, "warning")
            return _to_process(process.id, f"milestone-{milestone.id}")
    status = show_hidden_errors(form, max(status, form_status(form)))
    return render_template("processes/milestone_form.html", form=form, process=process, milestone=milestone,
                           dependents=list(milestone.dependents), delete=DeleteForm(formdata=None)), status


@bp.route("/<int:process_id>/milestones/<int:milestone_id>/status", methods=["GET", "POST"])
@requires(Permission.MILESTONE_UPDATE)
def milestone_status(process_id: int, milestone_id: int):
    """The owning agency's officers (and the process leader) change the status and completion note only."""
    process = load_process(process_id, Permission.PROCESS_VIEW)
    milestone = load_milestone(process, milestone_id, Permission.MILESTONE_UPDATE)
    if request.method == "POST":
        # Only status, note and version are read: any other posted field (title, date, agency) is ignored.
        form = MilestoneStatusForm()
    else:
        form = MilestoneStatusForm(formdata=None, data={"status": milestone.status.value,
                                                        "completion_note": milestone.completion_note,
                                                        "version": milestone.version})
    status = 200
    if form.validate_on_submit():
        try:
            change = service.change_status(milestone, current_user, expected_version=form.version.data,
                                           status=form.status.data, completion_note=form.completion_note.data)
        except service.ProcessError as exc:
            status = _fail(form, exc)
        else:
            flash(_("Delmålets status är sparad."), "success")
            message = _pushed_message(change)
            if message:
                flash(message, "warning")
            return _to_process(process.id, f"milestone-{milestone.id}")
    status = show_hidden_errors(form, max(status, form_status(form)))
    return render_template("processes/milestone_status.html", form=form, process=process, milestone=milestone,
                           blocking=schedule.blocking(milestone), labels=LABELS), status


@bp.post("/<int:process_id>/milestones/<int:milestone_id>/delete")
@requires(Permission.PROCESS_MANAGE)
def milestone_delete(process_id: int, milestone_id: int):
    """Remove a milestone after an explicit confirmation; milestones that waited for it stop waiting."""
    process = load_process(process_id, Permission.PROCESS_MANAGE)
    milestone = load_milestone(process, milestone_id)
    if not DeleteForm().validate_on_submit():
        flash(_("Inget togs bort: bekräfta genom att kryssa i rutan."), "error")
        return redirect(url_for("processes.milestone_edit", process_id=process.id, milestone_id=milestone.id,
                                _anchor="ta-bort"))
    service.delete_milestone(milestone, current_user)
    flash(_("Delmålet är borttaget."), "success")
    return _to_process(process.id)
