"""The "my work" start page: what is due, overdue, expiring or to be reviewed.

Encrypted fields cannot be queried, and the start page stays free of personal
text, so it shows plain columns only: case codes, phases, parts and areas,
dates, statuses and agency names, never a goal, a name or a reason.
The coordinator's scope comes from the policy (visible_cases_query), the
partner's from the items assigned to their agency (items_assigned_query, via
app.cases.plan.agency_items_due).
Which sections a user gets is decided by the policy too, not by role names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Select, select

from app.admin.models import Agency
from app.cases import lookups, plan, records, reopening
from app.cases.emergency import repeated_clause
from app.cases.access import visible_cases_query
from app.cases.models import Case, CasePhase, EmergencyAccess, today_local
from app.cases.queries import count_by_phase
from app.db import db, utcnow
from app.security.authz import gate
from app.security.permissions import Permission

#: Plan items and reassessments due within this many days are shown (overdue ones always).
DUE_WITHIN_DAYS = 14
#: The coordinator sees emergency accesses to their cases started within this many days.
EMERGENCY_WITHIN_DAYS = 30
#: At most this many rows per list; the page says when there are more.
LIMIT = 50


@dataclass
class Listing:
    """Some rows of a list, and whether more exist than are shown."""

    rows: list[Any]
    more: bool = False

    def __bool__(self) -> bool:
        return bool(self.rows)


@dataclass
class Work:
    """What a start page shows; empty lists for sections the user does not have."""

    sections: set[str]
    today: date
    due_within_days: int = DUE_WITHIN_DAYS
    consent_warning_days: int = 14
    emergency_days: int = EMERGENCY_WITHIN_DAYS
    phase_counts: list[tuple[CasePhase, int]] = field(default_factory=list)
    items_due: Listing = field(default_factory=lambda: Listing([]))
    reassessments_due: Listing = field(default_factory=lambda: Listing([]))
    consents_expiring: Listing = field(default_factory=lambda: Listing([]))
    emergencies: Listing = field(default_factory=lambda: Listing([]))
    agency_items_due: Listing = field(default_factory=lambda: Listing([]))
    unreviewed_emergencies: Listing = field(default_factory=lambda: Listing([]))
    #: Cases this coordinator had that someone else reopened (and so took over).
    reopened_by_others: list[Any] = field(default_factory=list)
    #: For the auditor: reopenings by someone other than the previous coordinator, and person look-ups that
    #: hit a case the user does not coordinate or were refused by the rate limit.
    reopenings: list[Any] = field(default_factory=list)
    lookups: list[Any] = field(default_factory=list)


def _listing(stmt: Select) -> Listing:
    return _first(db.session.execute(stmt.limit(LIMIT + 1)).all())


def _first(rows: list) -> Listing:
    return Listing(rows[:LIMIT], len(rows) > LIMIT)


def work_sections(user) -> set[str]:
    """Which start-page sections the policy gives this user: coordinator, partner, auditor (or none)."""
    policy = gate()
    sections = set()
    if "coordinates_case" in policy.allowing_conditions(user, Permission.CASE_MANAGE):
        sections.add("coordinator")
    if user.agency_id and "assigned_to_agency" in policy.allowing_conditions(user, Permission.PLAN_ITEM_UPDATE):
        sections.add("partner")
    if policy.allowing_conditions(user, Permission.EMERGENCY_REVIEW):
        sections.add("auditor")
    return sections


# ------------------------------------------------------------------ coordinator and auditor
#
# Plan items due (app.cases.plan), reassessments due and consents expiring
# (app.cases.records) come from the modules that own those records.


def phase_counts(user) -> list[tuple[CasePhase, int]]:
    """(phase, count) for every phase, of the cases the user may open."""
    counts = count_by_phase(visible_cases_query(user))
    return [(phase, counts.get(phase, 0)) for phase in CasePhase]


def case_emergencies(user, within: int = EMERGENCY_WITHIN_DAYS) -> Listing:
    """Emergency accesses to the cases the user may open, started within ``within`` days; newest first."""
    now = utcnow()
    return _listing(
        visible_cases_query(user)
        .join(EmergencyAccess, EmergencyAccess.case_id == Case.id)
        .outerjoin(Agency, EmergencyAccess.agency_id == Agency.id)
        .where(EmergencyAccess.started_at >= now - timedelta(days=within))
        .with_only_columns(Case.code, Agency.name.label("agency"), EmergencyAccess.started_at,
                           (EmergencyAccess.expires_at > now).label("active"), EmergencyAccess.reviewed_at)
        .order_by(EmergencyAccess.started_at.desc())
    )


def unreviewed_emergencies() -> Listing:
    """Emergency accesses not yet reviewed, newest first (for the auditor)."""
    return _listing(
        select(EmergencyAccess.id, Case.code, Agency.name.label("agency"), EmergencyAccess.started_at,
               repeated_clause().label("repeated"))
        .join(Case, EmergencyAccess.case_id == Case.id)
        .outerjoin(Agency, EmergencyAccess.agency_id == Agency.id)
        .where(EmergencyAccess.reviewed_at.is_(None))
        .order_by(EmergencyAccess.started_at.desc())
    )


# ------------------------------------------------------------------ the page


def my_work(user) -> Work | None:
    """Everything the user's start page lists, or None if the policy gives them no case work."""
    sections = work_sections(user)
    if not sections:
        return None
    today = today_local()
    warning_days = int(current_app.config.get("LOTS_CONSENT_WARNING_DAYS", 14))
    work = Work(sections=sections, today=today, consent_warning_days=warning_days)
    if "coordinator" in sections:
        mine = visible_cases_query(user)
        work.phase_counts = phase_counts(user)
        work.items_due = _first(plan.coordinator_items_due(user, today, DUE_WITHIN_DAYS))
        work.reassessments_due = _first(records.reassessments_due(mine, today, DUE_WITHIN_DAYS))
        work.consents_expiring = _first(records.consents_expiring(mine, today, warning_days))
        work.emergencies = case_emergencies(user)
        work.reopened_by_others = reopening.notices_for_previous_coordinator(user)
    if "partner" in sections:
        work.agency_items_due = _first(plan.agency_items_due(user.agency_id, today, DUE_WITHIN_DAYS))
    if "auditor" in sections:
        work.unreviewed_emergencies = unreviewed_emergencies()
        work.reopenings = reopening.reopenings_by_others()
        work.lookups = lookups.auditor_lookup_events()
    return work
