"""The counted reports' points for the map: accepted reports with coordinates, the same set the figures count.

Points are rounded to three decimals (about 100 m north–south, 55 m east–west here), enough for a map of
the municipality and no closer to a doorway; published versions store them rounded.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.db import db
from app.overview.models import IncidentReport, ReportStatus

POINT_DECIMALS = 3


def _points(*conditions) -> list[list[float]]:
    R = IncidentReport
    rows = db.session.execute(select(R.longitude, R.latitude).where(
        R.status == ReportStatus.ACCEPTED, R.latitude.is_not(None), R.longitude.is_not(None), *conditions))
    return sorted([round(lon, POINT_DECIMALS), round(lat, POINT_DECIMALS)] for lon, lat in rows)


def week_points(iso_year: int, iso_week: int) -> list[list[float]]:
    """[lon, lat] of the week's accepted reports that have coordinates."""
    return _points(IncidentReport.iso_year == iso_year, IncidentReport.iso_week == iso_week)


def period_points(start: date, through: date | None) -> list[list[float]]:
    """[lon, lat] of the accepted reports with a Stockholm date in start..through (none before it starts)."""
    if through is None or through < start:
        return []
    return _points(IncidentReport.local_date.between(start, through))
