"""The auditor's "who looked at this person": staff by name and agency, a start from a personal identity
number (POST), the rules in plain words from policies/, and an export for a subject-access request."""

from __future__ import annotations

import ast
from pathlib import Path

from sqlalchemy import select

from app.audit.models import AuditEvent
from tests.conftest import csrf_from, fake_personal_number, sign_in


def _world(factory):
    number = fake_personal_number()
    police = factory.agency(name="Polisen Granskad", kind="police")
    coordinator = factory.user(roles=("coordinator",), kind="social_services")
    coordinator.full_name = "Sanna Samordnarsson"
    officer = factory.user(roles=("partner",), agency=police)
    officer.full_name = "Pelle Polisson"
    case = factory.case(coordinator, participant=factory.participant(personal_number=number, last_name="Hemligsson"),
                        team=[police], consents=[(police, {"identity"}, None, None)])
    other = factory.case(factory.user(roles=("coordinator",)))  # another person's case
    return number, case, other, coordinator, officer


def _search(client, number):
    page = client.get("/audit/subject")
    return client.post("/audit/subject", data={"personal_number": number, "csrf_token": csrf_from(page.text)})


def test_the_auditor_starts_from_a_number_and_sees_who_looked_by_name_and_agency_in_plain_words(
        app, client, db, factory):
    number, case, other, coordinator, officer = _world(factory)
    reader = app.test_client()
    sign_in(reader, officer)
    assert reader.get(f"/cases/{case.code}").status_code == 200
    sign_in(client, factory.user(roles=("auditor",), kind="other"))
    resp = _search(client, number)
    assert resp.status_code == 200
    assert case.code in resp.text and other.code not in resp.text
    assert "Pelle Polisson" in resp.text and "Polisen Granskad" in resp.text
    assert "Handläggare hos partnermyndighet (alla myndigheter) får öppna ärendet när myndigheten ingår i " \
           "ärendets team." in resp.text
    assert "Hemligsson" not in resp.text and number not in resp.text and number[2:8] not in resp.text
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "audit.subject_search")).all()
    assert case.code in event.detail and number not in event.detail


def test_the_export_lists_only_the_persons_cases_and_needs_a_fresh_password(app, client, db, factory):
    import subprocess
    import tempfile

    number, case, other, coordinator, officer = _world(factory)
    reader = app.test_client()
    sign_in(reader, officer)
    reader.get(f"/cases/{case.code}")
    other_reader = app.test_client()
    sign_in(other_reader, other.coordinator)
    other_reader.get(f"/cases/{other.code}")
    auditor = factory.user(roles=("auditor",), kind="other")
    sign_in(client, auditor)
    _search(client, number)
    with client.session_transaction() as sess:
        sess["fs_paa"] -= 3600
    assert "/verify" in client.get("/audit/subject/export").headers["Location"]
    sign_in(client, auditor)
    _search(client, number)
    pdf = client.get("/audit/subject/export")
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(pdf.data)
        handle.flush()
        text = subprocess.run(["pdftotext", "-layout", handle.name, "-"], capture_output=True, text=True).stdout
    assert case.code in text and "Pelle Polisson" in text and "personens identitet" in text
    assert other.code not in text and other.coordinator.full_name not in text
    assert "Hemligsson" not in text
    assert db.scalars(select(AuditEvent).where(AuditEvent.action == "audit.subject_export")).all()


def test_the_subject_search_is_refused_to_everyone_else(client, db, factory):
    number, *_ = _world(factory)
    for role in ("coordinator", "partner", "admin", "analyst"):
        sign_in(client, factory.user(roles=(role,), kind="police" if role == "partner" else "social_services"))
        token = csrf_from(client.get("/").text)
        assert client.post("/audit/subject", data={"personal_number": number, "csrf_token": token}
                           ).status_code == 403, role
        assert client.get("/audit/subject/export").status_code == 403, role


def test_every_word_of_the_policy_has_a_plain_language_line(app):
    from app.security.plain_rules import missing_words

    assert missing_words(app.extensions["lots_gate"]) == []


def test_the_audit_pages_import_no_domain():
    """Labels from every domain come through app/labels.py: the audit package imports none of them."""
    for path in (Path(__file__).resolve().parents[2] / "app" / "audit").glob("*.py"):
        tree = ast.parse(path.read_text())
        top = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
        names = [n.module for n in top if isinstance(n, ast.ImportFrom) and n.module] + \
            [a.name for n in top if isinstance(n, ast.Import) for a in n.names]
        assert not [n for n in names if n.startswith(("app.overview", "app.processes"))], (path.name, names)
