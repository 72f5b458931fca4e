"""The weekly EST meeting: the agenda from the week's overview, opening once, the focus areas on the overview."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_from, login


def client_for(app, factory, role, **kwargs):
    """A separate browser signed in as a new user (a test client holds one session)."""
    browser = app.test_client()
    assert login(browser, factory.user(roles=(role,), **kwargs)).status_code == 302
    return browser

MONDAY = datetime(2026, 5, 11, 10, tzinfo=timezone.utc)  # 2026-W20
EST = "/meetings/est/2026/20"


@pytest.fixture()
def week(incidents, processes, factory, app):
    """2026-W20 with one hotspot (5 reports where there were none) and the analysts' analysis."""
    from app.overview.publishing import save_note

    incidents.history(MONDAY)
    hot, calm = incidents.area(name="Brännpunktsområdet"), incidents.area(name="Lugna området")
    graffiti = incidents.category(name_sv="Klotter", name_en="Graffiti")
    for _ in range(5):
        incidents.report(area=hot, category=graffiti, occurred_at=MONDAY)
    incidents.report(area=calm, category=graffiti, occurred_at=MONDAY)
    with app.app_context():
        save_note(2026, 20, analysis="Analys: klottret ökar vid torget.", focus=None, by=None)
    police, school = factory.agency(kind="police"), factory.agency(kind="school")
    est_process = processes.process(agencies=[police], type="est_area", status="active")
    processes.process(agencies=[school], type="sspf", status="active")
    return {"hot": hot, "graffiti": graffiti, "police": police, "school": school, "est_process": est_process}


def open_week(client, url=EST):
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    return client.post(url + "/open", data={"csrf_token": csrf_from(page.text)})


def test_agenda_is_built_from_the_weeks_hotspots_analysis_and_open_action_items(client, db, login_as, week,
                                                                               processes):
    from app.processes.models import Meeting, MeetingKind

    previous = processes.meeting(kind="est", iso_year=2026, iso_week=19, title="EST-möte vecka 19")
    processes.action_item(previous, agency=week["police"], title="Laga belysningen", due=date(2026, 5, 15))
    processes.action_item(previous, agency=week["school"], title="Redan klar", status="done")
    login_as("process_leader", kind="other")

    proposal = client.get(EST)
    assert proposal.status_code == 200
    assert "Brännpunktsområdet" in proposal.text and "klottret ökar" in proposal.text
    assert "Laga belysningen" in proposal.text and "Öppna EST-mötet" in proposal.text

    resp = open_week(client)
    assert resp.status_code == 302
    meeting = db.scalars(select(Meeting).where(Meeting.kind == MeetingKind.EST, Meeting.iso_week == 20)).one()
    assert resp.headers["Location"].endswith(f"/meetings/{meeting.id}")
    agenda = json.loads(meeting.agenda)
    assert [(h["area"], h["category_sv"], h["count"], h["expected"]) for h in agenda["hotspots"]] == [
        ("Brännpunktsområdet", "Klotter", 5, 0.5)]
    assert 0 < agenda["hotspots"][0]["p_value"] < 0.01
    assert agenda["analysis"] == "Analys: klottret ökar vid torget."
    assert [(i["title"], i["due"]) for i in agenda["open_items"]] == [("Laga belysningen", "2026-05-15")]
    assert meeting.title == "EST-möte vecka 20" and meeting.held_on == date(2026, 5, 11)
    # Attendees: the agencies of the active EST area processes, not of other processes.
    assert {a.id for a in meeting.attendees} == week["est_process"].participant_agency_ids
    assert week["school"].id not in {a.id for a in meeting.attendees}

    # The stored agenda is frozen: a later analysis does not change the meeting's agenda.
    detail = client.get(f"/meetings/{meeting.id}")
    assert "Brännpunktsområdet" in detail.text and "Laga belysningen" in detail.text


def test_opening_twice_gives_one_meeting(client, db, login_as, week):
    from app.processes.models import Meeting, MeetingKind

    login_as("process_leader", kind="other")
    page = client.get(EST)
    token = csrf_from(page.text)
    first = client.post(EST + "/open", data={"csrf_token": token})
    second = client.post(EST + "/open", data={"csrf_token": token})
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert db.scalar(select(func.count()).select_from(Meeting).where(Meeting.kind == MeetingKind.EST)) == 1
    # Once open, the week's EST page leads to the meeting.
    assert client.get(EST).headers["Location"] == first.headers["Location"]


def test_a_concurrent_open_hits_the_unique_constraint_and_returns_the_existing_meeting(app, db, week, processes,
                                                                                     monkeypatch):
    from app.processes import est as service

    other = processes.meeting(kind="est", iso_year=2026, iso_week=20, title="EST-möte vecka 20")
    calls = []
    real = service.est_meeting

    def not_yet_then_real(year, week_no):
        calls.append(1)
        return None if len(calls) == 1 else real(year, week_no)

    monkeypatch.setattr(service, "est_meeting", not_yet_then_real)
    with app.test_request_context():
        meeting, created = service.open_est_meeting(2026, 20, None)
    assert meeting.id == other.id and created is False


