"""The cross-process late/due page: what is late or due within 14 days, by agency, only what the user may see."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from app.processes import dates
from app.processes.due import ACTION_ITEM, MILESTONE, due_overview

TODAY = date(2026, 3, 10)


@pytest.fixture()
def world(processes, factory):
    """Two processes: one the police take part in, one only housing does."""
    police = factory.agency(name="Polisen Test A2", kind="police")
    school = factory.agency(name="Skolan Test A2", kind="school")
    housing = factory.agency(name="Bostadsbolaget Test A2", kind="housing")
    seen = processes.process(name="Centrumprocessen", agencies=[police, school], start=TODAY - timedelta(days=90))
    hidden = processes.process(name="Hemliga processen", agencies=[housing], start=TODAY - timedelta(days=90))
    ms = {
        "late": processes.milestone(seen, agency=police, title="Sen kartläggning", due=TODAY - timedelta(days=3)),
        "today": processes.milestone(seen, agency=school, title="Dagens delmål", due=TODAY),
        "soon": processes.milestone(seen, agency=school, title="Snart delmål", due=TODAY + timedelta(days=14),
                                    status="in_progress"),
        "far": processes.milestone(seen, agency=police, title="Långt bort", due=TODAY + timedelta(days=15)),
        "done": processes.milestone(seen, agency=police, title="Redan klart", due=TODAY - timedelta(days=5),
                                    status="done"),
        "cancelled": processes.milestone(seen, agency=police, title="Inställt", due=TODAY - timedelta(days=5),
                                         status="cancelled"),
        "hidden": processes.milestone(hidden, agency=housing, title="Annans delmål", due=TODAY - timedelta(days=1)),
    }
    meeting = processes.meeting(seen, title="Styrgrupp mars")
    hidden_meeting = processes.meeting(hidden, title="Annat möte")
    items = {
        "late": processes.action_item(meeting, agency=police, title="Sen åtgärd", due=TODAY - timedelta(days=1)),
        "done": processes.action_item(meeting, agency=police, title="Klar åtgärd", due=TODAY - timedelta(days=1),
                                      status="done"),
        "hidden": processes.action_item(hidden_meeting, agency=housing, title="Annans åtgärd",
                                        due=TODAY - timedelta(days=1)),
    }
    return {"police": police, "school": school, "housing": housing, "seen": seen, "hidden": hidden, "ms": ms,
            "items": items, "meeting": meeting}


def _titles(overview):
    return {e.title for e in overview.entries}


def test_overview_groups_late_and_due_soon_by_agency(app, world, factory):
    user = factory.user(roles=("partner",), agency=world["police"])
    with app.test_request_context():
        overview = due_overview(user, TODAY)
    assert _titles(overview) == {"Sen kartläggning", "Dagens delmål", "Snart delmål", "Sen åtgärd"}
    assert [g.name for g in overview.groups] == ["Polisen Test A2", "Skolan Test A2"]  # sorted by agency name
    police, school = overview.groups
    assert {e.title for e in police.entries} == {"Sen kartläggning", "Sen åtgärd"}
    assert police.count == 2 and police.late_count == 2
    assert school.count == 2 and school.late_count == 0
    late = next(e for e in police.entries if e.title == "Sen kartläggning")
    assert late.kind == MILESTONE and late.late and late.days_late == 3 and late.context == "Centrumprocessen"
    action = next(e for e in police.entries if e.kind == ACTION_ITEM)
    assert action.context == "Styrgrupp mars" and action.params["meeting_id"] == world["meeting"].id
    today_entry = next(e for e in school.entries if e.title == "Dagens delmål")
    assert not today_entry.late and today_entry.days_left == 0  # the due day itself is not late


def test_filters_kind_agency_and_only_late(app, world, factory):
    user = factory.user(roles=("process_leader",), agency=world["police"])
    with app.test_request_context():
        everything = due_overview(user, TODAY)
        assert {"Annans delmål", "Annans åtgärd"} <= _titles(everything)  # the process leader sees all
        assert _titles(due_overview(user, TODAY, kind=ACTION_ITEM)) >= {"Sen åtgärd", "Annans åtgärd"}
        assert all(e.kind == ACTION_ITEM for e in due_overview(user, TODAY, kind=ACTION_ITEM).entries)
        only_school = due_overview(user, TODAY, agency_id=world["school"].id)
        assert _titles(only_school) == {"Dagens delmål", "Snart delmål"}
        only_late = due_overview(user, TODAY, only_late=True, agency_id=world["police"].id)
        assert _titles(only_late) == {"Sen kartläggning", "Sen åtgärd"}


def test_rows_are_capped_per_agency_but_counts_are_complete(app, processes, factory):
    police = factory.agency(kind="police")
    process = processes.process(agencies=[police])
    for i in range(5):
        processes.milestone(process, agency=police, due=TODAY - timedelta(days=i + 1))
    user = factory.user(roles=("partner",), agency=police)
    with app.test_request_context():
        overview = due_overview(user, TODAY, per_agency=2)
    (group,) = overview.groups
    assert group.count == 5 and group.late_count == 5 and group.shown == 2 and group.more
    assert [e.days_late for e in group.entries] == [5, 4]  # earliest due first


def test_late_is_decided_by_the_stockholm_day_not_the_utc_day(app, processes, factory, monkeypatch):
    """At 23:30 UTC on 9 March it is already 10 March in Stockholm: an item due 9 March is late."""
    police = factory.agency(kind="police")
    process = processes.process(agencies=[police])
    processes.milestone(process, agency=police, title="Igår i Stockholm", due=date(2026, 3, 9))
    user = factory.user(roles=("partner",), agency=police)
    late_evening_utc = datetime(2026, 3, 9, 23, 30, tzinfo=timezone.utc)
    assert late_evening_utc.date() == date(2026, 3, 9)
    today = dates.local_today(late_evening_utc)
    assert today == date(2026, 3, 10)
    with app.test_request_context():
        (entry,) = due_overview(user, today).entries
        assert entry.late and entry.days_late == 1
        (entry,) = due_overview(user, late_evening_utc.date()).entries  # the UTC day would call it on time
        assert not entry.late


def test_page_lists_only_visible_items_grouped_by_agency(client, login_as, world, monkeypatch):
    monkeypatch.setattr(dates, "local_today", lambda now=None: TODAY)
    login_as("partner", agency=world["police"])
    resp = client.get("/processes/due")
    assert resp.status_code == 200
    html = resp.text
    for title in ("Sen kartläggning", "Dagens delmål", "Snart delmål", "Sen åtgärd"):
        assert title in html
    for title in ("Annans delmål", "Annans åtgärd", "Hemliga processen", "Långt bort", "Redan klart", "Inställt",
                  "Klar åtgärd"):
        assert title not in html
    assert html.index("Polisen Test A2") < html.index("Skolan Test A2")
    assert 'class="due-late"' in html
    late = world["ms"]["late"]
    assert f'href="/processes/{world["seen"].id}#milestone-{late.id}"' in html
    assert f'/meetings/{world["meeting"].id}#action-{world["items"]["late"].id}' in html

    resp = client.get(f"/processes/due?late=1&agency={world['school'].id}")
    assert resp.status_code == 200
    assert "Sen kartläggning" not in resp.text and "Dagens delmål" not in resp.text


@pytest.mark.parametrize("query", ["agency=abc", "agency=-1", "agency=99999999999999", "kind=case",
                                   "late=maybe", "agency=%00", "kind=milestone&kind=x&late=1&late=2"])
def test_bad_query_args_never_give_a_500(client, login_as, world, query, monkeypatch):
    monkeypatch.setattr(dates, "local_today", lambda now=None: TODAY)
    login_as("partner", agency=world["police"])
    resp = client.get(f"/processes/due?{query}")
    assert resp.status_code in (200, 400)
    if "%00" in query:  # refused app-wide before the view (app/web.py)
        assert resp.status_code == 400 and "NUL" in resp.text
        return
    assert "Sen kartläggning" in resp.text or "kind=milestone" in query  # the bad filter is ignored, the list stays
    if resp.status_code == 400:
        assert "ignorerades" in resp.text


def test_unknown_agency_gives_an_empty_list(client, login_as, world, monkeypatch):
    monkeypatch.setattr(dates, "local_today", lambda now=None: TODAY)
    login_as("partner", agency=world["police"])
    resp = client.get("/processes/due?agency=2147483000")
    assert resp.status_code == 200
    assert "Sen kartläggning" not in resp.text


@pytest.mark.parametrize("role", ["reporter", "admin", "auditor"])
def test_roles_without_process_access_get_403(client, login_as, role):
    login_as(role)
    assert client.get("/processes/due").status_code == 403


def test_anonymous_is_sent_to_login(client):
    resp = client.get("/processes/due")
    assert resp.status_code in (302, 401)


# ------------------------------------------------------------------ the start page


def test_start_page_lists_my_agencys_late_and_due_items(client, login_as, world, monkeypatch):
    monkeypatch.setattr(dates, "local_today", lambda now=None: TODAY)
    login_as("partner", agency=world["police"])
    html = client.get("/").text
    assert 'id="process-work"' in html
    assert "Sen kartläggning" in html and "Sen åtgärd" in html  # the police's own, late
    assert "Dagens delmål" not in html  # the school's milestone in the same process
    assert "Annans delmål" not in html and "Långt bort" not in html and "Redan klart" not in html
    assert "försenade poster i alla processer" not in html  # the cross-process count is for process leaders


def test_start_page_gives_process_leaders_the_late_count(client, login_as, world, monkeypatch):
    monkeypatch.setattr(dates, "local_today", lambda now=None: TODAY)
    login_as("process_leader", agency=world["housing"])
    html = client.get("/").text
    # Late and visible to the leader: Sen kartläggning, Annans delmål, Sen åtgärd, Annans åtgärd.
    # The leader's own agency (housing) has its late items listed.
    assert "4 försenade poster i alla processer och möten" in html
    assert "/processes/due?late=1" in html
    assert "Annans delmål" in html and "Annans åtgärd" in html and "Sen kartläggning" not in html


@pytest.mark.parametrize("role", ["reporter", "admin", "auditor"])
def test_start_page_shows_no_process_information_to_other_roles(client, login_as, world, role, monkeypatch):
    monkeypatch.setattr(dates, "local_today", lambda now=None: TODAY)
    login_as(role, agency=world["police"])
    resp = client.get("/")
    assert resp.status_code == 200
    assert 'id="process-work"' not in resp.text
    for title in ("Sen kartläggning", "Sen åtgärd", "Centrumprocessen", "/processes/due"):
        assert title not in resp.text
