"""The JSON API: token authentication, scopes, organisations, all-or-nothing batches, idempotency, auditing."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select


@pytest.fixture()
def api(app, db, factory, incidents, client):
    return Api(app, db, factory, incidents, client)


class Api:
    def __init__(self, app, db, factory, incidents, client):
        self.app, self.db, self.factory, self.client = app, db, factory, client
        tag = uuid.uuid4().hex[:6]
        self.area = incidents.area(code=f"api-{tag}")
        self.category = incidents.category(code=f"apik-{tag}")
        self.admin = factory.user(roles=("admin",))

    def token(self, organisation=None, scopes=("incidents:write", "overview:read")):
        from app.overview.tokens import create_token

        organisation = organisation or self.factory.agency(kind="security_company")
        with self.app.app_context():
            token, secret = create_token(name="Test", organisation_id=organisation.id, scopes=list(scopes),
                                         by=self.admin)
        return token, secret

    def incident(self, **fields):
        return {"id": fields.pop("id", f"ext-{uuid.uuid4().hex[:8]}"), "occurred_at": "2026-11-20T22:15:00+01:00",
                "area": self.area.code, "category": self.category.code, "setting": "public", **fields}

    def post(self, secret, body, **kwargs):
        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        if isinstance(body, (dict, list)):
            return self.client.post("/api/v1/incidents", json=body, headers=headers, **kwargs)
        return self.client.post("/api/v1/incidents", data=body, headers=headers, **kwargs)

    def count(self, organisation_id=None):
        from app.overview.models import IncidentReport

        stmt = select(func.count()).select_from(IncidentReport).where(IncidentReport.area_id == self.area.id)
        if organisation_id is not None:
            stmt = stmt.where(IncidentReport.organisation_id == organisation_id)
        return self.db.scalar(stmt)


def test_one_incident_is_stored_as_a_new_api_report_of_the_tokens_organisation(api, app):
    from app.overview.models import IncidentReport

    token, secret = api.token()
    body = api.incident(id="A-1", place="Vid stationen", latitude=59.43, longitude=17.95,
                        description="Fönster krossat.", occurred_until="2026-11-20T23:00:00+01:00")
    resp = api.post(secret, body)
    assert resp.status_code == 201, resp.get_json()
    data = resp.get_json()
    assert data["created"] == 1 and data["results"][0]["id"] == "A-1" and data["results"][0]["status"] == "new"
    report = api.db.get(IncidentReport, uuid.UUID(data["results"][0]["report_id"]))
    assert report.organisation_id == token.organisation_id and report.source.value == "api"
    assert report.external_id == "A-1" and report.reporter_id is None and report.status.value == "new"
    assert report.occurred_at.replace(tzinfo=timezone.utc) == datetime(2026, 11, 20, 21, 15, tzinfo=timezone.utc)
    assert (report.iso_year, report.iso_week) == (2026, 47)
    with app.app_context():
        assert report.description == "Fönster krossat."


def test_resending_the_same_id_returns_the_existing_report_and_creates_nothing(api):
    _, secret = api.token()
    body = api.incident(id="same-1")
    first = api.post(secret, body).get_json()
    again = api.post(secret, body)
    assert again.status_code == 200
    data = again.get_json()
    assert data == {"created": 0, "existing": 1, "updated": 0, "results": [
        {"id": "same-1", "report_id": first["results"][0]["report_id"], "status": "new", "created": False,
         "updated": False}]}
    assert api.count() == 1


def test_resending_an_unreviewed_id_with_changed_content_updates_the_report(api, app, incidents):
    from app.overview.models import IncidentReport, ReportRevision

    _, secret = api.token()
    other = incidents.area(code=f"{api.area.code}-b")
    first = api.post(secret, api.incident(id="fix-1", description="Första texten.", place="Torget")).get_json()
    report_id = uuid.UUID(first["results"][0]["report_id"])
    corrected = api.incident(id="fix-1", description="Rättad text.", place="Torget",
                             occurred_at="2026-11-27T21:00:00+01:00", latitude=59.4, longitude=17.9)
    corrected["area"] = other.code
    resp = api.post(secret, corrected)
    assert resp.status_code == 200
    data = resp.get_json()
    assert (data["created"], data["existing"], data["updated"]) == (0, 0, 1)
    assert data["results"][0]["updated"] is True and data["results"][0]["report_id"] == str(report_id)
    report = api.db.get(IncidentReport, report_id)
    api.db.refresh(report)
    assert report.area_id == other.id and (report.iso_year, report.iso_week) == (2026, 48)
    assert report.latitude == 59.4 and report.status.value == "new"
    with app.app_context():
        assert report.description == "Rättad text." and report.place == "Torget"
    (revision,) = api.db.scalars(select(ReportRevision).where(ReportRevision.report_id == report_id,
                                                              ReportRevision.action == "corrected_by_sender")).all()
    changes = json.loads(revision.changes)
    assert set(changes) == {"occurred_at", "area_id", "latitude", "longitude", "description"}
    assert changes["description"] == [None, None] and "Rättad" not in revision.changes
    # Sent again unchanged: nothing more happens.
    again = api.post(secret, corrected).get_json()
    assert (again["existing"], again["updated"]) == (1, 0)


def test_resending_a_reviewed_id_with_changed_content_is_409_and_changes_nothing(api, app, factory):
    from app.overview.models import IncidentReport, ReportStatus

    _, secret = api.token()
    first = api.post(secret, {"incidents": [api.incident(id="rev-1", description="Original."),
                                            api.incident(id="rev-2")]}).get_json()
    report = api.db.get(IncidentReport, uuid.UUID(first["results"][0]["report_id"]))
    report.status = ReportStatus.ACCEPTED
    api.db.flush()
    resp = api.post(secret, {"incidents": [api.incident(id="rev-1", description="Ändrad."),
                                           api.incident(id="rev-2", description="Ny text."),
                                           api.incident(id="rev-3")]})
    assert resp.status_code == 409
    data = resp.get_json()
    assert data["error"] == "already_reviewed" and "analytikern" in data["message_sv"]
    assert data["items"] == [{"id": "rev-1", "report_id": str(report.id), "status": "accepted"}]
    assert api.count() == 2  # rev-3 was not stored either
    api.db.refresh(report)
    with app.app_context():
        assert report.description == "Original."
    # The same content as stored is still an idempotent replay.
    assert api.post(secret, api.incident(id="rev-1", description="Original.")).status_code == 200


def test_batch_is_all_or_nothing_with_errors_per_item(api):
    _, secret = api.token()
    batch = {"incidents": [
        api.incident(id="ok-1"),
        api.incident(id="bad-1", area="no-such-area", occurred_at="2026-11-20T22:15:00"),
        api.incident(id="bad-2", setting="indoors", latitude=91),
    ]}
    resp = api.post(secret, batch)
    assert resp.status_code == 422
    data = resp.get_json()
    assert data["error"] == "invalid_incidents" and data["message_sv"]
    by_index = {item["index"]: {e["code"] for e in item["errors"]} for item in data["items"]}
    assert by_index == {1: {"unknown_area", "no_offset"}, 2: {"bad_setting", "out_of_range", "coordinates_pair"}}
    assert api.count() == 0

    fine = api.post(secret, {"incidents": [api.incident(id="ok-1"), api.incident(id="ok-2")]})
    assert fine.status_code == 201 and fine.get_json()["created"] == 2 and api.count() == 2


@pytest.mark.parametrize("body, code", [
    ({"occurred_at": "2026-11-20T22:15:00+01:00"}, "required"),
    ({"id": "x", "organisation": 5}, "unknown_field"),
])
def test_missing_and_unknown_fields_are_422(api, body, code):
    _, secret = api.token()
    resp = api.post(secret, body)
    assert resp.status_code == 422
    assert code in {e["code"] for e in resp.get_json()["items"][0]["errors"]}


def test_duplicate_ids_within_a_batch_are_refused(api):
    _, secret = api.token()
    resp = api.post(secret, {"incidents": [api.incident(id="d"), api.incident(id="d")]})
    assert resp.status_code == 422 and api.count() == 0


def test_oversized_batch_is_413_and_stores_nothing(api):
    _, secret = api.token()
    resp = api.post(secret, {"incidents": [api.incident(id=f"n{i}") for i in range(501)]})
    assert resp.status_code == 413
    assert resp.get_json()["error"] == "batch_too_large" and resp.get_json()["max_batch"] == 500
    assert api.count() == 0


def test_oversized_body_is_413(api, app):
    _, secret = api.token()
    app.config["LOTS_API_MAX_BODY"] = 1000
    try:
        resp = api.post(secret, api.incident(description="x" * 2000))
    finally:
        app.config.pop("LOTS_API_MAX_BODY")
    assert resp.status_code == 413 and resp.get_json()["error"] == "body_too_large"
    assert api.count() == 0


@pytest.mark.parametrize("body, content_type, code", [
    (b'{"id": "x", ', "application/json", "malformed_json"),
    (b"not json at all", "application/json", "malformed_json"),
    (b'{"id": "x"}', "text/plain", "wrong_content_type"),
    (b'[{"id": "x"}]', "application/json", "bad_request"),
    (b'{"incidents": {"id": "x"}}', "application/json", "bad_request"),
    (b'{"incidents": []}', "application/json", "empty_batch"),
])
def test_malformed_requests_are_400_with_a_message_and_store_nothing(api, body, content_type, code):
    _, secret = api.token()
    resp = api.post(secret, body, content_type=content_type)
    assert resp.status_code == 400, resp.get_data(as_text=True)
    data = resp.get_json()
    assert data["error"] == code and data["message"] and data["message_sv"]
    assert api.count() == 0


@pytest.mark.parametrize("header", [
    None, "Bearer", "Bearer nonsense", "Basic dXNlcjpwYXNz", "Bearer lots_0123456789ab_" + "A" * 43,
])
def test_missing_malformed_and_unknown_tokens_are_401(api, header):
    headers = {"Authorization": header} if header else {}
    resp = api.client.post("/api/v1/incidents", json=api.incident(), headers=headers)
    assert resp.status_code == 401
    assert resp.get_json()["error"] == "unauthorized" and "Bearer" in resp.headers["WWW-Authenticate"]
    assert api.count() == 0


def test_wrong_secret_for_a_known_prefix_is_401(api):
    _, secret = api.token()
    prefix = secret.split("_")[1]
    resp = api.post(f"lots_{prefix}_" + "B" * 43, api.incident())
    assert resp.status_code == 401 and api.count() == 0


def test_revoked_token_is_401(api, app):
    from app.overview.tokens import revoke_token

    token, secret = api.token()
    assert api.post(secret, api.incident()).status_code == 201
    with app.app_context():
        revoke_token(token, by=api.admin)
    resp = api.post(secret, api.incident())
    assert resp.status_code == 401 and api.count() == 1


def test_missing_scope_is_403(api):
    _, read_only = api.token(scopes=("overview:read",))
    resp = api.post(read_only, api.incident())
    assert resp.status_code == 403 and "incidents:write" in resp.get_json()["message"]
    assert api.count() == 0
    _, write_only = api.token(scopes=("incidents:write",))
    assert api.client.get("/api/v1/overview/2026/47",
                          headers={"Authorization": f"Bearer {write_only}"}).status_code == 403


def test_inactive_organisation_is_refused_by_the_policy_gate(api, db):
    org = api.factory.agency(kind="school")
    _, secret = api.token(organisation=org)
    org.active = False
    db.flush()
    assert api.post(secret, api.incident()).status_code == 403


def test_tokens_of_two_organisations_never_touch_each_others_reports(api):
    from app.overview.models import IncidentReport

    org_a, org_b = api.factory.agency(kind="housing"), api.factory.agency(kind="school")
    _, secret_a = api.token(organisation=org_a)
    _, secret_b = api.token(organisation=org_b)
    from_b = api.post(secret_b, api.incident(id="shared-7")).get_json()
    from_a = api.post(secret_a, api.incident(id="shared-7"))
    assert from_a.status_code == 201, "the same sender id in another organisation is a different report"
    a_id = from_a.get_json()["results"][0]["report_id"]
    assert a_id != from_b["results"][0]["report_id"]
    assert api.count(org_a.id) == 1 and api.count(org_b.id) == 1
    report = api.db.get(IncidentReport, uuid.UUID(a_id))
    assert report.organisation_id == org_a.id


def test_every_call_is_audited_without_an_actor_and_without_content(api):
    from app.audit.models import AuditEvent

    _, secret = api.token()
    prefix = secret.split("_")[1]
    api.post(secret, api.incident(id="aud-1", description="Hemlig text"))
    api.post(secret, b"{", content_type="application/json")
    api.post("lots_0123456789ab_" + "A" * 43, api.incident())
    events = list(api.db.scalars(select(AuditEvent).where(AuditEvent.action.in_(
        ["api.incidents", "api.unauthorized"])).order_by(AuditEvent.id.desc()).limit(3)))
    ok, failed, unauthorized = reversed(events)
    assert ok.actor_user_id is None and json.loads(ok.detail)["token"] == prefix
    assert json.loads(ok.detail)["created"] == "1" and ok.outcome.value == "allowed"
    assert failed.outcome.value == "failed" and json.loads(failed.detail)["error"] == "malformed_json"
    assert unauthorized.action == "api.unauthorized" and json.loads(unauthorized.detail)["reason"] == "unknown"
    assert all("Hemlig" not in (e.detail or "") and "aud-1" not in (e.detail or "") for e in events)


def test_rate_limit_per_token(api, app):
    _, secret = api.token()
    _, other = api.token()
    app.config["LOTS_API_RATE_LIMIT"] = "2 per minute"
    try:
        codes = [api.post(secret, api.incident()).status_code for _ in range(3)]
        other_code = api.post(other, api.incident()).status_code
    finally:
        app.config.pop("LOTS_API_RATE_LIMIT")
    assert codes == [201, 201, 429] and other_code == 201


def test_overview_week_returns_aggregates_only(api, incidents):
    _, secret = api.token(scopes=("overview:read",))
    when = datetime(2026, 11, 18, 12, 0, tzinfo=timezone.utc)
    for status in ("accepted", "accepted", "new"):
        incidents.report(area=api.area, category=api.category, occurred_at=when, status=status,
                         description="Ska inte synas")
    headers = {"Authorization": f"Bearer {secret}"}
    resp = api.client.get("/api/v1/overview/2026/47", headers=headers)
    assert resp.status_code == 404 and resp.get_json()["error"] == "not_published"  # never the live draft
    from app.overview.publishing import publish_week

    with api.app.app_context():
        publish_week(2026, 47, by=api.admin)
    resp = api.client.get("/api/v1/overview/2026/47", headers=headers)
    assert resp.status_code == 200
    data = resp.get_json()
    assert (data["iso_year"], data["iso_week"]) == (2026, 47) and data["published"]["version"] == 1

    def area_count(data):
        return next(a for a in data["by_area"] if a.get("code") == api.area.code or a.get("id") == api.area.id)["count"]

    assert area_count(data) == 2
    assert "Ska inte synas" not in resp.get_data(as_text=True)
    # A report accepted after publication changes nothing until the week is published again.
    incidents.report(area=api.area, category=api.category, occurred_at=when, status="accepted")
    assert area_count(api.client.get("/api/v1/overview/2026/47", headers=headers).get_json()) == 2
    with api.app.app_context():
        publish_week(2026, 47, by=api.admin)
    again = api.client.get("/api/v1/overview/2026/47", headers=headers).get_json()
    assert area_count(again) == 3 and again["published"]["version"] == 2


@pytest.mark.parametrize("path", ["/api/v1/overview/2026/54", "/api/v1/overview/2026/0", "/api/v1/overview/2025/53",
                                  "/api/v1/overview/99999/1"])
def test_overview_of_a_week_that_does_not_exist_is_404_json(api, path):
    _, secret = api.token()
    resp = api.client.get(path, headers={"Authorization": f"Bearer {secret}"})
    assert resp.status_code == 404 and resp.get_json()["error"] == "no_such_week"


def test_api_needs_no_csrf_token_and_answers_json_to_unknown_methods(api):
    _, secret = api.token()
    resp = api.client.get("/api/v1/incidents", headers={"Authorization": f"Bearer {secret}"})
    assert resp.status_code == 405 and resp.is_json


def test_a_wrong_method_is_405_with_an_allow_header_in_json(client, db):
    """Pentest finding 7: the API's 405 said nothing about which methods it takes."""
    resp = client.delete("/api/v1/incidents")
    assert resp.status_code == 405 and resp.is_json
    assert "POST" in {m.strip() for m in resp.headers["Allow"].split(",")}
    page = client.put("/login")
    assert page.status_code == 405 and "GET" in page.headers["Allow"]
