"""Action items: the process leader writes them, the owning agency's officers update status and note."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.processes.dates import local_today
from tests.conftest import csrf_from


def events(db, action, object_id):
    from app.audit.models import AuditEvent

    return db.scalars(select(AuditEvent).where(AuditEvent.action == action,
                                               AuditEvent.object_id == str(object_id))).all()


@pytest.fixture()
def setting(processes, factory):
    police, school = factory.agency(kind="police"), factory.agency(kind="school")
    process = processes.process(agencies=[police, school])
    meeting = processes.meeting(process, title="Arbetsgrupp", minutes="Hemligt protokoll.")
    item = processes.action_item(meeting, agency=police, title="Laga belysningen i tunneln",
                                 due=local_today() + timedelta(days=3))
    return {"police": police, "school": school, "process": process, "meeting": meeting, "item": item}


def status_url(item):
    return f"/meetings/actions/{item.id}/status"


def post_status(client, item, **data):
    page = client.get(status_url(item))
    assert page.status_code == 200
    return client.post(status_url(item), data={"csrf_token": csrf_from(page.text), "version": str(item.version),
                                                **data})


def test_owning_agency_officer_completes_the_item(client, db, login_as, setting):
    item = setting["item"]
    officer = login_as("partner", agency=setting["police"])
    resp = post_status(client, item, status="done", completion_note="Lampan bytt.")
    assert resp.status_code == 302
    db.refresh(item)
    assert item.status.value == "done" and item.completion_note == "Lampan bytt."
    assert item.completed_by_id == officer.id and item.completed_at is not None
    updated = events(db, "action_item.update", item.id)
    assert len(updated) == 1 and "Lampan" not in (updated[0].detail or "")
    # Reopening clears the completion.
    db.refresh(item)
    resp = post_status(client, item, status="in_progress", completion_note="")
    assert resp.status_code == 302
    db.refresh(item)
    assert item.completed_at is None and item.completed_by_id is None and item.completion_note is None


def test_other_agency_gets_403(client, db, login_as, setting):
    item = setting["item"]
    login_as("partner", agency=setting["school"])  # takes part in the process, but does not own the item
    assert client.get(status_url(item)).status_code == 403
    token = csrf_from(client.get(f"/meetings/{setting['meeting'].id}").text)
    assert client.post(status_url(item), data={"csrf_token": token, "status": "done",
                                               "version": str(item.version)}).status_code == 403
    db.refresh(item)
    assert item.status.value == "planned"
    # The meeting page offers no update link for it.
    assert status_url(item) not in client.get(f"/meetings/{setting['meeting'].id}").text


def test_forged_fields_are_ignored(client, db, login_as, setting):
    item = setting["item"]
    due, agency_id = item.due_date, item.agency_id
    login_as("partner", agency=setting["police"])
    resp = post_status(client, item, status="in_progress", title="Förfalskad", agency_id=str(setting["school"].id),
                       due_date="2030-01-01", responsible_id="1", meeting_id="x")
    assert resp.status_code == 302
    db.refresh(item)
    assert item.status.value == "in_progress"
    assert (item.title, item.agency_id, item.due_date, item.responsible_id) == (
        "Laga belysningen i tunneln", agency_id, due, None)


def test_stale_status_update_is_409_and_nothing_saved(client, db, login_as, setting):
    item = setting["item"]
    login_as("partner", agency=setting["police"])
    page = client.get(status_url(item))
    item.status = item.status.__class__("in_progress")  # someone else saves meanwhile
    db.flush()
    resp = client.post(status_url(item), data={"csrf_token": csrf_from(page.text), "version": str(item.version - 1),
                                               "status": "done", "completion_note": "Min kommentar"})
    assert resp.status_code == 409 and "ändrats av någon annan" in resp.text and "Min kommentar" in resp.text
    db.refresh(item)
    assert item.status.value == "in_progress" and item.completion_note is None


def test_bad_status_is_400(client, db, login_as, setting):
    login_as("partner", agency=setting["police"])
    resp = post_status(client, setting["item"], status="finished", completion_note="Kvar")
    assert resp.status_code == 400 and "Kvar" in resp.text
    resp = post_status(client, setting["item"], status="done", completion_note="x" * 5001)
    assert resp.status_code == 400


def test_owner_outside_the_meeting_updates_but_does_not_see_the_minutes(client, db, login_as, setting, processes,
                                                                       factory):
    housing = factory.agency(kind="housing")
    item = processes.action_item(setting["meeting"], agency=housing, title="Hyresvärden röjer buskar")
    login_as("partner", agency=housing)
    page = client.get(status_url(item))
    assert page.status_code == 200 and "Hemligt protokoll" not in page.text
    assert client.get(f"/meetings/{setting['meeting'].id}").status_code == 403
    resp = post_status(client, item, status="done")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(status_url(item))


def test_late_is_derived_and_shown(client, login_as, setting, processes):
    from app.processes.action_items import action_rows

    meeting = setting["meeting"]
    yesterday = local_today() - timedelta(days=1)
    late = processes.action_item(meeting, agency=setting["police"], title="Sen punkt", due=yesterday)
    processes.action_item(meeting, agency=setting["police"], title="Klar punkt", due=yesterday, status="done")
    processes.action_item(meeting, agency=setting["police"], title="Idag", due=local_today())
    rows = {row.item.title: row.late for row in action_rows(meeting)}
    assert rows == {"Sen punkt": True, "Klar punkt": False, "Idag": False, "Laga belysningen i tunneln": False}
    # The due day itself is not late; the day after is.
    assert [r.late for r in action_rows(meeting, today=yesterday + timedelta(days=1)) if r.item.id == late.id] == [True]
    assert [r.late for r in action_rows(meeting, today=yesterday) if r.item.id == late.id] == [False]
    login_as("process_leader", kind="other")
    page = client.get(f"/meetings/{meeting.id}").text
    row = page.split(f'id="action-{late.id}"', 1)[1].split("</tr>", 1)[0]
    assert "Försenad" in row


def _new_item(client, meeting, **data):
    page = client.get(f"/meetings/{meeting.id}/actions/new")
    assert page.status_code == 200
    values = {"csrf_token": csrf_from(page.text), "title": "Ny punkt", "due_date": "2026-12-24", "status": "planned",
              "responsible_id": ""}
    values.update(data)
    return client.post(f"/meetings/{meeting.id}/actions/new", data=values)


def test_leader_creates_and_edits_items_with_responsible_of_the_owning_agency(client, db, login_as, setting,
                                                                             factory):
    from app.processes.models import ActionItem

    meeting, police, school = setting["meeting"], setting["police"], setting["school"]
    officer = factory.user(roles=("partner",), agency=police)
    stranger = factory.user(roles=("partner",), agency=school)
    login_as("process_leader", kind="other")
    wrong = _new_item(client, meeting, agency_id=str(police.id), responsible_id=str(stranger.id))
    assert wrong.status_code == 400 and "tillhör inte den valda myndigheten" in wrong.text
    assert 'value="Ny punkt"' in wrong.text
    missing = _new_item(client, meeting, agency_id="", title="")
    assert missing.status_code == 400
    ok = _new_item(client, meeting, agency_id=str(police.id), responsible_id=str(officer.id))
    assert ok.status_code == 302
    item = db.scalars(select(ActionItem).where(ActionItem.title == "Ny punkt")).one()
    assert item.responsible_id == officer.id and item.due_date == date(2026, 12, 24)
    assert len(events(db, "action_item.create", item.id)) == 1

    page = client.get(f"/meetings/actions/{item.id}/edit")
    assert page.status_code == 200
    data = {"csrf_token": csrf_from(page.text), "title": "Ändrad punkt", "agency_id": str(school.id),
            "responsible_id": "", "due_date": "2026-12-31", "status": "in_progress", "version": str(item.version)}
    stale = client.post(f"/meetings/actions/{item.id}/edit", data={**data, "version": str(item.version + 5)})
    assert stale.status_code == 409
    db.refresh(item)
    assert item.title == "Ny punkt"
    assert client.post(f"/meetings/actions/{item.id}/edit", data=data).status_code == 302
    db.refresh(item)
    assert (item.title, item.agency_id, item.due_date, item.status.value) == (
        "Ändrad punkt", school.id, date(2026, 12, 31), "in_progress")


def test_only_the_leader_manages_items_and_unknown_ids_are_404(client, login_as, setting):
    item = setting["item"]
    login_as("partner", agency=setting["police"])
    assert client.get(f"/meetings/actions/{item.id}/edit").status_code == 403
    assert client.get(f"/meetings/{setting['meeting'].id}/actions/new").status_code == 403
    assert client.get("/meetings/actions/999999/status").status_code == 404
    assert client.get(f"/meetings/actions/{2**40}/status").status_code == 404
