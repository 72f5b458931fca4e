"""Documents attached to a case: signed consents, threat assessments, decisions, the signed plan.

A ``Document`` is what people see in lists: its kind (which decides who may see it, as a field set does),
its title (information of that kind, so encrypted and hidden in the same way), its date and what it is
attached to. Each upload is a ``DocumentVersion``; replacing a document adds a version and the old ones stay
readable to those allowed. The bytes of a version are encrypted with the participant's data key in chunks
(app/documents/crypto.py) and kept by a blob store (app/documents/storage.py; ``DocumentBlobChunk`` rows
by default). Erasing the case destroys that data key, and the rows go with the case.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import (Boolean, Date, DateTime, ForeignKey, Integer, LargeBinary, String, UniqueConstraint, Uuid,
                        false as sa_false)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import db, enum_column, utcnow
from app.security.crypto import EncryptedField, EncryptedRecord


class DocumentKind(str, enum.Enum):
    """The kind of information a document holds; each is a field set ``document.<kind>`` in policies/."""

    CONSENT = "consent"
    THREAT = "threat"
    PROTECTION_PLAN = "protection_plan"
    SUPPORT_PLAN = "support_plan"
    NOTES = "notes"
    IDENTITY = "identity"

    @property
    def fieldset(self) -> str:
        return f"document.{self.value}"


class AttachedTo(str, enum.Enum):
    """What a document is attached to; the kind follows from it (the case itself: the coordinator chooses)."""

    CASE = "case"
    CONSENT = "consent"
    THREAT = "threat"
    PLAN_VERSION = "plan_version"
    PLAN_ITEM = "plan_item"
    NOTE = "note"
    MEETING = "meeting"


class Document(EncryptedRecord, db.Model):
    """One document of a case (encrypted with the participant's data key, as the case's other records)."""

    __tablename__ = "case_document"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("exit_case.id", ondelete="CASCADE"), index=True)
    case: Mapped["Case"] = relationship()
    kind: Mapped[DocumentKind] = mapped_column(enum_column(DocumentKind), index=True)
    attached_to: Mapped[AttachedTo] = mapped_column(enum_column(AttachedTo))
    #: The id of the consent, assessment, plan version, plan item, note or meeting (as text: some are UUIDs).
    attached_id: Mapped[str | None] = mapped_column(String(40), index=True)
    #: The agency a plan item's document belongs to (the item's responsible agency), else None.
    responsible_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)
    title = EncryptedField(str)
    document_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"), index=True)
    #: Removal only marks the document; the reason is information of its kind.
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"), index=True)
    removed_reason = EncryptedField(str)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    versions: Mapped[list["DocumentVersion"]] = relationship(
        back_populates="document", cascade="all, delete-orphan", order_by="DocumentVersion.number")

    __mapper_args__ = {"version_id_col": version}

    @property
    def fieldset(self) -> str:
        return self.kind.fieldset

    @property
    def consent_fieldset(self) -> str:
        """The scope a consent must cover to open this document (see policies/consent-kinds.csv)."""
        return self.kind.fieldset

    @property
    def current(self) -> "DocumentVersion | None":
        return self.versions[-1] if self.versions else None

    @property
    def is_removed(self) -> bool:
        return self.removed_at is not None

    @property
    def audit_ref(self) -> tuple[str, str]:
        return ("document", str(self.id))


class DocumentVersion(EncryptedRecord, db.Model):
    """One uploaded file of a document. Its bytes live in the blob store under ``blob_id``."""

    __tablename__ = "case_document_version"
    __table_args__ = (UniqueConstraint("document_id", "number", name="uq_case_document_version_number"),)

    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case_document.id", ondelete="CASCADE"), index=True)
    document: Mapped[Document] = relationship(back_populates="versions")
    number: Mapped[int] = mapped_column(Integer)
    #: The cleaned file name as uploaded (shown, never used as a path).
    filename = EncryptedField(str)
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    chunk_size: Mapped[int] = mapped_column(Integer)
    chunk_count: Mapped[int] = mapped_column(Integer)
    #: HMAC-SHA256 of the content under a key derived from the case's data key: finds a duplicate upload in
    #: the same case without a plain hash that could identify the file elsewhere.
    content_mac: Mapped[str] = mapped_column(String(64), index=True)
    blob_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True, default=uuid.uuid4)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"), index=True)
    #: The PDF's metadata (author, creator, XMP) was stripped on upload.
    metadata_stripped: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())


class DocumentBlobChunk(db.Model):
    """One encrypted chunk of a stored file (the database blob store). No foreign key: the store is its own
    layer (an object store could replace it); the document service deletes a version's chunks with it."""

    __tablename__ = "document_blob_chunk"

    blob_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


from app.cases.models import Case  # noqa: E402
