"""Wire Flask-Security-Too, the policy gate and the security headers into the app."""

from __future__ import annotations

from flask_security import SQLAlchemyUserDatastore
from flask_talisman import Talisman

from app.extensions import db, security
from app.security import authn, authz
from app.security.models import Role, User

datastore = SQLAlchemyUserDatastore(db, User, Role)

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": ["'self'", "data:"],
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def init_app(app) -> None:
    security.init_app(
        app,
        datastore,
        register_blueprint=True,
        login_form=authn.LotsLoginForm,
        two_factor_rescue_form=authn.LotsRescueForm,
    )
    cost = app.config.get("LOTS_TOTP_ENCRYPT_COST")
    if cost is not None:
        # Test configuration only: passlib encrypts every TOTP secret with 2**14 PBKDF2 rounds by default,
        # which was ~15 % of the test suite's time (every test user gets a secret and logs in with it).
        security.totp_factory._totp.wallet.encrypt_cost = cost
    app.login_manager.session_protection = "strong"
    # Lots has no Flask-Security auth tokens (the API has its own tokens): without this,
    # Flask-Security would parse every JSON body looking for one, before any view runs.
    app.login_manager.request_loader(lambda _request: None)
    authz.init_app(app)
    authn.init_app(app)
    https = app.config["SESSION_COOKIE_SECURE"]
    Talisman(
        app,
        force_https=False,
        strict_transport_security=https,
        strict_transport_security_max_age=31536000,
        content_security_policy=CSP,
        frame_options="DENY",
        referrer_policy="no-referrer",
        session_cookie_secure=https,
        session_cookie_http_only=True,
        session_cookie_samesite="Strict",
        x_content_type_options=True,
    )
