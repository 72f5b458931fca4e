"""The OpenAPI 3.1 document of /api/v1, served at /api/v1/openapi.json.

tests/overview/test_openapi.py keeps it true: every route of api_bp is here
and nothing else is, the document validates, and every example validates
against its schema; schemathesis then calls the API with generated requests.
"""

from __future__ import annotations

import copy

from app.overview.importing.api import MAX_BATCH
from app.overview.importing.rows import MAX_DESCRIPTION, MAX_EXTERNAL_ID, MAX_PLACE

_NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}

INCIDENT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "occurred_at", "category", "setting"],
    "properties": {
        "id": {"type": "string", "minLength": 1, "maxLength": MAX_EXTERNAL_ID,
               "description": "The sender's own id. Re-sending the same id creates nothing new."},
        "occurred_at": {"type": "string", "format": "date-time",
                        "description": "ISO 8601 with a UTC offset, e.g. 2026-11-20T22:15:00+01:00."},
        "occurred_until": {**_NULLABLE_TIME, "description": "End of a time window, if any."},
        "area": {"type": "string", "minLength": 1, "maxLength": 40,
                 "description": "Area code. Required unless latitude and longitude are given: the area is then "
                                "the active area containing the point, and a point inside no area is refused "
                                "(422, code point_outside_areas). A given area is kept even if the point lies "
                                "elsewhere."},
        "category": {"type": "string", "minLength": 1, "maxLength": 40, "description": "Category code."},
        "setting": {"type": "string", "enum": ["public", "semi_public"]},
        "place": {"type": ["string", "null"], "maxLength": MAX_PLACE,
                  "description": "Short place description; no names of people."},
        "latitude": {"type": ["number", "null"], "minimum": -90, "maximum": 90},
        "longitude": {"type": ["number", "null"], "minimum": -180, "maximum": 180},
        "description": {"type": ["string", "null"], "maxLength": MAX_DESCRIPTION,
                        "description": "Free text (stored encrypted); never names of people."},
    },
}

ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string"},
        "message": {"type": "string", "description": "English"},
        "message_sv": {"type": "string", "description": "Swedish"},
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/ItemErrors"}},
        "max_batch": {"type": "integer"},
        "max_bytes": {"type": "integer"},
    },
}

ITEM_ERRORS = {
    "type": "object",
    "required": ["index", "errors"],
    "properties": {
        "index": {"type": "integer", "minimum": 0},
        "id": {"type": ["string", "integer", "null"]},
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["field", "code", "message"],
            "properties": {"field": {"type": "string"}, "code": {"type": "string"}, "message": {"type": "string"},
                           "message_sv": {"type": "string"}}}},
    },
}

RESULT = {
    "type": "object",
    "required": ["created", "existing", "updated", "results"],
    "properties": {
        "created": {"type": "integer", "minimum": 0},
        "existing": {"type": "integer", "minimum": 0, "description": "Already stored with the same content."},
        "updated": {"type": "integer", "minimum": 0,
                    "description": "Already stored, not yet reviewed, and updated with the content sent."},
        "results": {"type": "array", "items": {
            "type": "object", "required": ["id", "report_id", "status", "created", "updated"],
            "properties": {
                "id": {"type": "string"},
                "report_id": {"type": "string", "format": "uuid"},
                "status": {"type": "string", "enum": ["new", "accepted", "rejected", "duplicate"]},
                "created": {"type": "boolean"},
                "updated": {"type": "boolean"},
            }}},
    },
}

_COUNTED = {"type": "object", "required": ["count"], "properties": {"count": {"type": "integer", "minimum": 0}}}

