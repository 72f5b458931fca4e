"""Process meetings: create, edit, delete, the audited read of the minutes, locking and visibility."""

from __future__ import annotations

import re
import uuid
from datetime import date

import pytest
from sqlalchemy import select, text

from tests.conftest import csrf_from

MINUTES = "Protokoll: Kalle Fiktivsson nämndes av misstag."


def events(db, action, object_id=None):
    from app.audit.models import AuditEvent

    stmt = select(AuditEvent).where(AuditEvent.action == action)
    if object_id is not None:
        stmt = stmt.where(AuditEvent.object_id == str(object_id))
    return db.scalars(stmt).all()


@pytest.fixture()
def setting(processes, factory):
    police, school, other = factory.agency(kind="police"), factory.agency(kind="school"), factory.agency(kind="ngo")
    process = processes.process(agencies=[police], name="Trygg centrumprocess")
    meeting = processes.meeting(process, attendees=[school], minutes=MINUTES,
                                decisions="Mer belysning\nFler vandringar", title="Styrgrupp november")
    return {"police": police, "school": school, "other": other, "process": process, "meeting": meeting}


def test_leader_creates_a_meeting_with_default_attendees_and_audit_without_text(client, db, login_as, setting):
    from app.processes.models import Meeting

    login_as("process_leader", kind="other")
    process = setting["process"]
    page = client.get(f"/meetings/new?process_id={process.id}")
    assert page.status_code == 200
    # The process's agencies are ticked by default.
    checked = set(re.findall(r'<input checked id="attendees-\d+" name="attendees" type="checkbox" value="(\d+)"',
                             page.text))
    assert checked == {str(setting["police"].id), str(process.owner_agency_id)}
    resp = client.post(f"/meetings/new?process_id={process.id}", data={
        "csrf_token": csrf_from(page.text), "title": "Uppstart", "held_on": "2026-11-20",
        "attendees": [str(setting["police"].id), str(setting["school"].id)],
        "minutes": "Hemlig text om Lisa Påhittad.", "decisions": "Beslut ett\nBeslut två"})
    assert resp.status_code == 302
    meeting = db.scalars(select(Meeting).where(Meeting.title == "Uppstart")).one()
    assert {a.id for a in meeting.attendees} == {setting["police"].id, setting["school"].id}
    assert meeting.held_on == date(2026, 11, 20) and meeting.process_id == process.id
    created = events(db, "meeting.create", meeting.id)
    assert len(created) == 1
    assert "Lisa" not in (created[0].detail or "") and "Beslut" not in (created[0].detail or "")


def test_detail_writes_exactly_one_read_event_and_the_audit_holds_no_minutes(client, db, login_as, setting):
    login_as("process_leader", kind="other")
    meeting = setting["meeting"]
    before = len(events(db, "meeting.read", meeting.id))
    resp = client.get(f"/meetings/{meeting.id}")
    assert resp.status_code == 200
    assert "Kalle Fiktivsson" in resp.text and "Fler vandringar" in resp.text
    assert len(events(db, "meeting.read", meeting.id)) == before + 1
    dump = " ".join(str(v) for row in db.execute(text("SELECT * FROM audit_event")) for v in row)
    assert "Kalle" not in dump and "vandringar" not in dump


def test_detail_shows_nothing_when_the_read_event_cannot_be_written(client, db, login_as, setting, monkeypatch):
    from app.security import audit

    login_as("process_leader", kind="other")

    def broken(*args, **kwargs):
        raise audit.AuditError("down")

    # Every event goes through _append (record() and audited_read(), which renders first and appends after).
    monkeypatch.setattr(audit, "_append", broken)
    resp = client.get(f"/meetings/{setting['meeting'].id}")
    assert resp.status_code == 500
    assert "Kalle" not in resp.text


def test_minutes_and_decisions_are_encrypted_at_rest(db, setting):
    row = db.execute(text("SELECT minutes_ct, decisions_ct FROM meeting WHERE id = :id"),
                     {"id": setting["meeting"].id.hex if db.bind.dialect.name == "sqlite" else setting["meeting"].id}
                     ).one()
    assert all(b"Kalle" not in bytes(v) and b"belysning" not in bytes(v) for v in row)


