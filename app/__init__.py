"""Application factory: config → extensions → blueprints → CLI → error handlers."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict | None = None) -> Flask:
    """Create and configure a Lots application."""
    from app.config import load_config

    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder="static",
    )
    app.config.update(load_config(app.instance_path, overrides))

    from app import extensions, web
    from app.security import audit
    from app.security import crypto
    from app.security import setup as security_setup

    crypto.init_app(app)
    extensions.db.init_app(app)
    with app.app_context():
        from app.db import configure_engine

        configure_engine(extensions.db.engine)
    extensions.migrate.init_app(app, extensions.db, directory=str(ROOT / "migrations"), render_as_batch=True)
    extensions.csrf.init_app(app)
    web.init_babel(app)
    extensions.limiter.init_app(app)
    security_setup.init_app(app)
    audit.init_app(app)

    from app.admin.views import bp as admin_bp
    from app.audit.views import bp as audit_bp
    from app.main.views import bp as main_bp

    from app.cases.views import bp as cases_bp
    from app.overview.views import register as register_overview
    from app.processes.views import register as register_processes

    app.register_blueprint(main_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(cases_bp)
    register_overview(app)
    register_processes(app)

    from app import cli, navigation

    cli.init_app(app)
    web.init_app(app)
    navigation.init_app(app)
    from app.documents import models as _documents  # noqa: F401 - the documents' tables (their views are in the cases blueprint)

    # Every model is imported by now: check that the field sets name real fields.
    app.extensions["lots_gate"].validate_models(extensions.db.Model)
    return app
