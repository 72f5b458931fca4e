"""Incident reports linked to a case (a threat, violence against the participant); see app/cases/incidents.py.

Everyone who may open the case sees the list (it holds no personal field);
only a user who may manage the case links or unlinks a report.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.admin.forms import DestructiveConfirmForm
from app.cases import incidents as service
from app.cases.access import audited_page, load_case, load_in_case, require_readable
from app.cases.forms.incidents import IncidentLinkForm
from app.cases.models import Case, CaseIncident
from app.cases.service import CaseError
from app.cases.views import bp, form_status
from app.overview.reporting.labels import STATUS_LABELS
from app.security.authz import authorize, can, requires
from app.security.permissions import Permission

THREAT = "case.threat"


def _page(case: Case, form: IncidentLinkForm | None, status: int, unlink_form: DestructiveConfirmForm | None = None):
    """The list of linked reports behind its one audit event (no personal field set is shown)."""
    rows = service.linked_incidents(case, str(get_locale() or "sv"))
    if form is not None:
        unlink_form = unlink_form or DestructiveConfirmForm()
    return audited_page("case.incidents.view", case, (), lambda: (render_template(
        "cases/incidents.html", case=case, form=form, unlink_form=unlink_form, rows=rows,
        status_labels=STATUS_LABELS), status), permission=Permission.CASE_VIEW)


@bp.route("/<code>/incidents", methods=["GET", "POST"])
@requires(Permission.CASE_VIEW)
def incidents(code: str):
    """The incident reports linked to the case; a user who may manage the case links one by its id."""
    case = load_case(code, Permission.CASE_VIEW)
    # A linked incident (a threat, violence) says the person is under threat: only for those who may read the
    # threat picture (the coordinator; police and probation with a covering consent or emergency access).
    require_readable(case, THREAT)
    if request.method == "POST":
        authorize(Permission.CASE_MANAGE, case)
    form = IncidentLinkForm() if can(Permission.CASE_MANAGE, case) else None
    if form is not None and form.validate_on_submit():
        try:
            service.link_incident(case, current_user, form.incident_id.data)
        except CaseError as exc:
            form.incident_id.errors.append(str(exc))
        else:
            flash(_("Händelsen är kopplad till ärendet."), "success")
            return redirect(url_for("cases.incidents", code=case.code))
    return _page(case, form, form_status(form) if form is not None else 200)


@bp.post("/<code>/incidents/<int(max=2147483647):link_id>/unlink")
@requires(Permission.CASE_MANAGE)
def incident_unlink(code: str, link_id: int):
    """Remove a link after confirmation; the incident report itself is untouched."""
    case = load_case(code, Permission.CASE_MANAGE)
    link = load_in_case(CaseIncident, case, link_id)
    confirm = DestructiveConfirmForm()
    if confirm.validate_on_submit():
        service.unlink_incident(case, current_user, link)
        flash(_("Kopplingen till händelsen är borttagen."), "success")
        return redirect(url_for("cases.incidents", code=case.code))
    return _page(case, IncidentLinkForm(formdata=None), 400, unlink_form=confirm)
