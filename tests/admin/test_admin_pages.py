"""Administration of agencies and users: access, validation, and effects."""

import pytest
from sqlalchemy import func, select

from app.admin.models import Agency
from app.security.models import User
from tests.conftest import csrf_from


def _form_post(client, url, data):
    page = client.get(url)
    assert page.status_code == 200
    return client.post(url, data={**data, "csrf_token": csrf_from(page.text)})


@pytest.mark.parametrize("role", ["coordinator", "partner", "process_leader", "reporter", "analyst", "auditor"])
@pytest.mark.parametrize("url", ["/admin/agencies", "/admin/users", "/admin/agencies/new", "/admin/users/new"])
def test_only_admin_reaches_administration(client, login_as, role, url):
    login_as(role)
    assert client.get(url).status_code == 403


def test_admin_navigation_shows_administration_and_others_do_not(client, login_as, app):
    login_as("admin")
    page = client.get("/").text
    assert "/admin/users" in page and "/admin/agencies" in page


def test_non_admin_navigation_hides_administration(client, login_as):
    login_as("coordinator")
    page = client.get("/").text
    assert "/admin/users" not in page


def test_admin_creates_agency(client, login_as, db):
    login_as("admin")
    resp = _form_post(client, "/admin/agencies/new", {"name": "Testkommunens fältgrupp", "kind": "youth"})
    assert resp.status_code == 302
    agency = db.scalar(select(Agency).where(Agency.name == "Testkommunens fältgrupp"))
    assert agency is not None and agency.kind.value == "youth"


def test_duplicate_agency_name_keeps_typed_values_and_changes_nothing(client, login_as, factory, db):
    login_as("admin")
    existing = factory.agency(name="Polisen Syd")
    before = db.scalar(select(func.count(Agency.id)))
    resp = _form_post(client, "/admin/agencies/new", {"name": "polisen syd", "kind": "police"})
    assert resp.status_code == 400
    assert "Det finns redan en myndighet med det namnet." in resp.text
    assert 'value="polisen syd"' in resp.text
    assert db.scalar(select(func.count(Agency.id))) == before
    assert existing.name == "Polisen Syd"


def test_unknown_agency_kind_and_overlong_name_are_refused(client, login_as, db):
    login_as("admin")
    before = db.scalar(select(func.count(Agency.id)))
    assert _form_post(client, "/admin/agencies/new", {"name": "X", "kind": "martians"}).status_code == 400
    assert _form_post(client, "/admin/agencies/new", {"name": "x" * 500, "kind": "police"}).status_code == 400
    assert db.scalar(select(func.count(Agency.id))) == before


def test_unknown_agency_id_is_404(client, login_as):
    login_as("admin")
    assert client.get("/admin/agencies/999999").status_code == 404
    assert client.get("/admin/users/999999").status_code == 404


@pytest.mark.parametrize("url", ["/admin/agencies/99999999999999999999", "/admin/users/99999999999999999999"])
def test_id_beyond_the_database_integer_is_404_not_a_database_error(client, login_as, url):
    login_as("admin")
    assert client.get(url).status_code == 404
    assert client.post(url, data={"csrf_token": csrf_from(client.get("/admin/users").text)}).status_code == 404


def test_agency_list_is_searchable_sortable_and_paginated(client, login_as, factory):
    login_as("admin")
    for i in range(30):
        factory.agency(name=f"Sökbar enhet {i:02d}")
    page1 = client.get("/admin/agencies?q=Sökbar&sort=-name").text
    assert "Sökbar enhet 29" in page1 and "Sökbar enhet 00" not in page1
    assert "Sida 1 av 2" in page1
    page2 = client.get("/admin/agencies?q=Sökbar&sort=-name&page=2").text
    assert "Sökbar enhet 00" in page2
    assert client.get("/admin/agencies?page=abc").status_code == 200


def test_admin_creates_user_with_roles(client, login_as, factory, db):
    login_as("admin")
    agency = factory.agency(kind="police")
    resp = _form_post(
        client,
        "/admin/users/new",
        {"email": "Ny.Handlaggare@Example.org", "full_name": "Ny Handläggare", "agency_id": agency.id,
         "roles": ["partner"], "password": "a long enough password", "password_confirm": "a long enough password"},
    )
    assert resp.status_code == 302, resp.text[:1000]
    user = db.scalar(select(User).where(User.email == "ny.handlaggare@example.org"))
    assert user.role_names == ["partner"] and user.agency_id == agency.id
    assert user.password.startswith("$argon2id$")