def test_focus_from_the_est_meeting_keeps_the_analysis_and_is_frozen_when_published(client, db, app, login_as,
                                                                                  week, factory):
    from app.overview.models import WeekNote
    from app.overview.publishing import publish_week, snapshot_of
    from app.processes.models import Meeting

    login_as("process_leader", kind="other")
    open_week(client)
    meeting = db.scalars(select(Meeting).where(Meeting.iso_week == 20)).one()
    page = client.get(f"/meetings/{meeting.id}/edit")
    assert "Fokusområden" in page.text
    resp = client.post(f"/meetings/{meeting.id}/edit", data={
        "csrf_token": csrf_from(page.text), "title": meeting.title, "held_on": "2026-05-11",
        "attendees": [str(a.id) for a in meeting.attendees], "minutes": "Genomgång av veckan.",
        "decisions": "Extra patrullering vid torget", "focus": "Torget och stationen", "version": str(meeting.version)})
    assert resp.status_code == 302

    note = db.scalars(select(WeekNote).where(WeekNote.iso_year == 2026, WeekNote.iso_week == 20)).one()
    assert note.focus == "Torget och stationen"
    assert note.analysis == "Analys: klottret ökar vid torget."
    assert "Torget och stationen" in client.get(f"/meetings/{meeting.id}").text
    # The live overview shows it ...
    assert "Torget och stationen" in client.get("/overview/2026/20").text
    # ... and publishing the week freezes it into the version.
    with app.test_request_context():
        version = publish_week(2026, 20, by=None)
    assert snapshot_of(version)["note"] == {"analysis": "Analys: klottret ökar vid torget.",
                                           "focus": "Torget och stationen"}
    partner = client_for(app, factory, "partner", kind="police")
    published = partner.get("/overview/2026/20")
    assert published.status_code == 200 and "Torget och stationen" in published.text


def test_analyst_sees_every_est_meeting_and_an_outsider_partner_does_not(client, db, app, login_as, week,
                                                                        processes, factory):
    meeting = processes.meeting(kind="est", iso_year=2026, iso_week=20, title="EST-möte vecka 20",
                                attendees=[week["police"]], minutes="Protokoll EST.")
    outsider = factory.agency(kind="housing")
    login_as("analyst", agency=outsider)
    assert client.get(f"/meetings/{meeting.id}").status_code == 200
    assert "EST-möte vecka 20" in client.get("/meetings/?kind=est").text
    assert client.get(EST).headers["Location"].endswith(f"/meetings/{meeting.id}")
    token = csrf_from(client.get("/meetings/").text)
    assert client.post(EST + "/open", data={"csrf_token": token}).status_code == 403

    partner = client_for(app, factory, "partner", agency=outsider)
    assert partner.get(f"/meetings/{meeting.id}").status_code == 403
    assert partner.get(EST).status_code == 403
    assert "EST-möte vecka 20" not in partner.get("/meetings/").text

    attendee = client_for(app, factory, "partner", agency=week["police"])
    assert attendee.get(f"/meetings/{meeting.id}").status_code == 200


def test_the_proposal_is_shown_only_to_readers_of_the_live_overview(client, login_as, week):
    login_as("partner", agency=week["police"])
    page = client.get(EST)
    assert page.status_code == 200
    assert "Brännpunktsområdet" not in page.text and "klottret" not in page.text
    assert "Öppna EST-mötet" not in page.text


@pytest.mark.parametrize("url", ["/meetings/est/2026/54", "/meetings/est/2026/0", "/meetings/est/2021/53",
                                 "/meetings/est/1800/1", "/meetings/est/99999/1"])
def test_invalid_week_is_404(client, login_as, url):
    login_as("process_leader", kind="other")
    resp = client.get(url)
    assert resp.status_code == 404 and "Veckan finns inte" in resp.text
    page = client.get("/meetings/est/2026/20")
    assert client.post(url + "/open", data={"csrf_token": csrf_from(page.text)}).status_code == 404


def test_current_est_opens_the_week_it_discusses_the_last_complete_one(client, login_as):
    from app.overview.figures import current_week, shift_week

    login_as("process_leader", kind="other")
    year, week_no = shift_week(*current_week(), -1)
    resp = client.get("/meetings/est")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/meetings/est/{year}/{week_no}")


def test_est_meeting_is_held_today_when_opened_in_its_own_week():
    from app.processes.est import est_meeting_day

    assert est_meeting_day(2026, 48, today=date(2026, 11, 26)) == date(2026, 11, 26)
    assert est_meeting_day(2026, 48, today=date(2026, 12, 3)) == date(2026, 11, 23)


def test_two_leaders_changing_only_the_focus_get_a_conflict(app, db, processes, factory):
    """The focus lives in the week's note; changing it still moves the meeting's version."""
    from app.processes.meeting_common import MeetingConflict
    from app.processes.meetings import update_meeting
    from app.overview.publishing import get_note
    import pytest as _pytest

    meeting = processes.meeting(kind="est", iso_year=2026, iso_week=20, title="EST v20")
    opened_at = meeting.version
    fields = dict(title=meeting.title, held_on=meeting.held_on, attendee_ids=[], minutes=meeting.minutes,
                  decisions=meeting.decisions)
    leader = factory.user(roles=("process_leader",))
    with app.test_request_context():
        update_meeting(meeting, leader, expected_version=opened_at, focus="Centrum kvällstid", **fields)
        assert meeting.version > opened_at
        with _pytest.raises(MeetingConflict):
            update_meeting(meeting, leader, expected_version=opened_at, focus="Något annat", **fields)
        assert get_note(2026, 20).focus == "Centrum kvällstid"
