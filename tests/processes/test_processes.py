"""Processes through HTTP: create, edit (version locking), delete (confirmed), the list's search, filters,
sorting and pagination, forms that keep what was typed, and ids that do not exist."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.processes.models import Milestone, Process, ProcessStatus, ProcessType
from tests.conftest import csrf_from


def _post(client, url, data, page=None):
    token = csrf_from(client.get(page or url).text)
    return client.post(url, data={**data, "csrf_token": token})


def _count(db):
    return db.scalar(select(func.count(Process.id)))


@pytest.fixture()
def world(factory, incidents):
    return {"police": factory.agency(kind="police"), "school": factory.agency(kind="school"),
            "area": incidents.area(name="Centrumtorget"), "category": incidents.category(name_sv="Klotter")}


def _form(leader, world, **changes):
    data = {"name": "Trygg centrummiljö", "type": "est_area", "status": "active", "owner_id": leader.id,
            "owner_agency_id": leader.agency_id, "agency_ids": [world["police"].id, world["school"].id],
            "goal": "Färre skadegörelser.", "start_date": "2026-01-01", "end_date": "2026-12-31",
            "area_ids": [world["area"].id], "category_ids": [world["category"].id]}
    data.update(changes)
    return data


def test_create_edit_and_delete_a_process(client, db, login_as, world):
    leader = login_as("process_leader", kind="other")
    new_page = client.get("/processes/new")
    assert new_page.status_code == 200 and "Centrumtorget" in new_page.text and "Klotter" in new_page.text
    resp = _post(client, "/processes/new", _form(leader, world))
    assert resp.status_code == 302, resp.text[:500]
    process = db.scalar(select(Process).where(Process.name == "Trygg centrummiljö"))
    assert process.type == ProcessType.EST_AREA and process.owner_id == leader.id
    assert process.participant_agency_ids == {world["police"].id, world["school"].id, leader.agency_id}
    assert [a.name for a in process.areas] == ["Centrumtorget"] and process.end_date == date(2026, 12, 31)
    created = db.scalar(select(AuditEvent).where(AuditEvent.action == "process.create"))
    assert created.object_id == str(process.id) and "centrum" not in (created.detail or "").lower()
    detail = client.get(resp.headers["Location"])
    assert detail.status_code == 200 and "Färre skadegörelser." in detail.text and "Centrumtorget" in detail.text

    edit_url = f"/processes/{process.id}/edit"
    page = client.get(edit_url)
    assert 'value="Trygg centrummiljö"' in page.text
    resp = _post(client, edit_url, {**_form(leader, world, name="Trygg centrummiljö 2", status="paused",
                                            agency_ids=[world["police"].id]), "version": process.version})
    assert resp.status_code == 302
    db.expire_all()
    assert process.name == "Trygg centrummiljö 2" and process.status == ProcessStatus.PAUSED
    assert {a.id for a in process.agencies} == {world["police"].id}
    updated = db.scalar(select(AuditEvent).where(AuditEvent.action == "process.update"))
    assert json.loads(updated.detail)["status"] == "paused"

    token = csrf_from(client.get(edit_url).text)
    resp = client.post(f"/processes/{process.id}/delete", data={"csrf_token": token})  # not ticked
    assert resp.status_code == 302
    db.expire_all()
    assert db.get(Process, process.id) is not None
    resp = client.post(f"/processes/{process.id}/delete", data={"csrf_token": token, "confirmed": "y"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/processes/")
    db.expire_all()
    assert db.get(Process, process.id) is None
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "process.delete")) is not None
    assert client.get(f"/processes/{process.id}").status_code == 404


def test_delete_removes_milestones_but_is_refused_while_the_process_has_meetings(client, db, login_as, processes,
                                                                                  world):
    login_as("process_leader", kind="other")
    process = processes.process(agencies=[world["police"]])
    a = processes.milestone(process, agency=world["police"])
    processes.milestone(process, agency=world["police"], depends_on=[a])
    token = csrf_from(client.get(f"/processes/{process.id}/edit").text)
    with_meeting = processes.process(agencies=[world["police"]])
    processes.meeting(with_meeting)
    resp = client.post(f"/processes/{with_meeting.id}/delete", data={"csrf_token": token, "confirmed": "y"})
    assert resp.status_code == 302
    assert "har möten" in client.get(resp.headers["Location"]).text
    db.expire_all()
    assert db.get(Process, with_meeting.id) is not None
    resp = client.post(f"/processes/{process.id}/delete", data={"csrf_token": token, "confirmed": "y"})
    assert resp.status_code == 302
    db.expire_all()
    assert db.scalar(select(func.count(Milestone.id)).where(Milestone.process_id == process.id)) == 0


@pytest.mark.parametrize("change,message", [
    ({"end_date": "2025-12-31"}, "Slutdatum kan inte ligga före startdatum"),
    ({"start_date": "1 januari"}, "ÅÅÅÅ-MM-DD"),
    ({"start_date": ""}, "Ange ett startdatum"),
    ({"name": ""}, "Ange ett namn"),
    ({"name": "n" * 201}, "Högst 200 tecken"),
    ({"type": "secret"}, "Välj ett alternativ"),
    ({"agency_ids": ["99999999"]}, "deltagande myndighet finns inte"),
    ({"agency_ids": ["abc"]}, "deltagande myndighet finns inte"),
    ({"area_ids": ["99999999999"]}, "område finns inte"),
    ({"category_ids": ["99999999"]}, "kategori finns inte"),
    ({"owner_agency_id": "99999999"}, "Okänd eller inaktiv myndighet"),
    ({"owner_id": "99999999"}, "aktiv processledare"),
])
def test_bad_input_keeps_what_was_typed_and_saves_nothing(client, db, login_as, world, change, message):
    leader = login_as("process_leader", kind="other")
    before = _count(db)
    data = _form(leader, world, goal="Mitt skrivna mål", **change)
    resp = _post(client, "/processes/new", data)
    assert resp.status_code == 400 and message in resp.text
    assert "Mitt skrivna mål" in resp.text
    assert _count(db) == before


def test_owner_must_be_a_process_leader(client, db, login_as, world, factory):
    leader = login_as("process_leader", kind="other")
    partner = factory.user(roles=("partner",), agency=world["police"])
    resp = _post(client, "/processes/new", _form(leader, world, owner_id=partner.id))
    assert resp.status_code == 400 and "aktiv processledare" in resp.text


def test_stale_edit_gets_409_and_nothing_is_saved(client, db, login_as, processes, world):
    leader = login_as("process_leader", kind="other")
    process = processes.process(name="Original", agencies=[world["police"]], owner=leader)
    stale = process.version
    url = f"/processes/{process.id}/edit"
    assert _post(client, url, {**_form(leader, world, name="Först"), "version": stale}).status_code == 302
    resp = _post(client, url, {**_form(leader, world, name="Sen"), "version": stale})
    assert resp.status_code == 409 and "ändrats av någon annan" in resp.text and 'value="Sen"' in resp.text
    db.expire_all()
    assert process.name == "Först"
    assert _post(client, url, {**_form(leader, world, name="Sen"), "version": "x"}).status_code == 400


def test_list_search_filters_sort_and_pagination(client, db, login_as, processes, world, app, monkeypatch):
    login_as("process_leader", kind="other")
    monkeypatch.setitem(app.config, "LOTS_PAGE_SIZE", 2)
    processes.process(name="Alfa trygghet", agencies=[world["police"]], start=date(2026, 3, 1), type="sspf")
    processes.process(name="Beta trygghet", agencies=[world["school"]], start=date(2026, 1, 1), status="planned")
    processes.process(name="Gamma trygghet", agencies=[world["police"]], start=date(2026, 2, 1))
    processes.process(name="Annat 50%_x", agencies=[world["school"]])
    page1 = client.get("/processes/", query_string={"q": "trygghet"})
    assert page1.status_code == 200 and "3 processer" in page1.text
    assert "Alfa trygghet" in page1.text and "Beta trygghet" in page1.text and "Gamma trygghet" not in page1.text
    assert "Sida 1 av 2" in page1.text
    page2 = client.get("/processes/", query_string={"q": "trygghet", "page": 2})
    assert "Gamma trygghet" in page2.text and "Alfa trygghet" not in page2.text
    by_start = client.get("/processes/", query_string={"q": "trygghet", "sort": "-start"}).text
    assert "Alfa trygghet" in by_start and "Gamma trygghet" in by_start and "Beta trygghet" not in by_start
    assert by_start.index("Alfa trygghet") < by_start.index("Gamma trygghet")
    police_only = client.get("/processes/", query_string={"agency": world["police"].id}).text
    assert "Alfa trygghet" in police_only and "Gamma trygghet" in police_only and "Beta trygghet" not in police_only
    assert "Beta trygghet" in client.get("/processes/", query_string={"status": "planned"}).text
    assert "Alfa trygghet" not in client.get("/processes/", query_string={"status": "planned"}).text
    sspf = client.get("/processes/", query_string={"type": "sspf"}).text
    assert "Alfa trygghet" in sspf and "Gamma trygghet" not in sspf
    # LIKE wildcards are literal in a search.
    literal = client.get("/processes/", query_string={"q": "50%_"}).text
    assert "Annat 50%_x" in literal and "Alfa trygghet" not in literal
    assert client.get("/processes/", query_string={"q": "%"}).status_code == 200
    for bad in ({"status": "nope"}, {"type": "x"}, {"q": "q" * 101}, {"agency": "abc"}):
        assert client.get("/processes/", query_string=bad).status_code == 400, bad
    for odd in ({"sort": "password"}, {"page": "-3"}, {"page": "abc"}, {"page": "99999999999"}):
        assert client.get("/processes/", query_string=odd).status_code == 200, odd


def test_unknown_or_out_of_range_ids_are_404(client, login_as, processes, world):
    login_as("process_leader", kind="other")
    process = processes.process(agencies=[world["police"]])
    for path in ("/processes/99999999999", "/processes/2147483648", "/processes/0", "/processes/99999/edit",
                 "/processes/99999999999/edit", "/processes/99999999999/milestones/new",
                 f"/processes/{process.id}/milestones/99999999999/edit",
                 f"/processes/{process.id}/milestones/99999/status", "/processes/abc"):
        assert client.get(path).status_code == 404, path
    token = csrf_from(client.get("/processes/").text)
    assert client.post("/processes/99999999999/delete", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/processes/{process.id}/milestones/99999999999/delete",
                       data={"csrf_token": token}).status_code == 404


def test_new_form_defaults_to_the_current_leader_and_agency(client, login_as, world):
    leader = login_as("process_leader", kind="other")
    page = client.get("/processes/new").text
    assert f'<option selected value="{leader.id}">' in page or f'value="{leader.id}" selected' in page
    assert f'<option selected value="{leader.agency_id}">' in page or f'value="{leader.agency_id}" selected' in page


def test_an_agency_owning_milestones_cannot_be_dropped_from_the_process(client, db, login_as, processes, world):
    leader = login_as("process_leader", kind="other")
    process = processes.process(name="Med delmål", agencies=[world["police"], world["school"]], owner=leader)
    processes.milestone(process, agency=world["school"])
    url = f"/processes/{process.id}/edit"
    resp = _post(client, url, {**_form(leader, world, name="Med delmål", agency_ids=[world["police"].id]),
                               "version": process.version})
    assert resp.status_code == 400 and "äger delmål i processen" in resp.text
    db.expire_all()
    assert {a.id for a in process.agencies} == {world["police"].id, world["school"].id}


def test_deactivated_links_may_stay_but_not_be_added(client, db, login_as, processes, world, factory):
    leader = login_as("process_leader", kind="other")
    closed = factory.agency(kind="ngo", active=False)
    process = processes.process(name="Gammal process", agencies=[world["police"], closed], owner=leader)
    url = f"/processes/{process.id}/edit"
    keep = _form(leader, world, name="Gammal process", agency_ids=[world["police"].id, closed.id])
    assert _post(client, url, {**keep, "name": "Gammal process 2", "version": process.version}).status_code == 302
    other_closed = factory.agency(kind="ngo", active=False)
    db.expire_all()
    resp = _post(client, url, {**keep, "agency_ids": [world["police"].id, closed.id, other_closed.id],
                               "version": process.version})
    assert resp.status_code == 400 and "inaktiv" in resp.text
    db.expire_all()
    assert {a.id for a in process.agencies} == {world["police"].id, closed.id}
