"""API tokens: admins create (secret shown once, stored hashed), list and revoke them; every change audited."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from sqlalchemy import select

from tests.conftest import csrf_from

TOKEN = re.compile(r"lots_([0-9a-f]{12})_[A-Za-z0-9_-]{43}")


def create_via_ui(client, organisation, scopes=("incidents:write",), name="Larmcentralen"):
    page = client.get("/admin/api-tokens/new")
    assert page.status_code == 200
    return client.post("/admin/api-tokens/new", data={
        "name": name, "organisation_id": str(organisation.id), "scopes": list(scopes),
        "csrf_token": csrf_from(page.text)})


def test_admin_creates_a_token_whose_secret_is_shown_once_and_stored_hashed(client, db, login_as, factory):
    from app.audit.models import AuditEvent
    from app.overview.models import ApiToken

    login_as("admin")
    org = factory.agency(kind="security_company")
    resp = create_via_ui(client, org, scopes=("incidents:write", "overview:read"))
    assert resp.status_code == 200
    secret = TOKEN.search(resp.text)
    assert secret, "the new token is shown on the response page"
    token = db.scalar(select(ApiToken).where(ApiToken.prefix == secret.group(1)))
    assert token.organisation_id == org.id and token.scopes == "incidents:write,overview:read"
    raw_secret = secret.group(0).split("_", 2)[2]
    assert token.secret_hash == hashlib.sha256(raw_secret.encode()).hexdigest()
    assert raw_secret not in token.secret_hash

    listing = client.get("/admin/api-tokens")
    assert f"lots_{token.prefix}_" in listing.text and raw_secret not in listing.text
    assert "Larmcentralen" in listing.text
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "api_token.created",
                                               AuditEvent.object_id == str(token.id)))
    assert json.loads(event.detail)["prefix"] == token.prefix and raw_secret not in (event.detail or "")


def test_token_form_needs_a_name_and_a_scope(client, db, login_as, factory):
    from app.overview.models import ApiToken

    login_as("admin")
    org = factory.agency(kind="police")
    page = client.get("/admin/api-tokens/new")
    resp = client.post("/admin/api-tokens/new", data={"name": "", "organisation_id": str(org.id),
                                                      "csrf_token": csrf_from(page.text)})
    assert resp.status_code == 400
    assert "Ange ett namn." in resp.text and "Välj minst en behörighet." in resp.text
    assert db.scalar(select(ApiToken).where(ApiToken.organisation_id == org.id)) is None


def test_revoking_needs_confirmation_and_is_audited(client, db, login_as, factory):
    from app.audit.models import AuditEvent
    from app.overview.models import ApiToken

    login_as("admin")
    org = factory.agency(kind="housing")
    prefix = TOKEN.search(create_via_ui(client, org).text).group(1)
    token = db.scalar(select(ApiToken).where(ApiToken.prefix == prefix))
    page = client.get(f"/admin/api-tokens/{token.id}/revoke")
    assert page.status_code == 200 and "Återkalla nyckeln" in page.text
    refused = client.post(f"/admin/api-tokens/{token.id}/revoke", data={"csrf_token": csrf_from(page.text)})
    assert refused.status_code == 400
    db.refresh(token)
    assert token.revoked_at is None
    done = client.post(f"/admin/api-tokens/{token.id}/revoke",
                       data={"csrf_token": csrf_from(page.text), "confirmed": "y"})
    assert done.status_code == 302
    db.refresh(token)
    assert token.revoked_at is not None
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "api_token.revoked",
                                              AuditEvent.object_id == str(token.id))) is not None
    assert client.get("/admin/api-tokens/999999/revoke").status_code == 404


def test_token_list_search_and_sort(client, db, login_as, factory):
    login_as("admin")
    org = factory.agency(kind="school")
    create_via_ui(client, org, name="Alfa-systemet")
    create_via_ui(client, org, name="Beta-systemet")
    found = client.get("/admin/api-tokens?q=Beta")
    assert "Beta-systemet" in found.text and "Alfa-systemet" not in found.text
    ordered = client.get("/admin/api-tokens?sort=name").text
    assert ordered.index("Alfa-systemet") < ordered.index("Beta-systemet")


@pytest.mark.parametrize("role", ["analyst", "reporter", "process_leader", "coordinator", "auditor", "partner"])
def test_only_admins_manage_tokens(client, login_as, role):
    login_as(role)
    assert client.get("/admin/api-tokens").status_code == 403
    assert client.get("/admin/api-tokens/new").status_code == 403


def test_parse_token_refuses_malformed_headers():
    from app.overview.tokens import parse_token

    good = "lots_0123456789ab_" + "A" * 43
    assert parse_token(f"Bearer {good}") == ("0123456789ab", "A" * 43)
    for bad in (None, "", good, f"Basic {good}", "Bearer lots_short_x", f"Bearer {good}x", "Bearer lots__" + "A" * 43):
        assert parse_token(bad) is None
