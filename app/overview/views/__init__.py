"""Blueprints of the overview domain.

- ``reports_bp`` (/reports): reporting form, own reports, review, import, export.
- ``overview_bp`` (/overview): the weekly overview, publishing, versions, PDF, periods.
- ``api_bp`` (/api/v1): the JSON API, authenticated by API tokens.
- ``taxonomy_bp`` (/admin): areas, categories and API tokens (administrators).
"""

from __future__ import annotations

from flask import Blueprint, current_app, request

reports_bp = Blueprint("reports", __name__, url_prefix="/reports")
overview_bp = Blueprint("overview", __name__, url_prefix="/overview")
api_bp = Blueprint("api", __name__, url_prefix="/api/v1")
taxonomy_bp = Blueprint("taxonomy", __name__, url_prefix="/admin")


def page_arg() -> int:
    return min(max(request.args.get("page", 1, type=int) or 1, 1), 100_000)


def per_page() -> int:
    return current_app.config.get("LOTS_PAGE_SIZE", 25)


def form_status(form) -> int:
    return 400 if form.errors else 200


def register(app) -> None:
    from app.overview import models  # noqa: F401
    from app.overview.views import api, imports, reports, taxonomy, tokens, week  # noqa: F401

    for bp in (reports_bp, overview_bp, api_bp, taxonomy_bp):
        app.register_blueprint(bp)
