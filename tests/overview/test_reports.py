"""The report form and the reporter's own reports: filing, validation, own list, corrections, encryption, audit."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from app.audit.models import AuditEvent
from app.overview.models import IncidentReport, ReportRevision, ReportStatus
from app.overview.service import STOCKHOLM
from tests.conftest import csrf_from

SECRET = "Pelle Påhittad hotade personalen vid entrén"


def _local(delta: timedelta = timedelta(hours=-1)) -> str:
    return (datetime.now(STOCKHOLM) + delta).strftime("%Y-%m-%dT%H:%M")


def _block(i, area, category, **over):
    data = {
        "occurred_at": _local(), "occurred_until": "", "area_id": str(area.id), "category_id": str(category.id),
        "setting": "public", "place": "vid busshållplatsen", "latitude": "", "longitude": "",
        "description": "Fönster krossat.",
    }
    data.update(over)
    return {f"incidents-{i}-{k}": v for k, v in data.items()}


def _post_new(client, *blocks, action="submit"):
    page = client.get("/reports/new")
    assert page.status_code == 200
    data = {"csrf_token": csrf_from(page.text), "action": action}
    for block in blocks:
        data.update(block)
    return client.post("/reports/new", data=data)


def _count(db) -> int:
    return db.scalar(select(func.count()).select_from(IncidentReport))


@pytest.fixture()
def taxa(incidents):
    return incidents.area(name="Centrum test"), incidents.category(name_sv="Klotter test", name_en="Graffiti test")


def test_reporter_files_one_incident_as_new_report_of_their_agency(app, client, db, login_as, taxa):
    area, category = taxa
    reporter = login_as("reporter", kind="youth")
    resp = _post_new(client, _block(0, area, category, description=SECRET))
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/reports/mine")
    report = db.scalars(select(IncidentReport)).one()
    assert report.status == ReportStatus.NEW
    assert report.reporter_id == reporter.id and report.organisation_id == reporter.agency_id
    assert report.area_id == area.id and report.category_id == category.id
    with app.app_context():
        assert report.description == SECRET and report.submission_id is not None
    assert report.place == "vid busshållplatsen"
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "report.created")).one()
    assert event.object_type == "incident" and event.object_id == str(report.id)
    assert event.field_sets == "incident.description" and event.actor_user_id == reporter.id


def test_several_incidents_share_one_submission(app, client, db, login_as, taxa, incidents):
    area, category = taxa
    other = incidents.area()
    login_as("reporter", kind="security_company")
    resp = _post_new(client, _block(0, area, category), _block(1, other, category, description="",
                                                                 latitude="59,43", longitude="17.95"))
    assert resp.status_code == 302
    reports = db.scalars(select(IncidentReport).order_by(IncidentReport.area_id)).all()
    assert len(reports) == 2
    assert reports[0].submission_id == reports[1].submission_id
    second = next(r for r in reports if r.area_id == other.id)
    with app.app_context():
        assert second.description is None
    assert second.latitude == pytest.approx(59.43)
    events = db.scalars(select(AuditEvent).where(AuditEvent.action == "report.created")).all()
    assert sorted(e.field_sets or "" for e in events) == ["", "incident.description"]


def test_add_another_without_js_keeps_what_was_typed(client, db, login_as, taxa):
    area, category = taxa
    login_as("reporter", kind="youth")
    resp = _post_new(client, _block(0, area, category, place="bakom idrottshallen"), action="add")
    assert resp.status_code == 200
    assert 'name="incidents-1-area_id"' in resp.text and "bakom idrottshallen" in resp.text
    assert _count(db) == 0


@pytest.mark.parametrize("over, field", [
    ({"occurred_until": _local(timedelta(hours=-3))}, "occurred_until"),
    ({"occurred_at": _local(timedelta(hours=5))}, "occurred_at"),
    ({"occurred_until": _local(timedelta(hours=5))}, "occurred_until"),
    ({"area_id": "999999"}, "area_id"),
    ({"category_id": "999999"}, "category_id"),
    ({"category_id": "x"}, "category_id"),
    ({"description": "x" * 2001}, "description"),
    ({"place": "p" * 201}, "place"),
    ({"setting": "private"}, "setting"),
    ({"latitude": "59.4"}, "latitude"),
    ({"latitude": "nittio", "longitude": "17.9"}, "latitude"),
    ({"latitude": "95", "longitude": "17.9"}, "latitude"),
    ({"occurred_at": "igår"}, "occurred_at"),
])
def test_invalid_incident_is_refused_with_400_and_nothing_stored(client, db, login_as, taxa, over, field):
    area, category = taxa
    login_as("reporter", kind="youth")
    resp = _post_new(client, _block(0, area, category, **{"place": "vid kiosken", **over}))
    assert resp.status_code == 400
    assert f'id="incidents-0-{field}-err"' in resp.text
    assert ("vid kiosken" if field != "place" else "p" * 201) in resp.text  # what was typed is kept
    assert _count(db) == 0


def test_missing_required_fields_keep_typed_text_and_store_nothing(client, db, login_as, taxa):
    area, category = taxa
    login_as("reporter", kind="youth")
    resp = _post_new(client, _block(0, area, category, occurred_at="", area_id="", category_id="",
                                    description="Stökigt vid entrén"))
    assert resp.status_code == 400
    for field in ("occurred_at", "area_id", "category_id"):
        assert f'id="incidents-0-{field}-err"' in resp.text
    assert "Stökigt vid entrén" in resp.text
    assert _count(db) == 0


def test_one_bad_block_stores_none_of_the_submission(client, db, login_as, taxa):
    area, category = taxa
    login_as("reporter", kind="youth")
    resp = _post_new(client, _block(0, area, category), _block(1, area, category, area_id="424242"))
    assert resp.status_code == 400
    assert 'id="incidents-1-area_id-err"' in resp.text and 'id="incidents-0-area_id-err"' not in resp.text
    assert _count(db) == 0


def test_inactive_area_cannot_be_chosen(client, db, login_as, taxa):
    area, category = taxa
    area.active = False
    db.flush()
    login_as("reporter", kind="youth")
    assert _post_new(client, _block(0, area, category)).status_code == 400
    assert _count(db) == 0


def test_form_defaults_to_now_and_reminds_not_to_write_names(client, login_as, taxa):
    login_as("reporter", kind="youth")
    page = client.get("/reports/new")
    assert page.status_code == 200
    assert datetime.now(STOCKHOLM).strftime("%Y-%m-%dT") in page.text
    assert "Skriv inga namn" in page.text and "report.js" in page.text


def test_own_list_shows_only_own_reports(client, db, login_as, taxa, incidents, factory):
    area, category = taxa
    other = factory.user(roles=("reporter",), kind="youth")
    incidents.report(area=area, category=category, reporter=other, place="annans plats", status="new")
    reporter = login_as("reporter", kind="youth")
    incidents.report(area=area, category=category, reporter=reporter, place="min plats", status="new")
    page = client.get("/reports/mine")
    assert page.status_code == 200
    assert "min plats" in page.text and "annans plats" not in page.text


def test_reporter_corrects_own_new_report_with_history(app, client, db, login_as, taxa, incidents):
    area, category = taxa
    reporter = login_as("reporter", kind="youth")
    report = incidents.report(area=area, category=category, reporter=reporter, status="new", description=SECRET)
    new_area = incidents.area()
    page = client.get(f"/reports/{report.id}/edit")
    assert page.status_code == 200 and SECRET in page.text
    view = db.scalars(select(AuditEvent).where(AuditEvent.action == "report.view")).one()
    assert view.field_sets == "incident.description" and view.object_id == str(report.id)
    data = {"csrf_token": csrf_from(page.text), "version": str(report.version)}
    data.update({k.replace("incidents-0-", "incident-"): v for k, v in _block(
        0, new_area, category, description="Rättad text.").items()})
    resp = client.post(f"/reports/{report.id}/edit", data=data)
    assert resp.status_code == 302
    db.refresh(report)
    with app.app_context():
        assert report.description == "Rättad text."
    assert report.area_id == new_area.id and report.version == 2
    revision = db.scalars(select(ReportRevision).where(ReportRevision.report_id == report.id)).one()
    assert revision.action == "corrected" and "Rättad" not in revision.changes and "description" in revision.changes
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "report.corrected")).one()
    assert event.field_sets == "incident.description" and "Rättad" not in (event.detail or "")


def test_stale_correction_is_refused_with_409(client, db, login_as, taxa, incidents):
    area, category = taxa
    reporter = login_as("reporter", kind="youth")
    report = incidents.report(area=area, category=category, reporter=reporter, status="new")
    page = client.get(f"/reports/{report.id}/edit")
    data = {"csrf_token": csrf_from(page.text), "version": str(report.version - 1) if report.version > 1 else "0"}
    data.update({k.replace("incidents-0-", "incident-"): v for k, v in _block(0, area, category, place="ny").items()})
    resp = client.post(f"/reports/{report.id}/edit", data=data)
    assert resp.status_code == 409 and "Någon annan har ändrat" in resp.text
    db.refresh(report)
    with client.application.app_context():
        assert report.place != "ny"


def test_correcting_another_reporters_report_is_forbidden_and_unchanged(client, db, login_as, taxa, incidents,
                                                                        factory):
    area, category = taxa
    other = factory.user(roles=("reporter",), kind="youth")
    report = incidents.report(area=area, category=category, reporter=other, status="new", place="orörd")
    login_as("reporter", kind="youth")
    assert client.get(f"/reports/{report.id}/edit").status_code == 403
    page = client.get("/reports/new")
    data = {"csrf_token": csrf_from(page.text), "version": str(report.version)}
    data.update({k.replace("incidents-0-", "incident-"): v for k, v in _block(0, area, category, place="x").items()})
    assert client.post(f"/reports/{report.id}/edit", data=data).status_code == 403
    db.refresh(report)
    with client.application.app_context():
        assert report.place == "orörd"


def test_correction_after_review_is_refused(client, db, login_as, taxa, incidents):
    area, category = taxa
    reporter = login_as("reporter", kind="youth")
    report = incidents.report(area=area, category=category, reporter=reporter, status="accepted", place="granskad")
    page = client.get(f"/reports/{report.id}/edit")
    assert page.status_code == 200 and "redan granskad" in page.text and 'name="incident-place"' not in page.text
    data = {"csrf_token": csrf_from(page.text), "version": str(report.version)}
    data.update({k.replace("incidents-0-", "incident-"): v for k, v in _block(0, area, category, place="x").items()})
    resp = client.post(f"/reports/{report.id}/edit", data=data)
    assert resp.status_code == 409
    db.refresh(report)
    with client.application.app_context():
        assert report.place == "granskad" and report.status == ReportStatus.ACCEPTED


def test_description_is_encrypted_at_rest(client, db, login_as, taxa):
    area, category = taxa
    login_as("reporter", kind="youth")
    assert _post_new(client, _block(0, area, category, description=SECRET)).status_code == 302
    rows = db.execute(text("SELECT * FROM incident_report")).mappings().all()
    assert len(rows) == 1
    for value in rows[0].values():
        if isinstance(value, (bytes, bytearray, memoryview)):
            assert b"Pelle" not in bytes(value) and "Pelle".encode() not in bytes(value)
        else:
            assert "Pelle" not in str(value)


def test_audit_events_never_hold_description_text(client, db, login_as, taxa, incidents):
    area, category = taxa
    reporter = login_as("reporter", kind="youth")
    assert _post_new(client, _block(0, area, category, description=SECRET)).status_code == 302
    report = db.scalars(select(IncidentReport)).one()
    client.get(f"/reports/{report.id}/edit")
    rows = db.execute(text("SELECT * FROM audit_event")).mappings().all()
    assert any(r["action"] == "report.view" for r in rows)
    for row in rows:
        assert all("Pelle" not in str(v) for v in row.values())
    assert reporter.id in {r["actor_user_id"] for r in rows}


@pytest.mark.parametrize("role, kind", [("partner", "police"), ("coordinator", "social_services"),
                                        ("admin", "other"), ("auditor", "other")])
def test_other_roles_cannot_open_report_pages(client, db, login_as, taxa, incidents, role, kind):
    area, category = taxa
    report = incidents.report(area=area, category=category)
    login_as(role, kind=kind)
    for url in ("/reports/new", "/reports/mine", "/reports/", f"/reports/{report.id}",
                f"/reports/{report.id}/edit"):
        assert client.get(url).status_code == 403, url


def test_unknown_or_malformed_report_id_is_404(client, login_as):
    login_as("analyst", kind="social_services")
    assert client.get("/reports/not-a-uuid").status_code == 404
    assert client.get("/reports/00000000-0000-0000-0000-000000000000").status_code == 404


def test_more_than_the_maximum_incidents_is_refused_whole(client, db, login_as, taxa):
    area, category = taxa
    login_as("reporter", kind="youth")
    resp = _post_new(client, *[_block(i, area, category) for i in range(21)])
    assert resp.status_code == 400 and "Högst 20 händelser" in resp.text
    assert _count(db) == 0


def test_remove_button_drops_one_block_without_storing(client, db, login_as, taxa):
    area, category = taxa
    login_as("reporter", kind="youth")
    resp = _post_new(client, _block(0, area, category, place="första"), _block(1, area, category, place="andra"),
                     action="remove-0")
    assert resp.status_code == 200 and "andra" in resp.text and 'value="första"' not in resp.text
    assert resp.text.count('name="action" value="remove-') == 0  # one block left: nothing to remove
    assert _count(db) == 0


def test_blocks_with_gaps_in_their_numbers_are_all_stored(client, db, login_as, taxa):
    """The script removes blocks in the page, so the numbers that arrive need not be consecutive."""
    area, category = taxa
    login_as("reporter", kind="youth")
    resp = _post_new(client, _block(1, area, category, place="ett"), _block(3, area, category, place="tre"))
    assert resp.status_code == 302
    with client.application.app_context():
        assert sorted(r.place for r in db.scalars(select(IncidentReport))) == ["ett", "tre"]
