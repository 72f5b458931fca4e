"""ISO-week arithmetic in Europe/Stockholm local dates (reports store their local date and ISO week)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from app.overview.service import STOCKHOLM


def week_start(iso_year: int, iso_week: int) -> date:
    """Monday of an ISO week; ValueError for a week the year does not have (54, or 53 in a 52-week year)."""
    if not 1 <= iso_week <= 53:
        raise ValueError("no such ISO week")
    monday = date.fromisocalendar(iso_year, iso_week, 1)
    if monday.isocalendar()[:2] != (iso_year, iso_week):
        raise ValueError("no such ISO week")
    return monday


def is_valid_week(iso_year: int, iso_week: int) -> bool:
    """Does this ISO year have this week (and is the year in a sane range)?"""
    if not 1900 <= iso_year <= 2999:
        return False
    try:
        week_start(iso_year, iso_week)
    except ValueError:
        return False
    return True


def weeks_touching(first: date, last: date) -> list[tuple[tuple[int, int], int]]:
    """((iso_year, iso_week), days of it inside first..last) for every ISO week with a day in that span."""
    weeks = []
    monday = first - timedelta(days=first.weekday())
    while monday <= last:
        days = (min(monday + timedelta(days=6), last) - max(monday, first)).days + 1
        weeks.append((tuple(monday.isocalendar()[:2]), days))
        monday += timedelta(weeks=1)
    return weeks


def weeks_in_year(iso_year: int) -> int:
    """52 or 53: 28 December always lies in the last ISO week of its year."""
    return date(iso_year, 12, 28).isocalendar()[1]


def shift_week(iso_year: int, iso_week: int, weeks: int) -> tuple[int, int]:
    """The ISO week ``weeks`` weeks after (negative: before) the given one."""
    iso = (week_start(iso_year, iso_week) + timedelta(weeks=weeks)).isocalendar()
    return iso[0], iso[1]


def same_week_last_year(iso_year: int, iso_week: int) -> tuple[int, int]:
    """The same ISO week a year earlier; week 53 maps to week 52 when the earlier year has no week 53."""
    return iso_year - 1, min(iso_week, weeks_in_year(iso_year - 1))


def current_week(now: datetime | None = None) -> tuple[int, int]:
    """The ISO (year, week) it is now in Stockholm."""
    iso = (now or datetime.now(STOCKHOLM)).astimezone(STOCKHOLM).date().isocalendar()
    return iso[0], iso[1]



def local_today(now: datetime | None = None):
    """Today's date in Stockholm."""
    return (now or datetime.now(STOCKHOLM)).astimezone(STOCKHOLM).date()


def last_complete_week(now: datetime | None = None) -> tuple[int, int]:
    """The ISO (year, week) before the running one: the week a Monday meeting discusses."""
    year, week = current_week(now)
    return shift_week(year, week, -1)
