"""The moments in a case where people rely on what the screen says, walked in Chromium as the roles concerned:

- a police officer on the team without consent finds "Nödåtkomst", breaks the glass, and every page of the case
  then says how long the access lasts; a housing officer on the team sees no banner (not their access), and an
  officer whose agency is not on the team is refused the case;
- a coordinator's protected person shows a banner and no name until "Visa" (re-authentication, logged);
- a plan changed after approval says "Utkast – ändrat sedan fastställd version 1" with the change;
- the consents say what they open per agency; closing warns about open items and consents;
- an auditor starts from a personal identity number and sees who looked, by name, in plain words;
- a new user enrols the authenticator (key as oathtool takes it) and is shown recovery codes to save.

Accounts and data of their own, so no demo user logs in twice in one TOTP step.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import pyotp
import pytest

from tests.browser.conftest import PageErrors, totp_code

PASSWORD = "webbläsartest-lösenord-1"  # å, ä, ö: a Swedish password must work


def _make(server, roles, kind, name, totp=True, codes=True):
    from app.admin import service as admin_service
    from app.admin.models import Agency, AgencyKind
    from app.extensions import db

    app = server.app
    with app.app_context():
        agency = Agency(name=f"{name} myndighet {uuid.uuid4().hex[:4]}", kind=AgencyKind(kind))
        db.session.add(agency)
        db.session.flush()
        email = f"{name.lower().replace(' ', '.')}.{uuid.uuid4().hex[:6]}@example.org"
        user = admin_service.create_user(email, name, agency, roles, PASSWORD)
        key = None
        if totp:
            key = pyotp.random_base32()
            user.tf_totp_secret = app.extensions["security"]._totp_factory._totp(key=key, format="base32").to_json(
                encrypt=True)
            user.tf_primary_method = "authenticator"
            if codes:
                user.mf_recovery_codes = ["fiktiv-reservkod-a"]
        db.session.commit()
        return {"id": user.id, "email": email, "key": key, "agency_id": agency.id, "agency": agency.name}


def _case(server, coordinator, *, team=(), protected=False, consents=(), last_name="Webbsson"):
    """A case through the services, committed: (code, number)."""
    from app.cases import plan, records, service
    from app.cases.models import ProtectedIdentity, ReferralSource
    from app.extensions import db
    from app.security.models import User
    from tests.conftest import fake_personal_number

    app = server.app
    with app.test_request_context():
        actor = db.session.get(User, coordinator["id"])
        number = fake_personal_number()
        case = service.register_referral(actor, participant_fields={
            "first_name": "Fiktiva", "last_name": last_name, "personal_number": number,
            "protected_identity": ProtectedIdentity.PROTECTED_REGISTRATION if protected else ProtectedIdentity.NONE,
            "street_address": "Webbvägen 1"}, referral_source=ReferralSource.POLICE,
            referred_on=date.today() - timedelta(days=20), referral_reason="Fiktiv.")
        for member in team:
            service.add_team_member(case, member["agency_id"], actor)
        for member, kinds in consents:
            records.record_consent(case, actor, agency=member["agency_id"], kinds=kinds,
                                   given_on=date.today() - timedelta(days=1),
                                   valid_until=date.today() + timedelta(days=60), method="written", documentation=None)
        plan.create_item(case, actor, part="support", area="housing", goal="Fiktivt boendemål",
                         responsible_agency=coordinator["agency_id"], start_on=date.today(),
                         due_on=date.today() + timedelta(days=30))
        db.session.commit()
        return case.code, number


def _log_in(page, server, account):
    from app.extensions import limiter

    limiter.reset()
    page.goto(server.url + "/login")
    page.fill("input[name=email]", account["email"])
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("form[name=login_user_form] [type=submit]")
    if account.get("key"):
        assert "/tf-validate" in page.url, (page.url, page.inner_text("main")[:500])
        assert "Har du tappat bort din autentiseringsapp?" in page.inner_text("main")
        page.fill("input[name=code]", totp_code(account["key"]))
        with page.expect_navigation():
            page.click("form[name=two_factor_verify_code_form] [type=submit]")


def _text(page) -> str:
    return page.inner_text("main")


@pytest.mark.browser
def test_emergency_access_is_found_runs_visibly_and_is_offered_only_to_those_who_may(browser, live_server):
    coordinator = _make(live_server, ["coordinator"], "social_services", "Cora Samordnare")
    police = _make(live_server, ["partner"], "police", "Polly Polis")
    housing = _make(live_server, ["partner"], "housing", "Hugo Bostad")
    code, _number = _case(live_server, coordinator, team=[police, housing])
    context = browser.new_context(locale="sv-SE")
    try:
        page = context.new_page()
        errors = PageErrors(page)
        _log_in(page, live_server, police)
        page.goto(f"{live_server.url}/cases/{code}")
        assert "Nödåtkomst" in _text(page) and "Allt loggas" in _text(page)
        with page.expect_navigation():
            page.click("text=Begär nödåtkomst")
        page.fill("textarea[name=reason]", "Akut hot i natt, behöver identiteten för att skydda personen.")
        page.check("input[name=confirmed]")
        with page.expect_navigation():
            page.click("main form button.danger")
        for path in ("", "/plan", "/history"):
            page.goto(f"{live_server.url}/cases/{code}{path}")
            banner = page.inner_text(".banner")
            assert "Nödåtkomst pågår" in banner and re.search(r"\d+ minuter kvar", banner), (path, banner)
        page.goto(f"{live_server.url}/cases/{code}")
        assert "Webbsson" in _text(page)  # the identity, opened by the emergency access
        assert not errors.take()
    finally:
        context.close()
    outsider = _make(live_server, ["partner"], "police", "Otto Utanför")
    other = browser.new_context(locale="sv-SE")
    try:
        page = other.new_page()
        _log_in(page, live_server, housing)
        page.goto(f"{live_server.url}/cases/{code}")
        assert "Nödåtkomst pågår" not in _text(page) and "Webbsson" not in _text(page)  # not their access
        other.clear_cookies()
        _log_in(page, live_server, outsider)
        response = page.goto(f"{live_server.url}/cases/{code}")
        assert response.status == 403 and "Begär nödåtkomst" not in _text(page)
    finally:
        other.close()


@pytest.mark.browser
def test_a_coordinator_sees_what_the_screen_must_not_mislead_about(browser, live_server):
    from app.cases import plan as plan_service
    from app.cases.models import Case
    from app.extensions import db
    from app.security.models import User
    from sqlalchemy import select

    coordinator = _make(live_server, ["coordinator"], "social_services", "Cleo Samordnare")
    police = _make(live_server, ["partner"], "police", "Pia Polis")
    code, _number = _case(live_server, coordinator, team=[police], protected=True,
                          consents=[(police, ["identity", "threat_assessment"])], last_name="Skyddadsson")
    app = live_server.app
    with app.test_request_context():
        case = db.session.scalar(select(Case).where(Case.code == code))
        actor = db.session.get(User, coordinator["id"])
        plan_service.approve_version(case, actor)
        item = case.plan_items[0]
        plan_service.update_item(item, actor, expected_version=item.version, goal="Ändrat boendemål efteråt")
        db.session.commit()
    context = browser.new_context(locale="sv-SE")
    try:
        page = context.new_page()
        errors = PageErrors(page)
        _log_in(page, live_server, coordinator)
        # Protected identity: a banner and no name until "Visa".
        page.goto(f"{live_server.url}/cases/{code}")
        body = _text(page)
        assert "Skyddade personuppgifter: Skyddad folkbokföring." in body and "Skyddadsson" not in body
        with page.expect_navigation():
            page.click("main a.button:text('Visa')")
        assert "Skyddadsson" in _text(page) and "Visningen är loggad" in _text(page)
        # The plan says it is a draft since version 1, and what changed.
        page.goto(f"{live_server.url}/cases/{code}/plan")
        status = page.inner_text(".plan-status")
        assert "Utkast – ändrat sedan fastställd version 1" in status and "Ändrad:" in status
        assert "PDF av fastställd version 1" in _text(page) and "PDF av aktuellt utkast" in _text(page)
        # The consents say what they open for the police, per kind the policy lets it receive.
        page.goto(f"{live_server.url}/cases/{code}/consents")
        assert f"{police['agency']} ser: Identitet, Hotbild och riskbedömning" in _text(page)
        # Closing warns about the open item and the consent.
        page.goto(f"{live_server.url}/cases/{code}/phase")
        assert "1 planpunkt är inte klar" in _text(page) and "1 samtycke gäller fortfarande" in _text(page)
        # The team lists each agency once; agencies that take no part in cases cannot be chosen.
        page.goto(f"{live_server.url}/cases/{code}")
        team = page.inner_text("section[aria-labelledby=team-heading]")
        assert team.count(coordinator["agency"]) == 1 and team.count(police["agency"]) == 1
        page.goto(f"{live_server.url}/cases/{code}/plan/items/new")
        options = page.eval_on_selector_all("select[name=responsible_agency_id] option", "os => os.map(o => o.text)")
        assert options[0] == "Välj myndighet" and not [o for o in options if "IT-avdelning" in o]
        assert not errors.take()
    finally:
        context.close()


@pytest.mark.browser
def test_the_auditor_starts_from_a_number_and_sees_staff_by_name(browser, live_server):
    coordinator = _make(live_server, ["coordinator"], "social_services", "Conny Samordnare")
    auditor = _make(live_server, ["auditor"], "other", "Astrid Granskare")
    code, number = _case(live_server, coordinator, last_name="Granskadsson")
    context = browser.new_context(locale="sv-SE")
    try:
        page = context.new_page()
        _log_in(page, live_server, coordinator)
        page.goto(f"{live_server.url}/cases/{code}")
        context.clear_cookies()
        _log_in(page, live_server, auditor)
        page.goto(f"{live_server.url}/audit/subject")
        page.fill("input[name=personal_number]", number)
        with page.expect_navigation():
            page.click("main form button[type=submit]")
        body = _text(page)
        assert code in body and "Conny Samordnare" in body and "Granskadsson" not in body
        assert "Avhopparsamordnare (socialtjänst) får öppna ärendet när hen är ärendets samordnare." in body
    finally:
        context.close()


@pytest.mark.browser
def test_a_new_user_enrols_with_a_key_oathtool_takes_and_saves_recovery_codes(browser, live_server):
    newcomer = _make(live_server, ["coordinator"], "social_services", "Nina Ny", totp=False)
    context = browser.new_context(locale="sv-SE")
    try:
        page = context.new_page()
        errors = PageErrors(page)
        _log_in(page, live_server, newcomer)
        assert "Ställ in tvåstegsverifiering" in _text(page)
        with page.expect_navigation():
            page.click("form[name=two_factor_setup_form] button[type=submit]")
        key = page.inner_text("#totp-key")
        assert re.fullmatch(r"[A-Z2-7]{16,}", key) and f"oathtool --totp -b {key}" in _text(page)
        page.fill("input[name=code]", totp_code(key))
        with page.expect_navigation():
            page.click("form[name=two_factor_verify_code_form] button[type=submit]")
        page.wait_for_load_state()
        assert "/mf-recovery-codes" in page.url and "Reservkoder" in _text(page)
        with page.expect_navigation():
            page.click("form[name=mf_recovery_codes_form] button[type=submit]")
        assert len(page.query_selector_all("ul.codes li")) >= 5
        assert "Jag har sparat reservkoderna" in _text(page)
        page.check("#saved")
        with page.expect_navigation():
            page.click("main form.form button[type=submit]")
        assert page.url.split("?")[0].rstrip("/") == live_server.url and "Välkommen" in _text(page)
        assert not errors.take()
    finally:
        context.close()


@pytest.mark.browser
def test_a_form_with_errors_says_so_at_the_top_and_the_language_outlives_logout(browser, live_server):
    coordinator = _make(live_server, ["coordinator"], "social_services", "Carl Samordnare")
    context = browser.new_context(locale="sv-SE")
    try:
        page = context.new_page()
        _log_in(page, live_server, coordinator)
        page.goto(f"{live_server.url}/cases/new")
        assert page.eval_on_selector("select[name=referral_source]", "s => s.value") == ""
        page.fill("input[name=first_name]", "Behållen")
        with page.expect_navigation():
            page.click("main form.form button[type=submit]")
        summary = page.inner_text(".error-summary")
        assert "Uppgifterna sparades inte" in summary and "Efternamn" in summary and "Aktualiserad av" in summary
        assert page.eval_on_selector(".error-summary a[href='#last_name']", "a => a.textContent")
        assert page.input_value("input[name=first_name]") == "Behållen", "what was typed is kept"
        # The language is the user's choice, and the browser keeps it after logout.
        with page.expect_navigation():
            page.click("header form button:text('English')")
        with page.expect_navigation():
            page.click("header form button:text('Log out')")
        assert page.get_attribute("html", "lang") == "en" and "Log in" in page.inner_text("main")
    finally:
        context.close()
