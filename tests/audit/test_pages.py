"""Auditor pages: search, the access report and its PDF; who may see them; bad input."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent, AuditHead
from app.security.audit import record
from app.web import local_datetime

OTHER_ROLES = ["coordinator", "partner", "process_leader", "reporter", "analyst", "admin"]
PAGES = ["/audit/events", "/audit/access?object_id=K-2026-0001", "/audit/access/export?object_id=K-2026-0001"]


def _case_reads(app, factory, code: str, *, email: str = None):
    """Two officers from two agencies read a case; returns them."""
    police = factory.user(roles=("partner",), kind="police", email=email)
    coordinator = factory.user(roles=("coordinator",))
    with app.test_request_context():
        record("case.read", object_type="case", object_id=code, field_sets=["case.summary"], actor=police)
        record("case.read", object_type="case", object_id=code, field_sets=["case.notes", "case.summary"],
               actor=coordinator, purpose="Uppföljningsmöte")
        record("case.read", object_type="case", object_id="K-OTHER-1", actor=coordinator)
    return police, coordinator


def _events_after(db, first_id):
    return list(db.scalars(select(AuditEvent).where(AuditEvent.id >= first_id).order_by(AuditEvent.id)))


# ---------------------------------------------------------------- who may open them


@pytest.mark.parametrize("role", OTHER_ROLES)
@pytest.mark.parametrize("url", PAGES)
def test_only_the_auditor_may_open_the_audit_pages(client, login_as, role, url):
    login_as(role)
    assert client.get(url).status_code == 403


def test_auditor_sees_the_audit_log_in_the_menu(client, login_as):
    login_as("auditor")
    page = client.get("/")
    assert 'href="/audit/events"' in page.text and "Granskningslogg" in page.text


def test_other_roles_do_not_see_the_audit_log_in_the_menu(client, login_as):
    login_as("admin")
    assert 'href="/audit/events"' not in client.get("/").text


# ---------------------------------------------------------------- search


def test_auditor_searches_by_case_code_and_sees_staff_names_agencies_and_times(app, db, client, login_as, factory):
    login_as("auditor")
    police, coordinator = _case_reads(app, factory, "K-2026-0042", email="petra.polis@example.org")
    resp = client.get("/audit/events?object_id=K-2026-0042")
    assert resp.status_code == 200
    assert resp.text.count("case:K-2026-0042") == 2
    assert "K-OTHER-1" not in resp.text
    assert police.agency.name in resp.text and coordinator.agency.name in resp.text
    assert "Uppföljningsmöte" in resp.text and "case.notes, case.summary" in resp.text
    # Staff by name (their identity is not the participant's personal data), never their e-mail address.
    assert "petra.polis" not in resp.text and police.full_name in resp.text


def test_search_shows_newest_first_in_stockholm_time(app, db, client, login_as, factory):
    login_as("auditor")
    _case_reads(app, factory, "K-2026-0043")
    resp = client.get("/audit/events?object_id=K-2026-0043")
    events = db.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_id == "K-2026-0043", AuditEvent.object_type == "case")
        .order_by(AuditEvent.id.desc())
    ).all()
    with app.test_request_context():
        shown = [local_datetime(e.occurred_at, "yyyy-MM-dd HH:mm:ss") for e in events]
    positions = [resp.text.index(f"<td>{e.id}</td>") for e in events]
    assert positions == sorted(positions), "newest event first"
    assert all(s in resp.text for s in shown)


def test_search_by_user_agency_action_outcome_and_period(app, db, client, login_as, factory):
    login_as("auditor")
    police, coordinator = _case_reads(app, factory, "K-2026-0044")
    today = date.today().isoformat()
    by_user = client.get(f"/audit/events?user_id={police.id}&action=case")
    assert by_user.status_code == 200 and "case:K-2026-0044" in by_user.text and "K-OTHER-1" not in by_user.text
    by_agency = client.get(f"/audit/events?agency_id={coordinator.agency_id}&action=case.read")
    assert "K-OTHER-1" in by_agency.text
    in_period = client.get(f"/audit/events?object_id=K-2026-0044&date_from={today}&date_to={today}")
    assert "case:K-2026-0044" in in_period.text
    before = client.get("/audit/events?object_id=K-2026-0044&date_from=2001-01-01&date_to=2001-12-31")
    assert before.status_code == 200 and "Inga händelser matchar sökningen." in before.text
    denied = client.get("/audit/events?object_id=K-2026-0044&outcome=denied")
    assert "Inga händelser matchar sökningen." in denied.text


def test_search_is_paginated(app, db, client, login_as):
    login_as("auditor")
    with app.app_context():
        for i in range(30):
            record("case.read", object_type="case", object_id="K-2026-PAGE", actor=None)
    first = client.get("/audit/events?object_id=K-2026-PAGE&action=case.read")
    second = client.get("/audit/events?object_id=K-2026-PAGE&action=case.read&page=2")
    assert first.text.count("case:K-2026-PAGE") == 25 and second.text.count("case:K-2026-PAGE") == 5
    assert "Sida 1 av 2" in first.text


def test_searching_the_log_is_itself_logged(app, db, client, login_as):
    auditor = login_as("auditor")
    first = db.scalar(select(AuditHead.seq)) + 1
    client.get("/audit/events?object_id=K-2026-0045&action=case")
    event = [e for e in _events_after(db, first) if e.action == "audit.search"][-1]
    assert event.actor_user_id == auditor.id
    assert event.object_id == "K-2026-0045"
    assert event.detail == '{"filters":"object_id,action"}'


@pytest.mark.parametrize(
    "query, message",
    [
        ("date_from=2026-13-45", "Ange ett datum som ÅÅÅÅ-MM-DD."),
        ("date_to=igår", "Ange ett datum som ÅÅÅÅ-MM-DD."),
        ("date_from=0001-01-01", "Ange ett datum mellan år 2000 och 2199."),
        ("date_to=9999-12-31", "Ange ett datum mellan år 2000 och 2199."),
        ("date_from=2026-05-02&date_to=2026-05-01", "Slutdatumet ligger före startdatumet."),
        ("object_id=" + "K" * 65, "Högst 64 tecken."),
        ("object_id=anna@example.org", "Ange ett id eller en ärendekod"),
        ("object_type=" + "x" * 33, "Högst 32 tecken."),
        ("user_id=987654321", "Det finns inget konto med id 987654321."),
        ("user_id=abc", "Ange ett positivt heltal."),
        ("user_id=-3", "Ange ett positivt heltal."),
        ("user_id=99999999999999999999", "Ange ett positivt heltal."),
        ("agency_id=abc", "Välj ett av alternativen i listan."),
        ("agency_id=987654", "Välj ett av alternativen i listan."),
        ("outcome=maybe", "Välj ett av alternativen i listan."),
        ("action=DROP%20TABLE", "Åtgärden får bara innehålla"),
    ],
)
def test_bad_search_input_gets_a_clear_message_and_no_500(client, login_as, query, message):
    login_as("auditor")
    resp = client.get("/audit/events?" + query)
    assert resp.status_code == 400
    assert resp.text.count(message) == 1
    assert "Sökningen kunde inte göras" in resp.text


def test_bad_page_number_falls_back_to_the_first_page(client, login_as):
    login_as("auditor")
    assert client.get("/audit/events?page=abc").status_code == 200
    assert client.get("/audit/events?page=-5").status_code == 200


# ---------------------------------------------------------------- who has accessed this object


def test_access_report_lists_each_actor_with_agency_counts_and_purpose(app, db, client, login_as, factory):
    login_as("auditor")
    police, coordinator = _case_reads(app, factory, "K-2026-0050", email="hugo.hemlig@example.org")
    resp = client.get("/audit/access?object_id=K-2026-0050&object_type=case")
    assert resp.status_code == 200
    assert police.agency.name in resp.text and coordinator.agency.name in resp.text
    assert f"{police.full_name} <small>(id {police.id})</small>" in resp.text
    assert f"{coordinator.full_name} <small>(id {coordinator.id})</small>" in resp.text
    assert "Uppföljningsmöte" in resp.text
    assert "K-OTHER-1" not in resp.text
    assert "hugo.hemlig" not in resp.text and police.full_name in resp.text
    assert "Exportera som PDF" in resp.text


def test_access_report_without_events_says_so(client, login_as):
    login_as("auditor")
    resp = client.get("/audit/access?object_id=K-NOBODY-1")
    assert resp.status_code == 200 and "Inga händelser finns för det här objektet." in resp.text


def test_access_report_form_alone_needs_no_object(client, login_as):
    login_as("auditor")
    assert client.get("/audit/access").status_code == 200


@pytest.mark.parametrize(
    "query, message",
    [
        ("object_id=", "Ange ärendekoden eller objektets id."),
        ("object_id=Anna%20Andersson", "Ange ett id eller en ärendekod"),
        ("object_id=" + "9" * 100, "Högst 64 tecken."),
        ("object_id=K-1&object_type=Case%20File", "Objekttypen får bara innehålla"),
    ],
)
def test_bad_report_input_gets_a_clear_message(client, login_as, query, message):
    login_as("auditor")
    resp = client.get("/audit/access?" + query)
    assert resp.status_code == 400 and message in resp.text


def test_access_report_exports_as_pdf_and_the_export_is_logged(app, db, client, login_as, factory):
    auditor = login_as("auditor")
    _case_reads(app, factory, "K-2026-0060")
    first = db.scalar(select(AuditHead.seq)) + 1
    resp = client.get("/audit/access/export?object_id=K-2026-0060&object_type=case")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/pdf"
    assert resp.data.startswith(b"%PDF")
    assert 'filename="atkomstrapport-K-2026-0060.pdf"' in resp.headers["Content-Disposition"]
    exports = [e for e in _events_after(db, first) if e.action == "audit.export"]
    assert len(exports) == 1
    assert exports[0].actor_user_id == auditor.id
    assert (exports[0].object_type, exports[0].object_id) == ("case", "K-2026-0060")
    assert exports[0].permission == "audit:export"
    assert exports[0].detail == '{"events":"2","format":"pdf"}'


def test_pdf_export_asks_for_the_password_again_when_the_login_is_not_fresh(app, db, client, login_as):
    import time

    login_as("auditor")
    first = db.scalar(select(AuditHead.seq)) + 1
    with client.session_transaction() as session:
        session["fs_paa"] = time.time() - 3600
        session.pop("fs_gexp", None)
    resp = client.get("/audit/access/export?object_id=K-2026-0061")
    assert resp.status_code == 302 and "/verify" in resp.headers["Location"]
    assert not [e for e in _events_after(db, first) if e.action == "audit.export"]


def test_pdf_export_with_bad_input_is_refused_without_a_pdf(client, login_as):
    login_as("auditor")
    resp = client.get("/audit/access/export?object_id=" + "x" * 80)
    assert resp.status_code == 400 and resp.headers["Content-Type"].startswith("text/html")


def test_pdf_fetcher_refuses_network_and_files_outside_static(app):
    from app.audit.pdf import LocalOnlyFetcher

    fetcher = LocalOnlyFetcher(app.static_folder)
    for url in ("http://example.org/x.css", "https://example.org/", "file:///etc/passwd", "ftp://example.org/x"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    response = fetcher.fetch("data:text/plain,hej")
    assert response.read() == b"hej"
    response.close()
    css = fetcher.fetch(f"file://{app.static_folder}/lots.css")
    assert b"--accent" in css.read()
    css.close()
