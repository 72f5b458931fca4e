"""Participant operations: register, look up by personal identity number, erase."""

from __future__ import annotations

from sqlalchemy import select

from app.cases.models import Participant
from app.db import db, utcnow
from app.security import audit
from app.security.crypto.service import destroy_data_key


def create_participant(**fields) -> Participant:
    """Register a participant; every personal field is encrypted before it reaches the database."""
    participant = Participant(**fields)
    db.session.add(participant)
    db.session.flush()
    return participant


def find_participants_by_personal_number(number: str) -> list[Participant]:
    """Participants whose personal identity number equals ``number`` (any accepted form), via the blind index."""
    stmt = select(Participant).where(Participant.personal_number.matches(number), Participant.erased_at.is_(None))
    return list(db.session.scalars(stmt))


def erase_participant(participant: Participant) -> None:
    """Crypto-shred a participant: destroy their data key and blind-index values; the row stays as a tombstone."""
    if participant.erased_at is not None:
        return
    audit.record("participant.erase", object_type="participant", object_id=str(participant.id))
    destroy_data_key(participant.data_key)
    for field in participant.__encrypted_fields__.values():
        if field.bidx_attr:
            setattr(participant, field.bidx_attr, None)
    participant.erased_at = utcnow()
    participant.forget_plaintext()
    db.session.flush()
