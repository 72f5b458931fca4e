"""Reopening a closed case: proof that the coordinator met the person, and who is told.

A coordinator reopens a closed case only through an intake (a new referral): typing a personal identity
number whose blind index matches the case's participant creates a *reopen proof* bound to this user and this
case. The proof is a random token (only its SHA-256 is stored), lives ``LOTS_REOPEN_PROOF_MINUTES`` (10) and is
used once: the UPDATE that spends it succeeds for one request only. The policy grants ``case:reopen`` under the
condition ``reopen_proof``, which holds only while such a proof exists for the user and the case.

Each reopening is kept as a ``CaseReopening``: the previous coordinator sees it on their start page, and the
auditor sees every reopening by someone other than the previous coordinator.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import DateTime, ForeignKey, String, select, update
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import as_utc, db, utcnow

DEFAULT_PROOF_MINUTES = 10


class ReopenProof(db.Model):
    """An intake's proof that this coordinator typed the personal identity number of this case's participant."""

    __tablename__ = "case_reopen_proof"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("exit_case.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CaseReopening(db.Model):
    """One reopening: who had the case, who took it over, and when."""

    __tablename__ = "case_reopening"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("exit_case.id", ondelete="CASCADE"), index=True)
    case = relationship("Case")
    previous_coordinator_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    previous_coordinator = relationship("User", foreign_keys=[previous_coordinator_id])
    reopened_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    reopened_by = relationship("User", foreign_keys=[reopened_by_id])
    reopened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)

    @property
    def by_someone_else(self) -> bool:
        return self.previous_coordinator_id != self.reopened_by_id


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_proof(case, user) -> str:
    """A new proof for (user, case); returns the token, which is shown once (in the reopen link)."""
    token = secrets.token_urlsafe(32)
    minutes = current_app.config.get("LOTS_REOPEN_PROOF_MINUTES", DEFAULT_PROOF_MINUTES)
    now = utcnow()
    db.session.add(ReopenProof(token_hash=_hash(token), case_id=case.id, user_id=user.id, created_at=now,
                               expires_at=now + timedelta(minutes=minutes)))
    db.session.flush()
    return token


def proof_for_token(token: str, user) -> ReopenProof | None:
    """The live proof this token names, if it belongs to ``user`` (None for any other user, spent or expired)."""
    if not token or len(token) > 100:
        return None
    proof = db.session.scalar(select(ReopenProof).where(ReopenProof.token_hash == _hash(token),
                                                        ReopenProof.user_id == user.id))
    if proof is None or proof.used_at is not None or as_utc(proof.expires_at) <= utcnow():
        return None
    return proof


def holds_proof(user, case) -> bool:
    """The policy condition ``reopen_proof``: a live, unused proof exists for this user and this case."""
    if user is None or case is None or getattr(case, "id", None) is None:
        return False
    return db.session.scalar(
        select(ReopenProof.id).where(ReopenProof.user_id == user.id, ReopenProof.case_id == case.id,
                                     ReopenProof.used_at.is_(None), ReopenProof.expires_at > utcnow()).limit(1)
    ) is not None


def spend_proof(proof: ReopenProof) -> bool:
    """Use the proof: True for exactly one caller, however many requests race with it."""
    now = utcnow()
    result = db.session.execute(
        update(ReopenProof)
        .where(ReopenProof.id == proof.id, ReopenProof.used_at.is_(None), ReopenProof.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def notices_for_previous_coordinator(user, days: int = 90) -> list[CaseReopening]:
    """Reopenings by someone else of cases this user coordinated, in the last ``days`` days."""
    since = utcnow() - timedelta(days=days)
    return list(db.session.scalars(
        select(CaseReopening)
        .where(CaseReopening.previous_coordinator_id == user.id, CaseReopening.reopened_by_id != user.id,
               CaseReopening.reopened_at >= since)
        .order_by(CaseReopening.reopened_at.desc()).limit(50)))


def reopenings_by_others(limit: int = 50) -> list[CaseReopening]:
    """For the auditor: every reopening by someone other than the previous coordinator, newest first."""
    return list(db.session.scalars(
        select(CaseReopening)
        .where((CaseReopening.previous_coordinator_id.is_(None))
               | (CaseReopening.previous_coordinator_id != CaseReopening.reopened_by_id))
        .order_by(CaseReopening.reopened_at.desc()).limit(limit)))