def _edit(client, meeting, **changes):
    page = client.get(f"/meetings/{meeting.id}/edit")
    assert page.status_code == 200
    data = {"csrf_token": csrf_from(page.text), "title": meeting.title, "held_on": meeting.held_on.isoformat(),
            "attendees": [str(a.id) for a in meeting.attendees], "minutes": "Nytt protokoll.",
            "decisions": "", "version": str(meeting.version)}
    data.update(changes)
    return client.post(f"/meetings/{meeting.id}/edit", data=data)


def test_edit_saves_and_audits_field_names_only(client, db, app, login_as, setting):
    login_as("process_leader", kind="other")
    meeting = setting["meeting"]
    resp = _edit(client, meeting, title="Styrgrupp december")
    assert resp.status_code == 302
    db.refresh(meeting)
    with app.app_context():
        assert meeting.title == "Styrgrupp december" and meeting.minutes == "Nytt protokoll."
    updated = events(db, "meeting.update", meeting.id)
    assert len(updated) == 1 and "minutes" in updated[0].detail and "Nytt" not in updated[0].detail
    # Opening the edit form showed the minutes: that is an audited read too.
    assert len(events(db, "meeting.read", meeting.id)) == 1


def test_stale_version_is_refused_with_409_and_nothing_saved(client, db, app, login_as, setting):
    login_as("process_leader", kind="other")
    meeting = setting["meeting"]
    resp = _edit(client, meeting, title="Min ändring", version=str(meeting.version - 1 if meeting.version > 1 else 99))
    assert resp.status_code == 409
    assert "ändrats av någon annan" in resp.text
    assert "Min ändring" in resp.text  # what was typed is kept
    db.refresh(meeting)
    with app.app_context():
        assert meeting.title == "Styrgrupp november" and meeting.minutes == MINUTES


@pytest.mark.parametrize("changes, message", [
    ({"title": ""}, "Ange en rubrik."),
    ({"held_on": "2026-13-45"}, "ÅÅÅÅ-MM-DD"),
    ({"attendees": ["nonsense"]}, "Välj ett alternativ"),
    ({"title": "x" * 201}, "Högst 200 tecken"),
])
def test_bad_input_gives_400_and_keeps_what_was_typed(client, db, app, login_as, setting, changes, message):
    login_as("process_leader", kind="other")
    meeting = setting["meeting"]
    resp = _edit(client, meeting, minutes="Skrivet men inte sparat", **changes)
    assert resp.status_code == 400
    assert message in resp.text and "Skrivet men inte sparat" in resp.text
    db.refresh(meeting)
    with app.app_context():
        assert meeting.minutes == MINUTES


def test_new_meeting_with_unknown_process_is_404_and_bad_form_400(client, login_as, setting):
    login_as("process_leader", kind="other")
    assert client.get("/meetings/new?process_id=999999").status_code == 404
    assert client.get("/meetings/new?process_id=abc").status_code == 404
    without = client.get("/meetings/new")
    assert without.status_code == 302 and without.headers["Location"].endswith("/processes/")
    page = client.get(f"/meetings/new?process_id={setting['process'].id}")
    resp = client.post(f"/meetings/new?process_id={setting['process'].id}",
                       data={"csrf_token": csrf_from(page.text), "title": "Kvar", "held_on": "igår"})
    assert resp.status_code == 400 and 'value="Kvar"' in resp.text


def test_delete_needs_confirmation_and_shreds_the_key(client, db, login_as, setting):
    from app.processes.models import ActionItem, Meeting

    login_as("process_leader", kind="other")
    meeting = setting["meeting"]
    item_id = _add_item(db, meeting, setting["school"])
    key = meeting.data_key
    page = client.get(f"/meetings/{meeting.id}/delete")
    assert page.status_code == 200
    refused = client.post(f"/meetings/{meeting.id}/delete", data={"csrf_token": csrf_from(page.text)})
    assert refused.status_code == 400 and db.get(Meeting, meeting.id) is not None
    resp = client.post(f"/meetings/{meeting.id}/delete", data={"csrf_token": csrf_from(page.text), "confirmed": "y"})
    assert resp.status_code == 302
    db.expire_all()
    assert db.get(Meeting, meeting.id) is None and db.get(ActionItem, item_id) is None
    assert key.destroyed_at is not None and key.wrapped_key is None
    assert len(events(db, "meeting.delete", meeting.id)) == 1


