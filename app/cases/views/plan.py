"""Plan pages: the individual plan, its items and follow-ups, approved versions, and the plan PDF."""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.audit.pdf import render_pdf
from app.cases import plan as service
from app.cases.plan_pages import item_page, plan_page, version_page
from app.cases.queries import agency_choices, officer_choices
from app.cases.access import audited_page, load_case, load_in_case, require_readable
from app.cases.forms.plan import ApproveForm, FollowUpForm, PlanItemEditForm, PlanItemForm, PlanStatusForm
from app.admin.models import Agency
from app.cases.models import Case, PlanItem
from app.cases.service import CaseError
from app.cases.views import bp, form_status
from app.db import db, utcnow
from app.security.authn import fresh_login_required
from app.security.authz import FIELDSET_READ, FIELDSET_WRITE, authorize, can, gate, requires
from app.security.permissions import Permission

VERSIONS = "plan.versions"
#: The follow-up form shares the item page with the item form: its fields are prefixed to keep names and ids apart.
FOLLOWUP = "followup"


def _to_plan(case: Case, item_id: str | None = None):
    return redirect(url_for("cases.plan", code=case.code, _anchor=f"item-{item_id}" if item_id else None))


def _fail(form, exc: CaseError) -> int:
    """Show a service refusal on the form: 409 for a conflict (someone else saved first), else 400."""
    form.form_errors.append(str(exc))
    return 409 if isinstance(exc, service.PlanConflict) else 400


@bp.get("/<code>/plan")
@requires(Permission.CASE_VIEW)
def plan(code: str):
    """The individual plan, protection and support parts, as far as this user may see it."""
    case = load_case(code, Permission.CASE_VIEW)
    page = plan_page(case)
    return audited_page("plan.view", case, page.sets,
                        lambda: render_template("cases/plan/plan.html", case=case, plan=page),
                        permission=Permission.CASE_VIEW)


@bp.get("/<code>/plan.pdf")
@requires(Permission.CASE_EXPORT)
@fresh_login_required
def plan_pdf(code: str):
    """The plan as PDF for a meeting: the same data and redaction as the plan page, for the person exporting."""
    case = load_case(code, Permission.CASE_EXPORT)
    number = request.args.get("version", "")
    if number:
        # An approved version exactly as approved (from its snapshot), labelled as such on every page.
        require_readable(case, VERSIONS)
        version = next((v for v in case.plan_versions if str(v.number) == number), None)
        if version is None:
            abort(404)
        page = version_page(case, version, with_identity=True)
    else:
        # The plan as it stands, labelled as a draft when it changed since the approved version.
        page = plan_page(case, with_identity=True)
    page.generated_at = utcnow()
    page.attachments = _plan_attachments(case, page.sets)

    def pdf_response():
        response = make_response(render_pdf("pdf/case_plan.html", plan=page))
        response.headers["Content-Type"] = "application/pdf"
        response.headers["Content-Disposition"] = f'attachment; filename="plan-{case.code}.pdf"'
        response.headers["Cache-Control"] = "no-store"
        return response

    detail = {"format": "pdf", "items": page.item_count}
    if page.version_number is not None:
        detail["version"] = page.version_number
    else:
        detail["draft"] = "1" if page.draft else "0"
    return audited_page("plan.export", case, page.sets, pdf_response, permission=Permission.CASE_EXPORT,
                        detail=detail)


def _plan_attachments(case: Case, sets: set[str]) -> list[tuple[str, str, object]]:
    """(title, kind, date) of the plan's documents this user may read: those of the two plan kinds, and those
    attached to the plan's items and versions. Their field sets join the export's audit event."""
    from app.cases.access import readable
    from app.documents.labels import KIND_LABELS
    from app.documents.models import AttachedTo, DocumentKind
    from app.documents.service import documents_of

    plan_kinds = (DocumentKind.PROTECTION_PLAN, DocumentKind.SUPPORT_PLAN)
    rows = []
    for document in documents_of(case):
        if document.kind in plan_kinds or document.attached_to in (AttachedTo.PLAN_ITEM, AttachedTo.PLAN_VERSION):
            if readable(document, document.fieldset):
                sets.add(document.fieldset)
                rows.append((document.title, str(KIND_LABELS[document.kind]),
                             document.document_date or document.created_at))
    return sorted(rows, key=lambda row: str(row[2]))


