"""Read-only queries of the case module: the case list and its filters, counts, the case page, history.

Every list starts from a visibility-filtered SELECT (app.cases.access.visible_cases_query),
so these functions only narrow, sort, count and load; they never widen what a
user may see. Nothing here writes, and nothing reads an encrypted field in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import joinedload, lazyload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app.admin.models import Agency, AgencyKind
from app.cases.models import (
    OPEN_ITEM_STATUSES,
    Case,
    CaseNote,
    CasePhase,
    CaseTeamMember,
    CaseTransition,
    Consent,
    EmergencyAccess,
    PlanItem,
    ThreatAssessment,
    today_local,
)
from app.db import as_utc, db
from app.security.models import Role, User

# ------------------------------------------------------------------ the case list


@dataclass
class CaseFilters:
    """What the case list is narrowed by (all optional)."""

    code: str | None = None
    phase: CasePhase | None = None
    coordinator_id: int | None = None
    agency_id: int | None = None
    #: "overdue" (plan items past their due date) or "reassessment" (threat reassessment due).
    due: str | None = None


CASE_SORTS = {"code": Case.code, "phase": Case.phase, "referred": Case.referred_on, "coordinator": User.full_name}


def _counted_items(user):
    """Plan items a list may count for this user: all in the cases they coordinate, else their agency's own."""
    return or_(Case.coordinator_id == user.id, PlanItem.responsible_agency_id == user.agency_id)


def _overdue(on: date):
    return and_(PlanItem.status.in_(OPEN_ITEM_STATUSES), PlanItem.due_on < on, Case.phase != CasePhase.CLOSED)


def reassessment_due_clause(on: date):
    """SQL: the latest threat assessment of an open case has its reassessment date today or earlier."""
    latest = (
        select(ThreatAssessment.next_review_on)
        .where(ThreatAssessment.case_id == Case.id)
        .order_by(ThreatAssessment.assessed_on.desc(), ThreatAssessment.created_at.desc())
        .limit(1)
        .correlate(Case)
        .scalar_subquery()
    )
    return and_(Case.phase != CasePhase.CLOSED, latest <= on)


def search_cases(visible, user, filters: CaseFilters, sort: str, page: int, per_page: int):
    """Filter, sort and paginate a visibility-filtered SELECT of cases (see access.visible_cases_query).

    Due work is judged only on what the user may see: overdue plan items of their own agency (all items in
    the cases they coordinate), and reassessments only in the cases they coordinate.
    """
    today = today_local()
    stmt = visible.join(User, Case.coordinator_id == User.id)
    if filters.code:
        stmt = stmt.where(or_(Case.code == filters.code, Case.code.startswith(filters.code, autoescape=True)))
    if filters.phase:
        stmt = stmt.where(Case.phase == filters.phase)
    if filters.coordinator_id:
        stmt = stmt.where(Case.coordinator_id == filters.coordinator_id)
    if filters.agency_id:
        stmt = stmt.where(exists().where(CaseTeamMember.case_id == Case.id, CaseTeamMember.removed_at.is_(None),
                                         CaseTeamMember.agency_id == filters.agency_id))
    if filters.due == "overdue":
        stmt = stmt.where(exists().where(PlanItem.case_id == Case.id, _overdue(today), _counted_items(user)))
    elif filters.due == "reassessment":
        stmt = stmt.where(Case.coordinator_id == user.id, reassessment_due_clause(today))
    column = CASE_SORTS.get(sort.lstrip("-"), Case.referred_on)
    stmt = stmt.order_by(column.desc() if sort.startswith("-") else column, Case.code)
    stmt = stmt.options(lazyload(Case.participant), selectinload(Case.team), joinedload(Case.coordinator))
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def overdue_counts(cases: list[Case], user) -> dict[Any, int]:
    """Overdue plan items per case, counted as in search_cases (only what the user may see)."""
    if not cases:
        return {}
    rows = db.session.execute(
        select(PlanItem.case_id, func.count())
        .join(Case, PlanItem.case_id == Case.id)
        .where(PlanItem.case_id.in_([c.id for c in cases]), _overdue(today_local()), _counted_items(user))
        .group_by(PlanItem.case_id)
    )
    return dict(rows.all())


def count_by_phase(stmt) -> dict[CasePhase, int]:
    """Counts per phase of the cases a (visibility-filtered) SELECT returns."""
    sub = stmt.subquery()
    rows = db.session.execute(select(sub.c.phase, func.count()).group_by(sub.c.phase))
    return {CasePhase(phase): count for phase, count in rows}


# ------------------------------------------------------------------ form choices


