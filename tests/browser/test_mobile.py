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
    finally:
        context.close()
