"""On a phone-sized screen (375 x 740, and 390 px for the overview) nothing scrolls sideways; wide tables and
charts scroll inside their own box, and chart text is at least 12 px with a contrast of at least 4.5:1."""

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


#: Every visible SVG text's rendered size (font size x the chart's scale on screen) and its contrast against
#: what is behind it: its halo (a map label's area colour), else the page's white. Texts inside a box that
#: scrolls sideways count at their drawn size, as the person scrolls to them.
SVG_TEXT_PROBLEMS = """() => {
  const rgb = c => { const m = c.match(/\\d+(\\.\\d+)?/g); return m ? m.slice(0, 3).map(Number) : null; };
  const lum = ([r, g, b]) => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
                               return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const out = [];
  for (const t of document.querySelectorAll('svg text')) {
    const box = t.getBoundingClientRect();
    if (!box.width || !t.textContent.trim() || t.getAttribute('aria-hidden') === 'true') continue;  // a halo
    const m = t.getScreenCTM();
    const style = getComputedStyle(t);
    const px = parseFloat(style.fontSize) * Math.sqrt(Math.abs(m.a * m.d - m.b * m.c));
    // A label drawn over a halo (the same text in the background's colour, just before it) is read against it.
    const before = t.previousElementSibling;
    const behind = before && before.tagName === 'text' && before.getAttribute('aria-hidden') === 'true'
      ? getComputedStyle(before).stroke : style.stroke;
    const fill = rgb(style.fill), halo = behind && behind !== 'none' ? rgb(behind) : null;
    const contrast = fill ? ratio(fill, halo || [255, 255, 255]) : 0;
    if (px < 11.95 || contrast < 4.5)
      out.push(`${t.closest('svg').getAttribute('class')}: "${t.textContent.slice(0, 30)}" ${px.toFixed(1)} px, contrast ${contrast.toFixed(2)}`);
  }
  return out;
}"""

PHONE_390 = {"width": 390, "height": 844}


@pytest.mark.browser
def test_the_overview_and_process_pages_fit_a_390_px_phone_with_readable_charts(browser, live_server):
    context = browser.new_context(viewport=PHONE_390, locale="sv-SE")
    try:
        page = context.new_page()
        errors = PageErrors(page)
        log_in(page, live_server, live_server.phone_analyst)
        pages = ["/overview/", "/overview/period"]
        page.goto(live_server.url + "/yearly/")
        pages += page.eval_on_selector_all("main a[href*='/lagesbild']", "els => els.map(a => a.getAttribute('href'))")[:1]
        page.goto(live_server.url + "/processes/")
        pages += page.eval_on_selector_all(
            "main a[href^='/processes/']",
            "els => els.map(a => a.getAttribute('href')).filter(h => /^\\/processes\\/\\d+$/.test(h))")[:1]
        page.goto(live_server.url + "/interventions/")
        pages += page.eval_on_selector_all(
            "main a[href^='/interventions/']",
            "els => els.map(a => a.getAttribute('href')).filter(h => /^\\/interventions\\/\\d+$/.test(h))")[:1]
        assert len(pages) == 5, f"the demo lacks a year, a process or an intervention for this user: {pages}"
        pages[-1] += "/evaluation"
        charts = 0
        problems = []
        for path in pages:
            page.goto(live_server.url + path)
            assert page.locator("nav.mainnav").count(), f"{path}: not signed in"
            scroll_width, inner_width = horizontal_overflow(page)
            if scroll_width > PHONE_390["width"] + 1:
                problems.append(f"{path}: the page is {scroll_width} px wide on a {PHONE_390['width']} px screen")
            charts += page.locator("svg text").count()
            problems += [f"{path}: {p}" for p in page.evaluate(SVG_TEXT_PROBLEMS)]
        assert charts > 50, "the pages drew no chart text to check"
        assert not problems, "\n".join(problems)
        assert not errors.take()
    finally:
        context.close()
