"""Case records: consents, threat assessments, case notes and case meetings (see app/cases/views/__init__.py).

Reading a page needs ``case:view`` and the page's field set (partners may read
the threat picture only under a current consent; nobody but the coordinator
reads notes, minutes or consent documentation). Writing needs ``case:manage``
and the write grant of the field set written.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.admin.forms import DestructiveConfirmForm
from app.cases import records
from app.cases.consent_kinds import receivable_kinds
from app.cases.queries import agency_choices
from app.cases.access import ReadLog, audited_page, load_case, load_in_case, readable, redact, visible_plan_items
from app.cases.forms.records import AssessmentForm, ConsentForm, MeetingForm, NoteForm
from app.cases.labels import (CONSENT_KIND_LABELS, CONSENT_METHOD_LABELS, PLAN_AREA_LABELS, PLAN_PART_LABELS,
                              THREAT_LEVEL_LABELS)
from app.cases.models import Consent
from app.documents.models import AttachedTo
from app.cases.service import CaseError
from app.cases.views import bp, form_status, page_arg, per_page
from app.security.authz import FIELDSET_READ, FIELDSET_WRITE, authorize, can, requires
from app.security.permissions import Permission

CONSENT_STATUS_LABELS = {
    "current": _l("Gäller"),
    "expiring": _l("Upphör snart"),
    "not_yet_valid": _l("Gäller ännu inte"),
    "expired": _l("Har upphört"),
    "withdrawn": _l("Återkallat"),
}


def _require_readable(case, fieldset: str) -> None:
    """403 (audited) unless the current user may read this field set of the case now."""
    if not readable(case, fieldset):
        authorize(FIELDSET_READ + fieldset, case)
        abort(403)


def _authorize_write(case, fieldset: str) -> None:
    """A write needs case:manage and the write grant of the field set it writes."""
    authorize(Permission.CASE_MANAGE, case)
    authorize(FIELDSET_WRITE + fieldset, case)


def _manage_form(case, fieldset: str, form_cls):
    """The page's form if the user may write here, else None (reading only); a POST without the right is 403."""
    if request.method == "POST":
        _authorize_write(case, fieldset)
    return form_cls() if can(Permission.CASE_MANAGE, case) else None


def _page(action: str, case, log: ReadLog, template: str, form=None, permission=Permission.CASE_VIEW, **context):
    """Render a case record page behind its one audit event (field sets shown)."""
    status = form_status(form) if form is not None else 200
    return audited_page(action, case, log.sets,
                        lambda: (render_template(template, case=case, form=form, **context), status),
                        permission=permission)


def _submit(form, write) -> bool:
    """True once a valid posted form is written by ``write``; a service refusal goes onto the form instead."""
    if form is None or not form.validate_on_submit():
        return False
    try:
        write()
    except CaseError as exc:
        form.form_errors.append(str(exc))
        return False
    return True


def _saved(message, endpoint: str, case):
    flash(message, "success")
    return redirect(url_for(endpoint, code=case.code))


def _team_choices(case) -> list[tuple[int, str]]:
    """The team's agencies after an empty first choice: nothing is chosen for the user."""
    return [("", _("Välj myndighet")), *((agency.id, agency.name) for agency in records.team_agencies(case))]


def _attached_documents(case, attached_to, ids, log: ReadLog) -> dict:
    """{record id: [documents this user may read]} of the given records; their kinds join the page's event."""
    from app.documents.service import documents_attached

    found = {}
    for ident in ids:
        rows = [d for d in documents_attached(case, attached_to, ident) if readable(d, d.fieldset)]
        if rows:
            found[ident] = rows
            log.sets.update(d.fieldset for d in rows)
    return found


# ------------------------------------------------------------------ consents


@bp.route("/<code>/consents", methods=["GET", "POST"])
@requires(Permission.CASE_MANAGE)
def consents(code: str):
    """The consents of a case with their status, and the form to record a new one (coordinator only)."""
    case = load_case(code, Permission.CASE_MANAGE)
    if request.method == "POST":
        _authorize_write(case, "case.consent")
    form = ConsentForm()
    form.agency_id.choices = _team_choices(case)
    if _submit(form, lambda: records.record_consent(
            case, current_user, agency=form.agency_id.data, kinds=form.kinds.data, given_on=form.given_on.data,
            valid_until=form.valid_until.data, method=form.method.data, documentation=form.documentation.data)):
        return _saved(_("Samtycket är registrerat."), "cases.consents", case)
    rows = [(redact(consent), records.consent_status(consent)) for consent in reversed(case.consents)]
    log = ReadLog()
    log.add(shown for shown, _status in rows)
    receivable = [(agency, receivable_kinds(agency.kind.value)) for agency in records.team_agencies(case)]
    attached = _attached_documents(case, AttachedTo.CONSENT, (consent.id for consent in case.consents), log)
    return _page("consent.view", case, log, "cases/records/consents.html", form, Permission.CASE_MANAGE,
                 attached=attached,
                 rows=rows, status_labels=CONSENT_STATUS_LABELS, kind_labels=CONSENT_KIND_LABELS,
                 method_labels=CONSENT_METHOD_LABELS, reach=records.consent_reach(case), receivable=receivable)


