"""Forms that fail validation answer 400, keep what was typed, and store nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.conftest import csrf_from


def _post(client, url, **data):
    page = client.get(url)
    assert page.status_code == 200
    return client.post(url, data={"csrf_token": csrf_from(page.text), **data})


def test_area_form_keeps_name_and_polygon_on_a_bad_polygon(client, db, login_as):
    from app.overview.models import Area

    login_as("admin", kind="other")
    before = db.scalar(select(func.count()).select_from(Area))
    resp = _post(client, "/admin/areas/new", name="Behållet områdesnamn", code="behallet", polygon="[[1, 2], [3]]",
                 active="y")
    assert resp.status_code == 400
    assert 'value="Behållet områdesnamn"' in resp.text and "[[1, 2], [3]]" in resp.text
    assert db.scalar(select(func.count()).select_from(Area)) == before


def test_category_form_keeps_names_on_a_bad_sort_order(client, db, login_as):
    from app.overview.models import Category

    login_as("admin", kind="other")
    before = db.scalar(select(func.count()).select_from(Category))
    resp = _post(client, "/admin/categories/new", code="behall", name_sv="Behållen kategori", name_en="Kept category",
                 sort_order="inte ett tal")
    assert resp.status_code == 400
    assert 'value="Behållen kategori"' in resp.text and 'value="Kept category"' in resp.text
    assert db.scalar(select(func.count()).select_from(Category)) == before


def test_token_form_keeps_the_name_when_no_scope_is_chosen(client, db, login_as, factory):
    from app.overview.models import ApiToken

    login_as("admin", kind="other")
    agency = factory.agency(kind="police")
    resp = _post(client, "/admin/api-tokens/new", name="Behållen nyckel", organisation_id=str(agency.id))
    assert resp.status_code == 400 and 'value="Behållen nyckel"' in resp.text
    assert db.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_review_keeps_the_reason_when_it_is_too_long(client, db, login_as, incidents):
    area, category = incidents.area(), incidents.category()
    report = incidents.report(area=area, category=category, status="new")
    login_as("analyst", kind="social_services")
    reason = "Behållen motivering " + "x" * 2000
    page = client.get(f"/reports/{report.id}")
    resp = client.post(f"/reports/{report.id}/review", data={"csrf_token": csrf_from(page.text), "action": "reject",
                                                             "reason": reason, "version": str(report.version)})
    assert resp.status_code == 400 and reason in resp.text
    db.refresh(report)
    assert report.status.value == "new"
