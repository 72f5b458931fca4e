"""Issue 15: case documents through the pages, gated like fields (kind = field set), audited, erased with the case."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.documents.models import Document, DocumentBlobChunk, DocumentKind, DocumentVersion
from tests.conftest import csrf_from, login


def make_pdf(text: str = "Fiktivt samtycke", author: str | None = None) -> bytes:
    from pypdf import PdfWriter
    from pypdf.generic import NameObject, StreamObject, DictionaryObject

    writer = PdfWriter()
    page = writer.add_blank_page(width=200, height=200)
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject(
        {NameObject("/F1"): writer._add_object(font)})})
    content = StreamObject()
    content.set_data(f"BT /F1 12 Tf 20 100 Td ({text}) Tj ET".encode("latin-1"))
    page[NameObject("/Contents")] = writer._add_object(content)
    if author:
        writer.add_metadata({"/Author": author, "/Creator": "Skanner 3000"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture()
def world(factory):
    coordinator = factory.user(roles=("coordinator",))
    police = factory.agency(kind="police")
    housing = factory.agency(kind="housing")
    officer = factory.user(roles=("partner",), agency=police)
    tenant_officer = factory.user(roles=("partner",), agency=housing)
    case = factory.case(coordinator, team=(police, housing),
                        consents=[(police, ["identity", "threat_assessment"], None, None)],
                        items=[{"part": "support", "responsible_agency": housing, "goal": "Fiktiv bostad"}])
    return {"coordinator": coordinator, "police": police, "housing": housing, "officer": officer,
            "tenant_officer": tenant_officer, "case": case}


def _upload(client, case, target, files, *, title="", kind="", strip=True, expect=303):
    page = client.get(f"/cases/{case.code}/documents/new")
    assert page.status_code == 200, page.text[:300]
    data = {"csrf_token": csrf_from(page.text), "target": target, "kind": kind, "title": title,
            "document_date": "", "files": [(io.BytesIO(body), name) for name, body in files]}
    if strip:
        data["strip_metadata"] = "y"
    response = client.post(f"/cases/{case.code}/documents/new", data=data, content_type="multipart/form-data")
    assert response.status_code == expect, response.text.split("document-upload", 1)[-1][:3000]
    return response


def _events(db, action):
    return db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


def test_coordinator_attaches_a_signed_consent_the_police_downloads_it_housing_does_not_see_it(client, app, db, world):
    case, consent = world["case"], world["case"].consents[0]
    login(client, world["coordinator"])
    body = make_pdf(author="Skannande Handläggare")
    _upload(client, case, f"consent:{consent.id}", [("samtycke_undertecknat.pdf", body)], title="Undertecknat samtycke")
    document = db.scalar(select(Document).where(Document.case_id == case.id))
    with app.app_context():  # the keyring, to read the title back
        assert document.kind is DocumentKind.CONSENT and document.title == "Undertecknat samtycke"
    version = document.current
    assert version.metadata_stripped and version.media_type == "application/pdf"
    listing = client.get(f"/cases/{case.code}/documents").text
    assert "Undertecknat samtycke" in listing

    police = app.test_client()
    login(police, world["officer"])
    page = police.get(f"/cases/{case.code}/documents")
    assert page.status_code == 200 and "Undertecknat samtycke" in page.text
    download = police.get(f"/cases/{case.code}/documents/{document.id}/v1")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in download.headers["Cache-Control"]
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(download.data))
    assert "Fiktivt samtycke" in reader.pages[0].extract_text()
    assert not (reader.metadata or {}).get("/Author"), "the scanner's name was stripped"
    assert _events(db, "document.downloaded") == 1

    housing = app.test_client()
    login(housing, world["tenant_officer"])
    page = housing.get(f"/cases/{case.code}/documents")
    assert page.status_code == 200 and "Undertecknat samtycke" not in page.text
    assert housing.get(f"/cases/{case.code}/documents/{document.id}").status_code == 404
    assert housing.get(f"/cases/{case.code}/documents/{document.id}/v1").status_code == 404


def test_withdrawing_the_consent_ends_the_police_access_on_the_next_request(client, app, db, world):
    from app.cases import records

    case, consent = world["case"], world["case"].consents[0]
    login(client, world["coordinator"])
    _upload(client, case, f"consent:{consent.id}", [("s.pdf", make_pdf())], title="Samtycke")
    document = db.scalar(select(Document).where(Document.case_id == case.id))
    police = app.test_client()
    login(police, world["officer"])
    assert police.get(f"/cases/{case.code}/documents/{document.id}/v1").status_code == 200
    with app.test_request_context():
        records.withdraw_consent(case, consent, world["coordinator"])
    db.flush()
    assert police.get(f"/cases/{case.code}/documents/{document.id}/v1").status_code == 404
    assert police.get(f"/cases/{case.code}/documents/{document.id}").status_code == 404
    assert "Inga dokument att visa" in police.get(f"/cases/{case.code}/documents").text


def test_bad_uploads_are_refused_each_with_its_reason_and_nothing_is_stored(client, db, world):
    case = world["case"]
    login(client, world["coordinator"])
    files = [("tom.pdf", b""), ("inte.pdf", b"<html><script>alert(1)</script></html>"),
             ("trasig.pdf", b"%PDF-1.7\n1 0 obj garbage")]
    response = _upload(client, case, "case:", files, kind="notes", expect=400)
    assert "Uppgifterna sparades inte" in response.text
    assert db.scalar(select(func.count()).select_from(Document)) == 0
    assert db.scalar(select(func.count()).select_from(DocumentBlobChunk)) == 0

    # A good file beside a bad one: the good one is stored, the bad one is named with its reason.
    response = _upload(client, case, "case:", [("bra.txt", "Fiktiv text\n".encode()), ("dålig.exe", b"MZ\x90\x00")],
                       kind="notes")
    assert db.scalar(select(func.count()).select_from(Document)) == 1
    page = client.get(response.headers["Location"]).text
    assert "Fil 1 av 2 är bifogad" in page and "Fil 2 av 2 sparades inte" in page and "bra.txt" not in page.split("<table")[0]

    # The same content again in the same case: refused, the existing document is named.
    _upload(client, case, "case:", [("igen.txt", "Fiktiv text\n".encode())], kind="notes", expect=400)
    assert db.scalar(select(func.count()).select_from(Document)) == 1


def test_forged_targets_kinds_and_other_cases_change_nothing(client, db, world, factory):
    case = world["case"]
    other = factory.case(world["coordinator"])
    login(client, world["coordinator"])
    for target, kind in ((f"consent:{other.id}", ""), ("plan_item:not-a-uuid", ""), ("case:", "secret"),
                         ("case:", ""), ("nonsense", "notes")):
        _upload(client, case, target, [("a.txt", b"Fiktiv")], kind=kind, expect=400)
    assert db.scalar(select(func.count()).select_from(Document)) == 0
    # A document of one case is not found under another case's code.
    _upload(client, case, "case:", [("a.txt", b"Fiktiv")], kind="notes")
    document = db.scalar(select(Document))
    assert client.get(f"/cases/{other.code}/documents/{document.id}").status_code == 404
    assert client.get(f"/cases/{case.code}/documents/not-a-uuid").status_code == 404


def test_a_partner_uploads_only_to_its_own_plan_item_and_reads_it_back(client, app, db, world):
    case = world["case"]
    item = case.plan_items[0]
    housing = app.test_client()
    login(housing, world["tenant_officer"])
    page = housing.get(f"/cases/{case.code}/documents/new")
    assert page.status_code == 200
    assert f"plan_item:{item.id}" in page.text and "case:" not in page.text.split('name="target"', 1)[1].split("</select>")[0]
    _upload(housing, case, f"plan_item:{item.id}", [("kontrakt.txt", "Fiktivt hyreskontrakt".encode())])
    document = db.scalar(select(Document))
    assert document.kind is DocumentKind.SUPPORT_PLAN and document.responsible_agency_id == world["housing"].id
    assert housing.get(f"/cases/{case.code}/documents/{document.id}/v1").data == "Fiktivt hyreskontrakt".encode()
    # Anything else is refused: the case itself, or a forged kind.
    _upload(housing, case, "case:", [("x.txt", b"x")], kind="notes", expect=400)
    police = app.test_client()
    login(police, world["officer"])
    assert police.get(f"/cases/{case.code}/documents/new").status_code == 403


def test_replace_keeps_the_old_version_remove_needs_a_reason_and_kind_change_is_audited(client, app, db, world):
    case = world["case"]
    login(client, world["coordinator"])
    _upload(client, case, "case:", [("v1.txt", b"Version ett")], kind="support_plan", title="Beslut")
    document = db.scalar(select(Document))
    page = client.get(f"/cases/{case.code}/documents/{document.id}")
    token = csrf_from(page.text)
    response = client.post(f"/cases/{case.code}/documents/{document.id}/replace", content_type="multipart/form-data",
                           data={"csrf_token": token, "file": (io.BytesIO(b"Version tva"), "v2.txt")})
    assert response.status_code == 303
    db.refresh(document)
    assert [v.number for v in document.versions] == [1, 2]
    assert client.get(f"/cases/{case.code}/documents/{document.id}/v1").data == b"Version ett"
    assert client.get(f"/cases/{case.code}/documents/{document.id}/v2").data == b"Version tva"

    response = client.post(f"/cases/{case.code}/documents/{document.id}/kind",
                           data={"csrf_token": token, "kind": "threat"})
    db.refresh(document)
    assert document.kind is DocumentKind.SUPPORT_PLAN, "no confirmation tick: nothing changed"
    client.post(f"/cases/{case.code}/documents/{document.id}/kind",
                data={"csrf_token": token, "kind": "threat", "confirmed": "y"})
    db.refresh(document)
    assert document.kind is DocumentKind.THREAT and _events(db, "document.reclassified") == 1

    remove = client.post(f"/cases/{case.code}/documents/{document.id}/remove",
                         data={"csrf_token": token, "reason": "", "confirmed": "y"})
    assert remove.status_code == 400 and "Ange varför" in remove.text
    client.post(f"/cases/{case.code}/documents/{document.id}/remove",
                data={"csrf_token": token, "reason": "Fel ärende", "confirmed": "y"})
    db.refresh(document)
    with app.app_context():
        assert document.is_removed and document.removed_reason == "Fel ärende"
    assert "Beslut" not in client.get(f"/cases/{case.code}/documents").text.split("<table", 1)[-1] \
        if "<table" in client.get(f"/cases/{case.code}/documents").text else True
    assert _events(db, "document.removed") == 1


def test_audit_events_name_the_document_and_kind_never_the_title(client, db, world):
    case = world["case"]
    login(client, world["coordinator"])
    _upload(client, case, "case:", [("hemligt-namn.txt", b"Fiktiv")], kind="identity", title="Pass för Hemlig Person")
    document = db.scalar(select(Document))
    client.get(f"/cases/{case.code}/documents/{document.id}")
    client.get(f"/cases/{case.code}/documents/{document.id}/v1")
    events = list(db.scalars(select(AuditEvent).where(AuditEvent.action.like("document.%"))))
    assert {e.action for e in events} >= {"document.uploaded", "document.previewed", "document.downloaded"}
    blob = " ".join(f"{e.detail} {e.object_id}" for e in events)
    assert "Hemlig" not in blob and "hemligt" not in blob and str(document.id) in blob


def test_erasing_the_case_leaves_no_readable_byte_of_its_files(client, app, db, world):
    from app.cases.models import CasePhase
    from app.cases.retention import erase_case
    from app.db import utcnow

    case = world["case"]
    login(client, world["coordinator"])
    marker = "KÄNT-TESTINNEHÅLL-4711 " * 50
    _upload(client, case, "case:", [("k.txt", marker.encode())], kind="notes")
    stored = b"".join(db.scalars(select(DocumentBlobChunk.data)))
    assert stored and b"4711" not in stored, "stored encrypted"
    case.phase, case.closed_at = CasePhase.CLOSED, utcnow() - timedelta(days=4000)
    db.flush()
    with app.test_request_context():
        erase_case(case)
    assert db.scalar(select(func.count()).select_from(DocumentBlobChunk)) == 0
    assert db.scalar(select(func.count()).select_from(Document)) == 0
    assert db.scalar(select(func.count()).select_from(DocumentVersion)) == 0


def test_roles_without_case_access_get_nothing(client, db, world, login_as):
    case = world["case"]
    login(client, world["coordinator"])
    _upload(client, case, "case:", [("a.txt", b"Fiktiv")], kind="notes")
    document = db.scalar(select(Document))
    for role in ("admin", "auditor", "analyst", "reporter", "process_leader"):
        login_as(role)
        for path in (f"/cases/{case.code}/documents", f"/cases/{case.code}/documents/{document.id}",
                     f"/cases/{case.code}/documents/{document.id}/v1", f"/cases/{case.code}/documents/new"):
            assert client.get(path).status_code in (403, 404), (role, path)


def test_a_partner_adds_to_its_plan_item_but_cannot_replace_remove_or_reclassify(client, app, db, world):
    case = world["case"]
    item = case.plan_items[0]
    housing = app.test_client()
    login(housing, world["tenant_officer"])
    _upload(housing, case, f"plan_item:{item.id}", [("intyg.txt", "Fiktivt intyg".encode())])
    document = db.scalar(select(Document))
    page = housing.get(f"/cases/{case.code}/documents/{document.id}")
    assert page.status_code == 200 and "Ersätt med en ny version" not in page.text and "Ta bort dokumentet" not in page.text
    token = csrf_from(page.text)
    assert housing.post(f"/cases/{case.code}/documents/{document.id}/replace", content_type="multipart/form-data",
                        data={"csrf_token": token, "file": (io.BytesIO(b"Annat"), "x.txt")}).status_code == 403
    assert housing.post(f"/cases/{case.code}/documents/{document.id}/remove",
                        data={"csrf_token": token, "reason": "x", "confirmed": "y"}).status_code == 403
    assert housing.post(f"/cases/{case.code}/documents/{document.id}/kind",
                        data={"csrf_token": token, "kind": "notes", "confirmed": "y"}).status_code == 403
    db.refresh(document)
    assert len(document.versions) == 1 and not document.is_removed and document.kind is DocumentKind.SUPPORT_PLAN
    # Once the coordinator removes it, the partner no longer finds it, not even with ?removed=1.
    login(client, world["coordinator"])
    token = csrf_from(client.get(f"/cases/{case.code}/documents/{document.id}").text)
    client.post(f"/cases/{case.code}/documents/{document.id}/remove",
                data={"csrf_token": token, "reason": "Fel fil", "confirmed": "y"})
    assert housing.get(f"/cases/{case.code}/documents/{document.id}/v1").status_code == 404
    assert "intyg" not in housing.get(f"/cases/{case.code}/documents?removed=1").text
    assert client.get(f"/cases/{case.code}/documents/{document.id}/v1").status_code == 200


def test_metadata_kept_on_upload_is_shown_to_the_coordinator_and_can_be_stripped_in_place(client, app, db, world):
    case = world["case"]
    login(client, world["coordinator"])
    _upload(client, case, "case:", [("beslut.pdf", make_pdf(author="Skannande Handläggare"))], kind="support_plan",
            title="Beslut", strip=False)
    document = db.scalar(select(Document))
    version = document.current
    assert not version.metadata_stripped
    page = client.get(f"/cases/{case.code}/documents/{document.id}")
    assert "Metadata i PDF-filen" in page.text and "Skannande Handläggare" in page.text
    old_blob = version.blob_id
    token = csrf_from(page.text)
    # Without the tick nothing changes.
    client.post(f"/cases/{case.code}/documents/{document.id}/strip", data={"csrf_token": token})
    db.refresh(version)
    assert not version.metadata_stripped and version.blob_id == old_blob
    response = client.post(f"/cases/{case.code}/documents/{document.id}/strip",
                           data={"csrf_token": token, "confirmed": "y"})
    assert response.status_code == 303
    db.refresh(version)
    assert version.metadata_stripped and version.number == 1 and version.blob_id != old_blob
    assert db.scalar(select(func.count()).select_from(DocumentBlobChunk).where(DocumentBlobChunk.blob_id == old_blob)) == 0
    data = client.get(f"/cases/{case.code}/documents/{document.id}/v1").data
    assert b"Skannande" not in data and data.startswith(b"%PDF")
    assert "Skannande" not in client.get(f"/cases/{case.code}/documents/{document.id}").text
    assert _events(db, "document.metadata_stripped") == 1
    # A second time there is nothing to strip; a partner may not strip at all.
    again = client.post(f"/cases/{case.code}/documents/{document.id}/strip", data={"csrf_token": token, "confirmed": "y"},
                        follow_redirects=True)
    assert "ingen metadata att ta bort" in again.text
    police = app.test_client()
    login(police, world["officer"])
    police_token = csrf_from(police.get("/").text)
    assert police.post(f"/cases/{case.code}/documents/{document.id}/strip",
                       data={"csrf_token": police_token, "confirmed": "y"}).status_code in (403, 404)
