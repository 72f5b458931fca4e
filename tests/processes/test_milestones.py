"""Milestones through HTTP: dependencies (no cycles, not done before what it waits for, moved dates shown with
what they push), the owning agency's status update (and nothing else), version locking and bad input."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.processes.models import Milestone, WorkStatus
from tests.conftest import csrf_from


@pytest.fixture()
def setup(processes, factory):
    police, school = factory.agency(kind="police"), factory.agency(kind="school")
    owner_agency = factory.agency(kind="other")
    process = processes.process(agencies=[police, school], owner_agency=owner_agency)
    a = processes.milestone(process, agency=police, title="Kartlägg platsen", due=date(2026, 3, 1))
    b = processes.milestone(process, agency=police, title="Belys gångtunneln", due=date(2026, 3, 10),
                            depends_on=[a])
    return {"police": police, "school": school, "owner": owner_agency, "process": process, "a": a, "b": b}


def _leader(login_as, setup):
    return login_as("process_leader", kind="other", agency=setup["owner"])


def _post(client, url, data, page=None):
    token = csrf_from(client.get(page or url).text)
    return client.post(url, data={**data, "csrf_token": token})


def _edit_data(m: Milestone, **changes):
    data = {"title": m.title, "agency_id": m.agency_id, "responsible_id": m.responsible_id or "",
            "due_date": m.due_date.isoformat(), "status": m.status.value,
            "depends_on_ids": [d.id for d in m.depends_on], "completion_note": m.completion_note or "",
            "version": m.version}
    data.update(changes)
    return data


def _url(setup, m=None, action="edit"):
    base = f"/processes/{setup['process'].id}/milestones"
    return f"{base}/new" if m is None else f"{base}/{m.id}/{action}"


def _count(db):
    return db.scalar(select(func.count(Milestone.id)))


def test_leader_creates_a_milestone_with_a_dependency(client, db, login_as, setup):
    _leader(login_as, setup)
    resp = _post(client, _url(setup), {"title": "Trygghetsvandring", "agency_id": setup["school"].id,
                                        "due_date": "2026-04-01", "status": "planned",
                                        "depends_on_ids": [setup["a"].id, setup["b"].id]})
    assert resp.status_code == 302, resp.text[:400]
    created = db.scalar(select(Milestone).where(Milestone.title == "Trygghetsvandring"))
    assert {d.id for d in created.depends_on} == {setup["a"].id, setup["b"].id}
    assert created.agency_id == setup["school"].id and created.due_date == date(2026, 4, 1)
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "milestone.create")
                      .order_by(AuditEvent.id.desc()))
    assert event.object_id == str(created.id) and "Trygghetsvandring" not in (event.detail or "")
    page = client.get(f"/processes/{setup['process'].id}")
    assert page.status_code == 200 and "Trygghetsvandring" in page.text and "<svg" in page.text


def test_cycle_via_edit_is_refused_and_nothing_changes(client, db, login_as, setup):
    _leader(login_as, setup)
    a = setup["a"]
    version = a.version
    resp = _post(client, _url(setup, a), _edit_data(a, depends_on_ids=[setup["b"].id], title="Nytt namn"))
    assert resp.status_code == 400 and "cirkel" in resp.text
    assert "Nytt namn" in resp.text  # what was typed is kept
    db.expire_all()
    assert a.depends_on == [] and a.title == "Kartlägg platsen" and a.version == version


def test_done_is_refused_while_a_dependency_is_open(client, db, login_as, setup):
    _leader(login_as, setup)
    b = setup["b"]
    resp = _post(client, _url(setup, b), _edit_data(b, status="done"))
    assert resp.status_code == 400 and "Kartlägg platsen" in resp.text and "klart" in resp.text
    resp = _post(client, _url(setup, b, "status"), {"status": "done", "completion_note": "", "version": b.version})
    assert resp.status_code == 400
    db.expire_all()
    assert b.status == WorkStatus.PLANNED and b.completed_at is None
    # Once the dependency is done, so may the dependent be; completion is stamped and cleared again on reopening.
    a = setup["a"]
    assert _post(client, _url(setup, a, "status"), {"status": "done", "version": a.version}).status_code == 302
    db.expire_all()
    assert _post(client, _url(setup, b, "status"), {"status": "done", "completion_note": "Klart i tid.",
                                                    "version": b.version}).status_code == 302
    db.expire_all()
    assert b.status == WorkStatus.DONE and b.completed_at is not None and b.completed_by_id is not None
    assert _post(client, _url(setup, b, "status"), {"status": "in_progress", "version": b.version}).status_code == 302
    db.expire_all()
    assert b.completed_at is None and b.completed_by_id is None


def test_moved_date_shows_what_it_pushes_and_the_page_shows_projected_dates(client, db, login_as, setup,
                                                                            processes):
    _leader(login_as, setup)
    a, b = setup["a"], setup["b"]
    c = processes.milestone(setup["process"], agency=setup["police"], title="Utvärdera", due=date(2026, 3, 12),
                            depends_on=[b])
    resp = _post(client, _url(setup, a), _edit_data(a, due_date="2026-03-20"))
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"])
    assert "Belys gångtunneln: 2026-03-10 → 2026-03-20" in page.text
    assert "Utvärdera: 2026-03-12 → 2026-03-20" in page.text  # transitively
    assert page.text.count("Beräknat: 2026-03-20") == 2
    db.expire_all()
    assert b.due_date == date(2026, 3, 10) and c.due_date == date(2026, 3, 12)  # own dates unchanged
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "milestone.update")
                      .order_by(AuditEvent.id.desc()))
    detail = json.loads(event.detail)
    assert detail["due_from"] == "2026-03-01" and detail["due_to"] == "2026-03-20"


def test_owning_agency_officer_updates_status_but_forged_fields_change_nothing(client, db, login_as, setup):
    login_as("partner", kind="police", agency=setup["police"])
    a = setup["a"]
    page = client.get(f"/processes/{setup['process'].id}")
    assert page.status_code == 200 and "Uppdatera status" in page.text
    assert "/edit" not in page.text  # no edit links for a partner
    resp = _post(client, _url(setup, a, "status"), {
        "status": "in_progress", "completion_note": "Påbörjat.", "version": a.version,
        "title": "Förfalskad", "due_date": "2030-01-01", "agency_id": setup["school"].id,
        "depends_on_ids": [setup["b"].id]})
    assert resp.status_code == 302
    db.expire_all()
    assert a.status == WorkStatus.IN_PROGRESS and a.completion_note == "Påbörjat."
    assert a.title == "Kartlägg platsen" and a.due_date == date(2026, 3, 1)
    assert a.agency_id == setup["police"].id and a.depends_on == []
    assert client.get(_url(setup, a)).status_code == 403
    assert _post(client, _url(setup, a), _edit_data(a, title="X"), page=_url(setup, a, "status")).status_code == 403
    db.expire_all()
    assert a.title == "Kartlägg platsen"


def test_officer_of_another_participating_agency_gets_403_on_status(client, db, login_as, setup):
    login_as("partner", kind="school", agency=setup["school"])
    a = setup["a"]
    page = client.get(f"/processes/{setup['process'].id}")
    assert page.status_code == 200 and "Uppdatera status" not in page.text
    assert client.get(_url(setup, a, "status")).status_code == 403
    token = csrf_from(page.text)
    resp = client.post(_url(setup, a, "status"), data={"status": "done", "version": a.version,
                                                       "csrf_token": token})
    assert resp.status_code == 403
    db.expire_all()
    assert a.status == WorkStatus.PLANNED


def test_stale_version_gets_409_and_nothing_is_saved(client, db, login_as, setup):
    _leader(login_as, setup)
    a = setup["a"]
    stale = a.version
    assert _post(client, _url(setup, a), _edit_data(a, title="Första ändringen")).status_code == 302
    resp = _post(client, _url(setup, a), _edit_data(a, title="Andra ändringen", version=stale))
    assert resp.status_code == 409 and "ändrats av någon annan" in resp.text
    resp = _post(client, _url(setup, a, "status"), {"status": "cancelled", "version": stale})
    assert resp.status_code == 409
    db.expire_all()
    assert a.title == "Första ändringen" and a.status == WorkStatus.PLANNED


@pytest.mark.parametrize("change,message", [
    ({"due_date": "31/02/2026"}, "ÅÅÅÅ-MM-DD"),
    ({"due_date": "99999-01-01"}, "ÅÅÅÅ-MM-DD"),
    ({"due_date": ""}, "Ange ett slutdatum"),
    ({"agency_id": "99999999"}, "Okänd myndighet"),
    ({"agency_id": "99999999999"}, "Okänd myndighet"),
    ({"agency_id": "abc"}, "Okänd myndighet"),
    ({"title": "x" * 201}, "Högst 200 tecken"),
    ({"title": "   "}, "Ange en rubrik"),
    ({"status": "late"}, "Välj ett alternativ"),
    ({"depends_on_ids": ["abc"]}, "finns inte"),
    ({"depends_on_ids": ["99999999"]}, "finns inte"),
])
def test_bad_input_gives_400_with_a_message_and_nothing_changes(client, db, login_as, setup, change, message):
    _leader(login_as, setup)
    before = _count(db)
    base = {"title": "Nytt delmål", "agency_id": setup["police"].id, "due_date": "2026-05-01", "status": "planned"}
    resp = _post(client, _url(setup), {**base, **change})
    assert resp.status_code == 400 and message in resp.text
    a = setup["a"]
    resp = _post(client, _url(setup, a), _edit_data(a, **change))
    assert resp.status_code == 400 and message in resp.text
    db.expire_all()
    assert _count(db) == before and a.title == "Kartlägg platsen" and a.due_date == date(2026, 3, 1)


def test_agency_not_participating_and_officer_of_another_agency_are_refused(client, db, login_as, setup, factory):
    _leader(login_as, setup)
    outsider = factory.agency(kind="housing")
    school_officer = factory.user(roles=("partner",), agency=setup["school"])
    before = _count(db)
    base = {"title": "Nytt delmål", "agency_id": setup["police"].id, "due_date": "2026-05-01", "status": "planned"}
    resp = _post(client, _url(setup), {**base, "agency_id": outsider.id})
    assert resp.status_code == 400 and "deltar inte i processen" in resp.text
    resp = _post(client, _url(setup), {**base, "responsible_id": school_officer.id})
    assert resp.status_code == 400 and "måste tillhöra den myndighet som äger delmålet" in resp.text
    a = setup["a"]
    resp = _post(client, _url(setup, a), _edit_data(a, responsible_id=school_officer.id))
    assert resp.status_code == 400
    db.expire_all()
    assert _count(db) == before and a.responsible_id is None
    police_officer = factory.user(roles=("partner",), agency=setup["police"])
    resp = _post(client, _url(setup), {**base, "responsible_id": police_officer.id})
    assert resp.status_code == 302


def test_delete_milestone_needs_confirmation_and_only_removes_the_dependency(client, db, login_as, setup):
    _leader(login_as, setup)
    a, b = setup["a"], setup["b"]
    page = client.get(_url(setup, a))
    assert "Belys gångtunneln" in page.text and "slutar de vänta" in page.text
    token = csrf_from(page.text)
    resp = client.post(_url(setup, a, "delete"), data={"csrf_token": token})
    assert resp.status_code == 302
    db.expire_all()
    assert db.get(Milestone, a.id) is not None
    resp = client.post(_url(setup, a, "delete"), data={"csrf_token": token, "confirmed": "y"})
    assert resp.status_code == 302
    db.expire_all()
    assert db.get(Milestone, a.id) is None and db.get(Milestone, b.id).depends_on == []
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "milestone.delete")) is not None


def test_milestone_of_another_process_is_404(client, db, login_as, setup, processes):
    _leader(login_as, setup)
    other = processes.process(agencies=[setup["police"]])
    foreign = processes.milestone(other, agency=setup["police"])
    assert client.get(_url(setup, foreign)).status_code == 404
    assert client.get(_url(setup, foreign, "status")).status_code == 404
    assert client.get(f"/processes/{setup['process'].id}/milestones/99999999999/edit").status_code == 404


def test_editing_every_field_at_once_is_saved_and_audited_without_text(client, db, login_as, setup, processes,
                                                                       factory):
    _leader(login_as, setup)
    a = setup["a"]
    first = processes.milestone(setup["process"], agency=setup["school"], title="Förstudie", due=date(2026, 2, 1))
    officer = factory.user(roles=("partner",), agency=setup["school"])
    resp = _post(client, _url(setup, a), _edit_data(
        a, title="Kartlägg hela platsen", agency_id=setup["school"].id, responsible_id=officer.id,
        due_date="2026-04-01", status="in_progress", depends_on_ids=[first.id], completion_note="Hemlig text"))
    assert resp.status_code == 302, resp.text[:500]
    db.expire_all()
    assert (a.title, a.agency_id, a.responsible_id, a.due_date, a.status) == (
        "Kartlägg hela platsen", setup["school"].id, officer.id, date(2026, 4, 1), WorkStatus.IN_PROGRESS)
    assert [d.id for d in a.depends_on] == [first.id]
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "milestone.update")
                      .order_by(AuditEvent.id.desc()))
    detail = json.loads(event.detail)
    assert detail["pushed"] == "1" and detail["status"] == "in_progress" and detail["status_from"] == "planned"
    assert "Hemlig" not in event.detail and "Kartlägg" not in event.detail
