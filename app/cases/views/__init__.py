"""Exit-programme case pages: one blueprint, one module per part of the case.

- ``cases``: list and search, referral (intake), the case page, phase, team, participant, history.
- ``records``: consents, threat assessments, case notes, case meetings.
- ``plan``: plan items, follow-ups, plan versions and the plan PDF.
- ``emergency``: emergency access (break the glass) and its review.
- ``incidents``: incident reports linked to the case (never shown on the weekly overview).

Every route declares its permission with @requires, then loads its case with
app.cases.access.load_case(code, permission) and writes its audit event with
app.cases.access.audited_page before rendering.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from app.db import db
from app.security.crypto.errors import KeyDestroyedError

bp = Blueprint("cases", __name__, url_prefix="/cases")


def page_arg() -> int:
    return min(max(request.args.get("page", 1, type=int) or 1, 1), 100_000)


def per_page() -> int:
    return current_app.config.get("LOTS_PAGE_SIZE", 25)


def form_status(form) -> int:
    """400 for a submitted form with errors (the page is re-rendered with what was typed), else 200."""
    return 400 if form.errors else 200


@bp.errorhandler(KeyDestroyedError)
def erased(exc):
    """A record of an erased participant (data key destroyed): say so with 410 instead of failing; nothing is saved."""
    db.session.rollback()
    return render_template("cases/erased.html"), 410


from app.cases.views import cases, emergency, incidents, plan, records  # noqa: E402,F401
