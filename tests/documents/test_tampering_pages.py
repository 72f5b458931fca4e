"""Issue 15 through the pages: tampered chunks, crypto-shredding by the retention run, bad and interrupted uploads,
duplicates, forged forms and replays after removal. Every refusal stores nothing and changes nothing."""

from __future__ import annotations

import io
import os
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.audit.models import AuditEvent
from app.documents.models import Document, DocumentBlobChunk, DocumentKind, DocumentVersion
from tests.conftest import csrf_from, login
from tests.documents.test_documents import _upload, make_pdf, world  # noqa: F401 - the fixture

CHUNK = 256 * 1024


def _noise_png(seed: int) -> bytes:
    """A valid PNG of random pixels, just over two chunks (so a chunk can be moved within it)."""
    import random

    from PIL import Image

    rng = random.Random(seed)
    image = Image.frombytes("RGB", (440, 440), rng.randbytes(440 * 440 * 3))
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=0)
    data = out.getvalue()
    assert len(data) > 2 * CHUNK
    return data


def _count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def _only(db) -> Document:
    return db.scalar(select(Document).order_by(Document.created_at.desc()).limit(1))


# ------------------------------------------------------------------ tampering


def _two_images(client, db, world):
    case = world["case"]
    login(client, world["coordinator"])
    _upload(client, case, "case:", [("a.png", _noise_png(1))], kind="threat", title="Bild A")
    _upload(client, case, "case:", [("b.png", _noise_png(2))], kind="threat", title="Bild B")
    docs = list(db.scalars(select(Document).order_by(Document.created_at)))
    assert len(docs) == 2 and all(d.current.chunk_count == 3 for d in docs)
    for d in docs:  # untampered: downloads and previews work
        assert client.get(f"/cases/{case.code}/documents/{d.id}/v1").status_code == 200
    return case, docs


def _flip(db, blob_id):
    data = db.scalar(select(DocumentBlobChunk.data).where(DocumentBlobChunk.blob_id == blob_id,
                                                          DocumentBlobChunk.idx == 1))
    data = bytearray(data)
    data[100] ^= 0x01
    db.execute(update(DocumentBlobChunk).where(DocumentBlobChunk.blob_id == blob_id, DocumentBlobChunk.idx == 1)
               .values(data=bytes(data)))


def _swap_between(db, blob_a, blob_b):
    get = lambda blob: db.scalar(select(DocumentBlobChunk.data).where(  # noqa: E731
        DocumentBlobChunk.blob_id == blob, DocumentBlobChunk.idx == 0))
    a, b = get(blob_a), get(blob_b)
    for blob, data in ((blob_a, b), (blob_b, a)):
        db.execute(update(DocumentBlobChunk).where(DocumentBlobChunk.blob_id == blob, DocumentBlobChunk.idx == 0)
                   .values(data=data))


def _move_within(db, blob_id):
    rows = DocumentBlobChunk.blob_id == blob_id
    db.execute(update(DocumentBlobChunk).where(rows, DocumentBlobChunk.idx == 0).values(idx=-1))
    db.execute(update(DocumentBlobChunk).where(rows, DocumentBlobChunk.idx == 1).values(idx=0))
    db.execute(update(DocumentBlobChunk).where(rows, DocumentBlobChunk.idx == -1).values(idx=1))


@pytest.mark.parametrize("tamper", ["flipped_byte", "swapped_between_documents", "moved_within_document"])
def test_a_tampered_file_is_refused_by_the_download_and_the_page_still_shows(client, db, world, tamper):
    case, (first, second) = _two_images(client, db, world)
    if tamper == "flipped_byte":
        _flip(db, first.current.blob_id)
        damaged = [first]
    elif tamper == "swapped_between_documents":
        _swap_between(db, first.current.blob_id, second.current.blob_id)
        damaged = [first, second]
    else:
        _move_within(db, first.current.blob_id)
        damaged = [first]
    db.flush()
    db.expire_all()
    for document in damaged:
        download = client.get(f"/cases/{case.code}/documents/{document.id}/v1")
        assert download.status_code == 409
        assert download.mimetype == "text/html" and "Content-Disposition" not in download.headers
        assert b"\x89PNG" not in download.data and b"IDAT" not in download.data, "no byte of the file is sent"
        assert "Dokumentet kunde inte läsas" in download.text
        page = client.get(f"/cases/{case.code}/documents/{document.id}")
        assert page.status_code == 200, page.status_code
        assert 'src="data:image/png' not in page.text
        assert "Den lagrade filen är skadad eller har ändrats" in page.text
    if tamper != "swapped_between_documents":
        assert client.get(f"/cases/{case.code}/documents/{second.id}/v1").status_code == 200, "the other is intact"


