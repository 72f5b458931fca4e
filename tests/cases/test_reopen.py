"""Duplicates at intake and reopening a closed case (pentest finding 1: case takeover through reopen).

A coordinator who coordinates nothing could take over any closed case by posting its (sequential) code to
/cases/<code>/reopen. Now reopening is its own permission (case:reopen, condition reopen_proof): only with a
proof that this user typed the participant's personal identity number in an intake minutes ago, bound to
this user and case, used once, and with a fresh re-authentication. The previous coordinator and the auditor
are told. An intake that hits a case the user does not coordinate shows only whom to contact.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update

from app.audit.models import AuditEvent
from app.cases.models import Case, CasePhase, Participant
from app.cases.reopening import CaseReopening, ReopenProof, spend_proof
from app.db import utcnow
from tests.conftest import csrf_from, fake_personal_number, sign_in

NEW = "/cases/new"
REOPEN_LINK = re.compile(r'href="(/cases/reopen/[A-Za-z0-9_-]+)"')


def _referral(number: str, **override) -> dict:
    data = {"first_name": "Fiktiva", "last_name": "Återkommandesson", "personal_number": number, "date_of_birth": "",
            "phone": "", "email": "", "street_address": "", "postal_code": "", "city": "",
            "protected_identity": "none", "referral_source": "probation", "referred_on": date.today().isoformat(),
            "referral_reason": "Påhittat skäl."}
    data.update(override)
    return data


def _intake(client, number: str, **override):
    page = client.get(NEW)
    return client.post(NEW, data={**_referral(number, **override), "csrf_token": csrf_from(page.text)})


def _count(db, model):
    return db.scalar(select(func.count()).select_from(model))


@pytest.fixture()
def closed(factory):
    """A closed case of coordinator A, and a second coordinator B (same municipality) who coordinates nothing."""
    a = factory.user(roles=("coordinator",), kind="social_services")
    a.full_name = "Anna Tidigare"
    number = fake_personal_number()
    case = factory.case(a, participant=factory.participant(personal_number=number), phase="closed")
    b = factory.user(roles=("coordinator",), kind="social_services")
    return case, number, a, b


def test_posting_a_case_code_reopens_nothing_any_more(client, db, closed):
    case, _number, _a, b = closed
    sign_in(client, b)
    token = csrf_from(client.get(NEW).text)
    for url in (f"/cases/{case.code}/reopen", "/cases/reopen/" + "A" * 43, f"/cases/reopen/{case.code}"):
        resp = client.post(url, data={"csrf_token": token, "confirmed": "y"})
        assert resp.status_code in (404, 405), (url, resp.status_code)
    db.refresh(case)
    assert case.phase == CasePhase.CLOSED and case.coordinator_id != b.id


def test_an_intake_of_another_coordinators_case_names_whom_to_contact_not_the_case(client, db, closed):
    case, number, a, b = closed
    sign_in(client, b)
    before = (_count(db, Case), _count(db, Participant))
    resp = _intake(client, f"{number[2:8]}-{number[8:]}", first_name="Skrivetnamn")
    assert resp.status_code == 400
    assert case.code not in resp.text, "the case code is not given to a coordinator who does not coordinate it"
    assert "Avslutat" not in resp.text and "fas:" not in resp.text, "nor its phase in a label"
    assert "Anna Tidigare" in resp.text, "whom to contact"
    assert 'value="Skrivetnamn"' in resp.text, "what was typed is kept"
    assert (_count(db, Case), _count(db, Participant)) == before
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.actor_user_id == b.id,
                                                  AuditEvent.action == "participant.search")).all()
    assert event.object_id == case.code and '"foreign":"1"' in event.detail and number not in event.detail


def test_the_intake_proof_reopens_once_with_a_confirmation_and_tells_the_previous_coordinator(
        app, client, db, factory, closed):
    case, number, a, b = closed
    sign_in(client, b)
    resp = _intake(client, number)
    [link] = REOPEN_LINK.findall(resp.text)
    page = client.get(link)
    assert page.status_code == 200 and "Anna Tidigare" in page.text and case.code not in page.text
    # The confirmation tick is required ...
    refused = client.post(link, data={"csrf_token": csrf_from(page.text)})
    assert refused.status_code == 400 and "kryssa i rutan" in refused.text
    db.refresh(case)
    assert case.phase == CasePhase.CLOSED
    # ... then the case is reopened and B coordinates it.
    done = client.post(link, data={"csrf_token": csrf_from(page.text), "confirmed": "y"})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/cases/{case.code}")
    db.refresh(case)
    assert case.phase == CasePhase.ASSESSMENT and case.coordinator_id == b.id
    assert client.get(f"/cases/{case.code}").status_code == 200
    # The proof is spent: the same link does nothing again.
    assert client.get(link).status_code == 404
    assert client.post(link, data={"csrf_token": csrf_from(page.text), "confirmed": "y"}).status_code == 404
    # The event names the permission and the rule that allowed it (the proof was spent by then).
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "case.reopened")).all()
    assert event.permission == "case:reopen"
    assert event.rule == "p, coordinator, social_services, case:reopen, reopen_proof, allow"
    assert event.object_id == case.code and '"by_other":"1"' in event.detail
    [reopening] = db.scalars(select(CaseReopening).where(CaseReopening.case_id == case.id)).all()
    assert (reopening.previous_coordinator_id, reopening.reopened_by_id) == (a.id, b.id)

    # The previous coordinator is told on their start page (and can no longer open the case).
    other = app.test_client()
    sign_in(other, a)
    start = other.get("/").text
    assert "som någon annan har återöppnat" in start and case.code in start
    assert other.get(f"/cases/{case.code}").status_code == 403
    # The auditor sees the reopening by someone else.
    auditor = app.test_client()
    sign_in(auditor, factory.user(roles=("auditor",), kind="other"))
    audit_start = auditor.get("/").text
    section = audit_start.split('id="reopenings"')[1].split("</section>")[0]
    assert case.code in section and "Anna Tidigare" in section


def test_a_proof_belongs_to_the_user_who_typed_the_number(app, client, db, factory, closed):
    case, number, _a, b = closed
    sign_in(client, b)
    [link] = REOPEN_LINK.findall(_intake(client, number).text)
    thief = app.test_client()
    sign_in(thief, factory.user(roles=("coordinator",), kind="social_services"))
    assert thief.get(link).status_code == 404
    token = csrf_from(thief.get(NEW).text)
    assert thief.post(link, data={"csrf_token": token, "confirmed": "y"}).status_code == 404
    db.refresh(case)
    assert case.phase == CasePhase.CLOSED


def test_an_expired_proof_reopens_nothing(client, db, closed):
    case, number, _a, b = closed
    sign_in(client, b)
    [link] = REOPEN_LINK.findall(_intake(client, number).text)
    db.execute(update(ReopenProof).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get(link).status_code == 404
    db.refresh(case)
    assert case.phase == CasePhase.CLOSED


def test_reopening_asks_for_a_fresh_password(client, db, closed):
    case, number, _a, b = closed
    sign_in(client, b)
    [link] = REOPEN_LINK.findall(_intake(client, number).text)
    with client.session_transaction() as sess:
        sess["fs_paa"] = sess["fs_paa"] - 3600
    resp = client.get(link)
    assert resp.status_code == 302 and "/verify" in resp.headers["Location"]


def test_a_proof_is_spent_once_however_many_requests_race(client, db, closed):
    case, number, _a, b = closed
    sign_in(client, b)
    _intake(client, number)
    [proof] = db.scalars(select(ReopenProof)).all()
    assert spend_proof(proof) is True
    assert spend_proof(proof) is False


def test_the_phase_form_cannot_reopen_a_closed_case(client, db, factory):
    me = factory.user(roles=("coordinator",), kind="social_services")
    case = factory.case(me, phase="closed")
    sign_in(client, me)
    page = client.get(f"/cases/{case.code}/phase")
    if page.status_code == 200:
        resp = client.post(f"/cases/{case.code}/phase", data={"to_phase": "assessment",
                                                              "csrf_token": csrf_from(page.text)})
        assert resp.status_code in (400, 403)
    db.refresh(case)
    assert case.phase == CasePhase.CLOSED


def test_the_own_closed_case_is_named_and_reopened_through_the_same_proof(client, db, factory):
    me = factory.user(roles=("coordinator",), kind="social_services")
    number = fake_personal_number()
    case = factory.case(me, participant=factory.participant(personal_number=number), phase="closed")
    sign_in(client, me)
    resp = _intake(client, number)
    assert case.code in resp.text
    [link] = REOPEN_LINK.findall(resp.text)
    page = client.get(link)
    assert client.post(link, data={"csrf_token": csrf_from(page.text), "confirmed": "y"}).status_code == 302
    db.refresh(case)
    assert case.phase == CasePhase.ASSESSMENT
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "case.reopened")).all()
    assert '"by_other":"0"' in event.detail


def test_an_open_case_of_another_coordinator_offers_no_reopening(client, db, factory):
    number = fake_personal_number()
    other = factory.case(participant=factory.participant(personal_number=number), phase="active")
    me = factory.user(roles=("coordinator",), kind="social_services")
    sign_in(client, me)
    resp = _intake(client, number)
    assert resp.status_code == 400
    assert other.code not in resp.text and "/reopen" not in resp.text
    assert db.scalar(select(func.count()).select_from(ReopenProof)) == 0


def test_person_look_ups_are_limited_per_user_and_the_auditor_sees_who_hit_the_limit(app, client, db, factory):
    """Pentest finding 3: 40 Luhn-valid guesses for one birth date took 2.2 s and were never refused."""
    from app.cases.lookups import DEFAULT_USER_LIMIT
    from app.security.models import User

    per_minute = int(app.config["LOTS_PERSON_LOOKUP_RATE_LIMIT"].split()[0])
    assert app.config["LOTS_PERSON_LOOKUP_RATE_LIMIT"] == DEFAULT_USER_LIMIT
    me = factory.user(roles=("coordinator",), kind="social_services")
    me.full_name = "Gissa Gissasson"
    sign_in(client, me)
    token = csrf_from(client.get("/cases/").text)
    codes = [client.post("/cases/find", data={"personal_number": fake_personal_number(), "csrf_token": token}
                         ).status_code for _ in range(per_minute + 1)]
    assert codes[:per_minute] == [200] * per_minute and codes[-1] == 429, codes
    # The intake shares the count: the same person cannot switch to the referral form to go on guessing.
    assert _intake(client, fake_personal_number()).status_code == 429
    limited = db.scalars(select(AuditEvent).where(AuditEvent.action == "participant.search_limited")).all()
    assert len(limited) == 2 and all(e.actor_user_id == me.id and e.outcome.value == "denied" for e in limited)
    auditor = app.test_client()
    sign_in(auditor, factory.user(roles=("auditor",), kind="other"))
    section = auditor.get("/").text.split('id="lookups"')[1].split("</section>")[0]
    assert "Gissa Gissasson" in section and "för många sökningar" in section
    assert db.get(User, me.id).active  # refusing more look-ups does not lock the account


def test_a_look_up_that_hits_another_coordinators_case_shows_on_the_auditors_page(app, client, db, factory, closed):
    case, number, _a, b = closed
    b.full_name = "Nyfiken Nyfikensson"
    sign_in(client, b)
    _intake(client, number)
    auditor = app.test_client()
    sign_in(auditor, factory.user(roles=("auditor",), kind="other"))
    section = auditor.get("/").text.split('id="lookups"')[1].split("</section>")[0]
    assert "Nyfiken Nyfikensson" in section and case.code in section
