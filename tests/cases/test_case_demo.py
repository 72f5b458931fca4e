"""`demo load` creates a living exit programme: cases in every phase, coordinated by the demo coordinator."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.cases.access import visible_cases, visible_cases_query
from app.cases.demo import COORDINATOR, DEMO_PARTICIPANTS, HOUSING_OFFICER, POLICE_OFFICER
from app.cases.models import (
    Case,
    CaseMeeting,
    CaseNote,
    CasePhase,
    CaseTeamMember,
    CaseTransition,
    Consent,
    Participant,
    PlanFollowUp,
    PlanItem,
    PlanItemStatus,
    PlanPart,
    PlanVersion,
    ThreatAssessment,
    today_local,
)
from app.demo import load_demo
from app.security.models import User
from tests.cases.test_demo_dump import _dump

MODELS = (Participant, Case, CaseTeamMember, CaseTransition, Consent, ThreatAssessment, CaseMeeting, PlanItem,
          PlanFollowUp, PlanVersion, CaseNote)


@pytest.fixture()
def demo(app, db):
    with app.app_context():
        load_demo(incidents=False)
        yield {c.participant.personal_number: c for c in db.scalars(select(Case))}


def counts(db) -> dict[str, int]:
    return {m.__name__: db.scalar(select(func.count()).select_from(m)) for m in MODELS}


def user(db, email) -> User:
    return db.scalars(select(User).where(User.email == email)).one()


def test_loading_twice_adds_nothing(demo, db):
    first = counts(db)
    load_demo(incidents=False)
    assert counts(db) == first
    assert first["Case"] == first["Participant"] == len(DEMO_PARTICIPANTS)
    assert all(first.values())


def test_one_case_per_phase_all_coordinated_by_the_demo_coordinator_with_history(demo, db):
    cases = list(demo.values())
    assert sorted(c.phase.value for c in cases) == sorted(p.value for p in CasePhase)
    assert {c.coordinator.email for c in cases} == {COORDINATOR}
    assert len(set(c.code for c in cases)) == len(cases)
    for case in cases:
        assert case.transitions[-1].to_phase == case.phase
        assert case.transitions[0].from_phase is None
    closed = next(c for c in cases if c.phase == CasePhase.CLOSED)
    assert closed.outcome is not None and closed.closed_at is not None and closed.closure_reason


def test_the_demo_shows_every_situation_the_pages_must_handle(demo, db):
    today = today_local()
    consents = db.scalars(select(Consent)).all()
    assert any(c.is_current() and c.valid_until <= today + timedelta(days=14) for c in consents)
    assert any(c.withdrawn_at is not None for c in consents)
    latest = [c.assessments[0] for c in demo.values() if c.assessments and c.is_open]
    assert any(a.next_review_on < today for a in latest), "no overdue reassessment"
    items = db.scalars(select(PlanItem)).all()
    assert {i.part for i in items} == set(PlanPart)
    assert any(i.is_overdue() for i in items if i.case.is_open)
    assert any(i.status == PlanItemStatus.DONE and i.completed_on for i in items)
    partner_agencies = {user(db, POLICE_OFFICER).agency_id, user(db, HOUSING_OFFICER).agency_id}
    assert partner_agencies <= {i.responsible_agency_id for i in items}
    assert all(i.goal for i in items)
    assert db.scalars(select(PlanFollowUp)).first().text
    active = next(c for c in demo.values() if c.phase == CasePhase.ACTIVE)
    assert active.plan_versions and active.meetings and active.notes and len(active.team_agency_ids) >= 4
    assert active.meetings[0].minutes and active.notes[0].text


@pytest.mark.parametrize("email, expected_phases", [
    (POLICE_OFFICER, {"assessment", "active", "closed"}),
    (HOUSING_OFFICER, {"active", "follow_up"}),
])
def test_demo_partner_users_see_the_cases_their_agency_is_on(app, demo, db, email, expected_phases):
    partner = user(db, email)
    with app.test_request_context():
        seen = visible_cases(db.scalars(visible_cases_query(partner)).all(), partner)
    assert {c.phase.value for c in seen} == expected_phases
    assert all(partner.agency_id in c.team_agency_ids for c in seen)


def test_the_demo_case_texts_are_encrypted_in_the_database(demo, db):
    texts = [c.referral_reason for c in demo.values()] + [c.closure_reason for c in demo.values() if c.closure_reason]
    texts += [i.goal for i in db.scalars(select(PlanItem))] + [n.text for n in db.scalars(select(CaseNote))]
    texts += [m.minutes for m in db.scalars(select(CaseMeeting))]
    texts += [a.narrative for a in db.scalars(select(ThreatAssessment))]
    texts += [f.text for f in db.scalars(select(PlanFollowUp))] + [v.changes for v in db.scalars(select(PlanVersion))]
    dump = _dump(db)
    assert len(texts) > 40
    for text in texts:
        assert text not in dump


def test_the_coordinator_opens_every_page_of_every_demo_case(app, client, db):
    """The demo's records (plan versions, consents, ...) render on every page of the case."""
    import re

    from sqlalchemy import select

    from app.cases.models import Case
    from app.demo import load_demo
    from app.security.models import User
    from tests.conftest import login

    with app.app_context():
        load_demo(incidents=False)
        coordinator = db.scalar(select(User).where(User.email == "samordnare@norrvik.example.org"))
        codes = list(db.scalars(select(Case.code).where(Case.coordinator_id == coordinator.id)))
    import pyotp

    from app.extensions import security

    key = pyotp.random_base32()
    coordinator.tf_totp_secret = security._totp_factory._totp(key=key, format="base32").to_json(encrypt=True)
    coordinator.tf_primary_method = "authenticator"
    coordinator.totp_key = key
    db.flush()
    assert login(client, coordinator, password="demo-lots-2026").status_code == 302
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("cases.") and "GET" in r.methods
             and set(r.arguments) == {"code"}]
    assert codes and rules
    for code in codes:
        for rule in rules:
            path = re.sub(r"<[^>]+>", code, rule.rule)
            resp = client.get(path)
            expected = (403,) if rule.endpoint == "cases.emergency" else (200,)  # break the glass is for partners
            assert resp.status_code in expected, (path, resp.status_code)