# ------------------------------------------------------------------ crypto-shredding


def _dump(db) -> bytes:
    """Every row of every table, as the test's own connection sees it (uncommitted rows included), plus on
    SQLite the database's own SQL dump."""
    from sqlalchemy import inspect as sa_inspect
    from sqlalchemy import table, text

    connection = db.connection()
    parts: list[bytes] = []
    for name in sa_inspect(connection).get_table_names():
        for row in connection.execute(select(text("*")).select_from(table(name))):
            for value in row:
                if isinstance(value, (bytes, bytearray, memoryview)):
                    parts.append(bytes(value))
                elif value is not None:
                    parts.append(str(value).encode())
    raw = connection.connection.driver_connection
    if connection.dialect.name == "sqlite":
        parts.append("\n".join(raw.iterdump()).encode())
    return b"\n".join(parts)


def test_retention_run_shreds_every_stored_byte_of_a_file(app, client, db, world, monkeypatch):
    from app.cases.models import CasePhase
    from app.db import utcnow
    from app.security.crypto.models import DataKey

    case = world["case"]
    marker = "LOTS-MARKOR-7f3a9c KÄNT TESTINNEHÅLL"
    login(client, world["coordinator"])
    _upload(client, case, "case:", [("markor-7f3a9c.txt", (marker + "\n").encode() * 40)], kind="notes",
            title="Titel LOTS-MARKOR-7f3a9c")
    version = db.scalar(select(DocumentVersion))
    blob_id, key_id, code = version.blob_id, case.participant.data_key_id, case.code
    stored = db.scalar(select(DocumentBlobChunk.data).where(DocumentBlobChunk.blob_id == blob_id))
    needles = [marker.encode(), "LOTS-MARKOR-7f3a9c".encode(), "KÄNT TESTINNEHÅLL".encode("utf-8"),
               "KÄNT TESTINNEHÅLL".encode("latin-1"), b"7f3a9c"]
    before = _dump(db)
    # The dump sees the data: the case's code and the chunk's ciphertext are in it, the plaintext never was.
    assert code.encode() in before and (bytes(stored) in before or bytes(stored).hex().encode() in before.lower())
    assert not any(n in before for n in needles), "the file and its title are stored encrypted"

    case.phase, case.closed_at = CasePhase.CLOSED, utcnow() - timedelta(days=4000)
    monkeypatch.setitem(app.config, "LOTS_RETENTION_DAYS", 30)
    db.commit()
    result = app.test_cli_runner().invoke(args=["retention", "run", "--yes"])
    assert result.exit_code == 0 and f"erased {code}" in result.output, result.output
    db.expire_all()

    assert _count(db, Document) == _count(db, DocumentVersion) == 0
    assert db.scalar(select(func.count()).select_from(DocumentBlobChunk)
                     .where(DocumentBlobChunk.blob_id == blob_id)) == 0
    key = db.get(DataKey, key_id)
    assert key is None or key.destroyed_at is not None, "the data key that could decrypt a copy is gone"
    after = _dump(db)
    assert bytes(stored) not in after and bytes(stored).hex().encode() not in after.lower()
    assert not any(n in after for n in needles)
    if db.connection().dialect.name == "sqlite":
        path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
        raw = b"".join(open(p, "rb").read() for p in (path, path + "-journal", path + "-wal") if os.path.exists(p))
        assert raw and not any(n in raw for n in needles)


# ------------------------------------------------------------------ bad input through the page


def _nothing_stored(db):
    assert _count(db, Document) == _count(db, DocumentVersion) == _count(db, DocumentBlobChunk) == 0


