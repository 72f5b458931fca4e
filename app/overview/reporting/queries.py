"""Read paths for reports: the reporter's own list, the review list and one report.

The review list is narrowed in SQL by the conditions under which the policy
grants ``report:read`` to the user (analysts: always; process leaders: only
accepted reports), and the view checks every row again with the gate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import abort
from sqlalchemy import Select, false, func, or_, select, true

from app.db import db
from app.overview.models import Area, Category, IncidentReport, ReportSource, ReportStatus
from app.overview.reporting.review import parse_report_id
from app.security.authz import gate
from app.security.permissions import Permission

REVIEW_SORTS = {
    "occurred": IncidentReport.occurred_at, "-occurred": IncidentReport.occurred_at.desc(),
    "filed": IncidentReport.created_at, "-filed": IncidentReport.created_at.desc(),
    "status": IncidentReport.status, "-status": IncidentReport.status.desc(),
    "area": Area.name, "-area": Area.name.desc(),
    "category": Category.sort_order, "-category": Category.sort_order.desc(),
}
DEFAULT_SORT = "-occurred"
_WEEK = re.compile(r"(\d{4})-?W?(\d{1,2})")


def parse_week(value: str | None) -> tuple[int, int] | None:
    """(ISO year, ISO week) from "2026-W47", "2026-47" or "2026W47"; None if empty; ValueError if invalid."""
    value = (value or "").strip().upper()
    if not value:
        return None
    match = _WEEK.fullmatch(value)
    if not match:
        raise ValueError(value)
    year, week = int(match.group(1)), int(match.group(2))
    last = date(year, 12, 28).isocalendar().week
    if not 2000 <= year <= 2199 or not 1 <= week <= last:
        raise ValueError(value)
    return year, week


def load_report(report_id: str) -> IncidentReport:
    """The report with this id (404 if the id is malformed or unknown); the caller authorizes."""
    ident = parse_report_id(report_id) if report_id and len(report_id) <= 40 else None
    report = db.session.get(IncidentReport, ident) if ident else None
    if report is None:
        abort(404)
    return report


#: Sort orders of the reporter's own list (a subset of the review list's, no joins needed).
OWN_SORTS = {key: REVIEW_SORTS[key] for key in ("occurred", "-occurred", "filed", "-filed", "status", "-status")}


#: A search in the (encrypted) place text decrypts at most this many of the newest matching reports.
PLACE_SEARCH_LIMIT = 5000
DESCRIPTION_SET = "incident.description"


def may_read_places(user: Any) -> bool:
    """Whether the policy can let this user read places (incident.description); each row is still checked."""
    return bool(gate().allowing_conditions(user, "fieldset.read:" + DESCRIPTION_SET))


def _place_matches(user: Any, stmt: Select, q: str) -> Any:
    """A WHERE clause: the reports of ``stmt`` whose place contains ``q`` (case-insensitive), as this user may read.

    The place is encrypted, so SQL cannot search it: the newest PLACE_SEARCH_LIMIT candidates are decrypted
    here, and only rows whose place the user may read are matched (the search is no oracle for the others).
    """
    if not may_read_places(user):
        return false()
    needle = q.casefold()
    decide = gate().decide
    candidates = db.session.scalars(
        stmt.order_by(None).where(IncidentReport.place_ct.is_not(None))
        .order_by(IncidentReport.occurred_at.desc()).limit(PLACE_SEARCH_LIMIT)
        .execution_options(yield_per=500))
    ids = []
    for report in candidates:
        if decide(user, "fieldset.read:" + DESCRIPTION_SET, report, fieldset=DESCRIPTION_SET) \
                and needle in (report.place or "").casefold():
            ids.append(report.id)
        report.forget_plaintext()
    return IncidentReport.id.in_(ids) if ids else false()


def own_reports_query(user: Any, *, q: str = "", status: str = "", sort: str = DEFAULT_SORT) -> Select:
    """The reports this user filed (newest incident first by default), optionally by status and place text."""
    stmt = select(IncidentReport).where(IncidentReport.reporter_id == user.id)
    if status in {s.value for s in ReportStatus}:
        stmt = stmt.where(IncidentReport.status == ReportStatus(status))
    if q:
        stmt = stmt.where(_place_matches(user, stmt, q))
    order = OWN_SORTS.get(sort, OWN_SORTS[DEFAULT_SORT])
    return stmt.order_by(order, IncidentReport.created_at.desc(), IncidentReport.id)


def _condition_clause(condition: str):
    if condition == "always":
        return true()
    if condition == "accepted_report":
        return IncidentReport.status == ReportStatus.ACCEPTED
    return false()


def readable_reports_query(user: Any) -> Select:
    """SELECT of the reports the user may read, derived from the policy lines for report:read."""
    conditions = gate().allowing_conditions(user, Permission.REPORT_READ)
    if not conditions:
        return select(IncidentReport).where(false())
    return select(IncidentReport).where(or_(*(_condition_clause(c) for c in sorted(conditions))))


def statuses_readable(user: Any) -> list[ReportStatus]:
    """The statuses the user may see in the review list (process leaders: accepted only)."""
    conditions = gate().allowing_conditions(user, Permission.REPORT_READ)
    if "always" in conditions:
        return list(ReportStatus)
    if "accepted_report" in conditions:
        return [ReportStatus.ACCEPTED]
    return []


@dataclass
class ReportFilter:
    """The review list's filters; ``status`` "all" shows every readable status."""

    status: str = "all"
    category_id: int | None = None
    area_id: int | None = None
    week: tuple[int, int] | None = None
    organisation_id: int | None = None
    source: str | None = None
    q: str = ""
    sort: str = DEFAULT_SORT


