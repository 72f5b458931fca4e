"""The JSON API (/api/v1): token-authenticated, CSRF-exempt, JSON only. Documented in app/overview/openapi.py."""

from __future__ import annotations

import json

from flask import current_app, g, jsonify, request

from app.extensions import csrf
from app.overview.api_auth import api_error, api_requires, record_call
from app.overview.importing.api import ApiProblem, read_items, receive_incidents
from app.overview.openapi import document
from app.overview.views import api_bp
from app.security.authz import public
from app.security.permissions import Permission

csrf.exempt(api_bp)

#: Largest request body the incidents endpoint reads (500 incidents with long descriptions fit).
DEFAULT_MAX_BODY = 2 * 1024 * 1024


def _problem(problem: ApiProblem):
    return api_error(problem.status, problem.code, problem.message_en, problem.message_sv, **problem.extra)


@api_bp.post("/incidents")
@api_requires(Permission.API_INCIDENTS_WRITE, scope="incidents:write")
def incidents_create():
    """Receive one incident or a batch for the token's organisation (all or nothing; idempotent by id)."""
    principal = g.api_principal
    limit = current_app.config.get("LOTS_API_MAX_BODY", DEFAULT_MAX_BODY)
    try:
        if request.content_length is not None and request.content_length > limit:
            raise ApiProblem(413, "body_too_large", f"The request body may be at most {limit} bytes.",
                             f"Anropet får vara högst {limit} byte.", max_bytes=limit)
        if request.mimetype != "application/json":
            raise ApiProblem(400, "wrong_content_type", "Send the body as application/json.",
                             "Skicka innehållet som application/json.")
        # Bounded by content_length above, or by MAX_CONTENT_LENGTH for a chunked body.
        body = request.get_data(cache=True)
        if len(body) > limit:
            raise ApiProblem(413, "body_too_large", f"The request body may be at most {limit} bytes.",
                             f"Anropet får vara högst {limit} byte.", max_bytes=limit)
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):
            raise ApiProblem(400, "malformed_json", "The body is not valid JSON.",
                             "Innehållet är inte giltig JSON.") from None
        items = read_items(payload)
        status, result = receive_incidents(items, principal.agency_id)
    except ApiProblem as problem:
        record_call("api.incidents", outcome="failed", error=problem.code)
        return _problem(problem)
    record_call("api.incidents", received=len(items), created=result["created"], existing=result["existing"],
                updated=result["updated"])
    return jsonify(result), status


@api_bp.get("/overview/<int:year>/<int:week>")
@api_requires(Permission.API_OVERVIEW_READ, scope="overview:read")
def overview_week(year: int, week: int):
    """The figures of one ISO week as last PUBLISHED (aggregates of accepted reports only).

    Tokens belong to organisations such as partner agencies, which see only the published overview on the
    web; the API gives them the same, never the live draft. 404 ``not_published`` until the week is published.
    """
    from app.db import as_utc
    from app.overview.figures import is_valid_week
    from app.overview.publishing import latest, snapshot_of, week_ref

    ref = week_ref(year, week)[:20]  # the path may hold a 20-digit year
    if not is_valid_week(year, week):
        record_call("api.overview", outcome="failed", week=ref, error="no_such_week")
        return api_error(404, "no_such_week", "No such ISO week.", "Veckan finns inte.")
    version = latest(year, week)
    if version is None:
        record_call("api.overview", outcome="failed", week=ref, error="not_published")
        return api_error(404, "not_published", "The week has not been published yet.",
                         "Veckan är inte publicerad än.")
    record_call("api.overview", week=ref, version=version.number)
    figures = snapshot_of(version)["figures"]
    figures["published"] = {"version": version.number, "published_at": as_utc(version.published_at).isoformat()}
    return jsonify(figures)


@api_bp.get("/openapi.json")
@public("the API's description: no data, and clients need it before they have a token")
def openapi():
    """The OpenAPI 3.1 document of this API."""
    return jsonify(document())
