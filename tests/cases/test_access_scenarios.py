"""Who sees what in an exit-programme case, with the real policy, on every read path.

One case with a police and a housing agency on its team, and one marker text
in every kind of record. Each scenario logs in as one user and reads every
page of the case (list, detail, history, plan, versions, consents,
assessments, notes, meetings, the plan PDF, search, start page); the test
checks the status of each and which markers appear anywhere. A marker is
invented text, so finding it means the field was shown.
"""

from __future__ import annotations

import io
import uuid
from datetime import date, timedelta

import pytest

from app.cases.models import CaseMeeting, CaseNote, ThreatAssessment, ThreatLevel
from tests.conftest import csrf_from, sign_in

CASE_PATHS = {
    "detail": "/cases/{code}",
    "history": "/cases/{code}/history",
    "plan": "/cases/{code}/plan",
    "plan_versions": "/cases/{code}/plan/versions",
    "consents": "/cases/{code}/consents",
    "assessments": "/cases/{code}/assessments",
    "notes": "/cases/{code}/notes",
    "meetings": "/cases/{code}/meetings",
    "pdf": "/cases/{code}/plan.pdf",
}
COORDINATOR_ONLY = {"consents", "notes", "meetings", "plan_versions"}


class World:
    """The scenario's case and markers."""

    def __init__(self, app, factory):
        tag = uuid.uuid4().hex[:6]
        self.m = {
            "name": f"Namnmarkör{tag}",
            "protection_item": f"Skyddsmål{tag}",
            "housing_item": f"Bostadsmål{tag}",
            "support_item": f"Stödmål{tag}",
            "threat": f"Hotbildsmarkör{tag}",
            "note": f"Journalmarkör{tag}",
            "minutes": f"Protokollmarkör{tag}",
            "address": f"Adressmarkör{tag} 1",
        }
        self.app = app
        self.factory = factory
        self.social = factory.agency(kind="social_services")
        self.police = factory.agency(kind="police")
        self.housing = factory.agency(kind="housing")
        self.coordinator = factory.user(roles=("coordinator",), agency=self.social)
        participant = factory.participant(last_name=self.m["name"], street_address=self.m["address"])
        self.personal_number = participant.personal_number
        self.case = factory.case(
            self.coordinator, participant=participant, team=[self.police, self.housing],
            items=[
                dict(part="protection", area="security_measure", goal=self.m["protection_item"],
                     responsible_agency=self.police),
                dict(part="support", area="housing", goal=self.m["housing_item"], responsible_agency=self.housing),
                dict(part="support", area="employment", goal=self.m["support_item"], responsible_agency=self.social),
            ],
        )
        session = factory.session
        key = participant.data_key
        with app.app_context():
            assessment = ThreatAssessment(data_key=key, case=self.case, assessed_on=date.today() - timedelta(days=3),
                                          agency_id=self.police.id, next_review_on=date.today() + timedelta(days=60))
            assessment.level = ThreatLevel.HIGH
            assessment.narrative = self.m["threat"]
            note = CaseNote(data_key=key, case=self.case)
            note.text = self.m["note"]
            meeting = CaseMeeting(data_key=key, case=self.case, held_on=date.today(), agency_ids=str(self.police.id))
            meeting.minutes = self.m["minutes"]
            session.add_all([assessment, note, meeting])
            session.flush()

    def consent(self, agency, kinds, given_on=None, valid_until=None):
        from app.cases.models import Consent, ConsentMethod

        with self.app.app_context():
            consent = Consent(data_key=self.case.participant.data_key, case=self.case, agency_id=agency.id,
                              given_on=given_on or date.today() - timedelta(days=5),
                              valid_until=valid_until or date.today() + timedelta(days=90),
                              method=ConsentMethod.WRITTEN)
            consent.kind_set = kinds
            self.factory.session.add(consent)
            self.factory.session.flush()
            return consent


@pytest.fixture()
def world(app, factory):
    return World(app, factory)


def _text(resp) -> str:
    if resp.mimetype == "application/pdf":
        from pypdf import PdfReader

        return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(resp.data)).pages)
    return resp.get_data(as_text=True)


def read_everything(client, world) -> tuple[dict[str, int], str]:
    """GET every read path of the case; returns statuses by path name and all text shown."""
    statuses, texts = {}, []
    for name, path in CASE_PATHS.items():
        resp = client.get(path.format(code=world.case.code))
        statuses[name] = resp.status_code
        if resp.status_code == 200:  # a refusal page may repeat the address asked for, nothing more
            texts.append(_text(resp))
    for name, path in {"list": "/cases/", "list_search": f"/cases/?code={world.case.code}", "start": "/"}.items():
        resp = client.get(path)
        statuses[name] = resp.status_code
        texts.append(resp.get_data(as_text=True))
    return statuses, "\n".join(texts)


def visible(text: str, world) -> set[str]:
    return {key for key, marker in world.m.items() if marker in text}


# ------------------------------------------------------------------ scenarios


def test_coordinator_of_the_case_sees_everything(client, world):
    sign_in(client, world.coordinator)
    statuses, text = read_everything(client, world)
    assert all(code == 200 for code in statuses.values()), statuses
    assert visible(text, world) == set(world.m), "the coordinator reads every part of their case"
    assert world.case.code in text


