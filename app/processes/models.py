"""Cross-agency processes, milestones, meetings (including the weekly EST meeting), area
interventions, the yearly documents required by Lag (2023:196) and the daily digest log.

Nothing here is about an individual: processes work on areas and incident
categories. The one exception is free text written in meetings (minutes and
decisions), which may name a person by mistake; it is encrypted with a data
key per meeting and every read of it is audited, like an incident description.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import (Column, Date, DateTime, ForeignKey, Integer, String, Table, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import TimestampMixin, db, enum_column, utcnow
from app.security.crypto import EncryptedField, EncryptedRecord


class ProcessType(str, enum.Enum):
    EST_AREA = "est_area"
    SSPF = "sspf"
    EXIT_DEVELOPMENT = "exit_development"
    OTHER = "other"


class ProcessStatus(str, enum.Enum):
    PLANNED = "planned"
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class WorkStatus(str, enum.Enum):
    """Status of a milestone or an action item; "late" is derived from the due date, never stored."""

    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


#: Statuses that end the work: such an item is never late.
CLOSED_STATUSES = frozenset({WorkStatus.DONE, WorkStatus.CANCELLED})


class MeetingKind(str, enum.Enum):
    PROCESS = "process"
    EST = "est"


class InterventionKind(str, enum.Enum):
    EXTRA_PATROLS = "extra_patrols"
    LIGHTING = "lighting"
    FIELD_WORKERS = "field_workers"
    YOUTH_ACTIVITIES = "youth_activities"
    CAMERA = "camera"
    CLEANING = "cleaning"
    OTHER = "other"


class YearlyDocumentKind(str, enum.Enum):
    SITUATION = "situation"  # lägesbild
    ACTION_PLAN = "action_plan"  # åtgärdsplan


def _link(name: str, left: str, right: str, right_table: str) -> Table:
    return Table(
        name,
        db.Model.metadata,
        Column(f"{left}_id", ForeignKey(f"{left}.id", ondelete="CASCADE"), primary_key=True),
        # The primary key leads with the left column; deleting a right row needs an index of its own.
        Column(f"{right}_id", ForeignKey(f"{right_table}.id", ondelete="CASCADE"), primary_key=True, index=True),
    )


process_agency = _link("process_agency", "process", "agency", "agency")
process_area = _link("process_area", "process", "area", "area")
process_category = _link("process_category", "process", "category", "incident_category")
intervention_area = _link("intervention_area", "intervention", "area", "area")
intervention_category = _link("intervention_category", "intervention", "category", "incident_category")

milestone_dependency = Table(
    "milestone_dependency",
    db.Model.metadata,
    Column("milestone_id", ForeignKey("milestone.id", ondelete="CASCADE"), primary_key=True),
    Column("depends_on_id", ForeignKey("milestone.id", ondelete="CASCADE"), primary_key=True, index=True),
)

meeting_agency = Table(
    "meeting_agency",
    db.Model.metadata,
    Column("meeting_id", ForeignKey("meeting.id", ondelete="CASCADE"), primary_key=True),
    Column("agency_id", ForeignKey("agency.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Process(TimestampMixin, db.Model):
    """A cross-agency process (samverkansprocess) run by a process leader."""

    __tablename__ = "process"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[ProcessType] = mapped_column(enum_column(ProcessType))
    status: Mapped[ProcessStatus] = mapped_column(enum_column(ProcessStatus), default=ProcessStatus.PLANNED)
    #: The process leader who owns the process.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"), index=True)
    owner = relationship("User", lazy="joined")
    #: The agency that owns the process (usually the crime-prevention unit's).
    owner_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), index=True)
    owner_agency = relationship("Agency", foreign_keys=[owner_agency_id])
    goal: Mapped[str] = mapped_column(Text, default="")
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    agencies = relationship("Agency", secondary=process_agency, lazy="selectin", order_by="Agency.name")
    areas = relationship("Area", secondary=process_area, lazy="selectin", order_by="Area.name")
    categories = relationship("Category", secondary=process_category, lazy="selectin",
                              order_by="Category.sort_order")
    milestones: Mapped[list["Milestone"]] = relationship(
        back_populates="process", cascade="all, delete-orphan", passive_deletes=True,
        order_by="(Milestone.due_date, Milestone.id)")
    meetings: Mapped[list["Meeting"]] = relationship(
        back_populates="process", passive_deletes=True, order_by="Meeting.held_on.desc()")
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    @property
    def participant_agency_ids(self) -> set[int]:
        """Agencies that take part: they see the process. The owning agency always does."""
        ids = {agency.id for agency in self.agencies}
        if self.owner_agency_id:
            ids.add(self.owner_agency_id)
        return ids

    def __repr__(self) -> str:
        return f"<Process {self.id}>"


class Milestone(TimestampMixin, db.Model):
    """A milestone (delmål) of a process, owned by one agency."""

    __tablename__ = "milestone"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("process.id", ondelete="CASCADE"), index=True)
    process: Mapped[Process] = relationship(back_populates="milestones")
    title: Mapped[str] = mapped_column(String(200))
    #: The owning agency: its officers update the milestone.
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    agency = relationship("Agency", lazy="joined")
    responsible_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"), index=True)
    responsible = relationship("User", foreign_keys=[responsible_id])
    due_date: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[WorkStatus] = mapped_column(enum_column(WorkStatus), default=WorkStatus.PLANNED, index=True)
    completion_note: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"), index=True)
    #: What this milestone waits for; no cycles, and it cannot be done before them.
    depends_on: Mapped[list["Milestone"]] = relationship(
        secondary=milestone_dependency,
        primaryjoin=lambda: Milestone.id == milestone_dependency.c.milestone_id,
        secondaryjoin=lambda: Milestone.id == milestone_dependency.c.depends_on_id,
        back_populates="dependents", order_by=lambda: Milestone.due_date)
    dependents: Mapped[list["Milestone"]] = relationship(
        secondary=milestone_dependency,
        primaryjoin=lambda: Milestone.id == milestone_dependency.c.depends_on_id,
        secondaryjoin=lambda: Milestone.id == milestone_dependency.c.milestone_id,
        back_populates="depends_on", order_by=lambda: Milestone.due_date)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    @property
    def participant_agency_ids(self) -> set[int]:
        return self.process.participant_agency_ids

    def __repr__(self) -> str:
        return f"<Milestone {self.id}>"


class Meeting(EncryptedRecord, TimestampMixin, db.Model):
    """A meeting of a process, or the weekly EST meeting (kind "est", one per ISO week)."""

    __tablename__ = "meeting"
    __table_args__ = (
        # One EST meeting per ISO week; process meetings have no week (NULLs never collide).
        UniqueConstraint("kind", "iso_year", "iso_week", name="uq_meeting_est_week"),
    )

    kind: Mapped[MeetingKind] = mapped_column(enum_column(MeetingKind), default=MeetingKind.PROCESS)
    process_id: Mapped[int | None] = mapped_column(ForeignKey("process.id", ondelete="CASCADE"), index=True)
    process: Mapped[Process | None] = relationship(back_populates="meetings")
    iso_year: Mapped[int | None] = mapped_column(Integer)
    iso_week: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    held_on: Mapped[date] = mapped_column(Date, index=True)
    attendees = relationship("Agency", secondary=meeting_agency, lazy="selectin", order_by="Agency.name")
    #: JSON: the agenda (for an EST meeting: the week's hotspots and the analysts' analysis when opened).
    agenda: Mapped[str | None] = mapped_column(Text)
    minutes = EncryptedField(str)
    decisions = EncryptedField(str)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"), index=True)
    action_items: Mapped[list["ActionItem"]] = relationship(
        back_populates="meeting", cascade="all, delete-orphan", passive_deletes=True,
        order_by="(ActionItem.due_date, ActionItem.id)")
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    @property
    def participant_agency_ids(self) -> set[int]:
        ids = {agency.id for agency in self.attendees}
        if self.process is not None:
            ids |= self.process.participant_agency_ids
        return ids

    @property
    def audit_ref(self) -> tuple[str, str]:
        return ("meeting", str(self.id))


class ActionItem(TimestampMixin, db.Model):
    """An action item decided in a meeting: tracked like a milestone until done."""

    __tablename__ = "action_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    meeting: Mapped[Meeting] = relationship(back_populates="action_items")
    title: Mapped[str] = mapped_column(String(300))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    agency = relationship("Agency", lazy="joined")
    responsible_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"), index=True)
    responsible = relationship("User", foreign_keys=[responsible_id])
    due_date: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[WorkStatus] = mapped_column(enum_column(WorkStatus), default=WorkStatus.PLANNED, index=True)
    completion_note: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"), index=True)
    #: The decision it was recorded as: its number (1-based) in the meeting's decisions, whose text stays
    #: encrypted in the meeting. None for an item added on its own; kept in step when the decisions are edited.
    decision_no: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    @property
    def participant_agency_ids(self) -> set[int]:
        return self.meeting.participant_agency_ids | {self.agency_id}

    @property
    def kind(self) -> MeetingKind:
        """The kind of its meeting: an EST meeting's action items are seen by whoever sees the meeting."""
        return self.meeting.kind


