"""The participant (avhoppare): identity and contact data, every field encrypted."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import Date, DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.cases.identity import normalise_personal_number
from app.db import TimestampMixin, db, enum_column, utcnow
from app.security.crypto import EncryptedField, EncryptedRecord


STOCKHOLM = ZoneInfo("Europe/Stockholm")


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
    __data_key_index__ = False

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
    #: A participant has one case (a new referral reopens it): the policy's conditions look at it.
    case: Mapped["Case | None"] = relationship(back_populates="participant", uselist=False, viewonly=True)

    def __repr__(self) -> str:
        return f"<Participant {self.id}>"


# ====================================================================== the case
#
# Every record below that holds free text about the person is an
# EncryptedRecord created with the participant's data key, so erasing the
# participant (crypto-shredding) makes all of it unreadable at once. Plain
# columns are only what lists, due dates and aggregates need: codes, phases,
# dates, statuses, agencies.


class CasePhase(str, enum.Enum):
    REFERRAL = "referral"
    ASSESSMENT = "assessment"
    ACTIVE = "active"
    FOLLOW_UP = "follow_up"
    CLOSED = "closed"


#: Allowed phase changes. Any open phase may close; a closed case reopens into assessment.
PHASE_TRANSITIONS: dict[CasePhase, tuple[CasePhase, ...]] = {
    CasePhase.REFERRAL: (CasePhase.ASSESSMENT, CasePhase.CLOSED),
    CasePhase.ASSESSMENT: (CasePhase.ACTIVE, CasePhase.REFERRAL, CasePhase.CLOSED),
    CasePhase.ACTIVE: (CasePhase.FOLLOW_UP, CasePhase.ASSESSMENT, CasePhase.CLOSED),
    CasePhase.FOLLOW_UP: (CasePhase.CLOSED, CasePhase.ACTIVE),
    CasePhase.CLOSED: (CasePhase.ASSESSMENT,),
}


class CaseOutcome(str, enum.Enum):
    COMPLETED = "completed"
    DISCONTINUED = "discontinued"
    TRANSFERRED = "transferred"
    MOVED = "moved"
    NO_CONTACT = "no_contact"
    OTHER = "other"


class ReferralSource(str, enum.Enum):
    POLICE = "police"
    PROBATION = "probation"
    SOCIAL_SERVICES = "social_services"
    SCHOOL = "school"
    NGO = "ngo"
    SELF = "self"
    OTHER = "other"


class ConsentKind(str, enum.Enum):
    """Kinds of information a consent (samtycke) can cover; policies/consent-kinds.csv maps field sets to them."""

    IDENTITY = "identity"
    CONTACT = "contact"
    THREAT_ASSESSMENT = "threat_assessment"
    PROTECTION_PLAN = "protection_plan"
    SUPPORT_PLAN = "support_plan"


class ConsentMethod(str, enum.Enum):
    WRITTEN = "written"
    ORAL = "oral"
    DIGITAL = "digital"


class ThreatLevel(str, enum.Enum):
    LOW = "low"
    ELEVATED = "elevated"
    HIGH = "high"
    ACUTE = "acute"


class PlanPart(str, enum.Enum):
    PROTECTION = "protection"
    SUPPORT = "support"


class PlanArea(str, enum.Enum):
    HOUSING = "housing"
    EMPLOYMENT = "employment"
    EDUCATION = "education"
    HEALTH = "health"
    ADDICTION_TREATMENT = "addiction_treatment"
    THERAPY = "therapy"
    ECONOMY_DEBT = "economy_debt"
    FAMILY_NETWORK = "family_network"
    LEISURE = "leisure"
    LEGAL = "legal"
    PROTECTED_PERSONAL_DATA = "protected_personal_data"
    RELOCATION = "relocation"
    SECURITY_MEASURE = "security_measure"
    TATTOO_REMOVAL = "tattoo_removal"
    MENTOR = "mentor"
    OTHER = "other"


class PlanItemStatus(str, enum.Enum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


OPEN_ITEM_STATUSES = (PlanItemStatus.PLANNED, PlanItemStatus.IN_PROGRESS)


def today_local() -> date:
    """Today's date in Europe/Stockholm: what "due", "overdue" and "valid until" are measured against."""
    return datetime.now(STOCKHOLM).date()


