"""A decision of a meeting becomes an action item in the same step: both are saved, or neither."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.processes.dates import local_today
from tests.conftest import csrf_from


@pytest.fixture()
def est(processes, factory):
    police, school = factory.agency(kind="police"), factory.agency(kind="school")
    meeting = processes.meeting(kind="est", iso_year=2026, iso_week=20, title="EST-möte vecka 20", attendees=[police],
                                decisions="Fortsätt med fältassistenterna.")
    other = processes.meeting(kind="est", iso_year=2026, iso_week=19, title="EST-möte vecka 19")
    return {"police": police, "school": school, "meeting": meeting, "other": other}


def url(meeting):
    return f"/meetings/{meeting.id}/decisions/new"


def form_page(client, meeting):
    page = client.get(url(meeting))
    assert page.status_code == 200, page.status_code
    return page


def valid(page, meeting, agency, **changes):
    data = {"csrf_token": csrf_from(page.text), "version": str(meeting.version),
            "decision": "Extra kvällspatrull vid torget i fyra veckor.", "make_action": "y",
            "title": "Planera kvällspatrullen", "agency_id": str(agency.id),
            "due_date": (local_today() + timedelta(days=10)).isoformat()}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture()
def state(app):
    """(version, decisions, number of action items) of a meeting, read afresh."""
    from app.processes.models import ActionItem, Meeting

    def read(db, meeting):
        db.expire_all()
        with app.app_context():
            row = db.get(Meeting, meeting.id)
            return row.version, row.decisions, db.scalar(select(func.count(ActionItem.id)))

    return read


def audit_details(db, action):
    from app.audit.models import AuditEvent

    return [e.detail or "" for e in db.scalars(select(AuditEvent).where(AuditEvent.action == action))]


def test_a_decision_and_its_action_item_are_saved_together_and_linked(client, db, login_as, est, state):
    from app.processes.models import ActionItem

    meeting = est["meeting"]
    login_as("process_leader", kind="other")
    page = form_page(client, meeting)
    assert 'name="make_action"' in page.text and "checked" in page.text  # ticked by default
    resp = client.post(url(meeting), data=valid(page, meeting, est["police"]))
    assert resp.status_code == 302, resp.text[:2000]
    version, decisions, count = state(db, meeting)
    assert decisions.splitlines() == ["Fortsätt med fältassistenterna.",
                                      "Extra kvällspatrull vid torget i fyra veckor."]
    item = db.scalar(select(ActionItem).where(ActionItem.meeting_id == meeting.id))
    assert item.title == "Planera kvällspatrullen" and item.agency_id == est["police"].id
    assert item.decision_no == 2 and item.status.value == "planned"
    assert resp.headers["Location"].endswith(f"#action-{item.id}")
    # The meeting page shows the decision with its item, and the item with its decision.
    detail = client.get(f"/meetings/{meeting.id}").text
    assert 'id="decision-2"' in detail and f'href="#action-{item.id}"' in detail
    assert "Från beslut 2" in detail
    # The audit trail has numbers and ids, never the decision's text.
    created = audit_details(db, "action_item.create")
    assert len(created) == 1 and '"decision":"2"' in created[0]
    assert all("torget" not in d for d in created + audit_details(db, "meeting.update"))
    # The owning agency's status page shows the decision's number only (it may not see the minutes).
    login_as("partner", agency=est["police"])
    status_page = client.get(f"/meetings/actions/{item.id}/status").text
    assert "Beslut 2 i mötet" in status_page and "torget i fyra veckor" not in status_page


def test_a_decision_without_an_action_item(client, db, login_as, est, state):
    meeting = est["meeting"]
    login_as("process_leader", kind="other")
    page = form_page(client, meeting)
    resp = client.post(url(meeting), data=valid(page, meeting, est["police"], make_action=None, title="",
                                                agency_id="", due_date=""))
    assert resp.status_code == 302 and resp.headers["Location"].endswith("#decision-2")
    _version, decisions, count = state(db, meeting)
    assert decisions.endswith("Extra kvällspatrull vid torget i fyra veckor.") and count == 0


@pytest.mark.parametrize("changes,message", [
    ({"agency_id": ""}, "Välj den myndighet som ansvarar för åtgärden."),
    ({"due_date": ""}, "Ange när åtgärden ska vara klar"),
    ({"due_date": "31/02/2026"}, "Ange ett datum som ÅÅÅÅ-MM-DD."),
    ({"title": ""}, "Ange vad som ska göras."),
    ({"decision": "  "}, "Skriv beslutet."),
    ({"agency_id": "999999"}, "Välj ett alternativ i listan."),
    ({"agency_id": "abc"}, "Välj ett alternativ i listan."),
    ({"responsible_id": "999999"}, "Välj ett alternativ i listan."),
    ({"version": "0"}, "ändrats av någon annan"),
    ({"version": "x"}, "Formuläret saknar uppgift om vilken version"),
])
def test_bad_input_saves_nothing_and_keeps_what_was_typed(client, db, login_as, est, changes, message, state):
    meeting = est["meeting"]
    login_as("process_leader", kind="other")
    before = state(db, meeting)
    page = form_page(client, meeting)
    resp = client.post(url(meeting), data=valid(page, meeting, est["police"], **changes))
    assert resp.status_code in (400, 409), resp.status_code
    assert message in resp.text
    assert 'class="alert alert-error error-summary"' in resp.text  # at the top of the form
    if changes.get("title", None) != "":
        assert "Planera kvällspatrullen" in resp.text
    if "decision" not in changes:
        assert "Extra kvällspatrull vid torget" in resp.text
    assert state(db, meeting) == before


def test_an_inactive_agency_is_refused(client, db, login_as, est, factory, state):
    meeting = est["meeting"]
    gone = factory.agency(kind="police", active=False)
    login_as("process_leader", kind="other")
    before = state(db, meeting)
    page = form_page(client, meeting)
    assert f'value="{gone.id}"' not in page.text
    resp = client.post(url(meeting), data=valid(page, meeting, gone))
    assert resp.status_code == 400 and state(db, meeting) == before


def test_the_service_refuses_an_inactive_agency_or_another_agencys_person_before_changing_anything(app, db, est,
                                                                                                   factory, state):
    from app.processes.action_items import record_decision
    from app.processes.meeting_common import MeetingError

    meeting = est["meeting"]
    gone = factory.agency(kind="police", active=False)
    teacher = factory.user(roles=("partner",), agency=est["school"])
    before = state(db, meeting)
    with app.test_request_context():
        for kwargs in ({"agency_id": gone.id}, {"agency_id": est["police"].id, "responsible_id": teacher.id},
                       {"agency_id": est["police"].id, "due_date": "2026-05-20"}):
            with pytest.raises(MeetingError):
                record_decision(meeting, None, expected_version=meeting.version, decision="Beslut",
                                make_action=True, title="Åtgärd", **{"due_date": local_today(), **kwargs})
    assert state(db, meeting) == before


def test_another_meetings_version_is_a_conflict_and_an_unknown_meeting_404(client, db, login_as, est, state):
    """The form of one meeting posted to another meeting's id: its version is that other meeting's."""
    meeting, other = est["meeting"], est["other"]
    meeting.decisions = "Ett\nTvå\nTre"
    db.flush()
    login_as("process_leader", kind="other")
    page = form_page(client, meeting)
    assert meeting.version != other.version
    before = state(db, other)
    resp = client.post(url(other), data=valid(page, meeting, est["police"]))
    assert resp.status_code == 409 and state(db, other) == before
    resp = client.post("/meetings/00000000-0000-0000-0000-000000000000/decisions/new",
                       data=valid(page, meeting, est["police"]))
    assert resp.status_code == 404


@pytest.mark.parametrize("role", ["partner", "analyst", "coordinator", "reporter", "admin", "auditor"])
def test_only_the_process_leader_records_decisions(client, db, login_as, est, role, state):
    meeting = est["meeting"]
    login_as(role, agency=est["police"])
    before = state(db, meeting)
    assert client.get(url(meeting)).status_code == 403
    token = csrf_from(client.get("/").text) if client.get("/").status_code == 200 else ""
    resp = client.post(url(meeting), data={"csrf_token": token, "version": str(meeting.version),
                                           "decision": "X", "make_action": "y", "title": "X",
                                           "agency_id": str(est["police"].id), "due_date": "2026-06-01"})
    assert resp.status_code == 403 and state(db, meeting) == before


def test_without_csrf_nothing_is_saved(client, db, login_as, est, state):
    meeting = est["meeting"]
    login_as("process_leader", kind="other")
    before = state(db, meeting)
    page = form_page(client, meeting)
    resp = client.post(url(meeting), data=valid(page, meeting, est["police"], csrf_token="forged"))
    assert resp.status_code == 400 and state(db, meeting) == before


def test_editing_the_decisions_keeps_each_item_on_its_decision(app, db, est, processes):
    from app.processes.meetings import update_meeting

    meeting = est["meeting"]
    meeting.decisions = "Ett\nTvå\nTre"
    db.flush()
    two = processes.action_item(meeting, agency=est["police"], title="Två")
    three = processes.action_item(meeting, agency=est["police"], title="Tre")
    two.decision_no, three.decision_no = 2, 3
    db.flush()
    with app.test_request_context():
        update_meeting(meeting, None, expected_version=meeting.version, title=meeting.title,
                       held_on=meeting.held_on, attendee_ids=[a.id for a in meeting.attendees],
                       minutes=meeting.minutes, decisions="Noll\nTre\nTvå (omformulerat)")
    assert three.decision_no == 2 and two.decision_no is None
