"""Blueprints of the overview domain.

- ``reports_bp`` (/reports): reporting form, own reports, review, import, export.
- ``overview_bp`` (/overview): the weekly overview, publishing, versions, PDF, periods.
- ``api_bp`` (/api/v1): the JSON API, authenticated by API tokens.
- ``taxonomy_bp`` (/admin): areas, categories and API tokens (administrators).
"""

from __future__ import annotations

from flask import Blueprint

from app.web import form_status, page_arg, per_page  # noqa: F401  (used by the view modules)

reports_bp = Blueprint("reports", __name__, url_prefix="/reports")
overview_bp = Blueprint("overview", __name__, url_prefix="/overview")
api_bp = Blueprint("api", __name__, url_prefix="/api/v1")
taxonomy_bp = Blueprint("taxonomy", __name__, url_prefix="/admin")


def register(app) -> None:
    from app.overview import models  # noqa: F401
    from app.overview.views import api, imports, reports, taxonomy, tokens, week  # noqa: F401

    for bp in (reports_bp, overview_bp, api_bp, taxonomy_bp):
        app.register_blueprint(bp)
