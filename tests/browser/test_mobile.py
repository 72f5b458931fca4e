"""On a phone-sized screen (375 x 740) nothing scrolls sideways."""

from __future__ import annotations

import pytest

from tests.browser.conftest import PageErrors, horizontal_overflow, log_in

PHONE = {"width": 375, "height": 740}


def _assert_fits(page, what: str) -> None:
    scroll_width, inner_width = horizontal_overflow(page)
    assert scroll_width <= inner_width + 1, (
        f"{what} overflows horizontally on a {PHONE['width']} px wide screen: "
        f"scrollWidth {scroll_width} > innerWidth {inner_width}"
    )


@pytest.mark.browser
def test_login_and_start_page_fit_a_phone(browser, live_server):
    context = browser.new_context(viewport=PHONE, locale="sv-SE")
    try:
        page = context.new_page()
        errors = PageErrors(page)
        page.goto(live_server.url + live_server.paths["login"])
        _assert_fits(page, "the login page")

        log_in(page, live_server, live_server.phone_user)
        _assert_fits(page, "the start page")
        assert not errors.take()

        # The phone user is a reporter: file an incident the way they would after a shift.
        page.goto(live_server.url + "/reports/new")
        _assert_fits(page, "the report form")
        page.select_option("select[name='incidents-0-area_id']", index=1)
        page.select_option("select[name='incidents-0-category_id']", index=1)
        page.check("input[name='incidents-0-setting'] >> nth=0")
        page.fill("textarea[name='incidents-0-description']", "Krossad busskurets ruta, glas på marken.")
        with page.expect_navigation():
            page.click("button[type=submit][value=submit]:not(.visually-hidden)")
        assert "/reports/new" not in page.url, page.content()[:2000]
        _assert_fits(page, "the page after filing")
        assert page.url.endswith("/reports/mine"), page.url
        assert page.locator("ul.report-list li").count() == 1, "the filed report is listed as the reporter's own"
        assert page.locator("[role=alert], .flash, .alert").count() >= 1, "a confirmation is shown"
        assert not errors.take()
    finally:
        context.close()
