"""Start page, health check and the language switch."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import text

from app.cases import labels
from app.cases.work import my_work
from app.extensions import csrf, db
from app.main.forms import LanguageForm
from app.security.audit import audited_read
from app.security.authz import public, requires
from app.security.permissions import Permission

bp = Blueprint("main", __name__)


@bp.get("/")
@requires(Permission.HOME_VIEW)
def index():
    """The signed-in user's start page; "my work" (codes and dates only) where the policy gives case work."""
    work = my_work(current_user)
    if work is None:
        return render_template("main/index.html", work=None)
    return audited_read("work.view", lambda: render_template("main/index.html", work=work, labels=labels),
                        permission=Permission.HOME_VIEW, detail={"sections": ",".join(sorted(work.sections))})


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
    if form.validate_on_submit():
        session["lang"] = form.lang.data
    target = request.form.get("next") or ""
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("main.index")
    return redirect(target)
