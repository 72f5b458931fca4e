"""The analysts' review: accept, reject with a reason, mark as a duplicate, correct category and area.

Only accepted reports count in the overview. Every change writes a
``ReportRevision`` (plain fields only) and a ``report.reviewed`` audit event,
and is guarded by the report's version (optimistic locking).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.db import db, utcnow
from app.overview.models import Area, Category, IncidentReport, ReportRevision, ReportStatus
from app.overview.reporting.filing import check_version, flush_or_conflict, plain_value
from app.overview.service import ReportError
from app.security.audit import record
from app.security.models import User
from app.security.permissions import Permission

ACTIONS = ("accept", "reject", "duplicate", "reclassify")
MAX_REASON = 500
_REVISION_ACTION = {"accept": "accepted", "reject": "rejected", "duplicate": "duplicate", "reclassify": "reclassified"}


class ReviewInvalid(ReportError):
    """A review request the analyst must correct; ``field`` names the form field."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.field = field


def parse_report_id(value: str | None) -> uuid.UUID | None:
    """A report id from user input (with or without dashes), or None if it is not a UUID."""
    try:
        return uuid.UUID(str(value or "").strip())
    except ValueError:
        return None


def _decide(report: IncidentReport, status: ReportStatus, reviewer) -> None:
    report.status = status
    report.reviewed_at = utcnow()
    report.reviewed_by_id = reviewer.id


def _accept(report: IncidentReport, reviewer, **_ignored) -> None:
    if report.status == ReportStatus.ACCEPTED:
        raise ReviewInvalid(_l("Rapporten är redan godkänd."))
    _decide(report, ReportStatus.ACCEPTED, reviewer)
    report.reject_reason = None
    report.duplicate_of_id = None


def _reject(report: IncidentReport, reviewer, *, reason: str | None = None, **_ignored) -> None:
    reason = (reason or "").strip()
    if not reason:
        raise ReviewInvalid(_l("Ange varför rapporten avvisas."), "reason")
    if len(reason) > MAX_REASON:
        raise ReviewInvalid(_l("Högst %(max)d tecken.", max=MAX_REASON), "reason")
    if report.status == ReportStatus.REJECTED and report.reject_reason == reason:
        raise ReviewInvalid(_l("Rapporten är redan avvisad med den motiveringen."), "reason")
    _decide(report, ReportStatus.REJECTED, reviewer)
    report.reject_reason = reason
    report.duplicate_of_id = None


def _duplicate(report: IncidentReport, reviewer, *, duplicate_of: str | None = None, **_ignored) -> None:
    target_id = parse_report_id(duplicate_of)
    if target_id is None:
        raise ReviewInvalid(_l("Ange id för den rapport som detta är en dubblett av."), "duplicate_of")
    if target_id == report.id:
        raise ReviewInvalid(_l("En rapport kan inte vara en dubblett av sig själv."), "duplicate_of")
    target = db.session.get(IncidentReport, target_id)
    if target is None:
        raise ReviewInvalid(_l("Det finns ingen rapport med det id:t."), "duplicate_of")
    if target.duplicate_of_id == report.id:
        raise ReviewInvalid(_l("Den rapporten är redan markerad som dubblett av den här."), "duplicate_of")
    if report.status == ReportStatus.DUPLICATE and report.duplicate_of_id == target.id:
        raise ReviewInvalid(_l("Rapporten är redan markerad som dubblett av den rapporten."), "duplicate_of")
    _decide(report, ReportStatus.DUPLICATE, reviewer)
    report.duplicate_of_id = target.id
    report.reject_reason = None


def _usable(model, ident, current: int, message, field: str) -> int:
    try:
        ident = int(ident)
    except (TypeError, ValueError):
        raise ReviewInvalid(message, field) from None
    if ident == current:
        return ident
    found = db.session.get(model, ident)
    if found is None or not found.active:
        raise ReviewInvalid(message, field)
    return ident


def _reclassify(report: IncidentReport, reviewer, *, category_id=None, area_id=None, **_ignored) -> None:
    category = _usable(Category, category_id, report.category_id, _l("Välj en av kategorierna i listan."),
                       "category_id")
    area = _usable(Area, area_id, report.area_id, _l("Välj ett av områdena i listan."), "area_id")
    if category == report.category_id and area == report.area_id:
        raise ReviewInvalid(_l("Välj en annan kategori eller ett annat område: inget skulle ändras."), "category_id")
    report.category_id, report.area_id = category, area


_HANDLERS = {"accept": _accept, "reject": _reject, "duplicate": _duplicate, "reclassify": _reclassify}
_TRACKED = ("status", "reject_reason", "duplicate_of_id", "category_id", "area_id")


def review_report(report: IncidentReport, reviewer, action: str, *, expected_version, **values) -> ReportRevision:
    """Apply one review action to a report, with its history row and audit event."""
    handler = _HANDLERS.get(action)
    if handler is None:
        raise ReviewInvalid(_l("Okänd granskningsåtgärd."))
    check_version(report, expected_version)
    before = {name: plain_value(getattr(report, name)) for name in _TRACKED}
    savepoint = db.session.begin_nested()
    try:
        handler(report, reviewer, **values)
    except ReviewInvalid:
        savepoint.rollback()
        raise
    flush_or_conflict(savepoint)
    after = {name: plain_value(getattr(report, name)) for name in _TRACKED}
    changes = {name: [before[name], after[name]] for name in _TRACKED if before[name] != after[name]}
    revision = ReportRevision(report_id=report.id, by_id=reviewer.id, action=_REVISION_ACTION[action],
                              changes=json.dumps(changes, ensure_ascii=False))
    db.session.add(revision)
    db.session.flush()
    record("report.reviewed", obj=report, permission=Permission.REPORT_REVIEW,
           detail={"action": action, "status": report.status.value, "fields": ",".join(sorted(changes))})
    return revision


# ------------------------------------------------------------------ history


@dataclass
class HistoryEntry:
    at: datetime
    action: str
    by: str
    changes: dict[str, list]


def _instant(value):
    try:
        return datetime.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def report_history(report: IncidentReport) -> list[HistoryEntry]:
    """The report's revisions, oldest first, with the name of who made each change."""
    revisions = list(db.session.scalars(
        select(ReportRevision).where(ReportRevision.report_id == report.id).order_by(ReportRevision.at,
                                                                                    ReportRevision.id)))
    user_ids = {r.by_id for r in revisions if r.by_id}
    names = dict(db.session.execute(select(User.id, User.full_name).where(User.id.in_(user_ids))).all()) \
        if user_ids else {}
    entries = []
    for revision in revisions:
        try:
            changes = json.loads(revision.changes or "{}")
        except ValueError:
            changes = {}
        for name in ("occurred_at", "occurred_until"):
            if name in changes:
                changes[name] = [_instant(value) for value in changes[name]]
        entries.append(HistoryEntry(revision.at, revision.action, names.get(revision.by_id, ""), changes))
    return entries
