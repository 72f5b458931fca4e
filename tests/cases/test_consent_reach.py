"""A consent says what it opens: the form shows what each agency can receive, a consent that could open nothing
is refused with the reason, and the case says per agency what its consents actually open."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from app.cases.consent_kinds import receivable_kinds
from app.cases.models import Consent
from tests.conftest import csrf_from, sign_in


def test_what_each_agency_kind_can_receive_follows_the_policy(app):
    with app.app_context():
        assert [k.value for k in receivable_kinds("police")] == ["identity", "contact", "threat_assessment",
                                                                 "protection_plan", "support_plan"]
        housing = {k.value for k in receivable_kinds("housing")}
        assert "contact" not in housing and "threat_assessment" not in housing and "identity" in housing
        assert receivable_kinds("security_company") == []


def _consent_page(client, code):
    return client.get(f"/cases/{code}/consents")


def test_the_form_says_what_each_team_agency_can_receive_and_refuses_a_consent_that_opens_nothing(client, db,
                                                                                                  factory):
    housing = factory.agency(name="Bostadsbolaget Test", kind="housing")
    coordinator = factory.user(roles=("coordinator",), kind="social_services")
    case = factory.case(coordinator, team=[housing])
    sign_in(client, coordinator)
    page = _consent_page(client, case.code)
    section = page.text.split('id="receivable"')[1].split("</div>")[0]
    assert "Bostadsbolaget Test: Identitet, Skyddsplan" in section
    before = db.scalar(select(func.count()).select_from(Consent))
    resp = client.post(f"/cases/{case.code}/consents", data={
        "agency_id": str(housing.id), "kinds": ["contact", "threat_assessment"],
        "given_on": (date.today() - timedelta(days=1)).isoformat(),
        "valid_until": (date.today() + timedelta(days=30)).isoformat(), "method": "written",
        "csrf_token": csrf_from(page.text)})
    assert resp.status_code == 400
    assert "kan enligt policyn inte ta emot något av det valda" in resp.text
    assert "Identitet, Skyddsplan" in resp.text
    assert db.scalar(select(func.count()).select_from(Consent)) == before


def test_the_case_says_per_agency_what_its_consents_actually_open(client, db, factory):
    police = factory.agency(name="Polisen Test", kind="police")
    housing = factory.agency(name="Bostad Test", kind="housing")
    coordinator = factory.user(roles=("coordinator",), kind="social_services")
    case = factory.case(coordinator, team=[police, housing], consents=[
        (police, {"identity", "threat_assessment", "protection_plan"}, None, None),
        (housing, {"contact", "identity"}, None, None)])
    sign_in(client, coordinator)
    for page in (client.get(f"/cases/{case.code}").text, _consent_page(client, case.code).text):
        section = page.split('id="consent-reach"')[1].split("</section>")[0]
        assert "Polisen Test ser: Identitet, Hotbild och riskbedömning, Skyddsplan" in section
        assert "Bostad Test ser: Identitet" in section
        assert "Samtycke till Kontaktuppgifter öppnar inget" in section
