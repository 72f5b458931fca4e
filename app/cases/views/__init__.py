"""Exit-programme case pages: one blueprint, one module per part of the case.

- ``cases``: list and search, referral (intake), the case page, phase, team, participant, history.
- ``records``: consents, threat assessments, case notes, case meetings.
- ``plan``: plan items, follow-ups, plan versions and the plan PDF.
- ``emergency``: emergency access (break the glass) and its review.
- ``incidents``: incident reports linked to the case (never shown on the weekly overview).

Every route declares its permission with @requires, then loads its case with
app.cases.access.load_case(code, permission) and writes its audit event with
app.cases.access.audited_page around its render (the event follows the render, before the page is sent).
"""

from __future__ import annotations

from flask import Blueprint, render_template

from app.db import db
from app.security.crypto.errors import KeyDestroyedError
from app.web import form_status, page_arg, per_page  # noqa: F401  (used by the view modules)

bp = Blueprint("cases", __name__, url_prefix="/cases")


@bp.errorhandler(KeyDestroyedError)
def erased(exc):
    """A record of an erased participant (data key destroyed): say so with 410 instead of failing; nothing is saved."""
    db.session.rollback()
    return render_template("cases/erased.html"), 410


from app.cases.views import cases, documents, emergency, incidents, plan, records  # noqa: E402,F401
