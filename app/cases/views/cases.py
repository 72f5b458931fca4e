"""Case list and search, referral (intake), the case page, phase, team, participant details and history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.admin.forms import DestructiveConfirmForm
from app.admin.models import Agency
from app.cases import queries, records, reopening, service
from app.cases.access import (
    ReadLog,
    audited_page,
    load_case,
    load_in_case,
    readable,
    redact,
    visible_cases,
    visible_cases_query,
    visible_plan_items,
)
from app.cases.forms.cases import (
    CaseFilterForm,
    FindParticipantForm,
    ParticipantForm,
    PhaseForm,
    ReferralForm,
    TeamMemberForm,
    format_personal_number,
)
from app.cases.labels import (
    CONSENT_KIND_LABELS,
    OUTCOME_LABELS,
    PHASE_LABELS,
    PLAN_AREA_LABELS,
    PLAN_PART_LABELS,
    PLAN_STATUS_LABELS,
    PROTECTED_IDENTITY_LABELS,
    REFERRAL_SOURCE_LABELS,
    THREAT_LEVEL_LABELS,
)
from app.cases.models import Case, CasePhase, CaseTeamMember, today_local
from app.cases.views import bp, form_status, page_arg, per_page
from app.db import db
from app.cases.lookups import limit_person_lookups
from app.security.authn import fresh_login_required, reauthenticate_if_stale
from app.security.authz import authorize, can, gate, requires
from app.security.models import User
from app.security.permissions import Permission

LABELS = {
    "phase": PHASE_LABELS, "outcome": OUTCOME_LABELS, "source": REFERRAL_SOURCE_LABELS,
    "protection": PROTECTED_IDENTITY_LABELS, "consent_kind": CONSENT_KIND_LABELS, "threat": THREAT_LEVEL_LABELS,
    "area": PLAN_AREA_LABELS, "part": PLAN_PART_LABELS, "status": PLAN_STATUS_LABELS,
}


@dataclass(frozen=True)
class CaseTab:
    """One link of the case sub-navigation; shown only if the user may open it (and read its field set)."""

    endpoint: str
    label: Any
    permission: Permission = Permission.CASE_VIEW
    fieldset: str | None = None


CASE_TABS = (
    CaseTab("cases.detail", _l("Översikt")),
    CaseTab("cases.plan", _l("Plan")),
    CaseTab("cases.consents", _l("Samtycken"), Permission.CASE_MANAGE, "case.consent"),
    CaseTab("cases.assessments", _l("Hotbild"), fieldset="case.threat"),
    CaseTab("cases.notes", _l("Journal"), fieldset="case.notes"),
    CaseTab("cases.meetings", _l("Möten"), fieldset="case.meetings"),
    # A linked incident (a threat, violence) tells that the person is under threat: shown as the threat is.
    CaseTab("cases.incidents", _l("Händelser"), fieldset="case.threat"),
    CaseTab("cases.history", _l("Historik"), Permission.CASE_DETAILS),
)


@bp.app_template_global()
def case_nav(case: Case) -> list[CaseTab]:
    """The case pages this user may open (templates/cases/_case_nav.html)."""
    from flask import current_app

    return [
        tab for tab in CASE_TABS
        if tab.endpoint in current_app.view_functions and can(tab.permission, case)
        and (tab.fieldset is None or readable(case, tab.fieldset))
    ]


@dataclass(frozen=True)
class CaseBanners:
    """What every page of a case must say at the top (templates/cases/_case_nav.html)."""

    emergency: Any = None
    emergency_minutes_left: int = 0
    #: The protected-identity level, for those who may read it (else None).
    protection: Any = None


@bp.app_template_global()
def case_banners(case: Case) -> CaseBanners:
    from app.db import as_utc, utcnow

    if not current_user.is_authenticated:
        return CaseBanners()
    protection = case.participant.protected_identity if is_protected(case) else None
    access = case.active_emergency(current_user.id)
    if access is None:
        return CaseBanners(protection=protection)
    left = max(1, -(-int((as_utc(access.expires_at) - utcnow()).total_seconds()) // 60))
    return CaseBanners(emergency=access, emergency_minutes_left=left, protection=protection)


@bp.app_template_global()
def protection_label(level) -> str:
    return str(PROTECTED_IDENTITY_LABELS[level])


@bp.app_template_filter("consent_kind_label")
def consent_kind_label(kind) -> str:
    return str(CONSENT_KIND_LABELS[kind])


@bp.app_template_filter("personal_number")
def personal_number_filter(value: str | None) -> str:
    return format_personal_number(value)


def _page(action: str, case: Case, sets, template: str, status: int = 200,
          permission: Permission = Permission.CASE_MANAGE, **context):
    """Render a case page, then write its one audit event (action, case code, field sets shown)."""
    return audited_page(action, case, sets, lambda: (render_template(template, case=case, labels=LABELS,
                                                                     **context), status), permission=permission)


# ------------------------------------------------------------------ list and search


def _filter_form() -> CaseFilterForm:
    return CaseFilterForm(request.args, coordinators=queries.coordinator_choices(), agencies=queries.agency_choices())


@bp.get("/")
@requires(Permission.CASE_LIST)
def index():
    """The cases this user may open, filtered, sorted and paginated."""
    form = _filter_form()
    if not form.validate():
        return render_template("cases/list.html", form=form, pagination=None, rows=[], overdue={}, sort="",
                               find_form=FindParticipantForm(), labels=LABELS), 400
    sort = request.args.get("sort", "")
    if sort.lstrip("-") not in queries.CASE_SORTS:
        sort = "-referred"
    filters = queries.CaseFilters(code=form.code.data, phase=CasePhase(form.phase.data) if form.phase.data else None,
                                  coordinator_id=form.coordinator.data, agency_id=form.agency.data,
                                  due=form.due.data or None)
    pagination = queries.search_cases(visible_cases_query(current_user), current_user, filters, sort,
                                      page_arg(), per_page())
    rows = visible_cases(pagination.items)
    overdue = queries.overdue_counts(rows, current_user)
    detail = {"filters": ",".join(form.used())} if form.used() else None
    return audited_page("case.list", None, (), lambda: render_template(
        "cases/list.html", form=form, pagination=pagination, rows=rows, overdue=overdue, sort=sort,
        find_form=FindParticipantForm(), labels=LABELS), permission=Permission.CASE_LIST, detail=detail)


@bp.post("/find")
@requires(Permission.PARTICIPANT_SEARCH)
@limit_person_lookups
def find():
    """Find a participant by exact personal identity number; shows case codes only."""
    form = FindParticipantForm()
    if not form.validate_on_submit():
        return render_template("cases/list.html", form=None, find_form=form, found=None, labels=LABELS), 400
    cases = service.cases_by_personal_number(form.personal_number.data)
    codes = [c.code for c in cases]
    foreign = any(not can(Permission.CASE_VIEW, c) for c in cases)
    event: dict[str, Any] = {"permission": Permission.PARTICIPANT_SEARCH,
                             "detail": {"matches": len(codes), "foreign": "1" if foreign else "0"}}
    if len(codes) == 1:
        event["obj"] = cases[0]
    elif codes:
        event["detail"]["codes"] = ",".join(codes)[:100]
    return audited_page("participant.search", None, (), lambda: render_template(
        "cases/list.html", form=None, find_form=FindParticipantForm(formdata=None), found=cases,
        labels=LABELS), **event)


# ------------------------------------------------------------------ referral and reopening


def _new_page(form, existing: Case | None, status: int, reopen_token: str | None = None):
    """The referral form. Naming an existing case is a read, audited as a search that found it: a case the user
    does not coordinate shows only that the person has a case and whom to contact (never its code or phase)."""
    own = existing is not None and can(Permission.CASE_VIEW, existing)
    context = dict(form=form, existing=existing, own=own, reopen_token=reopen_token, labels=LABELS)
    if existing is None:
        return render_template("cases/new.html", **context), status
    detail = {"context": "referral", "foreign": "0" if own else "1"}
    return audited_page("participant.search", existing, (), lambda: (render_template("cases/new.html", **context),
                                                                      status),
                        permission=Permission.CASE_CREATE, detail=detail)


@bp.route("/new", methods=["GET", "POST"])
@requires(Permission.CASE_CREATE)
@limit_person_lookups
def new():
    """Register a referral: the participant and a new case; an already registered person is offered a reopening."""
    form = ReferralForm()
    if not form.validate_on_submit():
        return _new_page(form, None, form_status(form))
    fields = form.participant_fields()
    number = fields["personal_number"]
    existing = next(iter(service.cases_by_personal_number(number)), None) if number else None
    if existing is not None:
        token = None
        if existing.phase == CasePhase.CLOSED and existing.participant.erased_at is None:
            # The number was typed in this intake: proof, bound to this user and this case, that may reopen it.
            token = reopening.issue_proof(existing, current_user)
        if can(Permission.CASE_VIEW, existing):
            form.personal_number.errors.append(_("Personen finns redan i ärende %(code)s (%(phase)s). Inget nytt "
                                                 "ärende registrerades.", code=existing.code,
                                                 phase=PHASE_LABELS[existing.phase]))
        else:
            form.personal_number.errors.append(_("Personen har redan ett ärende hos en annan samordnare. Inget nytt "
                                                 "ärende registrerades."))
        return _new_page(form, existing, 400, reopen_token=token)
    try:
        case = service.register_referral(current_user, participant_fields=fields,
                                         referral_source=form.referral_source.data,
                                         referred_on=form.referred_on.data,
                                         referral_reason=form.referral_reason.data)
    except service.CaseError as exc:
        form.personal_number.errors.append(str(exc))
        return _new_page(form, None, 400)
    flash(_("Ärende %(code)s är registrerat.", code=case.code), "success")
    return redirect(url_for("cases.detail", code=case.code))


@bp.route("/reopen/<token>", methods=["GET", "POST"])
@requires(Permission.CASE_REOPEN)
@fresh_login_required
def reopen(token: str):
    """Reopen a closed case with the proof an intake gave this user (a link valid for a few minutes, once)."""
    proof = reopening.proof_for_token(token, current_user)
    if proof is None:
        abort(404)
    case = db.session.get(Case, proof.case_id)
    authorize(Permission.CASE_REOPEN, case)
    confirm = DestructiveConfirmForm()
    status = 200
    if request.method == "POST":
        status = 400
        if confirm.validate_on_submit():
            try:
                service.reopen_case(case, current_user, proof)
            except service.CaseError as exc:
                confirm.confirmed.errors.append(str(exc))
            else:
                flash(_("Ärende %(code)s är återöppnat och du är nu samordnare.", code=case.code), "success")
                return redirect(url_for("cases.detail", code=case.code))
    return render_template("cases/reopen.html", confirm=confirm, token=token, previous=case.coordinator), status


# ------------------------------------------------------------------ the case page


@bp.get("/<code>")
@requires(Permission.CASE_VIEW)
def detail(code: str):
    """The case page: what this user may see of the person, team, consents, threat, plan, notes."""
    case = queries.load_case_page(load_case(code, Permission.CASE_VIEW))
    log = ReadLog()
    person, hidden_identity = _person_as_shown(case)
    log.add(person)
    case_fields = redact(case)
    log.add(case_fields)
    consents = reach = None
    if readable(case, "case.consent"):
        consents = case.current_consents()
        reach = records.consent_reach(case)
        log.sets.add("case.consent")
    threat = None
    if case.assessments:
        latest = redact(case.assessments[0])
        if latest.can_read("level"):
            threat = latest
            log.add(threat)
    items = visible_plan_items(case)
    log.add(items)
    notes = None
    if readable(case, "case.notes"):
        notes = [redact(note) for note in queries.latest_notes(case)]
        log.add(notes)
    emergencies = None
    if can(Permission.CASE_MANAGE, case):
        emergencies = [redact(a) for a in case.emergency_accesses if a.is_active()]
        log.add(emergencies)
    return _page("case.view", case, log.sets, "cases/detail.html", permission=Permission.CASE_VIEW, person=person,
                 hidden_identity=hidden_identity,
                 case_fields=case_fields, consents=consents, reach=reach, threat=threat, items=items, notes=notes,
                 emergencies=emergencies, today=today_local(), details=can(Permission.CASE_DETAILS, case),
                 team=team_by_agency(case))


#: What stays behind "Visa" for a person with protected identity (skyddad folkbokföring, fingerade
#: personuppgifter, sekretessmarkering): anyone looking at the screen or a projector would see it otherwise.
HIDDEN_WHEN_PROTECTED = {"person.identity", "person.contact", "person.protected_address"}


def is_protected(case: Case) -> bool:
    """Whether the current user may know, and does, that the person has a protected identity."""
    from app.cases.models import ProtectedIdentity

    if not readable(case.participant, "person.protection_level"):
        return False
    return case.participant.protected_identity not in (None, ProtectedIdentity.NONE)


def _person_as_shown(case: Case):
    """(the person as this page shows it, whether identity details are hidden behind "Visa")."""
    from app.cases.access import Redacted

    person = redact(case.participant)
    if not (person.sets & HIDDEN_WHEN_PROTECTED) or not is_protected(case):
        return person, False
    hidden = {attr for name in HIDDEN_WHEN_PROTECTED for model, attr in gate().fieldsets.get(name, ())}
    values = {k: v for k, v in person.values.items() if k not in hidden}
    return Redacted(person.obj, values, person.sets - HIDDEN_WHEN_PROTECTED), True


@bp.get("/<code>/person")
@requires(Permission.CASE_VIEW)
@fresh_login_required
def person_reveal(code: str):
    """A protected person's name, number, contact details and address, after a fresh password; its own audit
    event (person.revealed) names the field sets shown."""
    case = load_case(code, Permission.CASE_VIEW)
    person = redact(case.participant)
    if not person.sets & HIDDEN_WHEN_PROTECTED:
        abort(403)
    return audited_page("person.revealed", case, person.sets, lambda: render_template(
        "cases/person_reveal.html", case=case, person=person, hidden_identity=False, labels=LABELS),
        permission=Permission.CASE_VIEW)


def team_by_agency(case: Case) -> list[tuple[Any, list[str]]]:
    """The current team, each agency once with its named officers (an agency may have several rows)."""
    grouped: dict[int, tuple[Any, list[str]]] = {}
    for member in case.team:
        if member.removed_at is not None:
            continue
        agency, officers = grouped.setdefault(member.agency_id, (member.agency, []))
        if member.officer is not None and member.officer.full_name not in officers:
            officers.append(member.officer.full_name)
    return sorted(grouped.values(), key=lambda pair: pair[0].name)


# ------------------------------------------------------------------ phase


@bp.route("/<code>/phase", methods=["GET", "POST"])
@requires(Permission.CASE_MANAGE)
def phase(code: str):
    """Move the case to another phase; closing needs an outcome, a reason and a confirmation."""
    case = load_case(code, Permission.CASE_MANAGE)
    form = PhaseForm(phase=case.phase)
    if case.phase == CasePhase.CLOSED:
        # A closed case is reopened through an intake (the personal identity number typed again), not here.
        return _page("case.phase.view", case, (), "cases/phase.html", 400 if request.method == "POST" else 200,
                     form=None, closing=None)
    if form.validate_on_submit():
        try:
            service.change_phase(case, CasePhase(form.to_phase.data), current_user,
                                 outcome=form.outcome.data or None, closure_reason=form.closure_reason.data)
        except service.CaseError as exc:
            form.to_phase.errors.append(str(exc))
        else:
            flash(_("Ärendet är nu i fasen %(phase)s.", phase=PHASE_LABELS[case.phase]), "success")
            return redirect(url_for("cases.detail", code=case.code))
    return _page("case.phase.view", case, (), "cases/phase.html", form_status(form), form=form,
                 closing=service.closing_warnings(case))


# ------------------------------------------------------------------ team


def _team_page(case: Case, form: TeamMemberForm, status: int, remove_form=None):
    members = sorted(case.team, key=lambda m: (m.removed_at is not None, m.id))
    return _page("case.team.view", case, (), "cases/team.html", status, form=form, members=members,
                 remove_form=remove_form or DestructiveConfirmForm())


def _team_form() -> TeamMemberForm:
    return TeamMemberForm(agencies=queries.agency_choices(), officers=queries.officer_choices())


@bp.route("/<code>/team", methods=["GET", "POST"])
@requires(Permission.CASE_MANAGE)
def team(code: str):
    """The case team: agencies and named officers; add an agency."""
    case = load_case(code, Permission.CASE_MANAGE)
    form = _team_form()
    if form.validate_on_submit():
        agency = db.session.get(Agency, form.agency_id.data)
        officer = db.session.get(User, form.officer_id.data) if form.officer_id.data else None
        try:
            service.add_team_member(case, agency, current_user, officer=officer)
        except service.CaseError as exc:
            form.agency_id.errors.append(str(exc))
        else:
            flash(_("%(agency)s är tillagd i teamet.", agency=agency.name), "success")
            return redirect(url_for("cases.team", code=case.code))
    return _team_page(case, form, form_status(form))


@bp.post("/<code>/team/<int(max=2147483647):member_id>/remove")
@requires(Permission.CASE_MANAGE)
def team_remove(code: str, member_id: int):
    """Take an agency (or named officer) off the team, after confirmation; kept in the history."""
    case = load_case(code, Permission.CASE_MANAGE)
    member = load_in_case(CaseTeamMember, case, member_id)
    confirm = DestructiveConfirmForm()
    if confirm.validate_on_submit():
        try:
            service.remove_team_member(case, member, current_user)
        except service.CaseError as exc:
            confirm.confirmed.errors.append(str(exc))
        else:
            flash(_("%(agency)s är borttagen ur teamet.", agency=member.agency.name), "success")
            return redirect(url_for("cases.team", code=case.code))
    return _team_page(case, _team_form(), 400, remove_form=confirm)


# ------------------------------------------------------------------ the participant's details


@bp.route("/<code>/participant", methods=["GET", "POST"])
@requires(Permission.CASE_MANAGE)
def participant(code: str):
    """Edit the participant's details; only changed fields are checked against the write grants and written."""
    case = load_case(code, Permission.CASE_MANAGE)
    if is_protected(case):
        # The form shows every detail of a protected person: the same fresh password as "Visa".
        stale = reauthenticate_if_stale()
        if stale is not None:
            return stale
    shown = redact(case.participant)
    form = ParticipantForm(data=ParticipantForm.initial(shown.values)) if request.method == "GET" else ParticipantForm()
    if form.validate_on_submit():
        changes = service.participant_changes(case.participant, form.participant_fields())
        gate().check_write(current_user, case.participant, list(changes))
        try:
            if changes:
                service.update_participant(case, changes, current_user)
        except service.CaseError as exc:
            form.personal_number.errors.append(str(exc))
        else:
            flash(_("Personuppgifterna är sparade.") if changes else _("Inget ändrades."), "success")
            return redirect(url_for("cases.detail", code=case.code))
    return _page("case.participant.view", case, shown.sets, "cases/participant.html", form_status(form), form=form,
                 person=shown)


# ------------------------------------------------------------------ history


@bp.get("/<code>/history")
@requires(Permission.CASE_DETAILS)
def history(code: str):
    """Phase and team changes: when, what and by whom (partners only with a current consent)."""
    case = load_case(code, Permission.CASE_DETAILS)
    return _page("case.history.view", case, (), "cases/history.html", permission=Permission.CASE_DETAILS,
                 entries=queries.case_history(case))
