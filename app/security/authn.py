"""Authentication around Flask-Security-Too: lockout, TOTP replay guard,
session lifetimes, ending sessions, and the freshness helper."""

from __future__ import annotations

import functools
from datetime import timedelta

from flask import current_app, flash, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, user_logged_out
from flask_security import LoginForm, logout_user
from flask_security.forms import TwoFactorRescueForm
from wtforms import RadioField
from flask_security.signals import user_authenticated
from flask_security.utils import check_and_update_authn_fresh

from app.db import db, utcnow
from app.extensions import limiter


def generic_login_error() -> str:
    """One message for every login failure, so nothing tells which part was wrong."""
    return str(_l("Fel e-postadress eller lösenord, eller så är kontot tillfälligt låst. Försök igen senare."))


class LotsLoginForm(LoginForm):
    """Login form: no remember-me, generic errors."""

    def validate(self, **kwargs) -> bool:
        self.remember.data = False
        ok = super().validate(**kwargs)
        if not ok:
            # Replace every field error with the single generic message.
            for field in (self.email, self.password):
                if field is not None:
                    field.errors = []
            self.form_errors[:] = [generic_login_error()]
        return ok


class LotsRescueForm(TwoFactorRescueForm):
    """Lost authenticator: only the recovery codes; Lots sends no e-mail.

    Flask-Security's "contact administrator" option e-mails the operator; here
    the administrator resets two-factor in the user administration instead.
    """

    help_setup = RadioField(_l("Har du tappat bort din autentiseringsapp?"), choices=[])


def record_failed_login(user, auth_type: str, tfa: bool) -> None:
    """Count a failure; lock the account after the configured number, ending all of its sessions."""
    cfg = current_app.config
    user.failed_login_count = (user.failed_login_count or 0) + 1
    if user.failed_login_count >= cfg["LOTS_LOGIN_MAX_FAILURES"]:
        user.locked_until = utcnow() + timedelta(minutes=cfg["LOTS_LOCKOUT_MINUTES"])
        user.failed_login_count = 0
        # A lockout (wrong passwords at login or at re-authentication) also ends every session already open:
        # someone guessing at an unattended, signed-in screen must not keep that session.
        end_all_sessions(user)
    db.session.add(user)
    _audit_auth("login.failed", user, detail={"factor": "totp" if tfa else auth_type})


def end_all_sessions(user) -> None:
    """Rotate the user's session identifier so every cookie they hold stops working."""
    current_app.extensions["security"].datastore.set_uniquifier(user)


def _audit_auth(action: str, user, detail: dict | None = None) -> None:
    audit = current_app.extensions.get("lots_audit_hook")
    if audit:
        audit(action, user, detail or {})


def _on_authenticated(sender, user, authn_via=None, **extra):
    user.failed_login_count = 0
    user.locked_until = None
    now = utcnow().timestamp()
    session["lots_login_at"] = now
    session["lots_seen_at"] = now
    session.permanent = True
    if getattr(user, "language", None) in current_app.config["LOTS_LANGUAGES"]:
        session["lang"] = user.language
    _audit_auth("login.succeeded", user, {"via": ",".join(authn_via or [])})


def _on_logged_out(sender, user, **extra):
    if user is not None and getattr(user, "is_authenticated", False):
        end_all_sessions(user)
        _audit_auth("logout", user)
    session.clear()


def enforce_session_lifetime():
    """Idle timeout and absolute lifetime, checked on the server for every request."""
    if not current_user.is_authenticated:
        return None
    now = utcnow().timestamp()
    cfg = current_app.config
    login_at = session.get("lots_login_at", 0)
    seen_at = session.get("lots_seen_at", 0)
    expired = (
        now - seen_at > cfg["LOTS_SESSION_IDLE"].total_seconds()
        or now - login_at > cfg["LOTS_SESSION_MAX"].total_seconds()
    )
    if expired:
        logout_user()
        session.clear()
        flash(str(_l("Du har loggats ut eftersom sessionen har gått ut. Logga in igen.")), "info")
        return redirect(url_for("security.login"))
    session["lots_seen_at"] = now
    return None


