"""Case forms as a person uses them: an error summary at the top that links to each field, every error in one
round, required fields marked, nothing preselected that the user did not choose; the team lists each agency
once; only agencies that take part in cases can be chosen."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from app.cases.models import CaseMeeting, CaseTeamMember
from tests.conftest import csrf_from, sign_in


@pytest.fixture()
def coordinator(factory):
    return factory.user(roles=("coordinator",), kind="social_services")


def _selected(html: str, name: str) -> str | None:
    select = re.search(rf'<select[^>]*name="{name}".*?</select>', html, re.S).group(0)
    chosen = re.search(r'<option[^>]*selected[^>]*value="([^"]*)"|<option[^>]*value="([^"]*)"[^>]*selected', select)
    return None if chosen is None else (chosen.group(1) or chosen.group(2) or "")


def test_the_referral_form_preselects_no_source_and_marks_required_fields(client, coordinator):
    sign_in(client, coordinator)
    page = client.get("/cases/new").text
    assert _selected(page, "referral_source") in (None, "")
    assert re.search(r'<label for="last_name">Efternamn <span class="required"', page)


def test_all_errors_come_in_one_round_summarised_at_the_top_with_links(client, coordinator):
    sign_in(client, coordinator)
    page = client.get("/cases/new")
    resp = client.post("/cases/new", data={"csrf_token": csrf_from(page.text), "first_name": "", "last_name": "",
                                            "personal_number": "", "referred_on": ""})
    assert resp.status_code == 400
    summary = resp.text.split('class="alert alert-error error-summary"')[1].split("</div>")[0]
    for field_id in ("first_name", "last_name", "referral_source", "referred_on"):
        assert f'href="#{field_id}"' in summary, field_id
    assert "Välj vem som aktualiserade ärendet." in summary


def test_the_assessment_form_preselects_no_agency(client, factory, coordinator):
    case = factory.case(coordinator)
    sign_in(client, coordinator)
    page = client.get(f"/cases/{case.code}/assessments").text
    assert _selected(page, "agency_id") in (None, "")


def test_the_case_meeting_form_with_errors_is_shown_first_and_says_so(client, db, factory, coordinator):
    case = factory.case(coordinator)
    sign_in(client, coordinator)
    page = client.get(f"/cases/{case.code}/meetings")
    resp = client.post(f"/cases/{case.code}/meetings", data={"csrf_token": csrf_from(page.text), "held_on": "",
                                                             "minutes": ""})
    assert resp.status_code == 400
    body = resp.text
    assert body.index("Uppgifterna sparades inte") < body.index("Inga ärendemöten är registrerade.")
    assert db.scalar(select(func.count()).select_from(CaseMeeting)) == 0


def test_the_team_lists_each_agency_once(client, db, factory, coordinator):
    police = factory.agency(name="Polisen En", kind="police")
    case = factory.case(coordinator, team=[police])
    for officer in (factory.user(roles=("partner",), agency=police), factory.user(roles=("partner",), agency=police)):
        db.add(CaseTeamMember(case=case, agency_id=police.id, officer_id=officer.id))
    db.flush()
    sign_in(client, coordinator)
    team = client.get(f"/cases/{case.code}").text.split('id="team-heading"')[1].split("</section>")[0]
    assert team.count("Polisen En") == 1


def test_an_item_for_an_agency_outside_the_team_says_that_it_joined(client, db, factory, coordinator):
    case = factory.case(coordinator)
    school = factory.agency(name="Skolan Utanför", kind="school")
    sign_in(client, coordinator)
    page = client.get(f"/cases/{case.code}/plan/items/new")
    resp = client.post(f"/cases/{case.code}/plan/items/new", data={
        "csrf_token": csrf_from(page.text), "part": "support", "area": "education", "goal": "Fiktivt skolmål",
        "responsible_agency_id": str(school.id), "start_on": date.today().isoformat(),
        "due_on": date.today().isoformat()})
    assert resp.status_code == 302
    assert "Skolan Utanför var inte med i teamet och är nu tillagd" in client.get(resp.headers["Location"]).text


def test_only_agencies_that_take_part_in_cases_can_be_chosen(client, db, factory, coordinator):
    it = factory.agency(name="IT-avdelningen Test", kind="other")
    case = factory.case(coordinator)
    sign_in(client, coordinator)
    for path in ("/team", "/plan/items/new", "/assessments", "/meetings"):
        assert "IT-avdelningen Test" not in client.get(f"/cases/{case.code}{path}").text, path
    page = client.get(f"/cases/{case.code}/team")
    forged = client.post(f"/cases/{case.code}/team", data={"csrf_token": csrf_from(page.text),
                                                            "agency_id": str(it.id)})
    assert forged.status_code == 400
    assert it.id not in case.team_agency_ids
