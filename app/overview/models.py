"""Incident reports, their areas and categories, and the published weekly overviews.

Aggregation reads only plain columns (area, category, status, the local date
and ISO week of the incident), so the overview of a week is one indexed
GROUP BY. The free-text description may contain personal data by mistake: it
is encrypted with a data key shared by the reports of one calendar month
(``IncidentKeyPeriod``), so a million reports do not need a million keys and
a month can be shredded at once.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import (Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint, Uuid, true)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import TimestampMixin, db, enum_column, utcnow
from app.security.crypto import DataKey, EncryptedField, EncryptedRecord


class Area(TimestampMixin, db.Model):
    """A geographic area of the municipality (område), with a simple polygon for the SVG map."""

    __tablename__ = "area"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    #: JSON list of [longitude, latitude] pairs (WGS 84), closed implicitly.
    polygon: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    def __repr__(self) -> str:
        return f"<Area {self.code}>"


class Category(TimestampMixin, db.Model):
    """An incident category with Swedish and English names; the admin edits the list."""

    __tablename__ = "incident_category"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_sv: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    sort_order: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    def name(self, locale: str | None) -> str:
        return self.name_en if (locale or "sv").startswith("en") else self.name_sv


class Setting(str, enum.Enum):
    PUBLIC = "public"
    SEMI_PUBLIC = "semi_public"


class ReportStatus(str, enum.Enum):
    NEW = "new"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"


class ReportSource(str, enum.Enum):
    FORM = "form"
    IMPORT = "import"
    API = "api"


class IncidentKeyPeriod(db.Model):
    """The data key that encrypts the descriptions of one calendar month's reports ("2026-11")."""

    __tablename__ = "incident_key_period"

    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    data_key_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("data_key.id"), unique=True)
    data_key: Mapped[DataKey] = relationship(lazy="joined", innerjoin=True)


class IncidentReport(EncryptedRecord, TimestampMixin, db.Model):
    """One incident report (händelserapport)."""

    __tablename__ = "incident_report"
    __table_args__ = (
        # The overview's GROUP BY: accepted reports of one ISO week.
        Index("ix_incident_report_week", "status", "iso_year", "iso_week", "category_id", "area_id"),
        Index("ix_incident_report_day", "status", "local_date"),
        UniqueConstraint("organisation_id", "external_id", name="uq_incident_report_external"),
    )

    #: Start of the incident (or of its time window), stored in UTC.
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: End of the time window, if the reporter gave one.
    occurred_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: The source gave only a date: occurred_at is local noon of it and pages say "tid okänd".
    time_unknown: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    #: occurred_at as a Europe/Stockholm calendar date and its ISO week: what the overview groups by.
    local_date: Mapped[date] = mapped_column(Date)
    iso_year: Mapped[int] = mapped_column(Integer)
    iso_week: Mapped[int] = mapped_column(Integer)
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id"), index=True)
    area: Mapped[Area] = relationship()
    category_id: Mapped[int] = mapped_column(ForeignKey("incident_category.id"), index=True)
    category: Mapped[Category] = relationship()
    setting: Mapped[Setting] = mapped_column(enum_column(Setting))
    #: Short place description ("vid busshållplatsen"): free text beside the description, encrypted as it is and
    #: in the same field set (incident.description), because a hurried reporter may still write a name.
    place = EncryptedField(str)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    description = EncryptedField(str)
    status: Mapped[ReportStatus] = mapped_column(enum_column(ReportStatus), default=ReportStatus.NEW)
    reject_reason: Mapped[str | None] = mapped_column(String(500))
    duplicate_of_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("incident_report.id"), index=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    #: The reporting organisation.
    organisation_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    source: Mapped[ReportSource] = mapped_column(enum_column(ReportSource), default=ReportSource.FORM)
    #: The sender's own id (API, import): re-sending it creates no duplicate.
    external_id: Mapped[str | None] = mapped_column(String(100))
    #: SHA-256 of the normalised content, for imports without an external id.
    fingerprint: Mapped[str | None] = mapped_column(String(64), index=True)
    #: Reports filed together (one shift) share a submission id.
    submission_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    import_job_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("import_job.id", ondelete="SET NULL"),
                                                            index=True)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    @property
    def audit_ref(self) -> tuple[str, str]:
        return ("incident", str(self.id))


