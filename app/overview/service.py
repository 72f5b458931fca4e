"""Core of incident reports shared by the form, the review, the CSV import and the API.

- ``local_week``: the Europe/Stockholm calendar date and ISO week of an instant
  (what the overview groups by; DST-safe because it converts the instant).
- ``description_key``: the data key of a calendar month's descriptions.
- ``new_report``: build (not yet add) a report with its derived columns set.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.db import db
from app.overview.models import IncidentKeyPeriod, IncidentReport, ReportSource, ReportStatus, Setting
from app.security.crypto import DataKey, new_data_key

STOCKHOLM = ZoneInfo("Europe/Stockholm")


class ReportError(ValueError):
    """A report request the user must correct; the message is user-facing and holds no personal data."""


def local_week(instant: datetime) -> tuple[date, int, int]:
    """(Stockholm calendar date, ISO year, ISO week) of an aware instant; naive instants are taken as UTC."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=timezone.utc)
    day = instant.astimezone(STOCKHOLM).date()
    iso = day.isocalendar()
    return day, iso.year, iso.week




def description_key(day: date) -> DataKey:
    """The data key for descriptions of reports on ``day``'s month, created on first use (race-safe)."""
    period = f"{day.year:04d}-{day.month:02d}"
    found = db.session.get(IncidentKeyPeriod, period)
    if found is not None:
        return found.data_key
    savepoint = db.session.begin_nested()
    try:
        key = new_data_key("incident_report")
        db.session.add(key)
        db.session.add(IncidentKeyPeriod(period=period, data_key=key))
        db.session.flush()
        savepoint.commit()
        return key
    except IntegrityError:
        savepoint.rollback()
        return db.session.scalars(select(IncidentKeyPeriod).where(IncidentKeyPeriod.period == period)).one().data_key


def new_report(*, occurred_at: datetime, occurred_until: datetime | None = None, area_id: int, category_id: int,
               setting: Setting | str, description: str | None, organisation_id: int, reporter_id: int | None = None,
               place: str | None = None, latitude: float | None = None, longitude: float | None = None,
               source: ReportSource = ReportSource.FORM, external_id: str | None = None,
               fingerprint: str | None = None, submission_id: uuid.UUID | None = None,
               status: ReportStatus = ReportStatus.NEW, key: DataKey | None = None) -> IncidentReport:
    """A report with its local date, ISO week and month key set; the caller validates, adds and audits."""
    day, iso_year, iso_week = local_week(occurred_at)
    report = IncidentReport(
        data_key=key or description_key(day),
        occurred_at=occurred_at,
        occurred_until=occurred_until,
        local_date=day,
        iso_year=iso_year,
        iso_week=iso_week,
        area_id=area_id,
        category_id=category_id,
        setting=Setting(setting),
        latitude=latitude,
        longitude=longitude,
        organisation_id=organisation_id,
        reporter_id=reporter_id,
        source=ReportSource(source),
        external_id=external_id,
        fingerprint=fingerprint,
        submission_id=submission_id,
        status=ReportStatus(status),
    )
    report.description = description or None
    report.place = place or None
    return report