class Case(EncryptedRecord, TimestampMixin, db.Model):
    """An exit-programme case (avhopparärende). Shown everywhere by its pseudonymous code."""

    __tablename__ = "exit_case"

    code: Mapped[str] = mapped_column(String(20), unique=True)
    participant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participant.id"), unique=True)
    participant: Mapped[Participant] = relationship(lazy="joined", innerjoin=True, back_populates="case")
    coordinator_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    coordinator: Mapped["User"] = relationship(foreign_keys=[coordinator_id])
    phase: Mapped[CasePhase] = mapped_column(enum_column(CasePhase), default=CasePhase.REFERRAL, index=True)
    phase_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    referral_source: Mapped[ReferralSource] = mapped_column(enum_column(ReferralSource))
    referred_on: Mapped[date] = mapped_column(Date)
    referral_reason = EncryptedField(str)
    outcome: Mapped[CaseOutcome | None] = mapped_column(enum_column(CaseOutcome))
    closure_reason = EncryptedField(str)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)

    team: Mapped[list["CaseTeamMember"]] = relationship(back_populates="case", cascade="all, delete-orphan",
                                                        order_by="CaseTeamMember.id")
    consents: Mapped[list["Consent"]] = relationship(back_populates="case", cascade="all, delete-orphan",
                                                     order_by="Consent.given_on")
    assessments: Mapped[list["ThreatAssessment"]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="ThreatAssessment.assessed_on.desc()")
    plan_items: Mapped[list["PlanItem"]] = relationship(back_populates="case", cascade="all, delete-orphan",
                                                        order_by="PlanItem.due_on")
    plan_versions: Mapped[list["PlanVersion"]] = relationship(back_populates="case", cascade="all, delete-orphan",
                                                              order_by="PlanVersion.number")
    notes: Mapped[list["CaseNote"]] = relationship(back_populates="case", cascade="all, delete-orphan",
                                                   order_by="CaseNote.written_at.desc()")
    meetings: Mapped[list["CaseMeeting"]] = relationship(back_populates="case", cascade="all, delete-orphan",
                                                         order_by="CaseMeeting.held_on.desc()")
    transitions: Mapped[list["CaseTransition"]] = relationship(back_populates="case", cascade="all, delete-orphan",
                                                               order_by="CaseTransition.id")
    emergency_accesses: Mapped[list["EmergencyAccess"]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="EmergencyAccess.started_at.desc()")
    incident_links: Mapped[list["CaseIncident"]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseIncident.linked_at")

    @property
    def audit_ref(self) -> tuple[str, str]:
        return ("case", self.code)

    @property
    def is_open(self) -> bool:
        return self.phase != CasePhase.CLOSED

    @property
    def team_agency_ids(self) -> set[int]:
        return {member.agency_id for member in self.team if member.removed_at is None}

    def current_consents(self, agency_id: int | None = None, on: date | None = None) -> list["Consent"]:
        on = on or today_local()
        return [c for c in self.consents if c.is_current(on) and (agency_id is None or c.agency_id == agency_id)]

    def consent_covers(self, agency_id: int, fieldset: str) -> bool:
        """Does a consent valid today cover this field set for this agency? (see policies/consent-kinds.csv)"""
        from app.cases.consent_kinds import consent_kind_for

        kind = consent_kind_for(fieldset)
        if kind is None:
            return False
        return any(kind in c.kind_set for c in self.current_consents(agency_id))

    def active_emergency(self, user_id: int, now: datetime | None = None) -> "EmergencyAccess | None":
        now = now or utcnow()
        for access in self.emergency_accesses:
            if access.user_id == user_id and access.is_active(now):
                return access
        return None

    def __repr__(self) -> str:
        return f"<Case {self.code}>"


class CaseTeamMember(TimestampMixin, db.Model):
    """An agency (optionally a named officer) on the case team. Removal keeps the row as history."""

    __tablename__ = "case_team_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("exit_case.id", ondelete="CASCADE"), index=True)
    case: Mapped[Case] = relationship(back_populates="team")
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    agency: Mapped["Agency"] = relationship()
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    officer: Mapped["User | None"] = relationship(foreign_keys=[officer_id])
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)


