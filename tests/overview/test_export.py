"""CSV export: the review list's filters and policy, formula cells neutralised, descriptions only where allowed."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import select


@pytest.fixture()
def data(incidents, factory):
    tag = uuid.uuid4().hex[:6]
    area = incidents.area(code=f"exp-{tag}", name=f"Exportby {tag}")
    other_area = incidents.area(code=f"exo-{tag}")
    category = incidents.category(code=f"exk-{tag}", name_sv=f"Klotter {tag}", name_en=f"Graffiti {tag}")
    org = factory.agency(kind="housing")
    made = {
        "accepted": incidents.report(area=area, category=category, status="accepted", organisation=org,
                                     occurred_at=datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc),
                                     place="=HYPERLINK(\"http://evil.example\",\"x\")",
                                     description="+SUM(A1:A9) och mer", external_id="-5"),
        "new": incidents.report(area=area, category=category, status="new", organisation=org,
                                occurred_at=datetime(2026, 3, 11, 12, 0, tzinfo=timezone.utc),
                                description="@ny text", place="Torget"),
        "other_area": incidents.report(area=other_area, category=category, status="accepted", organisation=org,
                                       occurred_at=datetime(2026, 3, 12, 12, 0, tzinfo=timezone.utc)),
        "old": incidents.report(area=area, category=category, status="accepted", organisation=org,
                                occurred_at=datetime(2025, 6, 2, 12, 0, tzinfo=timezone.utc)),
    }
    return {"area": area, "other_area": other_area, "category": category, "org": org, **made}


def rows_of(resp):
    body = resp.get_data()
    assert body.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM for Excel"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


def test_analyst_exports_filtered_rows_with_neutralised_formulas_and_descriptions(client, db, login_as, data):
    login_as("analyst")
    resp = client.get(f"/reports/export.csv?area_id={data['area'].id}&status=all&week_from=2026-W01&week_to=2026-W52")
    assert resp.status_code == 200 and resp.mimetype == "text/csv" and resp.is_streamed
    assert "attachment" in resp.headers["Content-Disposition"]
    header, *rows = rows_of(resp)
    assert header[0] == "Lots-id" and header[-1] == "Beskrivning"
    assert sorted(r[0] for r in rows) == sorted([str(data["accepted"].id), str(data["new"].id)])
    accepted = next(r for r in rows if r[0] == str(data["accepted"].id))
    col = dict(zip(header, accepted))
    assert col["Plats"] == "'=HYPERLINK(\"http://evil.example\",\"x\")"
    assert col["Beskrivning"] == "'+SUM(A1:A9) och mer"
    assert col["Externt id"] == "'-5"
    assert col["Tidpunkt"] == "2026-03-10 13:00" and col["Vecka"] == "2026-W11"
    assert col["Område"] == data["area"].name and col["Kategori"] == data["category"].name_sv
    new = dict(zip(header, next(r for r in rows if r[0] == str(data["new"].id))))
    assert new["Beskrivning"] == "'@ny text" and new["Status"] == "new"


def test_status_and_category_filters(client, login_as, data):
    login_as("analyst")
    resp = client.get(f"/reports/export.csv?category_id={data['category'].id}&status=accepted")
    ids = {r[0] for r in rows_of(resp)[1:]}
    assert ids == {str(data["accepted"].id), str(data["other_area"].id), str(data["old"].id)}


def test_process_leader_gets_accepted_reports_without_descriptions(client, db, login_as, data):
    from app.audit.models import AuditEvent

    login_as("process_leader")
    resp = client.get(f"/reports/export.csv?area_id={data['area'].id}")
    assert resp.status_code == 200
    header, *rows = rows_of(resp)
    assert "Beskrivning" not in header
    assert {r[0] for r in rows} == {str(data["accepted"].id), str(data["old"].id)}
    assert "SUM(A1" not in resp.get_data(as_text=True)
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "report.export").order_by(AuditEvent.id.desc()))
    assert event.field_sets in ("", None) and json.loads(event.detail)["descriptions"] == "no"


def test_export_is_audited_with_the_description_field_set_before_the_data(client, db, login_as, data):
    from app.audit.models import AuditEvent

    analyst = login_as("analyst")
    resp = client.get(f"/reports/export.csv?area_id={data['area'].id}&status=all")
    assert resp.status_code == 200
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "report.export").order_by(AuditEvent.id.desc()))
    assert event.actor_user_id == analyst.id and event.field_sets == "incident.description"
    detail = json.loads(event.detail)
    assert detail["rows"] == "3" and detail["area"] == str(data["area"].id)


@pytest.mark.parametrize("role", ["reporter", "coordinator", "partner", "admin", "auditor"])
def test_roles_without_report_read_cannot_export(client, login_as, role):
    login_as(role)
    assert client.get("/reports/export.csv").status_code == 403


@pytest.mark.parametrize("query", ["status=bogus", "week_from=2026-W60", "area_id=abc", "week_from=2026-W10&week_to=2026-W01",
                                   "source=fax"])
def test_bad_filters_are_400(client, login_as, query):
    login_as("analyst")
    assert client.get(f"/reports/export.csv?{query}").status_code == 400


def test_exported_file_can_be_imported_again(app):
    from app.overview.export import _headers
    from app.overview.importing.csvfile import read_layout

    with app.test_request_context():
        header = ";".join(_headers(True))
    layout = read_layout(header + "\r\n")
    assert {"external_id", "occurred_at", "occurred_until", "area", "category", "setting", "place", "latitude",
            "longitude", "description"} <= layout.fields


@pytest.mark.parametrize("value, expected", [
    ("=1+1", "'=1+1"), ("+46", "'+46"), ("-1", "'-1"), ("@x", "'@x"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("vanlig text", "vanlig text"), (None, ""), ("a=b", "a=b"),
])
def test_neutralise(value, expected):
    from app.overview.export import neutralise

    assert neutralise(value) == expected