def _multipart(token: str, body: bytes, boundary="lotsboundary") -> bytes:
    fields = {"csrf_token": token, "target": "case:", "kind": "notes", "title": "Avbruten", "document_date": ""}
    out = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                   for k, v in fields.items())
    out += (f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="stor.txt"\r\n'
            "Content-Type: text/plain\r\n\r\n").encode() + body + f"\r\n--{boundary}--\r\n".encode()
    return out


class _Breaks(io.RawIOBase):
    """A request body that fails after ``limit`` bytes, as a connection that drops does."""

    def __init__(self, data: bytes, limit: int):
        self.data, self.limit, self.pos = data, limit, 0

    def readable(self):
        return True

    def readinto(self, buffer):
        if self.pos >= self.limit:
            raise OSError("connection reset by peer")
        n = min(len(buffer), self.limit - self.pos)
        buffer[:n] = self.data[self.pos:self.pos + n]
        self.pos += n
        return n


@pytest.mark.parametrize("how", ["short_body", "stream_raises"])
def test_an_interrupted_upload_leaves_nothing_behind(client, db, world, how):
    case = world["case"]
    login(client, world["coordinator"])
    token = csrf_from(client.get(f"/cases/{case.code}/documents/new").text)
    body = _multipart(token, ("Fiktiv rad i en stor fil\n" * 40_000).encode())
    cut = len(body) // 2
    stream = io.BytesIO(body[:cut]) if how == "short_body" else io.BufferedReader(_Breaks(body, cut))
    try:
        response = client.post(f"/cases/{case.code}/documents/new", input_stream=stream,
                               content_type="multipart/form-data; boundary=lotsboundary",
                               environ_overrides={"CONTENT_LENGTH": str(len(body))})
    except OSError:
        response = None  # the server saw the connection drop: there is no one to answer
    assert response is None or response.status_code in (400, 413), response.status_code
    _nothing_stored(db)


def test_a_zip_bomb_and_a_disguised_pdf_are_refused_with_their_message_and_store_nothing(client, db, world):
    from tests.documents.test_inspect import deflated_zeros, docx_with_document

    data, crc = deflated_zeros(200)
    case = world["case"]
    login(client, world["coordinator"])
    not_a_pdf = "Filen är inte en giltig PDF"
    for name, body, message in (
            ("beslut.docx", docx_with_document(data, 200 * 1024 * 1024, crc), "Dokumentet packas upp till mer än"),
            ("samtycke.pdf", b"MZ\x90\x00\x03\x00\x00\x00" * 64, not_a_pdf),  # a program
            ("samtycke.pdf", b"<html><script>alert(1)</script></html>", not_a_pdf),
            ("samtycke.pdf", _noise_png(3)[:4000], "Bilden är skadad")):  # a cut image, named as a PDF
        response = _upload(client, case, "case:", [(name, body)], kind="identity", expect=400)
        assert "Uppgifterna sparades inte" in response.text and message in response.text, name
        _nothing_stored(db)


def test_the_same_content_twice_is_refused_and_the_message_links_the_existing_document(client, app, db, world):
    case = world["case"]
    login(client, world["coordinator"])
    _upload(client, case, "case:", [("beslut.txt", b"Fiktivt beslut\n")], kind="support_plan", title="Beslut om stöd")
    existing = db.scalar(select(Document))
    response = _upload(client, case, "case:", [("kopia.txt", b"Fiktivt beslut\n")], kind="notes", expect=400)
    assert "Samma fil finns redan" in response.text
    assert f'href="/cases/{case.code}/documents/{existing.id}"' in response.text and "Beslut om stöd" in response.text
    assert _count(db, Document) == _count(db, DocumentVersion) == 1
    # A duplicate beside a new file: the new one is stored, the duplicate is refused in the message after the
    # redirect (a flash travels in the session cookie, so it never carries the existing document's title).
    response = _upload(client, case, "case:", [("ny.txt", b"Ny fiktiv text\n"), ("kopia.txt", b"Fiktivt beslut\n")],
                       kind="notes")
    with client.session_transaction() as session:
        flashes = " ".join(message for _category, message in session.get("_flashes", []))
    assert "Fil 2 av 2 sparades inte" in flashes and "Samma fil finns redan" in flashes
    assert "Fil 1 av 2 är bifogad" in flashes
    assert "Beslut om stöd" not in flashes and "kopia" not in flashes and "ny.txt" not in flashes, "no names in the cookie"
    assert _count(db, Document) == 2

    # Someone who may not read the existing document is not told its title (the refusal stays).
    housing = app.test_client()
    login(housing, world["tenant_officer"])
    item = case.plan_items[0]
    response = _upload(housing, case, f"plan_item:{item.id}", [("kontrakt.txt", b"Fiktivt beslut\n")], expect=400)
    assert "Samma fil finns redan" in response.text
    assert "Beslut om stöd" not in response.text and str(existing.id) not in response.text
    assert _count(db, Document) == 2


