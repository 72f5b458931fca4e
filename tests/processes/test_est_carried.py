"""The previous EST meeting's open action items on the next EST meeting's agenda: live, linked, and each viewer
sees only the items they may see."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.processes.dates import local_today
from tests.conftest import csrf_from
from tests.processes.test_est import EST, week  # noqa: F401  (the W20 fixture)


@pytest.fixture()
def carried(week, processes, factory):  # noqa: F811
    """Week 19's EST meeting (attended by the school only) with open, late, closed and carried-over items."""
    police, school = week["police"], week["school"]
    housing = factory.agency(kind="housing")
    w18 = processes.meeting(kind="est", iso_year=2026, iso_week=18, title="EST-möte vecka 18", attendees=[school])
    older = processes.action_item(w18, agency=school, title="Kartlägg belysningen", due=local_today() + timedelta(5))
    w19 = processes.meeting(kind="est", iso_year=2026, iso_week=19, title="EST-möte vecka 19", attendees=[school])
    import json

    w19.agenda = json.dumps({"schema": 1, "open_items": [{"id": older.id}]})
    late = processes.action_item(w19, agency=police, title="Polisens kvällspatrull",
                                 due=local_today() - timedelta(days=2))
    school_item = processes.action_item(w19, agency=school, title="Skolans trygghetsvandring",
                                        due=local_today() + timedelta(days=3), status="in_progress")
    closed = processes.action_item(w19, agency=housing, title="Bostadsbolagets klottersanering", status="done")
    return {**week, "housing": housing, "w19": w19, "late": late, "school_item": school_item, "closed": closed,
            "older": older}


def titles_in(text, c):
    return {key for key in ("late", "school_item", "closed", "older") if c[key].title in text}


def open_meeting(client):
    page = client.get(EST)
    resp = client.post(EST + "/open", data={"csrf_token": csrf_from(page.text)})
    assert resp.status_code == 302
    return resp.headers["Location"]


def test_the_proposal_carries_open_items_live_with_agency_due_date_and_late_state(client, db, login_as, carried):
    login_as("process_leader", kind="other")
    page = client.get(EST)
    assert page.status_code == 200
    # Open items of week 19 and the still-open item week 19 carried from week 18; the closed one is not carried.
    assert titles_in(page.text, carried) == {"late", "school_item", "older"}
    row = page.text[page.text.index(f'id="carried-{carried["late"].id}"'):]
    row = row[:row.index("</tr>")]
    assert carried["police"].name in row and "Försenad" in row
    assert (local_today() - timedelta(days=2)).isoformat() in row
    assert f'/meetings/{carried["w19"].id}#action-{carried["late"].id}' in row  # linked to its meeting
    school_row = page.text[page.text.index(f'id="carried-{carried["school_item"].id}"'):]
    assert "Pågår" in school_row[:school_row.index("</tr>")]


def test_an_item_closed_after_the_proposal_is_no_longer_carried(client, db, login_as, carried):
    carried["school_item"].status = carried["school_item"].status.__class__("done")
    db.flush()
    login_as("process_leader", kind="other")
    assert titles_in(client.get(EST).text, carried) == {"late", "older"}


def test_each_role_sees_only_the_carried_items_it_may_see(app, client, db, login_as, carried, factory):
    from app.processes.models import Meeting

    login_as("process_leader", kind="other")
    location = open_meeting(client)
    meeting = db.scalars(select(Meeting).where(Meeting.iso_week == 20)).one()
    attendees = {a.id for a in meeting.attendees}
    assert carried["police"].id in attendees and carried["school"].id not in attendees
    db.commit()
    assert titles_in(client.get(location).text, carried) == {"late", "school_item", "older"}

    # The analysts see every EST meeting, and so every carried item.
    login_as("analyst", kind="other")
    assert titles_in(client.get(location).text, carried) == {"late", "school_item", "older"}

    # The police attend week 20, but not week 19 or 18: they see the item they own, with a link to its status
    # page (they may not open week 19's meeting), and nothing of the school's items, not even the title.
    login_as("partner", agency=carried["police"])
    page = client.get(location)
    assert page.status_code == 200
    assert titles_in(page.text, carried) == {"late"}
    assert f'/meetings/actions/{carried["late"].id}/status' in page.text
    assert f'/meetings/{carried["w19"].id}' not in page.text

    # An agency that attends none of the meetings does not see week 20 at all.
    login_as("coordinator", agency=carried["housing"])
    assert client.get(location).status_code == 403

    for role in ("reporter", "admin", "auditor"):
        login_as(role, kind="other")
        assert client.get(location).status_code == 403


def test_the_proposal_is_for_overview_readers_only(client, login_as, carried):
    login_as("partner", agency=carried["police"])
    page = client.get(EST)
    assert page.status_code == 200 and titles_in(page.text, carried) == set()


def test_a_stored_agenda_with_a_garbled_item_list_shows_no_carried_items(app, db, carried, factory):
    from app.processes.est import carried_rows

    leader = factory.user(roles=("process_leader",), kind="other")
    with app.test_request_context():
        assert carried_rows({"open_items": [{"id": "1"}, "x", {"id": None}]}, leader) == []
        assert carried_rows({"open_items": "x"}, leader) == []
        assert carried_rows(None, leader) == []
        assert [r.item.id for r in carried_rows({"open_items": [{"id": carried["late"].id}]}, leader)] == \
            [carried["late"].id]