@bp.route("/<code>/consents/<consent_id>/withdraw", methods=["GET", "POST"])
@requires(Permission.CASE_MANAGE)
def consent_withdraw(code: str, consent_id: str):
    """Withdraw a consent after an explicit confirmation; access that relied on it ends at once."""
    case = load_case(code, Permission.CASE_MANAGE)
    consent = load_in_case(Consent, case, consent_id)
    if request.method == "POST":
        _authorize_write(case, "case.consent")
    form = DestructiveConfirmForm()
    if form.validate_on_submit():
        try:
            records.withdraw_consent(case, consent, current_user)
        except CaseError as exc:
            flash(str(exc), "error")
        else:
            flash(_("Samtycket är återkallat. Myndigheten har inte längre tillgång till de uppgifter det gällde."),
                  "success")
        return redirect(url_for("cases.consents", code=case.code))
    return _page("consent.view", case, ReadLog(), "cases/records/consent_withdraw.html", form,
                 Permission.CASE_MANAGE, consent=consent, status=records.consent_status(consent),
                 status_labels=CONSENT_STATUS_LABELS, kind_labels=CONSENT_KIND_LABELS)


# ------------------------------------------------------------------ threat assessments


@bp.route("/<code>/assessments", methods=["GET", "POST"])
@requires(Permission.CASE_VIEW)
def assessments(code: str):
    """Threat and risk assessments, as far as the user may read them; the coordinator records new ones."""
    case = load_case(code, Permission.CASE_VIEW)
    _require_readable(case, "case.threat")
    form = _manage_form(case, "case.threat", AssessmentForm)
    if form is not None:
        form.agency_id.choices = [("", _("Välj myndighet")), *agency_choices()]
    if _submit(form, lambda: records.record_assessment(
            case, current_user, assessed_on=form.assessed_on.data, agency=form.agency_id.data, level=form.level.data,
            narrative=form.narrative.data, next_review_on=form.next_review_on.data)):
        return _saved(_("Bedömningen är registrerad."), "cases.assessments", case)
    shown = [row for row in map(redact, case.assessments) if "case.threat" in row.sets]
    log = ReadLog()
    log.add(shown)
    latest = shown[0] if shown else None
    overdue = bool(latest and records.is_review_overdue(latest.next_review_on))
    return _page("assessment.view", case, log, "cases/records/assessments.html", form, rows=shown, latest=latest,
                 overdue=overdue, level_labels=THREAT_LEVEL_LABELS)


# ------------------------------------------------------------------ case notes


@bp.route("/<code>/notes", methods=["GET", "POST"])
@requires(Permission.CASE_VIEW)
def notes(code: str):
    """Case notes, newest first and paginated; the coordinator writes new ones (notes are never edited)."""
    case = load_case(code, Permission.CASE_VIEW)
    _require_readable(case, "case.notes")
    form = _manage_form(case, "case.notes", NoteForm)
    if _submit(form, lambda: records.write_note(case, current_user, form.text.data)):
        return _saved(_("Anteckningen är sparad."), "cases.notes", case)
    pagination = records.notes_page(case, page_arg(), per_page())
    shown = [redact(note) for note in pagination.items]
    log = ReadLog()
    log.add(shown)
    return _page("note.view", case, log, "cases/records/notes.html", form, rows=shown, pagination=pagination)


# ------------------------------------------------------------------ case meetings


@bp.route("/<code>/meetings", methods=["GET", "POST"])
@requires(Permission.CASE_VIEW)
def meetings(code: str):
    """Case meetings with minutes and decisions; the coordinator records one, its decisions become plan items."""
    case = load_case(code, Permission.CASE_VIEW)
    _require_readable(case, "case.meetings")
    form = _manage_form(case, "case.meetings", MeetingForm)
    if form is not None:
        form.set_agency_choices(agency_choices())
    if _submit(form, lambda: _record_meeting(case, form)):
        return _saved(_("Mötet är registrerat."), "cases.meetings", case)
    shown = [redact(meeting) for meeting in case.meetings]
    items = visible_plan_items(case)
    log = ReadLog()
    log.add(shown)
    log.add(item for item in items if item.meeting_id is not None)
    decisions = {}
    for item in items:
        if item.meeting_id is not None:
            decisions.setdefault(item.meeting_id, []).append(item)
    agencies = records.agencies_by_id(a for meeting in shown for a in meeting.agency_id_list)
    return _page("meeting.view", case, log, "cases/records/meetings.html", form, rows=shown, decisions=decisions,
                 agencies=agencies, part_labels=PLAN_PART_LABELS, area_labels=PLAN_AREA_LABELS)


def _record_meeting(case, form: MeetingForm) -> None:
    """Call the service with the form's data; a refused decision is also shown on the row it concerns."""
    filled = form.filled_decisions()
    try:
        records.record_meeting(case, current_user, held_on=form.held_on.data, agencies=form.agency_ids.data,
                               minutes=form.minutes.data, decisions=[decision for _row, decision in filled])
    except records.DecisionError as exc:
        form.decisions[filled[exc.row][0]].form_errors.append(str(exc))
        raise CaseError(_("Ett beslut kunde inte sparas. Rätta raden och försök igen.")) from None
