"""Areas from GeoJSON through the admin pages, and a report's area taken from its point (form, API, CSV import)."""

from __future__ import annotations

import io
import json
import re
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.overview import geography
from app.overview.models import Area, IncidentReport
from tests.conftest import csrf_from

DATA = Path(__file__).resolve().parents[1] / "data"
SAMPLE = (DATA / "areas_sweref99tm.geojson").read_bytes()


@pytest.fixture(autouse=True)
def staging(app, tmp_path):
    app.config["AREA_IMPORT_DIR"] = str(tmp_path / "area-imports")
    yield
    app.config.pop("AREA_IMPORT_DIR", None)


def _upload(client, raw: bytes, filename="omraden.geojson", **fields):
    page = client.get("/admin/areas/import")
    assert page.status_code == 200
    return client.post("/admin/areas/import", data={"file": (io.BytesIO(raw), filename),
                                                    "csrf_token": csrf_from(page.text), **fields},
                       content_type="multipart/form-data")


def _confirm(client, preview_html: str, action="apply", **fields):
    token = re.search(r'name="token" value="([^"]+)"', preview_html).group(1)
    data = {"csrf_token": csrf_from(preview_html), "token": token, "action": action}
    for name in ("name_property", "code_property"):
        found = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', preview_html)
        data[name] = fields.get(name, found.group(1) if found else "")
    return client.post("/admin/areas/import/confirm", data=data)


def _areas(db) -> dict[str, Area]:
    return {a.code: a for a in db.scalars(select(Area))}


