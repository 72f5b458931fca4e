"""A process leader runs a process and the weekly EST meeting end to end in Chromium: the next EST meeting
carries the open action items, a decision becomes an action item in one step, and a school officer who may not
see the carried items does not see them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.browser.conftest import PageErrors, log_in

LEADER = "processledare@norrvik.example.org"
POLICE = "Polisen lokalpolisområde Norrvik (fiktiv)"
SCHOOL = "Norrviksskolan (fiktiv)"


def _submit(page, form_selector: str = "main form[method=post]") -> None:
    with page.expect_navigation():
        page.click(f"{form_selector} button[type=submit]:not(.danger) >> nth=0")


@pytest.mark.browser
def test_process_leader_runs_a_process_and_the_est_meeting(browser, live_server):
    from app.overview.figures import last_complete_week
    from app.overview.figures.weeks import shift_week
    from app.processes.dates import local_today

    today = local_today()
    year, week = last_complete_week()  # the week /meetings/est and /overview/ open on
    next_year, next_week = shift_week(year, week, 1)
    context = browser.new_context(locale="sv-SE")
    try:
        page = context.new_page()
        errors = PageErrors(page)
        log_in(page, live_server, LEADER)

        # A new process with two participating agencies.
        page.goto(live_server.url + "/processes/new")
        page.fill("input[name=name]", "Trygg skolväg (webbläsartest)")
        page.select_option("select[name=type]", "est_area")
        page.check("input[name=agency_ids] >> nth=0")
        page.check("input[name=agency_ids] >> nth=1")
        page.fill("input[name=start_date]", (today - timedelta(days=30)).isoformat())
        page.fill("textarea[name=goal]", "Färre incidenter på skolvägen.")
        _submit(page)
        assert "/processes/" in page.url and page.url.rstrip("/").split("/")[-1].isdigit(), page.url
        process_url = page.url
        assert "Trygg skolväg (webbläsartest)" in page.content()

        # A milestone that is already late: it shows as late on the process page, the timeline and the due page.
        with page.expect_navigation():
            page.click("a:has-text('Nytt delmål')")
        page.fill("input[name=title]", "Kartlägg otrygga platser")
        page.select_option("select[name=agency_id]", index=1)
        page.fill("input[name=due_date]", (today - timedelta(days=3)).isoformat())
        _submit(page)
        page.goto(process_url)
        assert page.locator("text=Kartlägg otrygga platser").count() >= 1
        assert page.locator("svg.timeline").count() == 1, "the timeline is drawn"
        assert page.locator("main >> text=Försenad").count() >= 1, "the late milestone is marked"
        page.goto(live_server.url + "/processes/due")
        assert page.locator("text=Kartlägg otrygga platser").count() >= 1, "the late milestone is on the due page"

        # The EST meeting of the last complete week: open it from the overview's agenda, add an action item and the focus areas.
        page.goto(live_server.url + "/meetings/est")
        if page.locator("button:has-text('Öppna EST-mötet')").count():
            with page.expect_navigation():
                page.click("button:has-text('Öppna EST-mötet')")
        assert "/meetings/" in page.url
        meeting_url = page.url
        assert f"vecka {week}" in page.content().lower()
        with page.expect_navigation():
            page.click("a:has-text('Ny åtgärdspunkt')")
        page.fill("input[name=title]", "Extra kvällsvandring vid stationen")
        page.select_option("select[name=agency_id]", index=1)
        page.fill("input[name=due_date]", (today + timedelta(days=7)).isoformat())
        _submit(page)
        page.goto(meeting_url)
        assert page.locator("text=Extra kvällsvandring vid stationen").count() >= 1
        with page.expect_navigation():
            page.click("main a:has-text('Redigera') >> nth=0")
        page.fill("textarea[name=minutes]", "Genomgång av veckans lägesbild.")
        page.fill("textarea[name=focus]", "Stationsområdet kvällstid (webbläsartest).")
        _submit(page)
        page.goto(live_server.url + f"/overview/{year}/{week}")
        assert page.locator("text=Stationsområdet kvällstid (webbläsartest).").count() >= 1, \
            "the focus decided in the EST meeting shows on the overview"

        # Next week's EST meeting carries last week's open action items; a decision becomes an action item in one step.
        page.goto(live_server.url + f"/meetings/est/{next_year}/{next_week}")
        carried = page.locator("table.carried")
        assert carried.locator("text=Extra kvällsvandring vid stationen").count() == 1, "last week's open item"
        assert carried.locator("text=Fältassistenter vid stationen fredag kväll").count() == 0, "a done item is not"
        with page.expect_navigation():
            page.click("button:has-text('Öppna EST-mötet')")
        next_meeting = page.url
        with page.expect_navigation():
            page.click("a:has-text('Nytt beslut')")
        page.fill("textarea[name=decision]", "Kvällspatrullen vid stationen fortsätter i fyra veckor.")
        page.fill("input[name=title]", "Schemalägg kvällspatrullen")
        page.select_option("select[name=agency_id]", label=POLICE)
        page.fill("input[name=due_date]", (today + timedelta(days=14)).isoformat())
        _submit(page)
        assert page.locator("#actions >> text=Schemalägg kvällspatrullen").count() >= 1
        assert page.locator("#actions >> text=Från beslut 1").count() == 1
        # The school attends the new meeting, but not last week's: it sees none of the carried items' titles.
        with page.expect_navigation():
            page.click("main a:has-text('Redigera') >> nth=0")
        page.get_by_label(SCHOOL).check()
        _submit(page)
        assert not [e for e in errors.take() if "favicon" not in e]
        context.close()

        context = browser.new_context(locale="sv-SE")
        page = context.new_page()
        log_in(page, live_server, _school_partner(live_server))
        page.goto(next_meeting)
        assert page.locator("h1").inner_text().startswith(f"EST-möte vecka {next_week}")
        assert page.locator("text=Extra kvällsvandring vid stationen").count() == 0
        assert page.locator("text=Inga öppna åtgärdspunkter som du kan se.").count() == 1
        assert page.locator("text=Schemalägg kvällspatrullen").count() >= 1  # this meeting's own item
    finally:
        context.close()


def _school_partner(server) -> str:
    """A partner officer at the school, with a TOTP key held by the test (the demo has none)."""
    import pyotp
    from sqlalchemy import select

    from app.admin import service as admin_service
    from app.admin.models import Agency
    from app.demo import DEMO_PASSWORD
    from app.extensions import db, security

    email = "skola-webblasartest@norrvik.example.org"
    with server.app.app_context():
        agency = db.session.scalar(select(Agency).where(Agency.name == SCHOOL))
        user = admin_service.create_user(email, "Sam Skola", agency, ["partner"], DEMO_PASSWORD)
        key = pyotp.random_base32()
        user.tf_totp_secret = security._totp_factory._totp(key=key, format="base32").to_json(encrypt=True)
        user.tf_primary_method = "authenticator"
        user.mf_recovery_codes = ["fiktiv-reservkod-1"]  # saved at enrolment
        db.session.commit()
    server.accounts[email] = (DEMO_PASSWORD, key)
    return email
