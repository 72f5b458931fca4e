"""Who sees which process: the process leader all; officers of a participating agency the list entry and page;
officers of other agencies nothing (not in the list, 403 on the page); reporter, admin and auditor no process
route at all. And the late count on the list, derived from the Swedish calendar day."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.processes.dates import local_today
from tests.conftest import csrf_from


@pytest.fixture()
def two(processes, factory):
    police, school = factory.agency(kind="police"), factory.agency(kind="school")
    ours = processes.process(name="Polisens trygghetsprocess", agencies=[police])
    theirs = processes.process(name="Skolans trygghetsprocess", agencies=[school])
    ours_m = processes.milestone(ours, agency=police, title="Polisens delmål")
    theirs_m = processes.milestone(theirs, agency=school, title="Skolans delmål")
    return {"police": police, "school": school, "ours": ours, "theirs": theirs, "ours_m": ours_m,
            "theirs_m": theirs_m}


def _paths(process, milestone):
    base = f"/processes/{process.id}"
    return {
        "detail": ("GET", base),
        "edit": ("GET", f"{base}/edit"),
        "edit_post": ("POST", f"{base}/edit"),
        "delete": ("POST", f"{base}/delete"),
        "milestone_new": ("GET", f"{base}/milestones/new"),
        "milestone_new_post": ("POST", f"{base}/milestones/new"),
        "milestone_edit": ("GET", f"{base}/milestones/{milestone.id}/edit"),
        "milestone_status": ("GET", f"{base}/milestones/{milestone.id}/status"),
        "milestone_status_post": ("POST", f"{base}/milestones/{milestone.id}/status"),
        "milestone_delete": ("POST", f"{base}/milestones/{milestone.id}/delete"),
    }


def _call(client, method, path, token):
    if method == "GET":
        return client.get(path)
    return client.post(path, data={"csrf_token": token, "confirmed": "y", "status": "done", "version": "1",
                                   "title": "X", "due_date": "2026-01-01"})


def test_process_leader_sees_every_process(client, login_as, two):
    login_as("process_leader", kind="other")
    listing = client.get("/processes/")
    assert listing.status_code == 200
    assert "Polisens trygghetsprocess" in listing.text and "Skolans trygghetsprocess" in listing.text
    assert "Ny process" in listing.text
    for process in (two["ours"], two["theirs"]):
        page = client.get(f"/processes/{process.id}")
        assert page.status_code == 200 and "Uppdatera status" in page.text and "Nytt delmål" in page.text


@pytest.mark.parametrize("role,kind", [("partner", "police"), ("coordinator", "social_services"),
                                       ("analyst", "other")])
def test_participating_officer_sees_list_and_page_others_see_nothing(client, db, login_as, two, role, kind):
    login_as(role, kind=kind, agency=two["police"])
    listing = client.get("/processes/")
    assert listing.status_code == 200
    assert "Polisens trygghetsprocess" in listing.text
    assert "Skolans trygghetsprocess" not in listing.text and "Ny process" not in listing.text
    # Searching or filtering never reveals the other process either.
    for query in ({"q": "Skolans"}, {"agency": two["school"].id}, {"sort": "-late"}, {"status": "active"}):
        assert "Skolans trygghetsprocess" not in client.get("/processes/", query_string=query).text
    page = client.get(f"/processes/{two['ours'].id}")
    assert page.status_code == 200 and "Polisens delmål" in page.text
    assert "Nytt delmål" not in page.text and "Ändra processen" not in page.text
    token = csrf_from(page.text)
    for name, (method, path) in _paths(two["theirs"], two["theirs_m"]).items():
        assert _call(client, method, path, token).status_code == 403, name
    for name, (method, path) in _paths(two["ours"], two["ours_m"]).items():
        if name.startswith("milestone_status") or name == "detail":
            continue
        assert _call(client, method, path, token).status_code == 403, name
    # The owning agency's officers may update its milestone.
    assert client.get(f"/processes/{two['ours'].id}/milestones/{two['ours_m'].id}/status").status_code == 200


@pytest.mark.parametrize("role,kind", [("reporter", "school"), ("admin", "other"), ("auditor", "other")])
def test_roles_without_process_rights_get_403_everywhere(client, login_as, two, role, kind):
    login_as(role, kind=kind, agency=two["police"])
    assert client.get("/processes/").status_code == 403
    assert client.get("/processes/new").status_code == 403
    token = csrf_from(client.get("/").text) if client.get("/").status_code == 200 else ""
    for name, (method, path) in _paths(two["ours"], two["ours_m"]).items():
        assert _call(client, method, path, token).status_code == 403, name


def test_late_count_on_the_list_follows_is_late(client, login_as, processes, factory):
    login_as("process_leader", kind="other")
    today = local_today()
    agency = factory.agency(kind="police")
    late = processes.process(name="Process med förseningar", agencies=[agency])
    for due, status in [(today - timedelta(days=1), "planned"),       # late
                        (today - timedelta(days=30), "in_progress"),  # late
                        (today, "planned"),                           # due today: not late
                        (today - timedelta(days=1), "done"),          # closed: never late
                        (today - timedelta(days=1), "cancelled"),
                        (today + timedelta(days=3), "planned")]:
        processes.milestone(late, agency=agency, due=due, status=status)
    on_time = processes.process(name="Process i tid", agencies=[agency])
    processes.milestone(on_time, agency=agency, due=today + timedelta(days=1))
    listing = client.get("/processes/", query_string={"q": "Process ", "sort": "-late"})
    assert listing.status_code == 200
    text = listing.text
    row_late = text[text.index("Process med förseningar"):]
    assert 'data-late="2"' in row_late.split("</tr>")[0]
    row_ok = text[text.index("Process i tid"):]
    assert 'data-late="0"' in row_ok.split("</tr>")[0]
    assert text.index("Process med förseningar") < text.index("Process i tid")
    ascending = client.get("/processes/", query_string={"q": "Process ", "sort": "late"}).text
    assert ascending.index("Process i tid") < ascending.index("Process med förseningar")
    page = client.get(f"/processes/{late.id}")
    assert page.text.count("status status-late") == 2