def _add_item(db, meeting, agency):
    from app.processes.models import ActionItem, WorkStatus

    item = ActionItem(meeting=meeting, title="Åtgärd", agency_id=agency.id, due_date=date(2026, 12, 1),
                      status=WorkStatus.PLANNED)
    db.add(item)
    db.flush()
    return item.id


def test_attendee_agency_sees_the_meeting_and_others_do_not(client, db, login_as, setting, processes):
    meeting = setting["meeting"]
    hidden = processes.meeting(processes.process(agencies=[setting["other"]]), title="Annan process möte")
    login_as("partner", agency=setting["school"])
    listing = client.get("/meetings/")
    assert listing.status_code == 200
    assert "Styrgrupp november" in listing.text and "Annan process möte" not in listing.text
    assert client.get(f"/meetings/{meeting.id}").status_code == 200
    assert client.get(f"/meetings/{hidden.id}").status_code == 403
    # Not a process leader: no managing.
    assert client.get(f"/meetings/{meeting.id}/edit").status_code == 403


def test_process_agency_sees_and_outsider_gets_403(client, db, login_as, setting):
    meeting = setting["meeting"]
    login_as("coordinator", agency=setting["other"])
    assert client.get(f"/meetings/{meeting.id}").status_code == 403
    assert "Styrgrupp november" not in client.get("/meetings/").text
    assert client.get(f"/meetings/?process_id={setting['process'].id}").status_code == 403
    assert len(events(db, "meeting.read", meeting.id)) == 0


@pytest.mark.parametrize("role", ["reporter", "admin", "auditor"])
def test_roles_without_meeting_access_get_403_everywhere(client, login_as, setting, role):
    meeting = setting["meeting"]
    login_as(role, agency=setting["school"])
    for url in ["/meetings/", f"/meetings/{meeting.id}", f"/meetings/{meeting.id}/edit",
                f"/meetings/{meeting.id}/delete", f"/meetings/new?process_id={setting['process'].id}",
                "/meetings/est", "/meetings/est/2026/20", f"/meetings/{meeting.id}/actions/new"]:
        assert client.get(url).status_code == 403, url


def test_list_filters_searches_sorts_and_pages(client, db, login_as, setting, processes, app):
    process = setting["process"]
    for n in range(3):
        processes.meeting(process, title=f"Arbetsmöte {n}", held_on=date(2026, 1, 10 + n))
    processes.meeting(kind="est", iso_year=2026, iso_week=3, title="EST-möte vecka 3")
    login_as("process_leader", kind="other")
    by_title = client.get("/meetings/?q=arbetsm&sort=title")
    assert by_title.status_code == 200
    body = by_title.text
    assert body.index("Arbetsmöte 0") < body.index("Arbetsmöte 2") and "Styrgrupp november" not in body
    est_only = client.get("/meetings/?kind=est").text
    assert "EST-möte vecka 3" in est_only and "Arbetsmöte" not in est_only
    of_process = client.get(f"/meetings/?process_id={process.id}").text
    assert "Arbetsmöte 1" in of_process and "EST-möte vecka 3" not in of_process
    assert client.get("/meetings/?kind=bogus").status_code == 400
    assert client.get("/meetings/?q=%25").status_code == 200
    app.config["LOTS_PAGE_SIZE"] = 2
    try:
        first = client.get("/meetings/?sort=-date").text
        second = client.get("/meetings/?sort=-date&page=2").text
    finally:
        app.config["LOTS_PAGE_SIZE"] = 25
    assert "Sida 1 av 3" in first and "Sida 2 av 3" in second


def test_unknown_meeting_is_404(client, login_as):
    login_as("process_leader", kind="other")
    assert client.get(f"/meetings/{uuid.uuid4()}").status_code == 404
    assert client.get("/meetings/not-a-uuid").status_code == 404
