"""Issue 15 in Chromium: the coordinator attaches a signed consent form to a consent (the upload shows its
progress), the police officer, whose agency that consent covers, downloads it; the housing officer on the same
team does not see it at all."""

from __future__ import annotations

import io

import pytest

from tests.browser.conftest import PageErrors
from tests.browser.test_case_journeys import _case, _log_in, _make


def _signed_consent_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=300, height=300)
    writer.add_metadata({"/Author": "Skannande Handläggare", "/Creator": "Skanner 3000"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.browser
def test_a_signed_consent_reaches_the_police_and_not_housing(browser, live_server, tmp_path):
    coordinator = _make(live_server, ["coordinator"], "social_services", "Dora Samordnare")
    police = _make(live_server, ["partner"], "police", "Pelle Polis")
    housing = _make(live_server, ["partner"], "housing", "Hanna Bostad")
    code, _number = _case(live_server, coordinator, team=[police, housing],
                          consents=[(police, ["identity", "threat_assessment"]), (housing, ["protection_plan"])])
    pdf = tmp_path / "samtycke-undertecknat.pdf"
    pdf.write_bytes(_signed_consent_pdf())

    context = browser.new_context(locale="sv-SE", accept_downloads=True)
    try:
        page = context.new_page()
        errors = PageErrors(page)
        _log_in(page, live_server, coordinator)
        page.goto(f"{live_server.url}/cases/{code}/documents")
        page.click("a:has-text('Bifoga dokument')")
        target = page.locator("select[name=target] option", has_text="Samtycke till").first.get_attribute("value")
        page.select_option("select[name=target]", target)
        page.set_input_files("input[name=files]", str(pdf))
        page.fill("input[name=title]", "Undertecknat samtycke till polisen")
        page.click("#document-upload button[type=submit]")
        page.wait_for_selector("text=är bifogad", timeout=15000)
        main = page.inner_text("main")
        assert "Metadata som togs bort" in main and "Author" in main
        assert "Undertecknat samtycke till polisen" in main
        assert not errors.take()
    finally:
        context.close()

    context = browser.new_context(locale="sv-SE", accept_downloads=True)
    try:
        page = context.new_page()
        _log_in(page, live_server, police)
        page.goto(f"{live_server.url}/cases/{code}/documents")
        page.click("a:has-text('Undertecknat samtycke till polisen')")
        assert page.locator(".doc-previews img").count() >= 1, "a server-rendered preview of the first page"
        with page.expect_download() as download:
            page.click("a:has-text('Hämta version 1')")
        path = download.value.path()
        data = open(path, "rb").read()
        assert data.startswith(b"%PDF") and b"Skannande" not in data
        assert download.value.suggested_filename.endswith(".pdf")
    finally:
        context.close()

    context = browser.new_context(locale="sv-SE")
    try:
        page = context.new_page()
        _log_in(page, live_server, housing)
        page.goto(f"{live_server.url}/cases/{code}/documents")
        assert "Undertecknat samtycke" not in page.inner_text("main")
        assert "Inga dokument att visa" in page.inner_text("main")
    finally:
        context.close()
