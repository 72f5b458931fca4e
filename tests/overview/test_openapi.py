"""The OpenAPI document stays true: same routes as api_bp, valid, examples valid; schemathesis finds no 5xx."""

from __future__ import annotations

import re
import uuid

import pytest
from jsonschema import Draft202012Validator


def _document(client):
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200 and resp.is_json
    return resp.get_json()


def test_openapi_is_public_and_a_valid_openapi_3_1_document(client):
    from openapi_spec_validator import validate

    document = _document(client)
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_api_route_is_documented_and_nothing_else(app, client):
    document = _document(client)
    base = document["servers"][0]["url"]
    documented = {(base + path, method.upper()) for path, item in document["paths"].items() for method in item}
    routed = set()
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api."):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        routed |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert routed == documented


def test_documented_security_matches_the_routes(app, client):
    """Operations that need a token say so, and the token routes declare their permission and scope."""
    document = _document(client)
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api."):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)[len(document["servers"][0]["url"]):]
        view = app.view_functions[rule.endpoint]
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = document["paths"][path][method.lower()]
            needs_token = getattr(view, "lots_api_scope", None) is not None
            assert bool(operation["security"]) == needs_token, rule.rule
            if needs_token:
                assert "401" in operation["responses"] and "403" in operation["responses"]


def _validator(document, schema):
    """A JSON Schema 2020-12 validator for one schema of the document ("#/components/..." refs resolve)."""
    return Draft202012Validator({"components": document["components"], **schema},
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


def _examples(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body and "example" in body:
                yield f"{method} {path} request", body["schema"], body["example"]
            for status, response in operation["responses"].items():
                content = response.get("content", {}).get("application/json", {})
                if "example" in content:
                    yield f"{method} {path} {status}", content["schema"], content["example"]


def test_every_example_validates_against_its_schema(client):
    document = _document(client)
    examples = list(_examples(document))
    assert len(examples) >= 5
    for name, schema, example in examples:
        errors = list(_validator(document, schema).iter_errors(example))
        assert not errors, f"{name}: {errors[0].message}"


def test_real_responses_validate_against_the_documented_schemas(app, client, factory, incidents):
    from app.overview.tokens import create_token

    document = _document(client)
    area, category = incidents.area(), incidents.category()
    with app.app_context():
        _, secret = create_token(name="Schema", organisation_id=factory.agency(kind="police").id,
                                 scopes=["incidents:write", "overview:read"], by=factory.user(roles=("admin",)))
    headers = {"Authorization": f"Bearer {secret}"}
    not_published = client.get("/api/v1/overview/2026/47", headers=headers)
    from app.overview.publishing import publish_week

    with app.app_context():
        publish_week(2026, 47, by=factory.user(roles=("analyst",)))
    incident = {"id": "s-1", "occurred_at": "2026-11-18T10:00:00+01:00", "area": area.code,
                "category": category.code, "setting": "semi_public"}
    incidents_op = document["paths"]["/incidents"]["post"]["responses"]
    week_op = document["paths"]["/overview/{year}/{week}"]["get"]["responses"]
    calls = [
        (client.post("/api/v1/incidents", json=incident, headers=headers), incidents_op, 201),
        (client.post("/api/v1/incidents", json=incident, headers=headers), incidents_op, 200),
        (client.post("/api/v1/incidents", json={"id": 1}, headers=headers), incidents_op, 422),
        (client.post("/api/v1/incidents", json=incident), incidents_op, 401),
        (client.post("/api/v1/incidents", json={"incidents": [incident] * 501}, headers=headers), incidents_op, 413),
        (client.get("/api/v1/overview/2026/47", headers=headers), week_op, 200),
        (client.get("/api/v1/overview/2026/54", headers=headers), week_op, 404),
        (not_published, week_op, 404),
    ]
    for resp, responses, status in calls:
        assert resp.status_code == status, (status, resp.get_json())
        schema = responses[str(status)]["content"]["application/json"]["schema"]
        errors = list(_validator(document, schema).iter_errors(resp.get_json()))
        assert not errors, f"{status}: {errors[0].message}"


@pytest.mark.filterwarnings("ignore")
def test_schemathesis_finds_no_server_error(app, client, db, factory, incidents):
    """Generated requests (valid and invalid by the schema) against the WSGI app, with a valid token."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance, status_code_conformance

    CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

    from app.overview.tokens import create_token

    incidents.area(code=f"st-{uuid.uuid4().hex[:4]}")
    incidents.category(code=f"stk-{uuid.uuid4().hex[:4]}")
    with app.app_context():
        _, secret = create_token(name="Fuzz", organisation_id=factory.agency(kind="police").id,
                                 scopes=["incidents:write", "overview:read"], by=factory.user(roles=("admin",)))
        from app.overview.publishing import publish_week

        publish_week(2026, 47, by=factory.user(roles=("analyst",)))  # the API serves published weeks only
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    app.config["LOTS_API_RATE_LIMIT"] = "100000 per minute"
    seen: list[int] = []
    try:
        auth = {"Authorization": f"Bearer {secret}"}
        strategies = [schema.as_strategy(generation_mode=mode, headers=auth)
                      for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]
        # A real week, so that 200 responses are generated and checked against their schema too.
        strategies.append(schema["/overview/{year}/{week}"]["GET"].as_strategy(
            headers=auth, path_parameters={"year": 2026, "week": 47}))
        for strategy in strategies:

            @settings(max_examples=60, deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck))
            @given(case=strategy)
            def run(case):
                response = case.call()
                seen.append(response.status_code)
                case.validate_response(response, checks=CHECKS)
                assert response.status_code < 500, (case.method, case.path, response.status_code)

            run()
    finally:
        app.config.pop("LOTS_API_RATE_LIMIT")
    assert len(seen) >= 100 and all(code < 500 for code in seen)
    assert {200, 404, 422} <= set(seen), "generated requests reached validation, lookups and real figures"