# ------------------------------------------------------------------ forged and replayed forms


def _doc_events(db) -> int:
    return db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action.in_(
        ("document.uploaded", "document.replaced", "document.removed", "document.reclassified"))))


def test_forged_targets_and_kinds_never_attach_elsewhere_or_change_the_kind(client, db, world, factory):
    case = world["case"]
    police = world["police"]
    other = factory.case(world["coordinator"], team=[police], consents=[(police, ["identity"], None, None)])
    login(client, world["coordinator"])
    # Another case's real consent id: not a target of this case.
    _upload(client, case, f"consent:{other.consents[0].id}", [("a.txt", b"Fiktiv A")], expect=400)
    _upload(client, other, f"consent:{case.consents[0].id}", [("a.txt", b"Fiktiv A")], expect=400)
    _nothing_stored(db)
    # A forged kind on a consent (fixed kind): ignored.
    _upload(client, case, f"consent:{case.consents[0].id}", [("b.txt", b"Fiktiv B")], kind="notes")
    assert _only(db).kind is DocumentKind.CONSENT
    # On a plan item (kind from its part), also from the partner it is assigned to.
    housing = client.application.test_client()
    login(housing, world["tenant_officer"])
    _upload(housing, case, f"plan_item:{case.plan_items[0].id}", [("c.txt", b"Fiktiv C")], kind="identity")
    assert _only(db).kind is DocumentKind.SUPPORT_PLAN
    # A plan version offers the two plan kinds only.
    from app.cases.models import PlanVersion

    with client.application.app_context():
        version = PlanVersion(data_key=case.participant.data_key, case=case, number=1, snapshot="[]",
                              changes="Fiktiv")
        db.add(version)
        db.flush()
    _upload(client, case, f"plan_version:{version.id}", [("d.txt", b"Fiktiv D")], kind="notes", expect=400)
    assert _count(db, Document) == 2


def test_a_form_replayed_after_the_document_was_removed_is_refused_and_changes_nothing(client, app, db, world):
    case = world["case"]
    login(client, world["coordinator"])
    _upload(client, case, "case:", [("v1.txt", b"Fiktiv version ett")], kind="support_plan", title="Beslut")
    document = db.scalar(select(Document))
    base = f"/cases/{case.code}/documents/{document.id}"
    token = csrf_from(client.get(base).text)
    removed = client.post(f"{base}/remove", data={"csrf_token": token, "reason": "Fel ärende", "confirmed": "y"})
    assert removed.status_code == 303
    events = _doc_events(db)
    replays = {
        "replace": dict(data={"csrf_token": token, "file": (io.BytesIO(b"Fiktiv version tva"), "v2.txt")},
                        content_type="multipart/form-data"),
        "remove": dict(data={"csrf_token": token, "reason": "Igen", "confirmed": "y"}),
        "kind": dict(data={"csrf_token": token, "kind": "threat", "confirmed": "y"}),
    }
    for action, kwargs in replays.items():
        response = client.post(f"{base}/{action}", **kwargs)
        assert response.status_code in (403, 404, 409), (action, response.status_code)
    db.expire_all()
    document = db.get(Document, document.id)
    assert [v.number for v in document.versions] == [1] and document.kind is DocumentKind.SUPPORT_PLAN
    with app.app_context():
        assert document.removed_reason == "Fel ärende"
    assert _count(db, DocumentVersion) == 1 and _doc_events(db) == events
