"""The audit log: append-only events chained by HMAC, and the one-row chain head."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Enum, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import db, enum_values

#: prev_hmac of the first event: the chain starts from a fixed value.
GENESIS_HMAC = "0" * 64


class AuditOutcome(str, enum.Enum):
    ALLOWED = "allowed"
    DENIED = "denied"
    FAILED = "failed"


class AuditEvent(db.Model):
    """One audited action. Rows are only ever inserted (see app.security.audit)."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_object", "object_id", "object_type"),
        Index("ix_audit_event_actor_user_id", "actor_user_id"),
        Index("ix_audit_event_actor_agency_id", "actor_agency_id"),
        Index("ix_audit_event_action", "action"),
        Index("ix_audit_event_occurred_at", "occurred_at"),
    )

    #: The event's position in the chain (1, 2, 3, ... with no gaps), taken from audit_head.
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    #: UTC.
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: The acting account; for a failed login, the account that was tried. No foreign key:
    #: the log must outlive and never block changes elsewhere.
    actor_user_id: Mapped[int | None] = mapped_column(Integer)
    actor_agency_id: Mapped[int | None] = mapped_column(Integer)
    #: Dotted verb such as case.read, login.failed, access.denied.
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str | None] = mapped_column(String(32))
    #: A pseudonymous id only (case code, UUID, numeric id), never a name or address.
    object_id: Mapped[str | None] = mapped_column(String(64))
    #: Names of the field sets involved, sorted and comma-separated; never their values.
    field_sets: Mapped[str] = mapped_column(String(500), server_default="")
    #: The permission that was checked, if any.
    permission: Mapped[str | None] = mapped_column(String(64))
    #: The reason the user gave (emergency access, export), where one is asked.
    purpose: Mapped[str | None] = mapped_column(Text)
    #: The policy line that allowed or denied the action, or "default-deny".
    rule: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[AuditOutcome] = mapped_column(
        Enum(AuditOutcome, values_callable=enum_values, native_enum=False, length=16, name="audit_outcome"),
        server_default=AuditOutcome.ALLOWED.value,
    )
    #: Small technical details as compact JSON ({"factor": "totp"}); keys and values are
    #: restricted to a safe alphabet so no e-mail address or free text can end up here.
    detail: Mapped[str | None] = mapped_column(String(300))
    prev_hmac: Mapped[str] = mapped_column(String(64))
    #: HMAC-SHA256 over the event's content and prev_hmac, keyed with LOTS_AUDIT_KEY.
    hmac: Mapped[str] = mapped_column(String(64))

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.action}>"


class AuditHead(db.Model):
    """The end of the chain. Writers lock this row, so events are appended one at a time."""

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    #: The id of the last event written (0 before the first).
    seq: Mapped[int] = mapped_column(BigInteger, server_default="0")
    last_hmac: Mapped[str] = mapped_column(String(64), server_default=GENESIS_HMAC)
