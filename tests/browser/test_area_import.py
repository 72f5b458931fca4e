"""An administrator imports areas from GeoJSON; the week page's map then draws the new area."""

from __future__ import annotations

import re
from pathlib import Path

import pyotp
import pytest

from tests.browser.conftest import PageErrors, log_in

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "areas_sweref99tm.geojson"
ADMIN = ("admin-geo@norrvik.example.org", "Gerd Geodata", "Kommunens IT-avdelning (fiktiv)", ["admin"])
ANALYST = ("analytiker-geo@norrvik.example.org", "Anders Areal", "Kommunens IT-avdelning (fiktiv)", ["analyst"])


def _account(server, spec) -> str:
    """An account of this test's own (a TOTP code is accepted once per step per user, and others log in too)."""
    from sqlalchemy import select

    from app.admin import service as admin_service
    from app.admin.models import Agency
    from app.demo import DEMO_PASSWORD
    from app.extensions import db
    from app.security.models import User

    email, name, agency_name, roles = spec
    if email in server.accounts:
        return email
    with server.app.app_context():
        agency = db.session.scalar(select(Agency).where(Agency.name == agency_name))
        user = admin_service.create_user(email, name, agency, roles, DEMO_PASSWORD)
        key = pyotp.random_base32()
        totp = server.app.extensions["security"]._totp_factory
        user.tf_totp_secret = totp._totp(key=key, format="base32").to_json(encrypt=True)
        user.tf_primary_method = "authenticator"
        user.mf_recovery_codes = ["fiktiv-reservkod-1"]
        db.session.commit()
    server.accounts[email] = (DEMO_PASSWORD, key)
    return email


@pytest.mark.browser
def test_admin_imports_geojson_and_the_week_map_draws_it(browser, live_server, tmp_path):
    from app.overview.figures import last_complete_week

    live_server.app.config["AREA_IMPORT_DIR"] = str(tmp_path)
    admin, analyst = _account(live_server, ADMIN), _account(live_server, ANALYST)
    context = browser.new_context(locale="sv-SE")
    try:
        page = context.new_page()
        errors = PageErrors(page)
        log_in(page, live_server, admin)
        page.goto(live_server.url + "/admin/areas")
        with page.expect_navigation():
            page.click("a:has-text('Importera från GeoJSON')")
        page.set_input_files("input[name=file]", str(SAMPLE))
        with page.expect_navigation():
            page.click("main form button[type=submit]")
        text = page.inner_text("main")
        assert "Inget är ändrat ännu." in text and "2 områden skapas" in text, text[:600]
        assert "SWEREF 99 TM (EPSG:3006)" in text and "Södermalm (geo)" in text
        with page.expect_navigation():
            page.click("button:has-text('Importera områdena')")
        assert page.url.endswith("/admin/areas") and "Importen är klar: 2 nya områden" in page.inner_text("main")
        assert errors.take() == []
    finally:
        context.close()

    context = browser.new_context(locale="sv-SE")
    try:
        page = context.new_page()
        log_in(page, live_server, analyst)
        assert page.goto(live_server.url + "/admin/areas/import").status == 403  # no taxonomy permission
        year, week = last_complete_week()
        page.goto(f"{live_server.url}/overview/{year}/{week}")
        svg = page.inner_html("figure:has(svg.map)") if page.query_selector("figure:has(svg.map)") else \
            page.evaluate("() => document.querySelector('svg.map').outerHTML")
        assert "Södermalm (geo): 0" in svg and "Norrmalm (geo): 0" in svg
        assert len(re.findall(r'fill-rule="evenodd"', svg)) >= 3  # the demo areas and the two new ones
    finally:
        context.close()