class Intervention(TimestampMixin, db.Model):
    """An area intervention (insats): extra patrols, lighting repaired, field workers, ..."""

    __tablename__ = "intervention"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[InterventionKind] = mapped_column(enum_column(InterventionKind))
    description: Mapped[str] = mapped_column(Text, default="")
    #: The responsible agency.
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    agency = relationship("Agency", lazy="joined")
    process_id: Mapped[int | None] = mapped_column(ForeignKey("process.id", ondelete="SET NULL"), index=True)
    process = relationship("Process")
    start_date: Mapped[date] = mapped_column(Date, index=True)
    end_date: Mapped[date | None] = mapped_column(Date)
    areas = relationship("Area", secondary=intervention_area, lazy="selectin", order_by="Area.name")
    categories = relationship("Category", secondary=intervention_category, lazy="selectin",
                              order_by="Category.sort_order")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    def active_on(self, day: date) -> bool:
        return self.start_date <= day and (self.end_date is None or day <= self.end_date)


class YearlyDocument(TimestampMixin, db.Model):
    """The editable text of a yearly document (lägesbild or åtgärdsplan) for one year.

    The figures are computed when the document is shown or exported; only the
    process leader's text is stored, as JSON {section key: text}.
    """

    __tablename__ = "yearly_document"
    __table_args__ = (UniqueConstraint("year", "kind", name="uq_yearly_document_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[YearlyDocumentKind] = mapped_column(enum_column(YearlyDocumentKind))
    sections: Mapped[str] = mapped_column(Text, default="{}")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}


class DigestLog(db.Model):
    """One daily digest sent to one user: which items it listed, so the next one reports only what is new."""

    __tablename__ = "digest_log"
    __table_args__ = (UniqueConstraint("user_id", "sent_on", name="uq_digest_log_user_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    sent_on: Mapped[date] = mapped_column(Date)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: JSON list of item keys ("milestone:12:late"); no personal data.
    item_keys: Mapped[str] = mapped_column(Text, default="[]")
