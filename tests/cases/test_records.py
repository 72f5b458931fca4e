"""Consents, threat assessments, case notes and case meetings: rules, effects, refusals and their audit events."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from app.audit.models import AuditEvent
from app.cases import records
from app.cases.models import (CaseMeeting, CaseNote, CasePhase, Consent, PlanItem, ThreatAssessment, ThreatLevel,
                              today_local)
from app.cases.service import CaseError
from tests.conftest import csrf_from, sign_in

TODAY = today_local()


class World:
    """A case coordinated by a social-services coordinator, with a police agency on its team."""

    def __init__(self, app, factory):
        self.app = app
        self.factory = factory
        self.social = factory.agency(kind="social_services")
        self.police = factory.agency(kind="police")
        self.outsider = factory.agency(kind="housing")
        self.coordinator = factory.user(roles=("coordinator",), agency=self.social)
        self.officer = factory.user(roles=("partner",), agency=self.police)
        self.case = factory.case(self.coordinator, team=[self.police])

    def url(self, page: str) -> str:
        return f"/cases/{self.case.code}/{page}"

    def consent(self, kinds=("identity", "threat_assessment"), given_on=None, valid_until=None, agency=None):
        with self.app.test_request_context():
            return records.record_consent(
                self.case, self.coordinator, agency=agency or self.police, kinds=kinds,
                given_on=given_on or TODAY - timedelta(days=5), valid_until=valid_until or TODAY + timedelta(days=90),
                method="written", documentation="Blankett i akten")

    def assessment(self, assessed_on, next_review_on, case=None, narrative="Hotbild beskriven"):
        with self.app.test_request_context():
            return records.record_assessment(case or self.case, self.coordinator, assessed_on=assessed_on,
                                             agency=self.police, level="high", narrative=narrative,
                                             next_review_on=next_review_on)


@pytest.fixture()
def world(app, factory):
    return World(app, factory)


def _post(client, url, data, page_url=None):
    page = client.get(page_url or url)
    assert page.status_code == 200, page.status_code
    return client.post(url, data={**data, "csrf_token": csrf_from(page.text)})


def _last_event_id(db) -> int:
    return db.scalar(select(func.max(AuditEvent.id))) or 0


def _events_since(db, first: int) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).where(AuditEvent.id > first).order_by(AuditEvent.id)))


def _count(db, model, case) -> int:
    return db.scalar(select(func.count()).select_from(model).where(model.case_id == case.id))


def _consent_form(world, **overrides):
    return {"agency_id": str(world.police.id), "kinds": ["identity", "contact"],
            "given_on": TODAY.isoformat(), "valid_until": (TODAY + timedelta(days=180)).isoformat(),
            "method": "written", "documentation": "Undertecknad blankett", **overrides}


def _meeting_form(world, rows=(), **overrides):
    data = {"held_on": TODAY.isoformat(), "agency_ids": [str(world.social.id), str(world.police.id)],
            "minutes": "Genomgång av läget.", **overrides}
    for index, row in enumerate(rows):
        data.update({f"decision_{index}-{key}": value for key, value in row.items()})
    return data


def _decision(world, goal="Ordna skyddat boende", agency=None, **overrides):
    return {"part": "protection", "area": "housing", "goal": goal,
            "responsible_agency_id": str((agency or world.police).id),
            "due_on": (TODAY + timedelta(days=30)).isoformat(), **overrides}


# ------------------------------------------------------------------ consents


def test_coordinator_records_a_consent_for_a_team_agency(client, db, world):
    sign_in(client, world.coordinator)
    first = _last_event_id(db)
    resp = _post(client, world.url("consents"), _consent_form(world))
    assert resp.status_code == 302
    consent = db.scalar(select(Consent).where(Consent.case_id == world.case.id))
    assert consent.agency_id == world.police.id and consent.kinds == "contact,identity"
    assert consent.recorded_by_id == world.coordinator.id and consent.is_current()
    written = [e for e in _events_since(db, first) if e.action == "consent.recorded"]
    assert len(written) == 1 and written[0].object_id == world.case.code
    assert written[0].field_sets == "case.consent" and "Undertecknad" not in (written[0].detail or "")
    page = client.get(world.url("consents"))
    assert "Undertecknad blankett" in page.text and "Kontaktuppgifter" in page.text and "Gäller" in page.text


def test_consent_for_an_agency_not_on_the_team_is_refused(app, client, db, world):
    with app.test_request_context():  # the error is caught inside: a request ending in an exception rolls back
        with pytest.raises(CaseError):
            records.record_consent(world.case, world.coordinator, agency=world.outsider, kinds=["identity"],
                                   given_on=TODAY, valid_until=TODAY, method="written", documentation=None)
    sign_in(client, world.coordinator)
    resp = _post(client, world.url("consents"), _consent_form(world, agency_id=str(world.outsider.id)))
    assert resp.status_code == 400
    assert _count(db, Consent, world.case) == 0


@pytest.mark.parametrize("overrides", [
    {"valid_until": (TODAY - timedelta(days=1)).isoformat()},
    {"given_on": (TODAY + timedelta(days=3)).isoformat(), "valid_until": (TODAY + timedelta(days=30)).isoformat()},
    {"kinds": []},
    {"kinds": ["identity", "everything"]},
    {"agency_id": "999999"},
    {"agency_id": "abc"},
    {"method": "telepathy"},
    {"given_on": "2026-02-30"},
    {"documentation": "x" * 501},
])
def test_bad_consent_input_is_400_and_nothing_is_stored(client, db, world, overrides):
    sign_in(client, world.coordinator)
    resp = _post(client, world.url("consents"), _consent_form(world, **{"documentation": "Typed text", **overrides}))
    assert resp.status_code == 400
    assert _count(db, Consent, world.case) == 0
    if "documentation" not in overrides:
        assert "Typed text" in resp.text, "what was typed is shown again"


def test_withdrawal_needs_confirmation_and_ends_access_on_the_next_request(app, client, db, world):
    consent = world.consent(kinds=("identity", "threat_assessment"))
    world.assessment(TODAY - timedelta(days=2), TODAY + timedelta(days=60))
    gate = app.extensions["lots_gate"]
    assert "person.identity" in gate.readable_fieldsets(world.officer, world.case.participant)
    sign_in(client, world.officer)
    assert client.get(world.url("assessments")).status_code == 200

    coordinator = app.test_client()
    sign_in(coordinator, world.coordinator)
    url = world.url(f"consents/{consent.id}/withdraw")
    assert "Återkalla samtycket" in coordinator.get(url).text
    unconfirmed = _post(coordinator, url, {})
    assert unconfirmed.status_code == 400 and consent.withdrawn_at is None
    assert _post(coordinator, url, {"confirmed": "y"}).status_code == 302
    db.refresh(consent)
    assert consent.withdrawn_at is not None and consent.withdrawn_by_id == world.coordinator.id

    assert client.get(world.url("assessments")).status_code == 403
    assert "person.identity" not in gate.readable_fieldsets(world.officer, world.case.participant)
    assert "Återkallat" in coordinator.get(world.url("consents")).text
    again = _post(coordinator, url, {"confirmed": "y"})
    assert again.status_code == 302 and consent.withdrawn_by_id == world.coordinator.id


def test_consent_that_expired_yesterday_gives_no_access(app, client, world):
    yesterday = TODAY - timedelta(days=1)
    world.consent(given_on=yesterday - timedelta(days=100), valid_until=yesterday)
    world.assessment(TODAY - timedelta(days=2), TODAY + timedelta(days=60))
    gate = app.extensions["lots_gate"]
    assert gate.readable_fieldsets(world.officer, world.case.participant) == set()
    sign_in(client, world.officer)
    assert client.get(world.url("assessments")).status_code == 403


def test_unknown_or_foreign_consent_is_404(client, factory, world):
    other_case = factory.case(world.coordinator, team=[world.police])
    with world.app.test_request_context():
        foreign = records.record_consent(other_case, world.coordinator, agency=world.police, kinds=["identity"],
                                         given_on=TODAY, valid_until=TODAY, method="oral", documentation=None)
    sign_in(client, world.coordinator)
    assert client.get(world.url(f"consents/{uuid.uuid4()}/withdraw")).status_code == 404
    assert client.get(world.url("consents/not-a-uuid/withdraw")).status_code == 404
    assert client.get(world.url(f"consents/{foreign.id}/withdraw")).status_code == 404


def test_partner_cannot_open_or_change_consents(client, db, world):
    consent = world.consent()
    sign_in(client, world.officer)
    assert client.get(world.url("consents")).status_code == 403
    assert client.get(world.url(f"consents/{consent.id}/withdraw")).status_code == 403
    assert consent.withdrawn_at is None


def test_consents_expiring_lists_current_consents_ending_within_the_warning_period(app, factory, world):
    soon = world.consent(valid_until=TODAY + timedelta(days=10))
    world.consent(valid_until=TODAY + timedelta(days=40))
    withdrawn = world.consent(valid_until=TODAY + timedelta(days=5))
    world.consent(given_on=TODAY - timedelta(days=30), valid_until=TODAY - timedelta(days=1))
    with app.test_request_context():
        records.withdraw_consent(world.case, withdrawn, world.coordinator)
        from app.cases.access import visible_cases_query

        mine = records.consents_expiring(visible_cases_query(world.coordinator), TODAY, 14)
        other = factory.user(roles=("coordinator",), kind="social_services")
        theirs = records.consents_expiring(visible_cases_query(other), TODAY, 14)
        assert soon in records.consents_expiring(None, TODAY)
    assert mine == [soon]
    assert theirs == []


# ------------------------------------------------------------------ threat assessments


def test_coordinator_records_an_assessment_encrypted_at_rest(app, client, db, world):
    sign_in(client, world.coordinator)
    marker = f"Hotmarkör{uuid.uuid4().hex[:8]}"
    resp = _post(client, world.url("assessments"), {
        "assessed_on": TODAY.isoformat(), "agency_id": str(world.police.id), "level": "acute",
        "narrative": marker, "next_review_on": (TODAY + timedelta(days=30)).isoformat()})
    assert resp.status_code == 302
    assessment = db.scalar(select(ThreatAssessment).where(ThreatAssessment.case_id == world.case.id))
    with app.app_context():
        assert assessment.level == ThreatLevel.ACUTE and assessment.narrative == marker
    row = db.execute(text("SELECT * FROM threat_assessment WHERE case_id = :id"),
                     {"id": assessment.case_id.hex if db.bind.dialect.name == "sqlite" else assessment.case_id}).one()
    raw = " ".join(str(value) for value in row)
    assert marker not in raw and "acute" not in raw
    assert marker in client.get(world.url("assessments")).text


@pytest.mark.parametrize("overrides", [
    {"next_review_on": (TODAY - timedelta(days=1)).isoformat()},
    {"next_review_on": TODAY.isoformat()},
    {"assessed_on": (TODAY + timedelta(days=1)).isoformat(),
     "next_review_on": (TODAY + timedelta(days=30)).isoformat()},
    {"agency_id": "999999"},
    {"level": "apocalyptic"},
    {"narrative": ""},
    {"narrative": "x" * 10_001},
])
def test_bad_assessment_input_is_400_and_nothing_is_stored(client, db, world, overrides):
    sign_in(client, world.coordinator)
    data = {"assessed_on": TODAY.isoformat(), "agency_id": str(world.police.id), "level": "high",
            "narrative": "Skriven text", "next_review_on": (TODAY + timedelta(days=30)).isoformat(), **overrides}
    resp = _post(client, world.url("assessments"), data)
    assert resp.status_code == 400
    assert _count(db, ThreatAssessment, world.case) == 0


def test_partner_with_threat_consent_reads_assessments_but_cannot_add(client, db, world):
    world.consent(kinds=("threat_assessment",))
    world.assessment(TODAY - timedelta(days=2), TODAY + timedelta(days=60), narrative="Läsbar hotbild")
    sign_in(client, world.officer)
    page = client.get(world.url("assessments"))
    assert page.status_code == 200 and "Läsbar hotbild" in page.text
    assert "Ny bedömning" not in page.text
    resp = client.post(world.url("assessments"), data={
        "csrf_token": csrf_from(client.get("/").text), "assessed_on": TODAY.isoformat(),
        "agency_id": str(world.police.id), "level": "low", "narrative": "Försök",
        "next_review_on": (TODAY + timedelta(days=9)).isoformat()})
    assert resp.status_code == 403
    assert _count(db, ThreatAssessment, world.case) == 1


def test_partner_without_consent_gets_403_on_assessments_and_the_denial_is_audited(client, db, world):
    world.assessment(TODAY - timedelta(days=2), TODAY + timedelta(days=60))
    sign_in(client, world.officer)
    first = _last_event_id(db)
    assert client.get(world.url("assessments")).status_code == 403
    events = _events_since(db, first)
    assert [e.outcome.value for e in events] == ["denied"]
    assert events[0].permission == "fieldset.read:case.threat" and events[0].object_id == world.case.code


def test_reassessments_due_finds_overdue_cases_by_their_latest_assessment(app, factory, world):
    overdue = world.case
    world.assessment(TODAY - timedelta(days=100), TODAY - timedelta(days=10))
    superseded = factory.case(world.coordinator)
    world.assessment(TODAY - timedelta(days=100), TODAY - timedelta(days=40), case=superseded)
    world.assessment(TODAY - timedelta(days=5), TODAY + timedelta(days=60), case=superseded)
    due_today = factory.case(world.coordinator)
    world.assessment(TODAY - timedelta(days=30), TODAY, case=due_today)
    closed = factory.case(world.coordinator, phase="closed")
    world.assessment(TODAY - timedelta(days=100), TODAY - timedelta(days=10), case=closed)
    someone_elses = factory.case()
    world.assessment(TODAY - timedelta(days=100), TODAY - timedelta(days=10), case=someone_elses)
    with app.test_request_context():
        from app.cases.access import visible_cases_query

        due = records.reassessments_due(visible_cases_query(world.coordinator), TODAY)
        soon = records.reassessments_due(visible_cases_query(world.coordinator), TODAY, within_days=60)
    assert [(d.case, d.next_review_on, d.overdue) for d in due] == [
        (overdue, TODAY - timedelta(days=10), True), (due_today, TODAY, False)]
    assert superseded in {d.case for d in soon} and closed.phase == CasePhase.CLOSED
    assert closed not in {d.case for d in soon} and someone_elses not in {d.case for d in soon}


def test_assessment_page_flags_an_overdue_reassessment(client, world):
    world.assessment(TODAY - timedelta(days=100), TODAY - timedelta(days=1))
    sign_in(client, world.coordinator)
    assert "Försenad" in client.get(world.url("assessments")).text


# ------------------------------------------------------------------ case notes


def test_coordinator_writes_notes_shown_newest_first_and_paginated(app, client, db, world):
    app.config["LOTS_PAGE_SIZE"] = 3
    try:
        sign_in(client, world.coordinator)
        for number in range(4):
            assert _post(client, world.url("notes"), {"text": f"Anteckning nummer {number}"}).status_code == 302
        page1 = client.get(world.url("notes")).text
        assert page1.index("nummer 3") < page1.index("nummer 1") and "nummer 0" not in page1
        assert "nummer 0" in client.get(world.url("notes") + "?page=2").text
        assert client.get(world.url("notes") + "?page=abc").status_code == 200
    finally:
        app.config["LOTS_PAGE_SIZE"] = 25
    note = db.scalar(select(CaseNote).where(CaseNote.case_id == world.case.id).limit(1))
    assert note.author_id == world.coordinator.id


@pytest.mark.parametrize("data", [{"text": ""}, {"text": "   "}, {"text": "x" * 10_001}])
def test_bad_note_is_400_and_nothing_is_stored(client, db, world, data):
    sign_in(client, world.coordinator)
    assert _post(client, world.url("notes"), data).status_code == 400
    assert _count(db, CaseNote, world.case) == 0


def test_the_service_refuses_empty_and_overlong_text_too(app, db, world):
    with app.test_request_context():
        for bad in ("", "  ", "x" * 10_001):
            with pytest.raises(CaseError):
                records.write_note(world.case, world.coordinator, bad)
        with pytest.raises(CaseError):
            records.record_consent(world.case, world.coordinator, agency=world.police, kinds=["identity"],
                                   given_on=TODAY, valid_until=TODAY, method="oral", documentation="x" * 501)
    assert _count(db, CaseNote, world.case) == 0 and _count(db, Consent, world.case) == 0


@pytest.mark.parametrize("who", ["partner", "admin", "auditor", "other_coordinator"])
@pytest.mark.parametrize("page", ["notes", "meetings", "consents"])
def test_coordinator_only_pages_are_403_for_everyone_else(client, factory, world, who, page):
    world.consent(kinds=("identity", "threat_assessment", "protection_plan", "support_plan", "contact"))
    user = {
        "partner": world.officer,
        "admin": factory.user(roles=("admin",)),
        "auditor": factory.user(roles=("auditor",)),
        "other_coordinator": factory.user(roles=("coordinator",), kind="social_services"),
    }[who]
    sign_in(client, user)
    assert client.get(world.url(page)).status_code == 403
    assert client.post(world.url(page), data={"csrf_token": csrf_from(client.get("/").text),
                                              "text": "x"}).status_code == 403


def test_unknown_case_code_is_404(client, world):
    sign_in(client, world.coordinator)
    for page in ("consents", "assessments", "notes", "meetings"):
        assert client.get(f"/cases/AV-0000-000/{page}").status_code == 404


# ------------------------------------------------------------------ case meetings


def test_meeting_decisions_become_plan_items_linked_to_the_meeting(app, client, db, world):
    sign_in(client, world.coordinator)
    housing = world.outsider
    resp = _post(client, world.url("meetings"), _meeting_form(world, rows=[
        _decision(world, goal="Ordna skyddat boende"),
        {},
        _decision(world, goal="Skuldsanering påbörjas", agency=housing, part="support", area="economy_debt"),
    ]))
    assert resp.status_code == 302
    meeting = db.scalar(select(CaseMeeting).where(CaseMeeting.case_id == world.case.id))
    items = list(db.scalars(select(PlanItem).where(PlanItem.case_id == world.case.id)))
    with app.app_context():
        assert meeting.minutes == "Genomgång av läget."
        assert sorted(item.goal for item in items) == ["Ordna skyddat boende", "Skuldsanering påbörjas"]
    assert set(meeting.agency_id_list) == {world.social.id, world.police.id}
    assert all(item.meeting_id == meeting.id and item.start_on == TODAY for item in items)
    assert housing.id in world.case.team_agency_ids, "the responsible agency joined the team"
    page = client.get(world.url("meetings")).text
    assert "Genomgång av läget." in page and "Skuldsanering påbörjas" in page and world.police.name in page


def _bad_meetings(world):
    return {
        "partial_row": ([_decision(world), {"goal": "Bara ett mål"}], {}),
        "row_without_due_date": ([_decision(world, due_on="")], {}),
        "due_before_meeting": ([_decision(world, due_on=(TODAY - timedelta(days=1)).isoformat())], {}),
        "unknown_row_agency": ([_decision(world, responsible_agency_id="999999")], {}),
        "unknown_participant": ([], {"agency_ids": [str(world.social.id), "999999"]}),
        "no_participant": ([], {"agency_ids": []}),
        "overlong_minutes": ([], {"minutes": "x" * 10_001}),
        "overlong_goal": ([_decision(world, goal="x" * 501)], {}),
        "unknown_part": ([_decision(world, part="everything")], {}),
        "future_meeting": ([], {"held_on": (TODAY + timedelta(days=2)).isoformat()}),
    }


@pytest.mark.parametrize("case_name", ["partial_row", "row_without_due_date", "due_before_meeting",
                                       "unknown_row_agency", "unknown_participant", "no_participant",
                                       "overlong_minutes", "overlong_goal", "unknown_part", "future_meeting"])
def test_bad_meeting_input_is_400_and_nothing_is_stored(client, db, world, case_name):
    rows, overrides = _bad_meetings(world)[case_name]
    sign_in(client, world.coordinator)
    resp = _post(client, world.url("meetings"), _meeting_form(world, rows=rows, **overrides))
    assert resp.status_code == 400
    assert _count(db, CaseMeeting, world.case) == 0
    assert _count(db, PlanItem, world.case) == 0
    if case_name == "partial_row":
        assert "Fyll i hela raden eller lämna den helt tom." in resp.text
        assert 'value="Bara ett mål"' in resp.text, "what was typed is shown again"
    if case_name == "due_before_meeting":
        assert "Ett beslut kunde inte sparas" in resp.text


def test_a_decision_refused_by_the_plan_service_rolls_back_the_whole_meeting(app, db, world, factory):
    inactive = factory.agency(kind="ngo", active=False)
    decisions = [
        {"part": "support", "area": "housing", "goal": "Första beslutet", "responsible_agency": world.police,
         "due_on": TODAY + timedelta(days=5)},
        {"part": "support", "area": "housing", "goal": "Andra beslutet", "responsible_agency": inactive,
         "due_on": TODAY + timedelta(days=5)},
    ]
    with app.test_request_context():
        with pytest.raises(records.DecisionError) as refused:
            records.record_meeting(world.case, world.coordinator, held_on=TODAY, agencies=[world.social],
                                   minutes="Protokoll", decisions=decisions)
    assert refused.value.row == 1
    assert _count(db, CaseMeeting, world.case) == 0
    assert _count(db, PlanItem, world.case) == 0


# ------------------------------------------------------------------ one audit event per read


def test_each_read_writes_exactly_one_event_with_the_field_sets_shown(client, db, world):
    world.consent(kinds=("threat_assessment",))
    world.assessment(TODAY - timedelta(days=2), TODAY + timedelta(days=60))
    with world.app.test_request_context():
        records.write_note(world.case, world.coordinator, "En anteckning")
        records.record_meeting(world.case, world.coordinator, held_on=TODAY, agencies=[world.social],
                               minutes="Protokoll", decisions=[
                                   {"part": "support", "area": "housing", "goal": "Beslut", "responsible_agency":
                                    world.police, "due_on": TODAY + timedelta(days=5)}])
    expected = {
        "consents": ("consent.view", "case.consent"),
        "assessments": ("assessment.view", "case.threat"),
        "notes": ("note.view", "case.notes"),
        "meetings": ("meeting.view", "case.meetings,plan.items"),
    }
    sign_in(client, world.coordinator)
    for page, (action, field_sets) in expected.items():
        first = _last_event_id(db)
        assert client.get(world.url(page)).status_code == 200
        events = _events_since(db, first)
        assert [(e.action, e.field_sets, e.object_id) for e in events] == [(action, field_sets, world.case.code)], page

    partner = world.app.test_client()
    sign_in(partner, world.officer)
    first = _last_event_id(db)
    assert partner.get(world.url("assessments")).status_code == 200
    assert [(e.action, e.field_sets) for e in _events_since(db, first)] == [("assessment.view", "case.threat")]


def test_each_write_writes_its_event_without_personal_data(app, db, world):
    first = _last_event_id(db)
    consent = world.consent()
    world.assessment(TODAY - timedelta(days=1), TODAY + timedelta(days=10), narrative="Hemlig hotbild")
    with app.test_request_context():
        records.withdraw_consent(world.case, consent, world.coordinator)
        records.write_note(world.case, world.coordinator, "Hemlig anteckning")
    events = _events_since(db, first)
    assert [(e.action, e.field_sets) for e in events] == [
        ("consent.recorded", "case.consent"), ("assessment.recorded", "case.threat"),
        ("consent.withdrawn", ""), ("note.written", "case.notes")]
    assert all(e.object_id == world.case.code and "Hemlig" not in (e.detail or "") for e in events)
