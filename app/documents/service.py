"""Case documents: attach, replace, remove, reclassify, list and read, behind the same policy as fields.

A document's kind is a field set ``document.<kind>`` (policies/): reading a document (its title in a list,
a download, a preview) needs ``fieldset.read`` of its kind for the case, writing needs ``fieldset.write``.
The kind follows what the document is attached to (``KIND_OF``); a document attached to the case itself or
to a plan version gets the kind the coordinator chooses. Files are inspected (app/documents/inspect.py),
encrypted in chunks with the participant's data key (crypto.py) and kept by the blob store (storage.py).
Every change is an audit event naming the document and its kind, never its title or content.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.cases.models import Case, CaseMeeting, CaseNote, Consent, PlanItem, PlanPart, PlanVersion, ThreatAssessment
from app.db import db, utcnow
from app.documents.models import AttachedTo, Document, DocumentKind, DocumentVersion
from app.security import audit

#: Upload limit per file (LOTS_DOCUMENT_MAX_MB).
DEFAULT_MAX_MB = 25
MAX_TITLE = 200
MAX_REASON = 1000
#: The record each attachment point loads (by id, within the case).
TARGETS = {
    AttachedTo.CONSENT: Consent,
    AttachedTo.THREAT: ThreatAssessment,
    AttachedTo.PLAN_VERSION: PlanVersion,
    AttachedTo.PLAN_ITEM: PlanItem,
    AttachedTo.NOTE: CaseNote,
    AttachedTo.MEETING: CaseMeeting,
}
#: The kind a document gets from what it is attached to (None: chosen from CHOOSABLE).
KIND_OF = {
    AttachedTo.CONSENT: DocumentKind.CONSENT,
    AttachedTo.THREAT: DocumentKind.THREAT,
    AttachedTo.NOTE: DocumentKind.NOTES,
    AttachedTo.MEETING: DocumentKind.NOTES,
    AttachedTo.PLAN_VERSION: None,
    AttachedTo.PLAN_ITEM: None,  # the item's part
    AttachedTo.CASE: None,
}
CHOOSABLE = {
    AttachedTo.CASE: tuple(DocumentKind),
    AttachedTo.PLAN_VERSION: (DocumentKind.PROTECTION_PLAN, DocumentKind.SUPPORT_PLAN),
}


class DocumentError(ValueError):
    """A refused document operation; the message is safe to show (no title or content)."""


@dataclass
class Duplicate(DocumentError):
    """The same content is already a document of this case."""

    document: Document

    def __str__(self) -> str:
        return str(_l("Samma fil finns redan i ärendet."))


def max_bytes() -> int:
    return int(current_app.config.get("LOTS_DOCUMENT_MAX_MB", DEFAULT_MAX_MB)) * 1024 * 1024


def load_target(case: Case, attached_to: AttachedTo, attached_id: str | None):
    """The record a document is attached to, within this case; None for the case itself. Raises LookupError."""
    if attached_to is AttachedTo.CASE:
        return None
    model = TARGETS[attached_to]
    try:
        key = uuid.UUID(str(attached_id)) if model.__table__.c.id.type.python_type is uuid.UUID else int(attached_id)
    except (TypeError, ValueError, AttributeError):
        raise LookupError("unknown target") from None
    obj = db.session.get(model, key)
    if obj is None or getattr(obj, "case_id", None) != case.id:
        raise LookupError("unknown target")
    return obj


def kind_for(attached_to: AttachedTo, target, chosen: DocumentKind | str | None) -> DocumentKind:
    """The document's kind: fixed by its attachment point, the plan item's part, or chosen where allowed."""
    fixed = KIND_OF.get(attached_to)
    if fixed is not None:
        return fixed
    if attached_to is AttachedTo.PLAN_ITEM:
        return DocumentKind.PROTECTION_PLAN if target.part is PlanPart.PROTECTION else DocumentKind.SUPPORT_PLAN
    try:
        kind = DocumentKind(chosen) if chosen is not None else None
    except ValueError:
        kind = None
    if kind not in CHOOSABLE[attached_to]:
        raise DocumentError(str(_l("Välj vilken sorts uppgifter dokumentet innehåller.")))
    return kind


@dataclass
class Probe:
    """"A document of this kind here", for the write decision before anything exists (the policy's conditions
    read ``case``, ``responsible_agency_id`` and ``consent_fieldset`` as on a Document)."""

    case: Case
    kind: DocumentKind
    responsible_agency_id: int | None = None

    @property
    def case_id(self):
        return self.case.id

    @property
    def consent_fieldset(self) -> str:
        return self.kind.fieldset

    @property
    def audit_ref(self) -> tuple[str, str]:
        return self.case.audit_ref


def probe(case: Case, attached_to: AttachedTo, target, kind: DocumentKind) -> Probe:
    agency = getattr(target, "responsible_agency_id", None) if attached_to is AttachedTo.PLAN_ITEM else None
    return Probe(case, kind, agency)


def _text(value: str | None, limit: int, message) -> str:
    value = (value or "").strip()
    if not value:
        raise DocumentError(str(message))
    if len(value) > limit or "\x00" in value:
        raise DocumentError(str(_l("Texten är för lång (högst %(n)s tecken).", n=limit)))
    return value


def _chunks(path: str, size: int) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while True:
            block = fh.read(size)
            if not block:
                return
            yield block


@dataclass
class Prepared:
    """An inspected upload on disk, ready to store: its type, cleaned name and whether metadata was stripped."""

    path: str
    media_type: str
    label: str
    size: int
    filename: str
    metadata_stripped: bool
    cleanup: list[str]
    #: The PDF's metadata fields that were found (names only: values such as an author's name are not kept).
    metadata: list[str] | None = None

    def close(self) -> None:
        for path in self.cleanup:
            try:
                os.unlink(path)
            except OSError:
                pass


def prepare(path: str, *, filename: str | None, claimed_type: str | None, strip_metadata: bool) -> Prepared:
    """Inspect an uploaded file (content decides the type); strip a PDF's metadata if asked. Raises
    inspect.UploadRefused with a message for this file."""
    from app.documents import inspect

    found = inspect.sniff(path, max_bytes=max_bytes(), claimed_name=filename, claimed_type=claimed_type)
    cleanup: list[str] = []
    stored, stripped = path, False
    if strip_metadata and found.is_pdf:
        handle, stored = tempfile.mkstemp(prefix="lots-doc-", suffix=".pdf")
        os.close(handle)
        cleanup.append(stored)
        inspect.strip_pdf_metadata(path, stored)
        stripped = True
    fields = [name for name, value in (found.metadata or {}).items() if value] if found.is_pdf else []
    return Prepared(stored, found.media_type, found.label, os.path.getsize(stored),
                    inspect.clean_filename(filename, found.media_type), stripped, cleanup, fields)


def _store_version(document: Document, prepared: Prepared, actor, number: int) -> DocumentVersion:
    from app.documents import crypto
    from app.documents.storage import blob_store

    data_key = document.case.participant.data_key
    mac = crypto.content_mac(data_key, _chunks(prepared.path, crypto.CHUNK_SIZE))
    existing = db.session.scalar(
        select(Document).join(DocumentVersion, DocumentVersion.document_id == Document.id)
        .where(Document.case_id == document.case_id, Document.removed_at.is_(None),
               DocumentVersion.content_mac == mac).limit(1))
    if existing is not None:
        raise Duplicate(existing)
    version = DocumentVersion(data_key=data_key, document=document, number=number, media_type=prepared.media_type,
                              size=prepared.size, chunk_size=crypto.CHUNK_SIZE, chunk_count=0, content_mac=mac,
                              uploaded_by_id=getattr(actor, "id", None), metadata_stripped=prepared.metadata_stripped)
    version.filename = prepared.filename
    version.blob_id = uuid.uuid4()
    db.session.add(version)  # SQLAlchemy 2 does not cascade a backref assignment into the session
    version.chunk_count = blob_store().put(version.blob_id, crypto.encrypt_stream(
        data_key, document_id=document.id, version_id=version.id,
        chunks=_chunks(prepared.path, crypto.CHUNK_SIZE)))
    return version


def attach(case: Case, actor, *, attached_to: AttachedTo, target, kind: DocumentKind, title: str,
           document_date: date | None, prepared: Prepared) -> Document:
    """A new document with its first version; all or nothing (the caller's transaction)."""
    title = _text(title, MAX_TITLE, _l("Ge dokumentet en titel."))
    if document_date is not None and document_date > utcnow().date():
        raise DocumentError(str(_l("Dokumentets datum kan inte ligga i framtiden.")))
    document = Document(data_key=case.participant.data_key, case=case, case_id=case.id, kind=kind,
                        attached_to=attached_to, attached_id=None if target is None else str(target.id),
                        responsible_agency_id=getattr(target, "responsible_agency_id", None)
                        if attached_to is AttachedTo.PLAN_ITEM else None,
                        document_date=document_date, created_by_id=getattr(actor, "id", None))
    document.title = title
    with db.session.begin_nested():
        db.session.add(document)
        version = _store_version(document, prepared, actor, 1)
        db.session.flush()
    audit.record("document.uploaded", obj=case, detail={
        "document": str(document.id), "kind": kind.value, "attached_to": attached_to.value, "version": "1",
        "media_type": version.media_type.split("/")[-1], "bytes": str(version.size),
        "metadata_stripped": "yes" if version.metadata_stripped else "no"})
    return document


def replace(document: Document, actor, *, prepared: Prepared) -> DocumentVersion:
    """A new version of a document; the earlier ones stay readable to those allowed."""
    if document.is_removed:
        raise DocumentError(str(_l("Dokumentet är borttaget.")))
    number = (document.current.number if document.current else 0) + 1
    with db.session.begin_nested():
        version = _store_version(document, prepared, actor, number)
        db.session.flush()
    audit.record("document.replaced", obj=document.case, detail={
        "document": str(document.id), "kind": document.kind.value, "version": str(number),
        "media_type": version.media_type.split("/")[-1], "bytes": str(version.size)})
    return version


def remove(document: Document, actor, *, reason: str) -> None:
    """Mark a document removed with a reason; it stays in the audit trail (and its versions stay stored)."""
    reason = _text(reason, MAX_REASON, _l("Ange varför dokumentet tas bort."))
    if document.is_removed:
        raise DocumentError(str(_l("Dokumentet är redan borttaget.")))
    document.removed_reason = reason
    document.removed_at = utcnow()
    document.removed_by_id = getattr(actor, "id", None)
    db.session.flush()
    audit.record("document.removed", obj=document.case,
                 detail={"document": str(document.id), "kind": document.kind.value})


def change_kind(document: Document, actor, *, kind: DocumentKind) -> None:
    """Move a document to another kind (who may see it changes with it): coordinator only, audited."""
    if kind is document.kind:
        raise DocumentError(str(_l("Dokumentet har redan den sorten.")))
    before = document.kind
    document.kind = kind
    db.session.flush()
    audit.record("document.reclassified", obj=document.case,
                 detail={"document": str(document.id), "from": before.value, "to": kind.value})


def documents_of(case: Case, *, kind: DocumentKind | None = None, include_removed: bool = False) -> list[Document]:
    stmt = select(Document).where(Document.case_id == case.id).order_by(Document.created_at.desc())
    if kind is not None:
        stmt = stmt.where(Document.kind == kind)
    if not include_removed:
        stmt = stmt.where(Document.removed_at.is_(None))
    return list(db.session.scalars(stmt))


def documents_attached(case: Case, attached_to: AttachedTo, attached_id) -> list[Document]:
    return list(db.session.scalars(select(Document).where(
        Document.case_id == case.id, Document.attached_to == attached_to, Document.attached_id == str(attached_id),
        Document.removed_at.is_(None)).order_by(Document.created_at)))


def load_document(case: Case, document_id: str) -> Document | None:
    try:
        ident = uuid.UUID(document_id) if len(document_id) <= 40 else None
    except ValueError:
        ident = None
    document = db.session.get(Document, ident) if ident else None
    return document if document is not None and document.case_id == case.id else None


def version_of(document: Document, number: int | None) -> DocumentVersion | None:
    if number is None:
        return document.current
    return next((v for v in document.versions if v.number == number), None)


def plaintext(version: DocumentVersion) -> Iterator[bytes]:
    """The decrypted bytes of a version, chunk by chunk (every chunk authenticated before it is yielded)."""
    from app.documents import crypto
    from app.documents.storage import blob_store

    return crypto.decrypt_stream(version.data_key, document_id=version.document_id, version_id=version.id,
                                 chunk_count=version.chunk_count,
                                 ciphertexts=blob_store().get(version.blob_id, version.chunk_count))


def _decrypted_copy(version: DocumentVersion) -> str:
    """The version's plaintext in a private temporary file (every chunk authenticated first); the caller
    deletes it."""
    handle, path = tempfile.mkstemp(prefix="lots-doc-")
    try:
        with os.fdopen(handle, "wb") as fh:
            for block in plaintext(version):
                fh.write(block)
    except BaseException:
        os.unlink(path)
        raise
    return path


def previews(version: DocumentVersion, pages: int = 2) -> list[bytes]:
    """PNG images of the first pages (PDF) or of the image, rendered on the server; [] for other types."""
    return inspect_version(version, pages=pages)[0]


def inspect_version(version: DocumentVersion, pages: int = 2) -> tuple[list[bytes], dict[str, str]]:
    """(preview images, PDF metadata) of a stored version, from one decryption."""
    from app.documents import inspect

    if version.media_type not in ("application/pdf", "image/png", "image/jpeg"):
        return [], {}
    path = _decrypted_copy(version)
    try:
        metadata = inspect.pdf_metadata(path) if version.media_type == "application/pdf" else {}
        return inspect.render_preview(path, version.media_type, pages=pages), metadata
    finally:
        os.unlink(path)


def strip_metadata(document: Document, version: DocumentVersion, actor) -> None:
    """Remove a stored PDF version's metadata (author, creator tool, XMP) in place: the version keeps its
    number; its bytes are re-encrypted under a new blob and the old chunks are deleted, so the metadata is
    gone from every later read (backups age out as for erasure). Audited with the document and its kind."""
    from app.documents import crypto, inspect
    from app.documents.storage import blob_store

    if version.media_type != "application/pdf" or version.metadata_stripped:
        raise DocumentError(str(_l("Den här versionen har ingen metadata att ta bort.")))
    source = _decrypted_copy(version)
    handle, stripped = tempfile.mkstemp(prefix="lots-doc-", suffix=".pdf")
    os.close(handle)
    try:
        inspect.strip_pdf_metadata(source, stripped)
        data_key = document.case.participant.data_key
        old_blob = version.blob_id
        with db.session.begin_nested():
            version.blob_id = uuid.uuid4()
            version.chunk_count = blob_store().put(version.blob_id, crypto.encrypt_stream(
                data_key, document_id=document.id, version_id=version.id,
                chunks=_chunks(stripped, crypto.CHUNK_SIZE)))
            version.size = os.path.getsize(stripped)
            version.content_mac = crypto.content_mac(data_key, _chunks(stripped, crypto.CHUNK_SIZE))
            version.metadata_stripped = True
            blob_store().delete(old_blob)
            db.session.flush()
    finally:
        os.unlink(source)
        os.unlink(stripped)
    audit.record("document.metadata_stripped", obj=document.case, detail={
        "document": str(document.id), "kind": document.kind.value, "version": str(version.number)})


def blob_ids_of_case(case_id) -> list[uuid.UUID]:
    """Every stored blob of a case's documents (erasure deletes them with the case)."""
    return list(db.session.scalars(select(DocumentVersion.blob_id).join(Document).where(Document.case_id == case_id)))