class CaseTransition(db.Model):
    """One phase change: from, to, when and by whom (the case's history)."""

    __tablename__ = "case_transition"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("exit_case.id", ondelete="CASCADE"), index=True)
    case: Mapped[Case] = relationship(back_populates="transitions")
    from_phase: Mapped[CasePhase | None] = mapped_column(enum_column(CasePhase))
    to_phase: Mapped[CasePhase] = mapped_column(enum_column(CasePhase))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    by: Mapped["User | None"] = relationship()


class Consent(EncryptedRecord, TimestampMixin, db.Model):
    """A consent (samtycke) letting one agency receive some kinds of information, for a period."""

    __tablename__ = "consent"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("exit_case.id", ondelete="CASCADE"), index=True)
    case: Mapped[Case] = relationship(back_populates="consents")
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    agency: Mapped["Agency"] = relationship()
    #: Comma-separated ConsentKind values.
    kinds: Mapped[str] = mapped_column(String(200))
    given_on: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date, index=True)
    method: Mapped[ConsentMethod] = mapped_column(enum_column(ConsentMethod))
    #: How and where it was documented (free text, may name people: encrypted).
    documentation = EncryptedField(str)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)

    @property
    def kind_set(self) -> set[ConsentKind]:
        return {ConsentKind(k) for k in self.kinds.split(",") if k}

    @kind_set.setter
    def kind_set(self, values) -> None:
        self.kinds = ",".join(sorted(ConsentKind(v).value for v in values))

    def is_current(self, on: date | None = None) -> bool:
        on = on or today_local()
        return self.withdrawn_at is None and self.given_on <= on <= self.valid_until


class ThreatAssessment(EncryptedRecord, TimestampMixin, db.Model):
    """A threat and risk assessment (hotbild / riskbedömning)."""

    __tablename__ = "threat_assessment"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("exit_case.id", ondelete="CASCADE"), index=True)
    case: Mapped[Case] = relationship(back_populates="assessments")
    assessed_on: Mapped[date] = mapped_column(Date)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    agency: Mapped["Agency"] = relationship()
    level = EncryptedField(ThreatLevel)
    narrative = EncryptedField(str)
    next_review_on: Mapped[date] = mapped_column(Date, index=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)


class CaseMeeting(EncryptedRecord, TimestampMixin, db.Model):
    """A case meeting: date, participating agencies, minutes; its decisions become plan items."""

    __tablename__ = "case_meeting"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("exit_case.id", ondelete="CASCADE"), index=True)
    case: Mapped[Case] = relationship(back_populates="meetings")
    held_on: Mapped[date] = mapped_column(Date)
    #: Comma-separated agency ids that took part.
    agency_ids: Mapped[str] = mapped_column(String(500), default="")
    minutes = EncryptedField(str)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)

    @property
    def agency_id_list(self) -> list[int]:
        return [int(x) for x in self.agency_ids.split(",") if x]