# ------------------------------------------------------------------ items


def _joins_team(case: Case, agency_id) -> Agency | None:
    """The agency that an item assigned to it would add to the team (None if it is on it already)."""
    if not agency_id or agency_id in case.team_agency_ids:
        return None
    return db.session.get(Agency, agency_id)


def _say_joined(agency: Agency | None) -> None:
    if agency is not None:
        flash(_("%(agency)s var inte med i teamet och är nu tillagd, eftersom myndigheten ansvarar för planpunkten. "
                "Myndigheten ser ärendekoden och sina egna planpunkter.", agency=agency.name), "info")


def _item_form(form_cls, case: Case, item: PlanItem | None = None, from_request: bool = True):
    """The coordinator's item form: what was posted, or (``from_request`` False) the item as saved."""
    if from_request:
        form = form_cls()
    else:
        form = form_cls(formdata=None, data={
            "part": item.part.value, "area": item.area.value, "goal": item.goal,
            "responsible_agency_id": item.responsible_agency_id, "officer_id": item.officer_id,
            "start_on": item.start_on, "due_on": item.due_on, "status": item.status.value, "version": item.version,
        })
    agency_ids = case.team_agency_ids | ({item.responsible_agency_id} if item else set())
    form.set_choices(agency_choices(include=item.responsible_agency_id if item else None),
                     officer_choices(agency_ids, include=item.officer_id if item else None))
    return form


def _edit_form(case: Case, item: PlanItem, from_request: bool):
    """The coordinator edits every field; anyone else (the responsible agency) only the status."""
    if can(Permission.CASE_MANAGE, case):
        return _item_form(PlanItemEditForm, case, item, from_request), service.ITEM_FIELDS
    if from_request:
        return PlanStatusForm(), ("status",)
    return PlanStatusForm(formdata=None, data={"status": item.status.value, "version": item.version}), ("status",)


@bp.route("/<code>/plan/items/new", methods=["GET", "POST"])
@requires(Permission.CASE_MANAGE)
def plan_item_new(code: str):
    """Add a plan item (coordinator); the responsible agency joins the case team."""
    case = load_case(code, Permission.CASE_MANAGE)
    form = _item_form(PlanItemForm, case)
    status = 200
    if form.validate_on_submit():
        joins = _joins_team(case, form.responsible_agency_id.data)
        try:
            item = service.create_item(
                case, current_user, part=form.part.data, area=form.area.data, goal=form.goal.data,
                responsible_agency=form.responsible_agency_id.data, officer=form.officer_id.data,
                start_on=form.start_on.data, due_on=form.due_on.data,
            )
        except CaseError as exc:
            status = _fail(form, exc)
        else:
            flash(_("Planpunkten är tillagd."), "success")
            _say_joined(joins)
            return _to_plan(case, str(item.id))
    status = max(status, form_status(form))
    return audited_page("plan.view", case, (),
                        lambda: (render_template("cases/plan/item_form.html", case=case, form=form), status),
                        permission=Permission.CASE_MANAGE)


def _item_page(case: Case, item: PlanItem, form, followup, status: int):
    data, sets = item_page(item)
    return audited_page(
        "plan.view", case, sets,
        lambda: (render_template("cases/plan/item.html", case=case, item=data, form=form, followup=followup,
                                 manage=can(Permission.CASE_MANAGE, case)), status),
        permission=Permission.PLAN_ITEM_UPDATE,
    )


def _refuse_forged_fields(form, item: PlanItem) -> None:
    """Only the fields of the form this user was given may be posted: anything else is a forged write, refused
    (403 and an audit event), on the item form and the follow-up form alike."""
    forged = sorted(set(request.form) - {field.name for field in form})
    if forged:
        gate().check_write(current_user, item, forged)


def _load_item(code: str, item_id: str) -> tuple[Case, PlanItem]:
    case = load_case(code, Permission.CASE_VIEW)
    item = load_in_case(PlanItem, case, item_id)
    authorize(Permission.PLAN_ITEM_UPDATE, item)
    return case, item