def _sweref_square(code, name, x0, y0, size=1000):
    ring = [[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]
    return {"type": "Feature", "properties": {"kod": code, "namn": name},
            "geometry": {"type": "Polygon", "coordinates": [ring]}}


# ------------------------------------------------------------------ import


def test_preview_changes_nothing_until_confirmed_then_creates_and_audits(client, db, login_as):
    login_as("admin", kind="other")
    before = db.scalar(select(func.count()).select_from(Area))
    preview = _upload(client, SAMPLE)
    assert preview.status_code == 200
    assert "Inget är ändrat ännu." in preview.text and "SWEREF 99 TM (EPSG:3006)" in preview.text
    assert "Norrmalm (geo)" in preview.text and "Södermalm (geo)" in preview.text and "<svg" in preview.text
    assert db.scalar(select(func.count()).select_from(Area)) == before  # nothing yet

    done = _confirm(client, preview.text)
    assert done.status_code == 302 and done.headers["Location"].endswith("/admin/areas")
    areas = _areas(db)
    south = areas["sodermalm-geo"]
    geometry = geography.load_geometry(south.polygon)
    assert json.loads(south.polygon)["type"] == "MultiPolygon" and len(geometry.geoms) == 2
    assert len(geometry.geoms[0].interiors) == 1 and south.active
    events = db.scalars(select(AuditEvent).where(AuditEvent.action == "taxonomy.changed")).all()
    assert sorted((json.loads(e.detail)["action"], e.object_id) for e in events) == sorted(
        [("created", str(areas["norrmalm-geo"].id)), ("created", str(south.id))])
    # The staged file is gone: the same confirmation cannot run twice.
    again = _confirm(client, preview.text)
    assert again.status_code == 302 and again.headers["Location"].endswith("/admin/areas/import")


def test_a_second_import_updates_by_code_and_leaves_other_areas_alone(client, db, login_as, incidents):
    login_as("admin", kind="other")
    other = incidents.area(name="Utanför filen", code="utanfor")
    existing = incidents.area(name="Gamla namnet", code="norrmalm-geo")
    preview = _upload(client, SAMPLE)
    assert "Uppdateras (namn, geometri)" in preview.text and "Skapas" in preview.text
    assert _confirm(client, preview.text).status_code == 302
    db.refresh(existing)
    db.refresh(other)
    assert existing.name == "Norrmalm (geo)" and json.loads(existing.polygon)["type"] == "Polygon"
    assert other.name == "Utanför filen"
    unchanged = _upload(client, SAMPLE)
    assert "Oförändrat" in unchanged.text and "Importera områdena" not in unchanged.text


def test_refused_features_are_listed_and_a_name_taken_by_another_area_is_refused(client, db, login_as, incidents):
    login_as("admin", kind="other")
    incidents.area(name="Upptaget", code="annan-kod")
    raw = json.dumps({"type": "FeatureCollection", "features": [
        _sweref_square("ny-1", "Ny", 670000, 6580000), _sweref_square("ny-2", "Upptaget", 672000, 6580000),
        _sweref_square("ny-1", "Ny igen", 674000, 6580000),
        {"type": "Feature", "properties": {"kod": "x"}, "geometry": {"type": "Point", "coordinates": [1, 2]}},
    ]}).encode()
    preview = _upload(client, raw)
    assert preview.status_code == 200
    assert "Det finns redan ett område med namnet Upptaget (kod annan-kod)." in preview.text
    assert "Koden ny-1 förekommer flera gånger i filen." in preview.text
    assert "Geometritypen Point stöds inte" in preview.text and "och 3 avvisas." in preview.text
    assert _confirm(client, preview.text).status_code == 302
    assert "ny-1" in _areas(db) and "ny-2" not in _areas(db)


@pytest.mark.parametrize("raw, message", [
    (b"this is not json", "Filen är inte giltig JSON"),
    (json.dumps({"type": "Feature", "properties": {"namn": "A"}}).encode(), "Geometri saknas"),
    (json.dumps({"type": "Feature"}).encode(), "Hittar ingen egenskap"),
    (json.dumps({"features": []}).encode(), "FeatureCollection"),
    (json.dumps({"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "EPSG:2154"}},
                 "features": [_sweref_square("a", "A", 670000, 6580000)]}).encode(), "Okänt koordinatsystem"),
])
def test_bad_files_are_refused_at_the_top_of_the_form_and_change_nothing(client, db, login_as, raw, message):
    login_as("admin", kind="other")
    before = db.scalar(select(func.count()).select_from(Area))
    resp = _upload(client, raw)
    assert resp.status_code in (200, 400) and message in resp.text
    if resp.status_code == 400:
        assert "error-summary" in resp.text
    else:  # a file whose only feature is unusable: previewed with nothing to import
        assert "Det finns inget att importera." in resp.text and "Importera områdena" not in resp.text
    assert db.scalar(select(func.count()).select_from(Area)) == before


def test_a_file_that_is_too_big_is_refused(client, db, login_as, monkeypatch):
    from app.overview import area_import

    monkeypatch.setattr(area_import, "MAX_FILE_BYTES", 200)
    login_as("admin", kind="other")
    resp = _upload(client, SAMPLE)
    assert resp.status_code == 400 and "Filen är för stor" in resp.text


def test_reading_with_another_property_and_bad_tokens(client, db, login_as):
    login_as("admin", kind="other")
    preview = _upload(client, SAMPLE)
    reread = _confirm(client, preview.text, action="reread", name_property="kod", code_property="kod")
    assert reread.status_code == 200 and "<dd>kod</dd>" in reread.text and "norrmalm-geo</td>" in reread.text
    missing = _confirm(client, preview.text, action="reread", name_property="finns-inte")
    assert missing.status_code == 400 and "Egenskapen ”finns-inte” finns inte i filen" in missing.text
    forged = client.post("/admin/areas/import/confirm", data={
        "csrf_token": csrf_from(preview.text), "token": "A" * 30, "action": "apply"})
    assert forged.status_code == 302 and forged.headers["Location"].endswith("/admin/areas/import")
    no_csrf = client.post("/admin/areas/import/confirm", data={"token": "A" * 30, "action": "apply"})
    assert no_csrf.status_code in (302, 400)
    assert "norrmalm-geo" not in _areas(db)


def test_another_admins_token_is_not_accepted(client, db, login_as, factory):
    from tests.conftest import sign_in

    login_as("admin", kind="other")
    preview = _upload(client, SAMPLE)
    sign_in(client, factory.user(roles=("admin",), kind="other"))
    page = client.get("/admin/areas/import")
    token = re.search(r'name="token" value="([^"]+)"', preview.text).group(1)
    resp = client.post("/admin/areas/import/confirm", data={
        "csrf_token": csrf_from(page.text), "token": token, "action": "apply", "name_property": "namn",
        "code_property": "kod"})
    assert resp.status_code == 302 and "norrmalm-geo" not in _areas(db)


@pytest.mark.parametrize("role", ["analyst", "coordinator", "reporter", "process_leader"])
def test_roles_without_the_taxonomy_permission_get_403(client, db, login_as, role):
    login_as(role, kind="youth" if role == "reporter" else "social_services")
    assert client.get("/admin/areas/import").status_code == 403
    assert client.post("/admin/areas/import/confirm", data={}).status_code in (400, 403)


def test_an_imported_area_keeps_its_geometry_when_edited_in_the_form(client, db, login_as):
    login_as("admin", kind="other")
    _confirm(client, _upload(client, SAMPLE).text)
    area = _areas(db)["sodermalm-geo"]
    stored = area.polygon
    page = client.get(f"/admin/areas/{area.id}")
    assert "geometri från en GeoJSON-import" in page.text
    resp = client.post(f"/admin/areas/{area.id}", data={"csrf_token": csrf_from(page.text), "name": "Söder",
                                                        "code": area.code, "polygon": "", "active": "y"})
    assert resp.status_code == 302
    db.refresh(area)
    assert area.name == "Söder" and area.polygon == stored


# ------------------------------------------------------------------ the area of a point


@pytest.fixture()
def placed(incidents):
    """Two areas of their own far from the factory's default square, and a category."""
    tag = uuid.uuid4().hex[:5]
    west = incidents.area(code=f"vast-{tag}", name=f"Väst {tag}",
                          polygon=[[16.0, 60.0], [16.1, 60.0], [16.1, 60.1], [16.0, 60.1]])
    east = incidents.area(code=f"ost-{tag}", name=f"Öst {tag}",
                          polygon=[[16.1, 60.0], [16.2, 60.0], [16.2, 60.1], [16.1, 60.1]])
    return west, east, incidents.category(code=f"kat-{tag}")


def test_area_for_point(db, placed):
    west, east, _category = placed
    assert geography.area_for_point(60.05, 16.05) == west.id
    assert geography.area_for_point(60.05, 16.15) == east.id
    assert geography.area_for_point(10.0, 10.0) is None
    east.active = False
    db.flush()
    assert geography.area_for_point(60.05, 16.15) is None  # inactive areas are not chosen


def _form(client, **block):
    page = client.get("/reports/new")
    data = {"csrf_token": csrf_from(page.text), "action": "submit", "incidents-0-setting": "public",
            "incidents-0-occurred_at": __import__("datetime").datetime.now().strftime("%Y-%m-%dT%H:%M")}
    data.update({f"incidents-0-{k}": v for k, v in block.items()})
    return client.post("/reports/new", data=data)


def test_the_report_form_takes_the_area_from_the_point(client, db, login_as, placed):
    west, east, category = placed
    login_as("reporter", kind="youth")
    resp = _form(client, category_id=str(category.id), latitude="60.05", longitude="16.15")
    assert resp.status_code == 302
    assert db.scalars(select(IncidentReport)).one().area_id == east.id
    # A given area stays authoritative even when the point lies elsewhere.
    assert _form(client, area_id=str(west.id), category_id=str(category.id), latitude="60.05",
                 longitude="16.15").status_code == 302
    assert {r.area_id for r in db.scalars(select(IncidentReport))} == {east.id, west.id}
    outside = _form(client, category_id=str(category.id), latitude="10.0", longitude="10.0")
    assert outside.status_code == 400 and "Kartpunkten ligger inte inom något område" in outside.text
    assert 'id="incidents-0-area_id-err"' in outside.text
    assert db.scalar(select(func.count()).select_from(IncidentReport)) == 2


def test_the_api_takes_the_area_from_the_point_and_refuses_a_point_outside_every_area(app, client, db, factory,
                                                                                     placed):
    from app.overview.tokens import create_token

    west, east, category = placed
    organisation = factory.agency(kind="security_company")
    with app.app_context():
        _token, secret = create_token(name="Test", organisation_id=organisation.id, scopes=["incidents:write"],
                                      by=factory.user(roles=("admin",)))

    def post(**fields):
        body = {"id": f"p-{uuid.uuid4().hex[:6]}", "occurred_at": "2026-11-20T22:15:00+01:00",
                "category": category.code, "setting": "public", **fields}
        return client.post("/api/v1/incidents", json=body, headers={"Authorization": f"Bearer {secret}"})

    resp = post(latitude=60.05, longitude=16.05)
    assert resp.status_code == 201, resp.get_json()
    assert db.scalars(select(IncidentReport)).one().area_id == west.id
    assert post(area=east.code, latitude=60.05, longitude=16.05).status_code == 201
    outside = post(latitude=10.0, longitude=10.0)
    assert outside.status_code == 422
    error = outside.get_json()["items"][0]["errors"][0]
    assert error["field"] == "area" and error["code"] == "point_outside_areas"
    assert "inside no area" in error["message"] and error["message_sv"].startswith("Inget område angivet")
    missing = post()
    assert missing.status_code == 422 and missing.get_json()["items"][0]["errors"][0]["code"] == "required"
    assert db.scalar(select(func.count()).select_from(IncidentReport)) == 2


def test_the_csv_import_takes_the_area_from_the_point(client, db, login_as, factory, placed):
    from tests.overview.test_import import confirm, job_of, upload

    west, east, category = placed
    login_as("analyst")
    organisation = factory.agency(kind="housing")
    raw = ("Datum;Kategori;Lat;Lon;Område\n"
           f"2026-11-20 10:00;{category.code};60.05;16.05;\n"
           f"2026-11-20 11:00;{category.code};60.05;16.05;{east.code}\n"
           f"2026-11-20 12:00;{category.code};10,0;10,0;\n"
           f"2026-11-20 13:00;{category.code};;;\n").encode()
    job = job_of(db, upload(client, raw, organisation))
    assert (job.total_rows, job.invalid) == (4, 2)
    codes = [str(part) for error in json.loads(job.mapping)["errors"] for part in error]
    assert "point_outside_areas" in codes and "required" in codes
    confirm(client, job)
    stored = db.scalars(select(IncidentReport).where(IncidentReport.import_job_id == job.id)
                        .order_by(IncidentReport.occurred_at)).all()
    assert [r.area_id for r in stored] == [west.id, east.id]


def test_a_csv_without_an_area_column_but_with_coordinates_is_read(client, db, login_as, factory, placed):
    from tests.overview.test_import import job_of, upload

    _west, _east, category = placed
    login_as("analyst")
    raw = f"Datum;Kategori;Lat;Lon\n2026-11-20 10:00;{category.code};60.05;16.05\n".encode()
    job = job_of(db, upload(client, raw, factory.agency(kind="housing")))
    assert (job.total_rows, job.invalid) == (1, 0)


# ------------------------------------------------------------------ the map on the week and period pages


def test_the_week_and_period_maps_draw_the_imported_shape_and_the_counted_points(app, client, db, login_as,
                                                                                  incidents):
    from datetime import datetime, timezone

    from app.overview.area_import import read_geojson

    login_as("analyst", kind="police")
    with app.test_request_context():
        features = read_geojson(SAMPLE).features
    db.add_all([Area(name=f.name, code=f.code, polygon=f.geometry_json) for f in features])
    db.flush()
    north = _areas(db)["norrmalm-geo"]
    category = incidents.category()
    monday = datetime(2026, 5, 11, 10, tzinfo=timezone.utc)  # 2026-W20
    lon, lat = geography.point_to_wgs84(674000, 6582000, 3006)
    incidents.report(area=north, category=category, occurred_at=monday, latitude=lat, longitude=lon)
    incidents.report(area=north, category=category, occurred_at=monday, latitude=lat + 0.002, longitude=lon)
    incidents.report(area=north, category=category, occurred_at=monday, latitude=lat, longitude=lon + 0.004,
                     status="new")  # not counted: no point either
    for page in (client.get("/overview/2026/20"), client.get("/overview/period?start=2026-05-11&end=2026-05-17")):
        assert page.status_code == 200
        svg = re.search(r'<svg[^>]*class="chart map".*?</svg>', page.text, re.S).group(0)
        assert "<title>Norrmalm (geo): 2</title>" in svg and "<title>Södermalm (geo): 0</title>" in svg
        assert svg.count('<circle class="point"') == 2
        assert "<desc>2 av rapporterna har koordinater" in svg
