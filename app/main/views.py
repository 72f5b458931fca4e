"""Start page, health check and the language switch."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import text

from app.cases import labels
from app.cases.work import my_work
from app.extensions import csrf, db
from app.main.forms import LanguageForm
from app.security.audit import audited_read
from app.security.authz import gate, public, requires
from app.security.permissions import Permission
from app.web import LANGUAGE_COOKIE

bp = Blueprint("main", __name__)


@bp.get("/")
@requires(Permission.HOME_VIEW)
def index():
    """The signed-in user's start page; "my work" (codes and dates only) where the policy gives case work.

    A user with two-factor login but no recovery codes (just enrolled) is sent once per session to create and
    save them first, so that a lost phone does not lock them out."""
    if getattr(current_user, "tf_primary_method", None) and not current_user.mf_recovery_codes \
            and not session.get("lots_codes_prompted"):
        session["lots_codes_prompted"] = True
        return redirect(url_for("security.mf_recovery_codes"))
    work = my_work(current_user)
    process_work = _process_work(current_user)
    if work is None:
        return render_template("main/index.html", work=None, process_work=process_work)
    return audited_read("work.view", lambda: render_template("main/index.html", work=work, labels=labels,
                                                             process_work=process_work),
                        permission=Permission.HOME_VIEW, detail={"sections": ",".join(sorted(work.sections))})


#: Rows of the user's own agency's milestones and action items shown on the start page (per kind).
PROCESS_WORK_ROWS = 20


def _process_work(user) -> dict | None:
    """Process work for users who update milestones: their agency's late and due-soon items (titles, dates,
    statuses; no personal data), and for process leaders the number of late items they can see.
    None for everyone else (reporters, administrators, auditors see no process information)."""
    if not gate().allowing_conditions(user, Permission.MILESTONE_UPDATE):
        return None
    from app.processes.dates import DUE_HORIZON_DAYS, local_today
    from app.processes.due import EntryLinks, due_overview
    from app.processes.labels import LATE_LABEL, WORK_STATUS_LABELS

    today = local_today()
    own = due_overview(user, today, DUE_HORIZON_DAYS, agency_id=user.agency_id, per_agency=PROCESS_WORK_ROWS)
    late_total = None
    if "always" in gate().allowing_conditions(user, Permission.PROCESS_MANAGE):
        # One row per agency is enough: the counts are computed over all rows.
        late_total = due_overview(user, today, DUE_HORIZON_DAYS, only_late=True, per_agency=1).late_total
    return {"today": today, "days": DUE_HORIZON_DAYS, "own": own, "late_total": late_total,
            "entry_url": EntryLinks(), "status_labels": WORK_STATUS_LABELS, "late_label": LATE_LABEL}


@bp.get("/healthz")
@public("load-balancer health check")
@csrf.exempt
def healthz():
    """Report database reachability; no versions, hosts or secrets."""
    try:
        db.session.execute(text("SELECT 1"))
        ok = True
    except Exception:
        db.session.rollback()
        ok = False
    return jsonify({"status": "ok" if ok else "degraded", "database": "ok" if ok else "unreachable"}), (
        200 if ok else 503
    )


@bp.post("/language")
@public("stores the chosen UI language in the session")
def set_language():
    """Switch the UI language between Swedish and English."""
    form = LanguageForm()
    chosen = None
    if form.validate_on_submit():
        chosen = form.lang.data
        session["lang"] = chosen
        if current_user.is_authenticated:
            current_user.language = chosen  # the user's own choice, kept for their next login
            db.session.add(current_user._get_current_object())
    target = request.form.get("next") or ""
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("main.index")
    response = redirect(target)
    if chosen:
        # Also on this browser after logout (the login page): a cookie with the language only.
        response.set_cookie(LANGUAGE_COOKIE, chosen, max_age=365 * 24 * 3600, httponly=True, samesite="Strict",
                            secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
    return response
