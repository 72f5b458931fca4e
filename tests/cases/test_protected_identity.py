"""A person with a protected identity: a banner on every page of the case, and name, number, contact details
and address behind "Visa", which needs a fresh password and is audited as its own event."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.cases.models import ProtectedIdentity
from tests.conftest import sign_in

NAME, STREET, PHONE = "Skyddadnamn", "Hemligvägen 3", "070-111 22 33"


@pytest.fixture()
def protected(factory):
    coordinator = factory.user(roles=("coordinator",), kind="social_services")
    person = factory.participant(last_name=NAME, street_address=STREET, phone=PHONE,
                                 protected_identity=ProtectedIdentity.PROTECTED_REGISTRATION)
    return factory.case(coordinator, participant=person), coordinator


def _stale(client):
    with client.session_transaction() as sess:
        sess["fs_paa"] = sess["fs_paa"] - 3600


def test_every_page_of_the_case_has_the_banner_and_the_first_screen_shows_nothing_identifying(client, db,
                                                                                              protected):
    case, coordinator = protected
    sign_in(client, coordinator)
    for path in ("", "/plan", "/history", "/notes", "/consents", "/team"):
        page = client.get(f"/cases/{case.code}{path}")
        assert page.status_code == 200, path
        assert "Skyddade personuppgifter: Skyddad folkbokföring." in page.text, path
        assert NAME not in page.text and STREET not in page.text and PHONE not in page.text, path
    first = client.get(f"/cases/{case.code}").text
    assert f'href="/cases/{case.code}/person"' in first and "Visa" in first
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "case.view")).all()[-1:]
    assert "person.identity" not in event.field_sets and "person.protected_address" not in event.field_sets


def test_visa_needs_a_fresh_password_and_is_its_own_audit_event(client, db, protected):
    case, coordinator = protected
    sign_in(client, coordinator)
    _stale(client)
    resp = client.get(f"/cases/{case.code}/person")
    assert resp.status_code == 302 and "/verify" in resp.headers["Location"]
    assert not db.scalars(select(AuditEvent).where(AuditEvent.action == "person.revealed")).all()
    sign_in(client, coordinator)  # a fresh password
    shown = client.get(f"/cases/{case.code}/person")
    assert shown.status_code == 200 and NAME in shown.text and STREET in shown.text and PHONE in shown.text
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "person.revealed")).all()
    assert {"person.identity", "person.contact", "person.protected_address"} <= set(event.field_sets.split(","))
    assert event.object_id == case.code and NAME not in (event.detail or "")


def test_the_edit_form_of_a_protected_person_needs_the_same_fresh_password(client, db, protected):
    case, coordinator = protected
    sign_in(client, coordinator)
    _stale(client)
    resp = client.get(f"/cases/{case.code}/participant")
    assert resp.status_code == 302 and "/verify" in resp.headers["Location"]


def test_an_unprotected_person_is_shown_as_before_without_a_banner(client, db, factory):
    coordinator = factory.user(roles=("coordinator",), kind="social_services")
    case = factory.case(coordinator, participant=factory.participant(last_name=NAME))
    sign_in(client, coordinator)
    page = client.get(f"/cases/{case.code}").text
    assert NAME in page and "Skyddade personuppgifter:" not in page


def test_a_partner_who_may_not_read_the_level_gets_no_banner(client, db, factory, protected):
    case, _coordinator = protected
    housing = factory.agency(kind="housing")
    from app.cases.models import CaseTeamMember

    db.add(CaseTeamMember(case=case, agency_id=housing.id))
    db.flush()
    officer = factory.user(roles=("partner",), agency=housing)
    sign_in(client, officer)
    page = client.get(f"/cases/{case.code}")
    assert page.status_code == 200 and "Skyddad folkbokföring" not in page.text
