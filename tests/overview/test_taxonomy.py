"""Areas and categories: admin CRUD, polygon validation, deactivate-not-delete when used, audit, defaults."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.overview.models import Area, Category
from app.overview.taxonomy import DEFAULT_CATEGORIES, TaxonomyError, ensure_default_categories, parse_polygon
from tests.conftest import csrf_from

SQUARE = "[[17.90, 59.40], [17.95, 59.40], [17.95, 59.43], [17.90, 59.43]]"


def _post(client, url, form_url, **data):
    page = client.get(form_url)
    assert page.status_code == 200
    return client.post(url, data={"csrf_token": csrf_from(page.text), **data})


def test_admin_creates_and_edits_an_area_with_a_polygon(client, db, login_as):
    login_as("admin", kind="other")
    resp = _post(client, "/admin/areas/new", "/admin/areas/new", name="Kvarnbacken", code="kvarnbacken",
                 polygon=SQUARE, active="y")
    assert resp.status_code == 302
    area = db.scalars(select(Area).where(Area.code == "kvarnbacken")).one()
    assert json.loads(area.polygon)[2] == [17.95, 59.43] and area.active
    resp = _post(client, f"/admin/areas/{area.id}", f"/admin/areas/{area.id}", name="Kvarnbacken Ö",
                 code="kvarnbacken", polygon=SQUARE)
    assert resp.status_code == 302
    db.refresh(area)
    assert area.name == "Kvarnbacken Ö" and area.active is False  # unticked checkbox deactivates
    events = db.scalars(select(AuditEvent).where(AuditEvent.action == "taxonomy.changed")).all()
    assert [json.loads(e.detail)["action"] for e in events] == ["created", "updated"]
    assert all(e.object_type == "area" and e.object_id == str(area.id) for e in events)
    listing = client.get("/admin/areas?q=kvarn")
    assert listing.status_code == 200 and "Kvarnbacken Ö" in listing.text


@pytest.mark.parametrize("polygon", [
    "[[17.9, 59.4], [17.95, 59.4]]",
    "[[17.9, 59.4], [17.95, 59.4], [17.9, 59.4]]",
    "[[17.9, 59.4], [17.95, 95.0], [17.9, 59.5]]",
    "[[181, 59.4], [17.95, 59.4], [17.9, 59.5]]",
    '[["a", 59.4], [17.95, 59.4], [17.9, 59.5]]',
    "[[17.9, 59.4, 3], [17.95, 59.4], [17.9, 59.5]]",
    "{\"type\": \"Polygon\"}",
    "inte json",
    "[[true, 59.4], [17.95, 59.4], [17.9, 59.5]]",
])
def test_bad_polygon_is_refused_with_400_and_nothing_stored(client, db, login_as, polygon):
    login_as("admin", kind="other")
    resp = _post(client, "/admin/areas/new", "/admin/areas/new", name="Trasig", code="trasig", polygon=polygon)
    assert resp.status_code == 400 and 'id="polygon-err"' in resp.text
    assert db.scalar(select(func.count()).select_from(Area).where(Area.code == "trasig")) == 0


def test_parse_polygon_accepts_a_closed_ring_and_rounds():
    points = parse_polygon("[[17.9, 59.4], [17.95, 59.4], [17.95, 59.45], [17.9, 59.4]]")
    assert points == [[17.9, 59.4], [17.95, 59.4], [17.95, 59.45]]
    assert parse_polygon("  ") is None
    with pytest.raises(TaxonomyError):
        parse_polygon("[[NaN, 59.4], [17.95, 59.4], [17.95, 59.45]]")


def test_duplicate_area_name_or_code_is_400(client, db, login_as, incidents):
    incidents.area(name="Centrum", code="centrum")
    login_as("admin", kind="other")
    resp = _post(client, "/admin/areas/new", "/admin/areas/new", name="centrum", code="annan")
    assert resp.status_code == 400 and 'id="name-err"' in resp.text
    resp = _post(client, "/admin/areas/new", "/admin/areas/new", name="Annat", code="CENTRUM")
    assert resp.status_code == 400 and 'id="code-err"' in resp.text


def test_unused_area_is_deleted_after_confirmation(client, db, login_as, incidents):
    area = incidents.area()
    login_as("admin", kind="other")
    resp = _post(client, f"/admin/areas/{area.id}/delete", f"/admin/areas/{area.id}")
    assert resp.status_code == 302 and db.get(Area, area.id) is not None  # not confirmed
    resp = _post(client, f"/admin/areas/{area.id}/delete", f"/admin/areas/{area.id}", confirmed="y")
    assert resp.status_code == 302
    db.expire_all()
    assert db.get(Area, area.id) is None


def test_used_area_cannot_be_deleted_only_deactivated(client, db, login_as, incidents):
    area, category = incidents.area(), incidents.category()
    incidents.report(area=area, category=category)
    login_as("admin", kind="other")
    page = client.get(f"/admin/areas/{area.id}")
    assert "inaktivt i stället" in page.text and "confirm-delete" not in page.text
    resp = client.post(f"/admin/areas/{area.id}/delete", data={"csrf_token": csrf_from(page.text), "confirmed": "y"})
    assert resp.status_code == 400
    db.expire_all()
    assert db.get(Area, area.id) is not None


def test_admin_creates_edits_and_deletes_a_category(client, db, login_as):
    login_as("admin", kind="other")
    resp = _post(client, "/admin/categories/new", "/admin/categories/new", code="eldning", name_sv="Eldning",
                 name_en="Burning", sort_order="5", active="y")
    assert resp.status_code == 302
    category = db.scalars(select(Category).where(Category.code == "eldning")).one()
    assert (category.name_sv, category.name_en, category.sort_order) == ("Eldning", "Burning", 5)
    resp = _post(client, f"/admin/categories/{category.id}", f"/admin/categories/{category.id}", code="eldning",
                 name_sv="Eldning utomhus", name_en="Outdoor burning", sort_order="7", active="y")
    assert resp.status_code == 302
    db.refresh(category)
    assert category.name_sv == "Eldning utomhus" and category.sort_order == 7
    resp = _post(client, f"/admin/categories/{category.id}/delete", f"/admin/categories/{category.id}",
                 confirmed="y")
    assert resp.status_code == 302
    db.expire_all()
    assert db.get(Category, category.id) is None
    actions = [json.loads(e.detail)["action"] for e in
               db.scalars(select(AuditEvent).where(AuditEvent.action == "taxonomy.changed"))]
    assert actions == ["created", "updated", "deleted"]


@pytest.mark.parametrize("data, field", [
    ({"code": "", "name_sv": "A", "name_en": "A"}, "code"),
    ({"code": "med mellanslag", "name_sv": "A", "name_en": "A"}, "code"),
    ({"code": "ok", "name_sv": "", "name_en": "A"}, "name_sv"),
    ({"code": "ok", "name_sv": "A", "name_en": "A", "sort_order": "tio"}, "sort_order"),
])
def test_bad_category_is_400(client, db, login_as, data, field):
    login_as("admin", kind="other")
    resp = _post(client, "/admin/categories/new", "/admin/categories/new", **data)
    assert resp.status_code == 400 and f'id="{field}-err"' in resp.text
    assert db.scalar(select(func.count()).select_from(Category).where(Category.code == "ok")) == 0


def test_used_category_cannot_be_deleted(client, db, login_as, incidents):
    area, category = incidents.area(), incidents.category()
    incidents.report(area=area, category=category)
    login_as("admin", kind="other")
    page = client.get(f"/admin/categories/{category.id}")
    resp = client.post(f"/admin/categories/{category.id}/delete",
                       data={"csrf_token": csrf_from(page.text), "confirmed": "y"})
    assert resp.status_code == 400
    db.expire_all()
    assert db.get(Category, category.id) is not None


def test_category_names_follow_the_ui_language_in_the_report_form(client, db, login_as, incidents):
    incidents.area()
    incidents.category(name_sv="Nedskräpning X", name_en="Littering X")
    login_as("reporter", kind="youth")
    assert "Nedskräpning X" in client.get("/reports/new").text
    page = client.get("/reports/new")
    client.post("/language", data={"csrf_token": csrf_from(page.text), "lang": "en", "next": "/reports/new"})
    english = client.get("/reports/new").text
    assert "Littering X" in english and "Nedskräpning X" not in english


@pytest.mark.parametrize("role, kind", [("analyst", "social_services"), ("reporter", "youth"),
                                        ("coordinator", "social_services")])
def test_only_admins_manage_areas_and_categories(client, login_as, role, kind):
    login_as(role, kind=kind)
    for url in ("/admin/areas", "/admin/areas/new", "/admin/categories", "/admin/categories/new"):
        assert client.get(url).status_code == 403


def test_default_categories_are_created_once_with_both_languages(app, db):
    with app.app_context():
        first = ensure_default_categories()
        second = ensure_default_categories()
    codes = [code for code, _sv, _en in DEFAULT_CATEGORIES]
    assert len(codes) == 16 and set(codes) <= set(first) and first.keys() == second.keys()
    assert db.scalar(select(func.count()).select_from(Category).where(Category.code.in_(codes))) == 16
    assert first["klotter"].name_en == "Graffiti" and first["buskorning"].name_sv == "Buskörning"


def test_categories_defaults_command_creates_the_default_list_once(app, db):
    from sqlalchemy import func, select

    from app.cli import categories_defaults
    from app.overview.models import Category
    from app.overview.taxonomy import DEFAULT_CATEGORIES

    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(categories_defaults)
        assert result.exit_code == 0, result.output
    with app.app_context():
        codes = set(db.scalars(select(Category.code)))
        assert {code for code, *_rest in DEFAULT_CATEGORIES} <= codes
        assert db.scalar(select(func.count()).select_from(Category)) == len(codes)