WEEK_FIGURES = {
    "type": "object",
    "description": "Aggregates of accepted reports only: no report, reporter or description.",
    "required": ["iso_year", "iso_week", "start", "end", "categories", "areas", "total", "by_category", "by_area",
                 "table", "hotspots", "trend", "published"],
    "properties": {
        "published": {
            "type": "object", "description": "Which published version of the week these figures are.",
            "required": ["version", "published_at"],
            "properties": {"version": {"type": "integer", "minimum": 1},
                           "published_at": {"type": "string", "format": "date-time"}},
        },
        "iso_year": {"type": "integer"},
        "iso_week": {"type": "integer", "minimum": 1, "maximum": 53},
        "start": {"type": "string", "format": "date"},
        "end": {"type": "string", "format": "date"},
        "categories": {"type": "array", "items": {"type": "object"}},
        "areas": {"type": "array", "items": {"type": "object"}},
        "total": _COUNTED,
        "by_category": {"type": "array", "items": _COUNTED},
        "by_area": {"type": "array", "items": _COUNTED},
        "table": {"type": "array", "items": {"type": "object"}},
        "column_totals": {"type": "array", "items": {"type": "integer"}},
        "comparison": {"type": "object"},
        "hotspots": {"type": "array", "items": {"type": "object"}},
        "hotspot_rule": {"type": "object"},
        "trend": {"type": "object"},
    },
}


def _error(description: str, example: dict | None = None) -> dict:
    content = {"schema": {"$ref": "#/components/schemas/Error"}}
    if example:
        content["example"] = example
    return {"description": description, "content": {"application/json": content}}


EXAMPLE_INCIDENT = {
    "id": "ext-2026-000123", "occurred_at": "2026-11-20T22:15:00+01:00", "area": "centrum",
    "category": "skadegorelse", "setting": "public", "place": "Vid busshållplatsen",
    "latitude": 59.428, "longitude": 17.951, "description": "Krossad glasruta i väntkuren.",
}
EXAMPLE_RESULT = {"created": 1, "existing": 0, "updated": 0, "results": [
    {"id": "ext-2026-000123", "report_id": "0b6f7c1e-8f7e-4c61-9d0b-2f9a3c7d5e41", "status": "new", "created": True,
     "updated": False}]}
EXAMPLE_422 = {"error": "invalid_incidents", "message": "Some incidents are invalid; nothing was stored.",
               "message_sv": "Några händelser är ogiltiga; inget har sparats.",
               "items": [{"index": 0, "id": "ext-1", "errors": [
                   {"field": "area", "code": "unknown_area", "message": "Unknown area code.",
                    "message_sv": "Okänt område."}]}]}
EXAMPLE_401 = {"error": "unauthorized", "message": "The API token is unknown or revoked.",
               "message_sv": "API-nyckeln är okänd eller återkallad."}
EXAMPLE_WEEK = {
    "iso_year": 2026, "iso_week": 47, "start": "2026-11-16", "end": "2026-11-22",
    "categories": [{"id": 1, "code": "skadegorelse", "name_sv": "Skadegörelse", "name_en": "Vandalism"}],
    "areas": [{"id": 1, "code": "centrum", "name": "Centrum"}],
    "total": {"count": 3, "previous_mean": 2.5, "last_year": 4,
              "vs_previous": {"reference": 2.5, "diff": 0.5, "percent": 20.0},
              "vs_last_year": {"reference": 4, "diff": -1, "percent": -25.0}},
    "by_category": [{"id": 1, "code": "skadegorelse", "count": 3}],
    "by_area": [{"id": 1, "code": "centrum", "count": 3}],
    "table": [{"area_id": 1, "counts": [3], "total": 3}], "column_totals": [3],
    "comparison": {"previous_weeks": [[2026, 43], [2026, 44], [2026, 45], [2026, 46]], "last_year": [2025, 47]},
    "hotspots": [], "hotspot_rule": {"method": "poisson"},
    "trend": {"weeks": [[2026, 47]], "total": [3], "by_category": [[3]]},
    "published": {"version": 1, "published_at": "2026-11-23T09:30:00+00:00"},
}