class PlanItem(EncryptedRecord, TimestampMixin, db.Model):
    """One measure (insats) of the individual plan, in its protection or support part."""

    __tablename__ = "plan_item"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("exit_case.id", ondelete="CASCADE"), index=True)
    case: Mapped[Case] = relationship(back_populates="plan_items")
    part: Mapped[PlanPart] = mapped_column(enum_column(PlanPart))
    area: Mapped[PlanArea] = mapped_column(enum_column(PlanArea))
    goal = EncryptedField(str)
    responsible_agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    responsible_agency: Mapped["Agency"] = relationship()
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    officer: Mapped["User | None"] = relationship(foreign_keys=[officer_id])
    start_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[PlanItemStatus] = mapped_column(enum_column(PlanItemStatus), default=PlanItemStatus.PLANNED, index=True)
    completed_on: Mapped[date | None] = mapped_column(Date)
    meeting_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("case_meeting.id", ondelete="SET NULL"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    #: Optimistic locking: an UPDATE carrying an old version fails instead of overwriting.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    followups: Mapped[list["PlanFollowUp"]] = relationship(back_populates="item", cascade="all, delete-orphan",
                                                           order_by="PlanFollowUp.written_at")

    __mapper_args__ = {"version_id_col": version}

    @property
    def consent_fieldset(self) -> str:
        """Which consent kind covers this item: its part of the plan (see policies/consent-kinds.csv)."""
        return f"plan.{self.part.value}"

    def is_overdue(self, on: date | None = None) -> bool:
        return self.status in OPEN_ITEM_STATUSES and self.due_on < (on or today_local())

    @property
    def audit_ref(self) -> tuple[str, str]:
        return ("case", self.case.code)


class PlanFollowUp(EncryptedRecord, db.Model):
    """A dated follow-up on a plan item, by whichever agency is responsible for it."""

    __tablename__ = "plan_followup"

    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plan_item.id", ondelete="CASCADE"), index=True)
    item: Mapped[PlanItem] = relationship(back_populates="followups")
    written_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    author_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)
    text = EncryptedField(str)

    @property
    def case(self) -> Case:
        return self.item.case

    @property
    def responsible_agency_id(self) -> int:
        return self.item.responsible_agency_id

    @property
    def consent_fieldset(self) -> str:
        return self.item.consent_fieldset


class PlanVersion(EncryptedRecord, db.Model):
    """An approved version of the individual plan: who, when, what changed, the participant's agreement."""

    __tablename__ = "plan_version"
    __table_args__ = (UniqueConstraint("case_id", "number"),)

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("exit_case.id", ondelete="CASCADE"), index=True)
    case: Mapped[Case] = relationship(back_populates="plan_versions")
    number: Mapped[int] = mapped_column()
    approved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    approved_by: Mapped["User | None"] = relationship()
    participant_agreed_on: Mapped[date | None] = mapped_column(Date)
    #: JSON list of the items as approved.
    snapshot = EncryptedField(str)
    #: Human-readable summary of what changed since the previous version.
    changes = EncryptedField(str)


class CaseNote(EncryptedRecord, db.Model):
    """A case note (journalanteckning). Notes are never edited; a correction is a new note."""

    __tablename__ = "case_note"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("exit_case.id", ondelete="CASCADE"), index=True)
    case: Mapped[Case] = relationship(back_populates="notes")
    written_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    author: Mapped["User | None"] = relationship()
    text = EncryptedField(str)


class EmergencyAccess(EncryptedRecord, db.Model):
    """Break the glass: time-limited read access to one case's protection-relevant information."""

    __tablename__ = "emergency_access"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("exit_case.id", ondelete="CASCADE"), index=True)
    case: Mapped[Case] = relationship(back_populates="emergency_accesses")
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    user: Mapped["User"] = relationship(foreign_keys=[user_id])
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)
    reason = EncryptedField(str)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    reviewed_by: Mapped["User | None"] = relationship(foreign_keys=[reviewed_by_id])
    review_note = EncryptedField(str)

    def is_active(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        expires = self.expires_at if self.expires_at.tzinfo else self.expires_at.replace(tzinfo=timezone.utc)
        return now < expires


class CaseIncident(db.Model):
    """A link from a case to an incident report about the participant's safety (a threat, violence).

    Only the case reads it: the weekly overview and the case figures never
    join this table, so a link can never single out a report as a participant's.
    """

    __tablename__ = "case_incident"
    __table_args__ = (UniqueConstraint("case_id", "incident_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("exit_case.id", ondelete="CASCADE"), index=True)
    case: Mapped[Case] = relationship(back_populates="incident_links")
    incident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("incident_report.id", ondelete="CASCADE"), index=True)
    linked_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    linked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


from app.admin.models import Agency  # noqa: E402
from app.security.models import User  # noqa: E402