def test_police_without_consent_sees_the_code_and_its_own_items_only(client, factory, world):
    officer = factory.user(roles=("partner",), agency=world.police)
    sign_in(client, officer)
    statuses, text = read_everything(client, world)
    assert world.case.code in text
    assert visible(text, world) == {"protection_item"}
    # Without a consent: neither the threat picture nor the case's context (history, team, referral).
    for name in COORDINATOR_ONLY | {"assessments", "history"}:
        assert statuses[name] == 403, (name, statuses)
    for name in ("detail", "plan", "list", "pdf"):
        assert statuses[name] == 200, (name, statuses)


def test_police_with_consent_sees_what_the_consent_and_policy_cover(client, factory, world):
    world.consent(world.police, ["identity", "threat_assessment", "protection_plan"])
    officer = factory.user(roles=("partner",), agency=world.police)
    sign_in(client, officer)
    statuses, text = read_everything(client, world)
    assert statuses["assessments"] == 200 and statuses["history"] == 200
    # Never: another agency's support items, notes, minutes, the protected address.
    assert visible(text, world) == {"name", "threat", "protection_item"}


def test_consent_withdrawn_mid_session_ends_access_on_the_next_request(app, client, factory, world):
    consent = world.consent(world.police, ["identity", "threat_assessment", "protection_plan"])
    officer = factory.user(roles=("partner",), agency=world.police)
    sign_in(client, officer)
    page = client.get(f"/cases/{world.case.code}")
    assert world.m["name"] in page.text
    from app.cases import records

    with app.test_request_context():
        records.withdraw_consent(world.case, consent, world.coordinator)
    _, text = read_everything(client, world)
    assert visible(text, world) == {"protection_item"}


def test_expired_consent_gives_nothing(client, factory, world):
    yesterday = date.today() - timedelta(days=1)
    world.consent(world.police, ["identity", "threat_assessment", "protection_plan"],
                  given_on=yesterday - timedelta(days=100), valid_until=yesterday)
    officer = factory.user(roles=("partner",), agency=world.police)
    sign_in(client, officer)
    _, text = read_everything(client, world)
    assert visible(text, world) == {"protection_item"}


def test_consent_to_another_agency_does_not_cover_this_one(client, factory, world):
    world.consent(world.housing, ["identity", "threat_assessment", "protection_plan", "support_plan"])
    officer = factory.user(roles=("partner",), agency=world.police)
    sign_in(client, officer)
    _, text = read_everything(client, world)
    assert visible(text, world) == {"protection_item"}


def test_housing_officer_sees_only_housing_items(client, factory, world):
    officer = factory.user(roles=("partner",), agency=world.housing)
    sign_in(client, officer)
    statuses, text = read_everything(client, world)
    assert visible(text, world) == {"housing_item"}
    assert statuses["detail"] == 200 and statuses["plan"] == 200


@pytest.mark.parametrize("who", ["partner_not_on_team", "other_coordinator", "admin", "auditor", "analyst",
                                 "process_leader", "reporter"])
def test_users_outside_the_case_see_nothing(client, factory, world, who):
    if who == "partner_not_on_team":
        user = factory.user(roles=("partner",), kind="police")
    elif who == "other_coordinator":
        user = factory.user(roles=("coordinator",), agency=world.social)
    else:
        user = factory.user(roles=(who,), kind="social_services")
    sign_in(client, user)
    statuses, text = read_everything(client, world)
    for name in CASE_PATHS:
        assert statuses[name] == 403, (who, name, statuses)
    assert f'href="/cases/{world.case.code}' not in text, "no page links to the case"
    for path in ("/cases/", "/"):
        assert world.case.code not in client.get(path).text, "the case code must not appear in lists or counts"
    assert visible(text, world) == set()


def test_search_by_personal_number_is_for_coordinators_and_shows_codes_only(client, factory, world):
    officer = factory.user(roles=("partner",), agency=world.police)
    sign_in(client, officer)
    page = client.get("/")
    resp = client.post("/cases/find", data={"personal_number": world.personal_number,
                                            "csrf_token": csrf_from(page.text)})
    assert resp.status_code == 403
    assert world.m["name"] not in resp.text


def test_every_refused_read_is_audited_as_denied(app, client, factory, world):
    from sqlalchemy import select

    from app.audit.models import AuditEvent
    from app.extensions import db

    user = factory.user(roles=("coordinator",), agency=world.social)
    sign_in(client, user)
    assert client.get(f"/cases/{world.case.code}").status_code == 403
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.actor_user_id == user.id,
                                                             AuditEvent.action == "access.denied")).all()
    assert events and events[-1].object_id == world.case.code


def test_each_read_of_the_case_page_writes_one_event_naming_the_field_sets_shown(app, client, factory, world):
    from sqlalchemy import select

    from app.audit.models import AuditEvent
    from app.extensions import db

    world.consent(world.police, ["identity"])
    officer = factory.user(roles=("partner",), agency=world.police)
    sign_in(client, officer)
    assert client.get(f"/cases/{world.case.code}").status_code == 200
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.actor_user_id == officer.id,
                                                             AuditEvent.action == "case.view")).all()
    assert len(events) == 1
    sets = set(events[0].field_sets.split(","))
    assert "person.identity" in sets and "plan.items" in sets
    assert not sets & {"person.contact", "person.protected_address", "case.notes", "case.threat"}
    assert world.m["name"] not in (events[0].purpose or "") + (events[0].detail or "")
