"""Issue 18, as the analyst sees it: a municipality's own export with a category Lots does not know is mapped
once in the preview, each refused row shows what was refused, and the import runs. A reporter cannot reach it."""

from __future__ import annotations

import pytest

from tests.browser.conftest import IMPORT_ANALYST, IMPORT_REPORTER, PageErrors, log_in

EXPORT = "\n".join([
    "Ärendenr;Datum;Område;Kategori;Miljö;Beskrivning",
    "RTJ-1;24/11/2026 21:40;Centrum;Fordonsbrand;offentlig;Bil i brand på parkeringen",
    "RTJ-2;25.11.2026 02:10;Björkbacken;Fordonsbrand;offentlig;Moped i brand",
    "RTJ-3;26 nov 2026;Centrum;Klotter;offentlig;",
    "RTJ-4;27/11/2026 13:00;Månbasen;Klotter;offentlig;",
]) + "\n"


@pytest.mark.browser
def test_the_analyst_maps_an_unknown_category_once_and_sees_each_refused_value(browser, live_server):
    # The import runs inside the confirming request here (its background thread and progress polling are
    # tested in tests/overview/test_import_thread.py): what this test is about is the preview.
    sync = live_server.app.config.get("LOTS_IMPORT_SYNC")
    live_server.app.config["LOTS_IMPORT_SYNC"] = True
    context = browser.new_context(locale="sv-SE")
    try:
        page = context.new_page()
        errors = PageErrors(page)
        log_in(page, live_server, IMPORT_ANALYST[0])
        page.goto(live_server.url + "/reports/import")
        page.set_input_files("input[type=file]", files=[
            {"name": "raddningstjansten.csv", "mimeType": "text/csv", "buffer": EXPORT.encode("utf-8")}])
        page.select_option("select[name=organisation_id]", label="Polisen lokalpolisområde Norrvik (fiktiv)")
        with page.expect_navigation():
            page.click("main form button[type=submit]")

        mapping = page.locator("#categories")
        assert mapping.locator("tbody tr").count() == 1, "one unknown source category, listed once"
        assert "Fordonsbrand" in mapping.inner_text() and "2" in mapping.locator("tbody td").nth(1).inner_text()
        refused = page.locator("#invalid ~ .table-wrap table").first.inner_text()
        assert "Månbasen" in refused and "Okänt område" in refused
        assert "Fordonsbrand" in refused and "Okänd kategori" in refused
        assert "tid okänd" in page.locator("main").inner_text()  # "26 nov 2026" has no time

        page.select_option("#categories select", label="Brand, inklusive fordonsbrand")
        with page.expect_navigation():
            page.click("#categories button[type=submit]")
        assert "1 kategori mappades" in page.locator("main").inner_text()
        assert page.locator("#categories").count() == 0, "nothing left to map"
        assert "Månbasen" in page.locator("#invalid ~ .table-wrap table").first.inner_text()
        with page.expect_navigation():
            page.click("button:has-text('Importera 3 rader')")
        page.wait_for_selector(".alert-success", timeout=30000)
        assert "3 rader importerades" in page.locator(".alert-success").inner_text()

        # The mapping is remembered for that source and listed on the import page.
        page.goto(live_server.url + "/reports/import")
        assert "Fordonsbrand" in page.locator("#aliases").inner_text()
        assert not errors.take()
    finally:
        context.close()
        live_server.app.config["LOTS_IMPORT_SYNC"] = sync

    context = browser.new_context(locale="sv-SE")
    try:
        page = context.new_page()
        log_in(page, live_server, IMPORT_REPORTER[0])
        response = page.goto(live_server.url + "/reports/import")
        assert response.status == 403
        assert "Fordonsbrand" not in page.content()
    finally:
        context.close()
