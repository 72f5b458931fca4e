"""The incident report's place is encrypted like its description (pentest finding 7).

It is free text beside the description, so it is stored as ciphertext bound to the row, belongs to the
field set incident.description (the same readers), and migration 0009 encrypts the places already stored.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from tests.conftest import separate_app, sign_in

PLACE = "Bakom Kalles kiosk på Storgatan"


def test_a_new_place_is_stored_as_ciphertext_and_read_back(app, db, incidents):
    area, category = incidents.area(), incidents.category()
    report = incidents.report(area=area, category=category, place=PLACE)
    stored = db.execute(text("SELECT place_ct FROM incident_report WHERE place_ct IS NOT NULL")).scalars().all()
    assert stored and all(PLACE.encode() not in bytes(blob) for blob in stored)
    with app.app_context():
        db.expire(report)
        assert report.place == PLACE
    with pytest.raises(sa.exc.OperationalError if db.bind.dialect.name == "sqlite" else sa.exc.ProgrammingError):
        with db.begin_nested():
            db.execute(text("SELECT place FROM incident_report"))


def test_the_place_is_shown_only_to_those_who_read_descriptions(client, db, login_as, incidents):
    area, category = incidents.area(), incidents.category()
    report = incidents.report(area=area, category=category, place=PLACE, status="accepted")
    login_as("process_leader", kind="other")
    page = client.get(f"/reports/{report.id}")
    assert page.status_code == 200 and PLACE not in page.text
    listing = client.get("/reports/", query_string={"status": "all"})
    assert listing.status_code == 200 and PLACE not in listing.text
    # A search in the place text is no oracle for those who may not read it.
    searched = client.get("/reports/", query_string={"status": "all", "q": "Kalles"})
    assert str(report.id) not in searched.text


def test_analysts_see_and_search_the_place_and_the_read_is_audited(client, db, login_as, incidents):
    from app.audit.models import AuditEvent

    area, category = incidents.area(), incidents.category()
    report = incidents.report(area=area, category=category, place=PLACE, status="accepted")
    incidents.report(area=area, category=category, place="Vid skolan", status="accepted")
    analyst = login_as("analyst", kind="social_services")
    page = client.get("/reports/", query_string={"status": "all", "q": "kalles"})
    assert page.status_code == 200 and PLACE in page.text and "Vid skolan" not in page.text
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.actor_user_id == analyst.id,
                                                  AuditEvent.action == "report.list")).all()
    assert "incident.description" in event.field_sets
    assert PLACE in client.get(f"/reports/{report.id}").text


def test_the_reporter_searches_their_own_places(client, db, login_as, incidents):
    area, category = incidents.area(), incidents.category()
    reporter = login_as("reporter", kind="youth")
    incidents.report(area=area, category=category, place=PLACE, status="new", reporter=reporter)
    incidents.report(area=area, category=category, place="Vid skolan", status="new", reporter=reporter)
    page = client.get("/reports/mine", query_string={"q": "storgatan"})
    assert page.status_code == 200 and PLACE in page.text and "Vid skolan" not in page.text


def test_migration_0009_encrypts_the_places_already_stored_and_0008_gets_them_back():
    from app.extensions import db
    from app.overview.models import IncidentReport
    from app.overview.service import description_key

    with separate_app("place") as other, other.app_context():
        downgrade(revision="0008")
        key = description_key(date(2026, 3, 1))
        db.session.commit()
        conn = db.session.connection()
        conn.execute(text("INSERT INTO agency (name, kind, active) VALUES ('Polisen place', 'police', :t)"),
                     {"t": True})
        conn.execute(text("INSERT INTO area (code, name, active) VALUES ('pl', 'Platstorget', :t)"), {"t": True})
        conn.execute(text("INSERT INTO incident_category (code, name_sv, name_en, sort_order, active) "
                          "VALUES ('pl', 'Plats', 'Place', 0, :t)"), {"t": True})
        ids = {name: conn.execute(text(f"SELECT id FROM {table}")).scalar()
               for name, table in (("agency", "agency"), ("area", "area"), ("category", "incident_category"))}
        report_id = uuid.uuid4()
        table = sa.table("incident_report", *(sa.column(c) for c in (
            "id", "data_key_id", "occurred_at", "local_date", "iso_year", "iso_week", "area_id", "category_id",
            "setting", "place", "status", "organisation_id", "source", "version")))
        table.c.id.type = sa.Uuid()
        table.c.data_key_id.type = sa.Uuid()
        conn.execute(table.insert().values(
            id=report_id, data_key_id=key.id, occurred_at=datetime(2026, 3, 2, 10, tzinfo=timezone.utc),
            local_date=date(2026, 3, 2), iso_year=2026, iso_week=10, area_id=ids["area"],
            category_id=ids["category"], setting="public", place=PLACE, status="accepted",
            organisation_id=ids["agency"], source="form", version=1))
        db.session.commit()
        upgrade()
        db.session.expire_all()
        raw = db.session.execute(text("SELECT place_ct FROM incident_report")).scalar()
        assert raw is not None and PLACE.encode() not in bytes(raw)
        assert db.session.get(IncidentReport, report_id).place == PLACE
        db.session.commit()
        downgrade(revision="0008")
        assert db.session.execute(text("SELECT place FROM incident_report")).scalar() == PLACE
        db.session.commit()
        upgrade()