def review_query(user: Any, filters: ReportFilter) -> Select:
    """The readable reports matching the filters, sorted."""
    stmt = readable_reports_query(user)
    if filters.status and filters.status != "all":
        stmt = stmt.where(IncidentReport.status == ReportStatus(filters.status))
    if filters.category_id:
        stmt = stmt.where(IncidentReport.category_id == filters.category_id)
    if filters.area_id:
        stmt = stmt.where(IncidentReport.area_id == filters.area_id)
    if filters.week:
        stmt = stmt.where(IncidentReport.iso_year == filters.week[0], IncidentReport.iso_week == filters.week[1])
    if filters.organisation_id:
        stmt = stmt.where(IncidentReport.organisation_id == filters.organisation_id)
    if filters.source:
        stmt = stmt.where(IncidentReport.source == ReportSource(filters.source))
    if filters.q:
        stmt = stmt.where(_place_matches(user, stmt, filters.q))
    sort = filters.sort if filters.sort in REVIEW_SORTS else DEFAULT_SORT
    if sort.lstrip("-") == "area":
        stmt = stmt.join(Area, Area.id == IncidentReport.area_id)
    elif sort.lstrip("-") == "category":
        stmt = stmt.join(Category, Category.id == IncidentReport.category_id)
    return stmt.order_by(REVIEW_SORTS[sort], IncidentReport.occurred_at.desc(), IncidentReport.id)


def count_waiting(user: Any) -> int:
    """How many reports the user may read are waiting for review."""
    stmt = readable_reports_query(user).where(IncidentReport.status == ReportStatus.NEW)
    return db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


def visible(reports, user: Any) -> list[IncidentReport]:
    """Defence in depth: the gate's object-level answer for every row a list query returned."""
    decide = gate().decide
    return [report for report in reports if decide(user, Permission.REPORT_READ, report)]


def next_new_report(user: Any, after: IncidentReport) -> IncidentReport | None:
    """The next report waiting for review, in the review list's default order (newest incident first)."""
    stmt = (readable_reports_query(user)
            .where(IncidentReport.status == ReportStatus.NEW, IncidentReport.id != after.id)
            .order_by(IncidentReport.occurred_at.desc(), IncidentReport.id).limit(1))
    found = db.session.scalars(stmt).first()
    return found if found is not None and gate().decide(user, Permission.REPORT_READ, found) else None


def possible_duplicates(user: Any, report: IncidentReport, limit: int = 5) -> list[IncidentReport]:
    """Reports of the same area and category within a day of this one (candidates for "duplicate of")."""
    window = timedelta(hours=24)
    stmt = (readable_reports_query(user)
            .where(IncidentReport.area_id == report.area_id, IncidentReport.category_id == report.category_id,
                   IncidentReport.id != report.id, IncidentReport.status != ReportStatus.DUPLICATE,
                   IncidentReport.occurred_at.between(report.occurred_at - window, report.occurred_at + window))
            .order_by(IncidentReport.occurred_at).limit(limit))
    return visible(db.session.scalars(stmt), user)
