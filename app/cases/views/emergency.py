"""Emergency access pages: break the glass on a case, and the auditor's review (see app/cases/views/__init__.py)."""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.cases import emergency as service
from app.cases.access import audited_page, load_case, redact
from app.cases.forms.emergency import EmergencyForm, EmergencyReviewForm
from app.cases.models import EmergencyAccess
from app.cases.service import CaseError
from app.cases.views import bp, form_status, page_arg, per_page
from app.db import db
from app.security.authn import fresh_login_required
from app.security.authz import authorize, requires
from app.security.permissions import Permission
from app.web import local_datetime


@bp.route("/<code>/emergency", methods=["GET", "POST"])
@requires(Permission.CASE_EMERGENCY)
@fresh_login_required
def emergency(code: str):
    """Break the glass: explain what it means, take a reason and a confirmation, open time-limited access."""
    case = load_case(code, Permission.CASE_EMERGENCY)
    form = EmergencyForm()
    if form.validate_on_submit():
        try:
            access = service.start_emergency(case, current_user, form.reason.data)
        except CaseError as exc:
            form.reason.errors.append(str(exc))
        else:
            flash(_("Du har nödåtkomst till ärendet till och med %(until)s.", until=local_datetime(access.expires_at)),
                  "warning")
            return redirect(url_for("cases.detail", code=case.code))
    return render_template("cases/emergency/start.html", case=case, form=form,
                           active=case.active_emergency(current_user.id),
                           previous=service.previous_use(case, current_user),
                           minutes=service.emergency_minutes()), form_status(form)


@bp.get("/emergency-accesses")
@requires(Permission.EMERGENCY_REVIEW)
def emergency_reviews():
    """The auditor's list of emergency accesses: unreviewed first, then reviewed."""
    pagination = db.paginate(service.review_queue(), page=page_arg(), per_page=per_page(), error_out=False)
    return audited_page("emergency.view", None, (),
                        lambda: render_template("cases/emergency/reviews.html", pagination=pagination,
                                                rows=service.review_rows(pagination.items)),
                        permission=Permission.EMERGENCY_REVIEW)


def _load_access(access_id: str) -> EmergencyAccess:
    try:
        ident = uuid.UUID(access_id)
    except ValueError:
        abort(404)
    access = db.session.get(EmergencyAccess, ident)
    if access is None:
        abort(404)
    authorize(Permission.EMERGENCY_REVIEW, access.case)
    return access


@bp.route("/emergency-accesses/<access_id>", methods=["GET", "POST"])
@requires(Permission.EMERGENCY_REVIEW)
def emergency_review(access_id: str):
    """One emergency access with its stated reason; the auditor closes it as reviewed with a note."""
    access = _load_access(access_id)
    form = EmergencyReviewForm()
    if form.validate_on_submit():
        try:
            service.review_emergency(access, current_user, form.note.data)
        except CaseError as exc:
            form.note.errors.append(str(exc))
        else:
            flash(_("Nödåtkomsten är markerad som granskad."), "success")
            return redirect(url_for("cases.emergency_reviews"))
    shown = redact(access)
    # The review note is only shown (and logged as read) once there is one.
    sets = shown.sets if access.reviewed_at else shown.sets - {"emergency.review"}
    return audited_page("emergency.view", access.case, sets,
                        lambda: render_template("cases/emergency/review.html", access=shown, form=form,
                                                row=service.review_rows([access])[0]),
                        permission=Permission.EMERGENCY_REVIEW), form_status(form)