@pytest.mark.parametrize(
    "override, message",
    [
        ({"email": "not-an-email"}, "Ogiltig e-postadress."),
        ({"agency_id": "999999"}, None),
        ({"roles": ["wizard"]}, None),
        ({"roles": []}, "Välj minst en roll."),
        ({"password": "short", "password_confirm": "short"}, "Lösenordet ska vara 12–128 tecken."),
        ({"password_confirm": "something else entirely"}, "Lösenorden stämmer inte överens."),
        ({"full_name": "n" * 500}, None),
    ],
)
def test_bad_user_input_is_refused_clearly_and_changes_nothing(client, login_as, factory, db, override, message):
    login_as("admin")
    agency = factory.agency()
    before = db.scalar(select(func.count(User.id)))
    data = {"email": "valid@example.org", "full_name": "Namn Namnsson", "agency_id": agency.id,
            "roles": ["reporter"], "password": "a long enough password",
            "password_confirm": "a long enough password"}
    data.update(override)
    resp = _form_post(client, "/admin/users/new", data)
    assert resp.status_code == 400
    assert 'class="errors"' in resp.text
    if message:
        assert message in resp.text
    assert 'value="Namn Namnsson"' in resp.text or "full_name" in override
    assert db.scalar(select(func.count(User.id))) == before


def test_duplicate_user_email_is_refused(client, login_as, factory, db):
    login_as("admin")
    other = factory.user(email="taken@example.org")
    resp = _form_post(
        client, "/admin/users/new",
        {"email": "TAKEN@example.org", "full_name": "X", "agency_id": other.agency_id, "roles": ["reporter"],
         "password": "a long enough password", "password_confirm": "a long enough password"},
    )
    assert resp.status_code == 400
    assert "Det finns redan ett konto med den e-postadressen." in resp.text


def test_form_post_without_csrf_is_rejected(client, login_as, db):
    login_as("admin")
    before = db.scalar(select(func.count(Agency.id)))
    resp = client.post("/admin/agencies/new", data={"name": "Utan token", "kind": "police"})
    assert resp.status_code == 400
    assert db.scalar(select(func.count(Agency.id))) == before


def test_deactivation_needs_confirmation_and_ends_sessions(app, client, login_as, factory, db):
    from tests.conftest import login

    login_as("admin")
    target = factory.user(roles=("reporter",))
    other_client = app.test_client()
    assert login(other_client, target).status_code == 302
    edit = client.get(f"/admin/users/{target.id}")
    token = csrf_from(edit.text)
    client.post(f"/admin/users/{target.id}/deactivate", data={"csrf_token": token})
    db.refresh(target)
    assert target.active, "deactivation without the confirmation tick must change nothing"
    client.post(f"/admin/users/{target.id}/deactivate", data={"csrf_token": token, "confirmed": "y"})
    db.refresh(target)
    assert not target.active
    assert other_client.get("/").status_code == 302


def test_role_change_ends_the_users_sessions(app, client, login_as, factory, db):
    from tests.conftest import login

    login_as("admin")
    target = factory.user(roles=("reporter",))
    other_client = app.test_client()
    assert login(other_client, target).status_code == 302
    resp = _form_post(
        client, f"/admin/users/{target.id}",
        {"email": target.email, "full_name": "Bytt Roll", "agency_id": target.agency_id, "roles": ["analyst"]},
    )
    assert resp.status_code == 302
    assert other_client.get("/").status_code == 302


def test_reset_mfa_forces_new_enrolment(client, login_as, factory, db):
    login_as("admin")
    target = factory.user(roles=("reporter",))
    token = csrf_from(client.get(f"/admin/users/{target.id}").text)
    client.post(f"/admin/users/{target.id}/reset-mfa", data={"csrf_token": token, "confirmed": "y"})
    db.refresh(target)
    assert target.tf_totp_secret is None and target.tf_primary_method is None


def test_admin_pages_show_no_case_content_links(client, login_as):
    login_as("admin")
    page = client.get("/").text
    assert "/cases" not in page