_DOCUMENT = {
    "openapi": "3.1.0",
    "info": {
        "title": "Lots API",
        "version": "1.0.0",
        "description": (
            "Incident reports from other systems and the aggregated weekly overview (lägesbild). "
            "Authenticate with `Authorization: Bearer lots_<prefix>_<secret>`; an administrator creates "
            "tokens per organisation with the scopes incidents:write and/or overview:read. Errors are JSON "
            "with an English `message` and a Swedish `message_sv`. Every call is logged."
        ),
    },
    "servers": [{"url": "/api/v1"}],
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "lots_<prefix>_<secret>"}},
        "schemas": {
            "Incident": INCIDENT,
            "IncidentBatch": {"type": "object", "additionalProperties": False, "required": ["incidents"],
                              "properties": {"incidents": {"type": "array", "minItems": 1, "maxItems": MAX_BATCH,
                                                           "items": {"$ref": "#/components/schemas/Incident"}}}},
            "IncidentResult": RESULT,
            "ItemErrors": ITEM_ERRORS,
            "Error": ERROR,
            "WeekFigures": WEEK_FIGURES,
        },
    },
    "paths": {
        "/incidents": {
            "post": {
                "operationId": "createIncidents",
                "summary": "Send one incident or a batch (all or nothing; idempotent by id)",
                "description": (
                    f"One incident object, or {{\"incidents\": [...]}} with at most {MAX_BATCH}. The reports "
                    "belong to the token's organisation and start with status new. An id the organisation "
                    "already sent returns the stored report's status and creates nothing. Any invalid item "
                    "→ 422 with every item's errors, and nothing is stored."
                ),
                "security": [{"bearer": []}],
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"oneOf": [{"$ref": "#/components/schemas/Incident"},
                                         {"$ref": "#/components/schemas/IncidentBatch"}]},
                    "example": EXAMPLE_INCIDENT}}},
                "responses": {
                    "201": {"description": "At least one report was created.", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/IncidentResult"}, "example": EXAMPLE_RESULT}}},
                    "200": {"description": "Every id was already stored; nothing was created. Unreviewed reports "
                                           "sent with changed content were updated (``updated``).",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/IncidentResult"}}}},
                    "400": _error("Malformed JSON, wrong content type or a body of the wrong shape."),
                    "401": _error("Missing, malformed, unknown or revoked token.", EXAMPLE_401),
                    "403": _error("The token lacks the incidents:write scope."),
                    "409": _error("A concurrent request stored some of the ids (``conflict``: send again), or an id "
                                  "was sent with changed content for a report an analyst has already reviewed "
                                  "(``already_reviewed``, listing those ids in ``items``): nothing was stored."),
                    "413": _error(f"More than {MAX_BATCH} incidents, or the body is too large."),
                    "422": _error("Some incidents are invalid; nothing was stored.", EXAMPLE_422),
                    "429": _error("Too many requests for this token."),
                },
            },
        },
        "/overview/{year}/{week}": {
            "get": {
                "operationId": "getWeekOverview",
                "summary": "Aggregated figures of one ISO week (Europe/Stockholm), as last published",
                "description": "The figures of the week's latest published version (what partner agencies see), "
                               "never the live draft; 404 with error not_published until the week is published.",
                "security": [{"bearer": []}],
                "parameters": [
                    {"name": "year", "in": "path", "required": True, "schema": {"type": "integer"},
                     "example": 2026},
                    {"name": "week", "in": "path", "required": True, "schema": {"type": "integer"}, "example": 47},
                ],
                "responses": {
                    "200": {"description": "The week's figures.", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/WeekFigures"}, "example": EXAMPLE_WEEK}}},
                    "401": _error("Missing, malformed, unknown or revoked token.", EXAMPLE_401),
                    "403": _error("The token lacks the overview:read scope."),
                    "404": _error("No such ISO week (no_such_week), or not published yet (not_published)."),
                    "429": _error("Too many requests for this token."),
                },
            },
        },
        "/openapi.json": {
            "get": {
                "operationId": "getOpenApi",
                "summary": "This document",
                "security": [],
                "responses": {"200": {"description": "The OpenAPI 3.1 document.",
                                      "content": {"application/json": {"schema": {"type": "object"}}}}},
            },
        },
    },
}


def document() -> dict:
    """A copy of the OpenAPI document."""
    return copy.deepcopy(_DOCUMENT)