def coordinator_choices() -> list[tuple[int, str]]:
    """Active coordinators, for the case list's filter."""
    stmt = (select(User.id, User.full_name).join(User.roles).where(Role.name == "coordinator", User.active.is_(True))
            .order_by(User.full_name, User.id))
    return [(row.id, row.full_name) for row in db.session.execute(stmt)]


#: The agency kinds that take part in cases (team, plan items, assessments, meetings): every kind but "other",
#: the municipality's own support functions (IT, administration), whose staff never work on a case.
CASE_AGENCY_KINDS = tuple(kind for kind in AgencyKind if kind is not AgencyKind.OTHER)


def agency_choices(include: int | None = None) -> list[tuple[int, str]]:
    """Active agencies of the kinds that take part in cases, by name (plus ``include``, e.g. an item's current
    agency even if inactive now)."""
    stmt = select(Agency.id, Agency.name).where(
        (Agency.active.is_(True) & Agency.kind.in_(CASE_AGENCY_KINDS)) | (Agency.id == (include or -1)))
    return [(agency_id, name) for agency_id, name in db.session.execute(stmt.order_by(Agency.name, Agency.id))]


def officer_choices(agency_ids=None, include: int | None = None) -> list[tuple[int, str]]:
    """Active staff who can be named on a case (of these agencies, if given), as "Name (Agency)".

    ``include`` (e.g. the officer named on an item now) is listed even if no longer active.
    """
    named = User.active.is_(True) & Agency.active.is_(True) & User.roles.any(Role.name.in_(("coordinator", "partner")))
    if agency_ids is not None:
        named = named & User.agency_id.in_(list(agency_ids))
    stmt = (select(User.id, User.full_name, Agency.name).join(Agency, User.agency_id == Agency.id)
            .where(named | (User.id == (include or -1)))
            .order_by(Agency.name, User.full_name, User.id))
    return [(user_id, f"{name} ({agency})") for user_id, name, agency in db.session.execute(stmt)]


# ------------------------------------------------------------------ the case page and its history


def load_case_page(case: Case) -> Case:
    """Load everything the case page shows in a few queries (instead of one per relationship and row)."""
    stmt = (
        select(Case).where(Case.id == case.id).execution_options(populate_existing=True)
        .options(
            joinedload(Case.coordinator),
            selectinload(Case.team).options(joinedload(CaseTeamMember.agency), joinedload(CaseTeamMember.officer)),
            selectinload(Case.consents).joinedload(Consent.agency),
            selectinload(Case.assessments).joinedload(ThreatAssessment.agency),
            selectinload(Case.plan_items).joinedload(PlanItem.responsible_agency),
            selectinload(Case.emergency_accesses).joinedload(EmergencyAccess.user),
        )
    )
    case = db.session.scalars(stmt).unique().one()
    # The participant's side of the one-to-one is known: spare the policy conditions a query for it.
    set_committed_value(case.participant, "case", case)
    return case


def latest_notes(case: Case, limit: int = 50) -> list[CaseNote]:
    """The newest case notes, newest first."""
    stmt = (select(CaseNote).where(CaseNote.case_id == case.id).options(joinedload(CaseNote.author))
            .order_by(CaseNote.written_at.desc()).limit(limit))
    return list(db.session.scalars(stmt).unique())


@dataclass
class HistoryEntry:
    at: datetime
    #: "phase", "team_added" or "team_removed"
    kind: str
    by: str | None
    from_phase: CasePhase | None = None
    to_phase: CasePhase | None = None
    agency: str | None = None
    officer: str | None = None


def case_history(case: Case) -> list[HistoryEntry]:
    """Phase changes and team changes of a case, oldest first."""
    members = list(db.session.scalars(
        select(CaseTeamMember).where(CaseTeamMember.case_id == case.id)
        .options(joinedload(CaseTeamMember.agency), joinedload(CaseTeamMember.officer))))
    transitions = list(db.session.scalars(
        select(CaseTransition).where(CaseTransition.case_id == case.id).options(joinedload(CaseTransition.by))))
    actor_ids = {m.added_by_id for m in members} | {m.removed_by_id for m in members}
    actor_ids.discard(None)
    names = dict(db.session.execute(select(User.id, User.full_name).where(User.id.in_(actor_ids))).all()) \
        if actor_ids else {}
    entries = [HistoryEntry(t.at, "phase", t.by.full_name if t.by else None, t.from_phase, t.to_phase)
               for t in transitions]
    for m in members:
        officer = m.officer.full_name if m.officer else None
        entries.append(HistoryEntry(m.created_at, "team_added", names.get(m.added_by_id), agency=m.agency.name,
                                    officer=officer))
        if m.removed_at is not None:
            entries.append(HistoryEntry(m.removed_at, "team_removed", names.get(m.removed_by_id),
                                        agency=m.agency.name, officer=officer))
    return sorted(entries, key=lambda e: as_utc(e.at))


