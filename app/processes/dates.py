"""Dates for processes: "today" is the Europe/Stockholm calendar day, and lateness is derived."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from app.processes.models import CLOSED_STATUSES, WorkStatus
from app.web import STOCKHOLM

#: The cross-process page and the digest look this many days ahead.
DUE_HORIZON_DAYS = 14


def local_today(now: datetime | None = None) -> date:
    """The calendar day in Sweden at ``now`` (UTC if naive), not the server's day."""
    now = now or datetime.now(timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    return now.astimezone(STOCKHOLM).date()


def is_late(status: WorkStatus, due_date: date, today: date | None = None) -> bool:
    """Late: not done or cancelled, and the due date has passed (the due day itself is not late)."""
    return status not in CLOSED_STATUSES and due_date < (today or local_today())


def is_due_soon(status: WorkStatus, due_date: date, today: date | None = None,
                days: int = DUE_HORIZON_DAYS) -> bool:
    """Open and due today or within ``days`` days."""
    today = today or local_today()
    return status not in CLOSED_STATUSES and today <= due_date <= today + timedelta(days=days)