@bp.route("/<code>/plan/items/<item_id>", methods=["GET", "POST"])
@requires(Permission.PLAN_ITEM_UPDATE)
def plan_item(code: str, item_id: str):
    """Edit a plan item: the coordinator everything, the responsible agency's officer only its status."""
    case, item = _load_item(code, item_id)
    form, fields = _edit_form(case, item, from_request=request.method == "POST")
    if request.method == "POST":
        _refuse_forged_fields(form, item)
    status = 200
    if form.validate_on_submit():
        changes = {name: form[name].data for name in fields}
        if "goal" in changes:
            gate().check_write(current_user, item, ["goal"])
        joins = _joins_team(case, changes.get("responsible_agency_id"))
        try:
            service.update_item(item, current_user, expected_version=form.version.data, **changes)
        except CaseError as exc:
            status = _fail(form, exc)
        else:
            flash(_("Planpunkten är sparad."), "success")
            _say_joined(joins)
            return _to_plan(case, item_id)
    followup = FollowUpForm(formdata=None, data={"version": item.version}, prefix=FOLLOWUP)
    return _item_page(case, item, form, followup, max(status, form_status(form)))


@bp.post("/<code>/plan/items/<item_id>/followups")
@requires(Permission.PLAN_ITEM_UPDATE)
def plan_followup(code: str, item_id: str):
    """Add a dated follow-up (optionally with a new status) to an item the user's agency is responsible for."""
    case, item = _load_item(code, item_id)
    authorize(FIELDSET_WRITE + "plan.followups", item)
    followup = FollowUpForm(prefix=FOLLOWUP)
    _refuse_forged_fields(followup, item)
    status = 200
    if followup.validate_on_submit():
        try:
            service.add_followup(item, current_user, followup.text.data, followup.status.data or None,
                                 expected_version=followup.version.data)
        except CaseError as exc:
            status = _fail(followup, exc)
        else:
            flash(_("Uppföljningen är sparad."), "success")
            return _to_plan(case, item_id)
    form, _fields = _edit_form(case, item, from_request=False)
    return _item_page(case, item, form, followup, max(status, form_status(followup)))


# ------------------------------------------------------------------ versions


@bp.route("/<code>/plan/approve", methods=["GET", "POST"])
@requires(Permission.CASE_MANAGE)
def plan_approve(code: str):
    """Approve the plan as it stands as a new version, after seeing what changed since the last one."""
    case = load_case(code, Permission.CASE_MANAGE)
    authorize(FIELDSET_WRITE + VERSIONS, case)
    form = ApproveForm()
    status = 200
    if form.validate_on_submit():
        try:
            version = service.approve_version(case, current_user, participant_agreed_on=form.participant_agreed_on.data)
        except CaseError as exc:
            status = _fail(form, exc)
        else:
            flash(_("Planen är fastställd som version %(number)s.", number=version.number), "success")
            return redirect(url_for("cases.plan_version", code=case.code, number=version.number))
    changes = service.pending_changes(case)
    sets = {"plan.items", VERSIONS} if case.plan_items else set()
    return audited_page(
        "plan.view", case, sets,
        lambda: (render_template("cases/plan/approve.html", case=case, form=form, changes=changes,
                                 latest=service.latest_version(case)), max(status, form_status(form))),
        permission=Permission.CASE_MANAGE,
    )


def _versions_case(code: str) -> Case:
    case = load_case(code, Permission.CASE_VIEW)
    authorize(FIELDSET_READ + VERSIONS, case)
    return case


@bp.get("/<code>/plan/versions")
@requires(Permission.CASE_VIEW)
def plan_versions(code: str):
    """Every approved version of the plan: when, by whom, what changed, the participant's agreement."""
    case = _versions_case(code)
    versions = sorted(case.plan_versions, key=lambda v: v.number, reverse=True)
    return audited_page("plan.view", case, {VERSIONS} if versions else set(),
                        lambda: render_template("cases/plan/versions.html", case=case, versions=versions),
                        permission=Permission.CASE_VIEW)


@bp.get("/<code>/plan/versions/<int:number>")
@requires(Permission.CASE_VIEW)
def plan_version(code: str, number: int):
    """One approved version exactly as it was approved."""
    case = _versions_case(code)
    version = next((v for v in case.plan_versions if v.number == number), None)
    if version is None:
        abort(404)
    items = service.version_items(version)
    return audited_page("plan.view", case, {VERSIONS},
                        lambda: render_template("cases/plan/version.html", case=case, version=version, items=items),
                        permission=Permission.CASE_VIEW, detail={"version": number})