class ReportRevision(db.Model):
    """History of a report: who changed what and when (plain fields only, never the description text)."""

    __tablename__ = "incident_report_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("incident_report.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    #: created, corrected, accepted, rejected, duplicate, reclassified
    action: Mapped[str] = mapped_column(String(32))
    #: JSON object {field: [old, new]} of plain fields; "description" is named but its text is not kept.
    changes: Mapped[str | None] = mapped_column(Text)


class WeekNote(TimestampMixin, db.Model):
    """The analysts' written analysis and the EST meeting's focus areas for one ISO week (the draft)."""

    __tablename__ = "week_note"
    __table_args__ = (UniqueConstraint("iso_year", "iso_week"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    iso_year: Mapped[int] = mapped_column(Integer)
    iso_week: Mapped[int] = mapped_column(Integer)
    analysis: Mapped[str | None] = mapped_column(Text)
    focus: Mapped[str | None] = mapped_column(Text)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)


class PublishedWeek(db.Model):
    """A frozen, numbered version of a week's overview. Never changed after it is written."""

    __tablename__ = "published_week"
    __table_args__ = (UniqueConstraint("iso_year", "iso_week", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    iso_year: Mapped[int] = mapped_column(Integer)
    iso_week: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    #: JSON: every figure shown, the analysis and the focus areas, as published.
    snapshot: Mapped[str] = mapped_column(Text)
    #: JSON list of [report id, version] counted: shows "changed since publication" later.
    report_versions: Mapped[str] = mapped_column(Text)
    change_summary: Mapped[str | None] = mapped_column(Text)


class ApiToken(db.Model):
    """An API token of one organisation. Only a hash of the secret is stored; it is shown once."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Public, non-secret part of the token ("lots_<prefix>_<secret>"), for lookup.
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(120))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    organisation: Mapped["Agency"] = relationship()
    #: Comma-separated scopes: incidents:write, overview:read
    scopes: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ImportStatus(str, enum.Enum):
    PREVIEW = "preview"
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class ImportJob(EncryptedRecord, db.Model):
    """A CSV import: previewed first, then run in the background in ONE transaction (all rows or none).

    The uploaded text is kept encrypted (it may hold personal data by mistake)
    only until the import ends; then it is cleared and its data key destroyed.
    """

    __tablename__ = "import_job"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    status: Mapped[ImportStatus] = mapped_column(enum_column(ImportStatus), default=ImportStatus.PREVIEW)
    #: SHA-256 of the uploaded file.
    file_hash: Mapped[str] = mapped_column(String(64))
    #: JSON: detected delimiter, encoding and the column mapping.
    mapping: Mapped[str | None] = mapped_column(Text)
    total_rows: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    processed_rows: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    imported: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    duplicates: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    invalid: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    error: Mapped[str | None] = mapped_column(String(500))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Original file name (shown to the importer only).
    filename: Mapped[str | None] = mapped_column(String(200))
    #: Mark imported reports as accepted (already reviewed in the source system) instead of new.
    accept: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    content = EncryptedField(str)
    #: JSON, encrypted like the content (it quotes the file): the refused values of the listed invalid rows
    #: ({"line:field": value}) and the source's unrecognised categories ([[value, rows], ...]).
    review = EncryptedField(str)


class ImportCategoryAlias(TimestampMixin, db.Model):
    """A source's own category name mapped once to one of ours, remembered for that source (the reporting
    organisation whose export it is): "Fordonsbrand" from Räddningstjänsten is "Anlagd brand"."""

    __tablename__ = "import_category_alias"
    __table_args__ = (UniqueConstraint("organisation_id", "source_key", name="uq_import_category_alias_source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("agency.id", ondelete="CASCADE"), index=True)
    #: The source's name as it was written, and its case- and space-insensitive key.
    source_name: Mapped[str] = mapped_column(String(120))
    source_key: Mapped[str] = mapped_column(String(120))
    category_id: Mapped[int] = mapped_column(ForeignKey("incident_category.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"), index=True)

    category: Mapped[Category] = relationship()
    organisation: Mapped["Agency"] = relationship()


from app.admin.models import Agency  # noqa: E402
