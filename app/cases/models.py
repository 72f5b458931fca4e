"""The participant (avhoppare): identity and contact data, every field encrypted."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import DateTime, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.cases.identity import normalise_personal_number
from app.db import TimestampMixin, db
from app.security.crypto import EncryptedField, EncryptedRecord


class ProtectedIdentity(str, enum.Enum):
    NONE = "none"
    #: sekretessmarkering
    CONFIDENTIALITY_MARKING = "confidentiality_marking"
    #: skyddad folkbokföring
    PROTECTED_REGISTRATION = "protected_registration"
    #: fingerade personuppgifter
    ASSUMED_IDENTITY = "assumed_identity"


class Participant(EncryptedRecord, TimestampMixin, db.Model):
    """A person in the exit programme, encrypted with their own data key (see app.security.crypto)."""

    __tablename__ = "participant"
    #: Each participant has a data key of their own, so erasing one shreds nobody else.
    __table_args__ = (UniqueConstraint("data_key_id"),)

    first_name = EncryptedField(str)
    last_name = EncryptedField(str)
    #: Stored in the 12-digit form; found again through its blind index.
    personal_number = EncryptedField(str, normalise=normalise_personal_number, blind_index=True)
    date_of_birth = EncryptedField(date)
    phone = EncryptedField(str)
    email = EncryptedField(str)
    street_address = EncryptedField(str)
    postal_code = EncryptedField(str)
    city = EncryptedField(str)
    #: Encrypted too: the level alone says the person is under threat.
    protected_identity = EncryptedField(ProtectedIdentity)
    notes = EncryptedField(str)
    #: Set when the participant was erased; the row stays, its values can never be read again.
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def __repr__(self) -> str:
        return f"<Participant {self.id}>"
