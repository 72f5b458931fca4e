"""The same gate on every read path: list, detail, search, history, export, PDF, period, import status, API.

A walk over every read path per role: who may not read a description never
gets its text (nor a hint of it), and who may only see the published overview
never reaches live figures.
"""

from __future__ import annotations

import io
from datetime import datetime, timezone

import pytest

from tests.conftest import csrf_from

SECRET = "Hemlig beskrivning Kalle Anka 1234"
MONDAY = datetime(2026, 5, 11, 9, 0, tzinfo=timezone.utc)  # ISO 2026-W20


@pytest.fixture()
def data(incidents, factory):
    area = incidents.area(name="Grindtorget")
    category = incidents.category(name_sv="Grindklotter", name_en="Gate graffiti")
    reporter = factory.user(roles=("reporter",), kind="youth")
    accepted = incidents.report(area=area, category=category, occurred_at=MONDAY, description=SECRET,
                                reporter=reporter, status="accepted", place="Grindplatsen")
    new = incidents.report(area=area, category=category, occurred_at=MONDAY, description=SECRET,
                           reporter=reporter, status="new", place="Grindplatsen")
    return {"accepted": accepted, "new": new, "reporter": reporter}


@pytest.mark.parametrize("role,kind", [("process_leader", "social_services")])
def test_process_leader_never_gets_a_description_on_any_path(client, db, login_as, data, role, kind):
    login_as(role, kind=kind)
    accepted, new = data["accepted"], data["new"]
    detail = client.get(f"/reports/{accepted.id}")
    assert detail.status_code == 200 and "Grindtorget" in detail.text and SECRET not in detail.text
    assert "Grindplatsen" not in detail.text, "the place is in the description's field set"
    assert client.get(f"/reports/{new.id}").status_code == 403
    for query in ({}, {"q": "Grind"}, {"q": "Kalle"}, {"status": "new"}, {"status": "all"}):
        resp = client.get("/reports/", query_string=query)
        assert resp.status_code in (200, 400) and SECRET not in resp.text and "Grindplatsen" not in resp.text
        assert str(new.id) not in resp.text
    export = client.get("/reports/export.csv", query_string={"descriptions": "1"})
    body = export.get_data(as_text=True)
    assert export.status_code == 200 and SECRET not in body and str(accepted.id) in body and str(new.id) not in body
    assert "Grindplatsen" not in body
    assert client.get(f"/reports/{accepted.id}/edit").status_code == 403
    assert client.get("/reports/import").status_code == 403
    assert client.get(f"/reports/import/{accepted.id}/status").status_code == 403
    # The API takes tokens only: a signed-in session is no key to it.
    assert client.get("/api/v1/overview/2026/20").status_code == 401


@pytest.mark.parametrize("role,kind", [("partner", "police"), ("coordinator", "social_services")])
def test_published_only_roles_reach_no_live_figures_on_any_path(client, db, login_as, data, role, kind):
    login_as(role, kind=kind)
    page = client.get("/overview/2026/20")
    assert page.status_code == 200 and "Grindtorget" not in page.text and "Grindklotter" not in page.text
    for path in ("/overview/2026/20.pdf", "/overview/2026/20.pdf?version=1", "/overview/2026/20.pdf?version=abc",
                 "/overview/2026/20.pdf?version=0", "/overview/2026/20/versions/1"):
        assert client.get(path).status_code == 404, path
    for path in ("/overview/period?preset=2026", "/overview/period.pdf?preset=2026", "/overview/2026/20/publish",
                 "/reports/", f"/reports/{data['accepted'].id}", "/reports/export.csv", "/reports/import",
                 f"/reports/import/{data['accepted'].id}/status", "/reports/mine"):
        resp = client.get(path)
        assert resp.status_code == 403, path
        assert "Grindtorget" not in resp.get_data(as_text=True)
    assert client.get("/api/v1/overview/2026/20").status_code == 401


def test_reporter_reads_only_their_own_description(client, db, login_as, factory, data, incidents):
    other = data["reporter"]
    me = login_as("reporter", kind="youth")
    assert me.id != other.id
    for path in (f"/reports/{data['new'].id}", f"/reports/{data['new'].id}/edit", f"/reports/{data['accepted'].id}/edit",
                 "/reports/export.csv", "/reports/"):
        resp = client.get(path)
        assert resp.status_code in (403, 404), path
        assert SECRET not in resp.get_data(as_text=True)
    mine = client.get("/reports/mine")
    assert mine.status_code == 200 and SECRET not in mine.text


def test_import_job_is_its_uploaders_only(app, client, db, login_as, factory, incidents):
    """Another analyst cannot see, confirm, cancel or poll someone else's upload (404, as for an unknown id)."""
    from tests.conftest import login

    app.config["LOTS_IMPORT_SYNC"] = True
    area, category = incidents.area(), incidents.category()
    first = login_as("analyst", kind="social_services")
    page = client.get("/reports/import")
    body = f"Datum/tid;Område;Kategori;Miljö;Beskrivning\n2026-03-02 10:00;{area.code};{category.code};offentlig;" \
           f"{SECRET}\n".encode()
    resp = client.post("/reports/import", data={"file": (io.BytesIO(body), "a.csv"), "organisation_id":
                       str(first.agency_id), "csrf_token": csrf_from(page.text)}, content_type="multipart/form-data")
    assert resp.status_code == 302
    job_path = "/reports/import/" + resp.headers["Location"].rstrip("/").split("/")[-1]
    other_client = app.test_client()
    login(other_client, factory.user(roles=("analyst",), kind="social_services"))
    token = csrf_from(other_client.get("/reports/import").text)
    assert other_client.get(job_path).status_code == 404
    assert other_client.get(job_path + "/status").status_code == 404
    assert other_client.post(job_path + "/confirm", data={"csrf_token": token}).status_code == 404
    assert other_client.post(job_path + "/cancel", data={"csrf_token": token}).status_code == 404
    assert client.get(job_path).status_code == 200
