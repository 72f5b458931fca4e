"""Data-protection review of the process domain (issue 6): who sees which process, milestone, meeting and
action item through every read path, audited reads of the encrypted minutes, and the mail settings.

Each test names the path it checks; a leak found in review has a test that failed before the fix.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from tests.conftest import csrf_from
from tests.processes.test_overview_links import WEEK, activity_of, pdf_text, publish
from tests.processes.test_overview_links import week  # noqa: F401  (fixture)


def _switch(client, login_as, *roles, **kwargs):
    """Log in as another user (the session of the previous one is dropped first)."""
    client._cookies.clear()
    return login_as(*roles, **kwargs)


def _events(db, action, object_id=None):
    stmt = select(AuditEvent).where(AuditEvent.action == action)
    if object_id is not None:
        stmt = stmt.where(AuditEvent.object_id == str(object_id))
    return db.scalars(stmt).all()


@pytest.fixture()
def two_processes(processes, factory):
    """Police take part in "Synlig process"; "Hemlig process" (school and housing only) is not theirs."""
    police = factory.agency(name="Polisen DP", kind="police")
    school = factory.agency(name="Skolan DP", kind="school")
    housing = factory.agency(name="Bostäder DP", kind="housing")
    leader_agency = factory.agency(name="Kommunen DP", kind="other")
    today = date.today()
    seen = processes.process(name="Synlig process", agencies=[police, school], owner_agency=leader_agency)
    hidden = processes.process(name="Hemlig process", agencies=[school, housing], owner_agency=leader_agency,
                               goal="Hemligt mål")
    seen_late = processes.milestone(seen, agency=school, title="Synligt försenat delmål",
                                    due=today - timedelta(days=3))
    hidden_late = processes.milestone(hidden, agency=school, title="Hemligt försenat delmål",
                                      due=today - timedelta(days=5))
    processes.milestone(hidden, agency=school, title="Hemligt delmål snart", due=today + timedelta(days=2))
    return {"police": police, "school": school, "housing": housing, "leader_agency": leader_agency,
            "seen": seen, "hidden": hidden, "seen_late": seen_late, "hidden_late": hidden_late}


# ------------------------------------------------------------------ milestone dependencies across processes


def test_a_milestone_cannot_wait_for_a_milestone_of_another_process(client, db, login_as, two_processes):
    """The form does not validate the dependency choices and service._dependencies() loads any milestone id:
    schedule.check_dependencies is what keeps a milestone of "Hemlig process" (title, status) off the page,
    the timeline, the status PDF and the status form of "Synlig process". Guard it."""
    from app.processes import service
    from app.processes.models import Milestone

    t = two_processes
    leader = login_as("process_leader", kind="other", agency=t["leader_agency"])
    before = db.scalar(select(func.count(Milestone.id)))
    url = f"/processes/{t['seen'].id}/milestones/new"
    token = csrf_from(client.get(url).text)
    resp = client.post(url, data={"csrf_token": token, "title": "Väntar på fel process",
                                  "agency_id": t["police"].id, "due_date": "2026-12-01", "status": "planned",
                                  "depends_on_ids": [t["hidden_late"].id]})
    assert resp.status_code == 400
    assert "samma process" in resp.text
    assert "Hemligt försenat delmål" not in resp.text
    assert db.scalar(select(func.count(Milestone.id))) == before

    # Editing an existing milestone to wait for the other process's milestone is refused the same way.
    with pytest.raises(service.ProcessError):
        service.update_milestone(t["seen_late"], leader, expected_version=t["seen_late"].version,
                                 depends_on_ids=[t["hidden_late"].id])
    db.rollback()
    assert [d.id for d in db.get(Milestone, t["seen_late"].id).depends_on] == []


def test_the_process_page_shows_only_its_own_milestones_to_a_participant(client, login_as, two_processes):
    t = two_processes
    login_as("partner", kind="police", agency=t["police"])
    page = client.get(f"/processes/{t['seen'].id}")
    assert page.status_code == 200
    assert "Synligt försenat delmål" in page.text
    assert "Hemlig" not in page.text
    assert client.get(f"/processes/{t['hidden'].id}").status_code == 403
    assert client.get(f"/processes/{t['hidden'].id}/report.pdf").status_code == 403
    status_url = f"/processes/{t['hidden'].id}/milestones/{t['hidden_late'].id}/status"
    assert client.get(status_url).status_code == 403
    # The list, its search and its counts only know the visible process.
    listing = client.get("/processes/?q=process")
    assert listing.status_code == 200
    assert "Synlig process" in listing.text and "Hemlig process" not in listing.text


# ------------------------------------------------------------------ counts: due page and start page


def test_due_page_counts_per_agency_only_what_the_reader_may_see(app, client, db, login_as, two_processes):
    from app.processes.dates import local_today
    from app.processes.due import due_overview

    t = two_processes
    partner = login_as("partner", kind="police", agency=t["police"])
    with app.test_request_context():
        overview = due_overview(partner, local_today())
    school = [g for g in overview.groups if g.agency_id == t["school"].id]
    assert len(school) == 1
    # Only the visible process's one late milestone counts for the school; the hidden process's two do not.
    assert (school[0].count, school[0].late_count) == (1, 1)
    assert {e.title for e in overview.entries} == {"Synligt försenat delmål"}

    page = client.get("/processes/due")
    assert page.status_code == 200
    assert "Synligt försenat delmål" in page.text and "Hemlig" not in page.text
    filtered = client.get(f"/processes/due?agency={t['school'].id}&late=1")
    assert filtered.status_code == 200 and "Hemlig" not in filtered.text


def test_start_page_late_total_only_for_process_leaders(client, login_as, two_processes):
    t = two_processes
    login_as("partner", kind="school", agency=t["school"])
    page = client.get("/")
    assert page.status_code == 200
    # The school's own items of both processes it takes part in, but no count across all processes.
    assert "Synligt försenat delmål" in page.text and "Hemligt försenat delmål" in page.text
    assert "försenade poster i alla processer" not in page.text

    _switch(client, login_as, "partner", kind="police", agency=t["police"])
    page = client.get("/")
    assert "Hemlig" not in page.text and "försenade poster i alla processer" not in page.text

    for role in ("reporter", "admin", "auditor"):
        _switch(client, login_as, role)
        page = client.get("/")
        assert page.status_code == 200
        assert "Synligt" not in page.text and "Hemlig" not in page.text

    _switch(client, login_as, "process_leader", kind="other", agency=t["leader_agency"])
    page = client.get("/")
    assert "2 försenade poster i alla processer och möten" in page.text


# ------------------------------------------------------------------ the week page and the week PDF


def test_partner_reading_a_published_week_sees_only_their_processes_on_page_and_pdf(
        app, client, db, login_as, processes, week):  # noqa: F811  (the fixture imported above)
    hidden = processes.process(name="Annan myndighets process", agencies=[week["housing"]], areas=[week["north"]],
                               start=date(2026, 1, 1), end=date(2026, 12, 31))
    processes.milestone(hidden, agency=week["housing"], title="Dolt delmål i veckan", due=date(2026, 5, 13))
    publish(app)
    db.commit()

    login_as("partner", kind="police", agency=week["police"])
    page = client.get(WEEK)
    assert page.status_code == 200
    section = activity_of(page.text)
    assert "Trygg centrumnatt" in section and "Belysningen inventerad" in section
    assert "Annan myndighets process" not in page.text and "Dolt delmål i veckan" not in page.text
    resp = client.get(WEEK + ".pdf?lang=sv")
    assert resp.status_code == 200
    text = pdf_text(resp.data)
    assert "Trygg centrumnatt" in text and "Belysningen inventerad" in text
    assert "Annan myndighets process" not in text and "Dolt delmål i veckan" not in text

    _switch(client, login_as, "partner", kind="housing", agency=week["housing"])
    text = pdf_text(client.get(WEEK + ".pdf?version=1&lang=sv").data)
    assert "Annan myndighets process" in text and "Dolt delmål i veckan" in text
    assert "Trygg centrumnatt" not in text and "Belysningen inventerad" not in text


# ------------------------------------------------------------------ meetings: audited reads of the minutes


@pytest.fixture()
def meeting(processes, two_processes):
    t = two_processes
    m = processes.meeting(t["seen"], title="Styrgrupp DP", attendees=[t["police"]],
                          minutes="Protokolltext som är hemlig", decisions="Beslut ett\nBeslut två")
    return m


def test_edit_form_writes_one_read_event_and_a_failed_save_shows_no_stored_minutes(
        client, db, login_as, two_processes, meeting):
    login_as("process_leader", kind="other", agency=two_processes["leader_agency"])
    url = f"/meetings/{meeting.id}/edit"
    page = client.get(url)
    assert page.status_code == 200 and "Protokolltext som är hemlig" in page.text
    assert len(_events(db, "meeting.read", meeting.id)) == 1
    # A stale save shows what was typed, not the stored minutes, and reads nothing.
    resp = client.post(url, data={"csrf_token": csrf_from(page.text), "title": "Styrgrupp DP",
                                  "held_on": date.today().isoformat(), "attendees": [two_processes["police"].id],
                                  "minutes": "Min nya text", "decisions": "", "version": "999"})
    assert resp.status_code == 409
    assert "Min nya text" in resp.text and "Protokolltext som är hemlig" not in resp.text
    assert len(_events(db, "meeting.read", meeting.id)) == 1


def test_minutes_never_reach_the_audit_trail_the_list_or_the_status_pdf(client, db, login_as, processes,
                                                                         two_processes, meeting):
    t = two_processes
    item = processes.action_item(meeting, agency=t["police"], title="Åtgärd DP", due=date.today())
    login_as("process_leader", kind="other", agency=t["leader_agency"])
    assert client.get(f"/meetings/{meeting.id}").status_code == 200
    listing = client.get("/meetings/")
    assert listing.status_code == 200 and "Protokolltext" not in listing.text and "Beslut ett" not in listing.text
    report = client.get(f"/processes/{t['seen'].id}/report.pdf")
    assert report.status_code == 200
    text = pdf_text(report.data)
    assert "Åtgärd DP" in text and "Protokolltext" not in text and "Beslut ett" not in text
    for event in db.scalars(select(AuditEvent)).all():
        blob = json.dumps([event.detail, event.object_id, event.rule], default=str)
        assert "Protokolltext" not in blob and "Beslut" not in blob
    assert len(_events(db, "meeting.read", meeting.id)) == 1
    assert item.id


def test_an_outsider_gets_403_for_the_meeting_and_its_action_items(client, db, login_as, processes,
                                                                   two_processes, meeting):
    t = two_processes
    item = processes.action_item(meeting, agency=t["school"], title="Skolans åtgärd DP")
    login_as("partner", kind="housing", agency=t["housing"])
    assert client.get(f"/meetings/{meeting.id}").status_code == 403
    assert client.get(f"/meetings/{meeting.id}/edit").status_code == 403
    assert client.get(f"/meetings/actions/{item.id}/status").status_code == 403
    listing = client.get("/meetings/")
    assert listing.status_code == 200 and "Styrgrupp DP" not in listing.text
    due = client.get("/processes/due")
    assert "Skolans åtgärd DP" not in due.text
    assert _events(db, "meeting.read", meeting.id) == []


def test_est_proposal_with_the_draft_analysis_only_for_overview_readers(app, client, db, login_as, two_processes):
    from app.overview.publishing import save_note

    with app.app_context():
        save_note(2026, 20, analysis="Utkast till analys DP", focus=None, by=None)
    db.commit()
    login_as("coordinator", kind="social_services")
    page = client.get("/meetings/est/2026/20")
    assert page.status_code == 200 and "Utkast till analys DP" not in page.text
    _switch(client, login_as, "analyst", kind="police")
    page = client.get("/meetings/est/2026/20")
    assert page.status_code == 200 and "Utkast till analys DP" in page.text


# ------------------------------------------------------------------ the digest


def test_digest_lists_only_visible_work_with_paths_free_of_personal_data(app, db, factory, two_processes):
    from app.processes.digest import compose, digest_items

    t = two_processes
    partner = factory.user(roles=("partner",), agency=t["police"])
    school = factory.user(roles=("partner",), agency=t["school"])
    with app.test_request_context():
        police_items = digest_items(partner, date.today())
        school_items = digest_items(school, date.today())
        _subject, text, html = compose(school, date.today(), school_items, 0)
    # Police own no milestone: nothing of either process (the digest is the reader's own work only).
    assert police_items == []
    titles = {i.title for i in school_items}
    assert titles == {"Synligt försenat delmål", "Hemligt försenat delmål", "Hemligt delmål snart"}
    for item in school_items:
        assert item.link.startswith("/processes/") and "#milestone-" in item.link
    assert "Hemligt mål" not in text and "Hemligt mål" not in html  # the process goal is never mailed
    assert school.email not in text


# ------------------------------------------------------------------ production mail configuration


def test_production_has_no_smtp_password_default_and_refuses_a_user_without_it(monkeypatch, tmp_path):
    from app.config import ConfigError, _mail_settings

    for name in ("SMTP_HOST", "SMTP_USERNAME", "SMTP_PASSWORD", "MAIL_FROM", "BASE_URL", "MAIL_OUTBOX",
                 "SMTP_SECURITY"):
        monkeypatch.delenv(f"LOTS_{name}", raising=False)
    settings = _mail_settings("production", tmp_path)
    assert settings["LOTS_SMTP_PASSWORD"] is None and settings["LOTS_SMTP_USERNAME"] is None
    assert settings["LOTS_MAIL_FROM"] is None and settings["LOTS_BASE_URL"] is None
    assert settings["LOTS_MAIL_OUTBOX"] is None
    monkeypatch.setenv("LOTS_SMTP_HOST", "smtp.example.org")
    monkeypatch.setenv("LOTS_SMTP_USERNAME", "lots")
    with pytest.raises(ConfigError, match="SMTP_PASSWORD"):
        _mail_settings("production", tmp_path)


# ------------------------------------------------------------------ interventions: object-level checks


def test_intervention_pages_check_the_policy_on_the_loaded_object(app, client, db, login_as, processes, factory,
                                                                 tmp_path, monkeypatch):
    """Review finding: the intervention pages only had the route-level check, which answers "possibly" for a
    conditioned grant. With a policy that grants intervention:read / evaluation:read only under a condition,
    the pages must refuse an object the condition does not hold for (they showed it before the fix)."""
    import shutil

    from app.security.authz import Gate

    police = factory.agency(kind="police")
    intervention = processes.intervention(agency=police, title="Insats DP")
    db.commit()
    source = Gate().policy_dir
    shutil.copytree(source, tmp_path / "policies")
    policy = tmp_path / "policies" / "policy.csv"
    lines = [line for line in policy.read_text().splitlines()
             if not (line.startswith("p, partner, *, intervention:read") or
                     line.startswith("p, analyst, *, evaluation:read"))]
    lines += ["p, partner, *, intervention:read, process_participant, allow",
              "p, analyst, *, evaluation:read, process_participant, allow"]
    policy.write_text("\n".join(lines) + "\n")
    with app.app_context():
        conditioned = Gate(tmp_path / "policies")
    monkeypatch.setitem(app.extensions, "lots_gate", conditioned)

    login_as("partner", kind="police", agency=police)
    assert client.get(f"/interventions/{intervention.id}").status_code == 403
    _switch(client, login_as, "analyst", kind="police", agency=police)
    assert client.get(f"/interventions/{intervention.id}/evaluation").status_code == 403
    assert client.get(f"/interventions/{intervention.id}/evaluation.pdf").status_code == 403
    assert len(_events(db, "access.denied")) >= 3
    assert _events(db, "evaluation.export") == []


def test_production_refuses_an_smtp_login_without_encryption(monkeypatch, tmp_path):
    from app.config import ConfigError, _mail_settings

    monkeypatch.setenv("LOTS_SMTP_HOST", "smtp.example.org")
    monkeypatch.setenv("LOTS_SMTP_USERNAME", "lots")
    monkeypatch.setenv("LOTS_SMTP_PASSWORD", "hemligt")
    monkeypatch.setenv("LOTS_SMTP_SECURITY", "none")
    with pytest.raises(ConfigError, match="SMTP_SECURITY=none"):
        _mail_settings("production", tmp_path)
    assert _mail_settings("development", tmp_path)["LOTS_SMTP_SECURITY"] == "none"
    monkeypatch.setenv("LOTS_SMTP_SECURITY", "starttls")
    assert _mail_settings("production", tmp_path)["LOTS_SMTP_PASSWORD"] == "hemligt"


# ------------------------------------------------------------------ the EST agenda of the next meeting


def test_next_est_agenda_carries_open_item_titles_but_never_the_minutes(app, client, db, login_as, processes,
                                                                        factory):
    from app.processes.est import agenda_of, open_est_meeting

    police = factory.agency(kind="police")
    previous = processes.meeting(kind="est", title="EST-möte vecka 19", iso_year=2026, iso_week=19,
                                 attendees=[police], minutes="Hemligt EST-protokoll",
                                 decisions="Hemligt EST-beslut")
    processes.action_item(previous, agency=police, title="Öppen EST-åtgärd", due=date(2026, 5, 20))
    processes.action_item(previous, agency=police, title="Klar EST-åtgärd", due=date(2026, 5, 1), status="done")
    leader = factory.user(roles=("process_leader",), kind="other")
    with app.test_request_context():
        meeting, created = open_est_meeting(2026, 20, leader)
        stored = meeting.agenda
        agenda = agenda_of(meeting)
    assert created
    assert [i["title"] for i in agenda["open_items"]] == ["Öppen EST-åtgärd"]
    assert set(agenda["open_items"][0]) == {"id", "title", "agency", "due", "status"}
    assert "Hemligt EST" not in stored
    assert _events(db, "meeting.read") == []  # opening the next meeting decrypts nothing of the previous one
    db.commit()

    login_as("analyst", kind="police", agency=police)
    page = client.get(f"/meetings/{meeting.id}")
    assert page.status_code == 200
    assert "Öppen EST-åtgärd" in page.text and "Klar EST-åtgärd" not in page.text
    assert "Hemligt EST" not in page.text
    assert len(_events(db, "meeting.read", meeting.id)) == 1
    assert _events(db, "meeting.read", previous.id) == []


# ------------------------------------------------------------------ an action item owned by an outside agency


def test_action_item_owner_outside_the_process_does_not_learn_the_process_name(app, client, db, login_as,
                                                                               processes, two_processes):
    """Review finding: an action item may be given to any agency. That agency sees the item (by policy), but
    the due page and the digest also showed the name of the process the meeting belongs to, which the agency
    may not open (403 on the process page)."""
    from app.processes.digest import digest_items

    t = two_processes
    meeting = processes.meeting(t["hidden"], title="Styrgrupp hemlig", attendees=[t["school"]])
    processes.action_item(meeting, agency=t["police"], title="Polisens uppdrag DP", due=date.today())
    db.commit()
    police = login_as("partner", kind="police", agency=t["police"])
    page = client.get("/processes/due")
    assert page.status_code == 200
    assert "Polisens uppdrag DP" in page.text
    assert "Hemlig process" not in page.text
    assert "Hemlig process" not in client.get("/").text
    assert client.get(f"/processes/{t['hidden'].id}").status_code == 403
    with app.test_request_context():
        items = digest_items(police, date.today())
    [item] = [i for i in items if i.kind == "action_item"]
    assert item.title == "Polisens uppdrag DP" and "Hemlig process" not in item.context

    # A participant of the process still sees the process name next to the item.
    _switch(client, login_as, "partner", kind="school", agency=t["school"])
    assert "Hemlig process" in client.get("/processes/due").text
