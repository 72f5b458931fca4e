"""Pages that must never fail: an erased participant's case, out-of-range ids, forged selects, impossible dates."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.cases.models import CaseNote, PlanItem, ThreatAssessment, ThreatLevel, today_local
from app.cases.service import erase_participant
from tests.conftest import csrf_from, sign_in

TODAY = today_local()


class Erased:
    """A case with a note, an assessment and a plan item, whose participant is then erased (data key destroyed)."""

    def __init__(self, app, db, factory, client):
        self.police = factory.agency(kind="police")
        self.coordinator = factory.user(roles=("coordinator",), agency=factory.agency(kind="social_services"))
        self.case = factory.case(self.coordinator, team=[self.police], items=[
            dict(part="support", area="housing", goal="Fiktivt mål", responsible_agency=self.police)])
        with app.test_request_context():
            note = CaseNote(data_key=self.case.participant.data_key, case=self.case, author_id=self.coordinator.id)
            note.text = "Fiktiv anteckning"
            assessment = ThreatAssessment(data_key=self.case.participant.data_key, case=self.case,
                                          assessed_on=TODAY, agency_id=self.police.id,
                                          next_review_on=TODAY + timedelta(days=30), recorded_by_id=self.coordinator.id)
            assessment.level = ThreatLevel.HIGH
            assessment.narrative = "Fiktiv hotbild"
            db.add_all([note, assessment])
            db.flush()
            erase_participant(self.case.participant)
        db.expire_all()
        sign_in(client, self.coordinator)
        # The team page reads no encrypted field: it still works, and gives the token for the writes below.
        self.token = csrf_from(client.get(f"/cases/{self.case.code}/team").text)

    def url(self, suffix: str) -> str:
        return f"/cases/{self.case.code}{suffix}"


@pytest.fixture()
def erased(app, db, factory, client):
    return Erased(app, db, factory, client)


@pytest.mark.parametrize("suffix", ["", "/plan", "/plan.pdf", "/plan/approve", "/assessments", "/notes", "/meetings",
                                    "/participant", "/history", "/team", "/phase", "/consents", "/plan/versions"])
def test_no_page_of_an_erased_participants_case_fails(client, erased, suffix):
    resp = client.get(erased.url(suffix))
    # Pages that would show an erased field say the data is gone (410); the others still work.
    assert resp.status_code in (200, 410), resp.status_code
    if resp.status_code == 410:
        assert "gallrats" in resp.text and "Fiktiv" not in resp.text


def test_the_case_page_of_an_erased_participant_says_the_data_is_gone(client, erased):
    resp = client.get(erased.url(""))
    assert resp.status_code == 410 and "Uppgifterna är gallrade" in resp.text


@pytest.mark.parametrize("suffix, data", [
    ("/notes", {"text": "Ny fiktiv anteckning"}),
    ("/assessments", {"assessed_on": TODAY.isoformat(), "agency_id": "POLICE", "level": "high",
                      "narrative": "Ny fiktiv hotbild", "next_review_on": (TODAY + timedelta(days=9)).isoformat()}),
    ("/plan/items/new", {"part": "support", "area": "housing", "goal": "Nytt fiktivt mål",
                         "responsible_agency_id": "POLICE", "officer_id": "", "start_on": TODAY.isoformat(),
                         "due_on": TODAY.isoformat()}),
])
def test_a_write_to_an_erased_participants_case_is_refused_and_stores_nothing(client, db, erased, suffix, data):
    data = {key: str(erased.police.id) if value == "POLICE" else value for key, value in data.items()}
    before = {model: db.scalar(select(func.count()).select_from(model)) for model in (CaseNote, ThreatAssessment,
                                                                                       PlanItem)}
    resp = client.post(erased.url(suffix), data={**data, "csrf_token": erased.token})
    assert resp.status_code == 410
    assert {model: db.scalar(select(func.count()).select_from(model)) for model in before} == before


def test_an_out_of_range_team_member_id_is_404(client, factory):
    coordinator = factory.user(roles=("coordinator",))
    case = factory.case(coordinator)
    sign_in(client, coordinator)
    token = csrf_from(client.get(f"/cases/{case.code}/team").text)
    resp = client.post(f"/cases/{case.code}/team/99999999999999999999/remove", data={"confirmed": "y",
                                                                                       "csrf_token": token})
    assert resp.status_code == 404


@pytest.mark.parametrize("agency_id", ["abc", "99999999999999999999", "-1"])
def test_a_forged_agency_on_a_record_form_is_refused_in_swedish(client, db, factory, agency_id):
    coordinator = factory.user(roles=("coordinator",))
    case = factory.case(coordinator)
    sign_in(client, coordinator)
    url = f"/cases/{case.code}/assessments"
    resp = client.post(url, data={
        "assessed_on": TODAY.isoformat(), "agency_id": agency_id, "level": "high", "narrative": "Fiktiv hotbild",
        "next_review_on": (TODAY + timedelta(days=9)).isoformat(), "csrf_token": csrf_from(client.get(url).text)})
    assert resp.status_code == 400 and "Välj ett alternativ i listan." in resp.text
    assert db.scalar(select(func.count()).select_from(ThreatAssessment).where(ThreatAssessment.case_id == case.id)) == 0


@pytest.mark.parametrize("day, message", [("2026-02-30", "Ange ett datum som ÅÅÅÅ-MM-DD."),
                                          ("0001-01-01", "Ange ett datum mellan år 1900 och 2199.")])
def test_an_impossible_date_on_a_record_form_is_refused_clearly(client, db, factory, day, message):
    coordinator = factory.user(roles=("coordinator",))
    police = factory.agency(kind="police")
    case = factory.case(coordinator, team=[police])
    sign_in(client, coordinator)
    url = f"/cases/{case.code}/consents"
    resp = client.post(url, data={
        "agency_id": police.id, "kinds": "identity", "given_on": TODAY.isoformat(), "valid_until": day,
        "method": "written", "csrf_token": csrf_from(client.get(url).text)})
    assert resp.status_code == 400 and message in resp.text
    db.expire_all()
    assert case.consents == []