#: What the password confirms, by the path it leads to (the first match); shown on the /verify page.
REAUTH_PURPOSES = (
    ("/plan.pdf", _l("exportera genomförandeplanen som PDF")),
    ("/emergency", _l("öppna nödåtkomst till ett ärende")),
    ("/cases/reopen/", _l("återöppna ett avslutat ärende")),
    ("/person", _l("visa en persons skyddade personuppgifter")),
    ("/participant", _l("ändra personuppgifterna för en person med skyddade personuppgifter")),
    ("/audit/subject/export", _l("exportera ett registerutdrag om åtkomst")),
    ("/audit/access/export", _l("exportera en åtkomstrapport")),
    ("/mf-recovery-codes", _l("se eller skapa reservkoder")),
)


def reauth_purpose(target: str) -> str:
    """What re-authenticating leads to, in words (the /verify page says it); for a download that leads back to
    the page the user was on, the download."""
    from urllib.parse import parse_qs, urlsplit

    parts = urlsplit(target or "")
    path = (parse_qs(parts.query).get("download") or [parts.path])[0].split("?")[0]
    for marker, purpose in REAUTH_PURPOSES:
        if marker in path:
            return str(purpose)
    return str(_l("fortsätta"))


def _is_download(path: str) -> bool:
    path = path.split("?")[0]
    return path.endswith((".pdf", ".csv")) or path.endswith("/export")


def reauthenticate_if_stale():
    """None if the user entered their password within LOTS_FRESHNESS_MINUTES, else the redirect to /verify
    (which comes back here afterwards). For a download, /verify leads back to the page the user was on, with a
    link to the file: a download opens no page, and the password page must not stay on the screen."""
    within = current_app.config["SECURITY_FRESHNESS"]
    grace = current_app.config["SECURITY_FRESHNESS_GRACE_PERIOD"]
    if check_and_update_authn_fresh(within, grace):
        return None
    flash(str(_l("Bekräfta ditt lösenord för att fortsätta.")), "info")
    target = request.full_path.rstrip("?")
    if _is_download(target):
        from urllib.parse import quote, urlsplit

        origin = urlsplit(request.referrer or "")
        back = origin.path if origin.netloc == request.host and origin.path.startswith("/") else "/"
        query = "&".join(part for part in (origin.query if back != "/" else "",
                                           "download=" + quote(target, safe="")) if part)
        target = f"{back}?{query}"
    return redirect(url_for("security.verify", next=target))


def fresh_login_required(view):
    """Require a recent password re-entry (re-authentication) for sensitive actions."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        return reauthenticate_if_stale() or view(*args, **kwargs)

    return wrapped


def login_rate_key() -> str:
    """Per-account limit key: the submitted e-mail, normalised (never logged)."""
    return "acct:" + (request.form.get("email") or "").strip().lower()


def download_link():
    """The file a re-authentication led back to (?download=/local/path), for the banner in base.html; None if
    the argument is missing or not a local path of this application."""
    target = request.args.get("download", "") if request else ""
    if not target.startswith("/") or target.startswith("//") or "\\" in target or len(target) > 500:
        return None
    return target


def init_app(app) -> None:
    app.jinja_env.globals["reauth_purpose"] = reauth_purpose
    app.jinja_env.globals["download_link"] = download_link
    user_authenticated.connect(_on_authenticated, app)
    user_logged_out.connect(_on_logged_out, app)
    app.before_request(enforce_session_lifetime)
    login_view = app.view_functions["security.login"]
    limit = app.config["LOTS_LOGIN_RATE_LIMIT"]
    limited = limiter.limit(limit, methods=["POST"])(login_view)
    limited = limiter.limit(limit, methods=["POST"], key_func=login_rate_key)(limited)
    app.view_functions["security.login"] = limited
    for endpoint in ("security.two_factor_token_validation", "security.mf_recovery", "security.verify"):
        if endpoint in app.view_functions:
            app.view_functions[endpoint] = limiter.limit(limit, methods=["POST"])(app.view_functions[endpoint])

