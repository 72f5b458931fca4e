"""Exit-programme figures for the weekly overview: aggregates only, small counts suppressed.

This is the only way the overview reads case data. It counts plain columns
in SQL (no personal field is decrypted) and returns display-ready strings:

- a count of 1 to 4 is shown as ``"<5"`` (primary suppression); 0 is shown as ``"0"``;
- a total is shown as ``".."`` (withheld) when, next to the cells of its
  breakdown that are shown, it would give away a suppressed cell exactly
  (e.g. one phase "<5" and every other phase and the total shown);
- there is never a breakdown by plan area (areas are few and personal).

Publication grain (policies/README.md, "Exit-programme figures"): the overview and the yearly documents
publish these figures only for complete calendar quarters (:func:`last_complete_quarter`,
:func:`quarter_bounds`). No two published figures cover overlapping periods except a total and its own
breakdown, so no sum or difference of published figures can recover a suppressed one.

Callers never see a raw count: every number leaves as a :class:`Figure`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar

from sqlalchemy import and_, exists, func, or_, select, union_all

from app.admin.models import Agency
from app.cases.models import (
    OPEN_ITEM_STATUSES,
    Case,
    CasePhase,
    CaseTeamMember,
    CaseTransition,
    Participant,
    PlanItem,
    PlanItemStatus,
    today_local,
)
from app.cases.retention import start_of_day_utc
from app.db import db

K = TypeVar("K")

#: Counts from 1 to SMALL - 1 are never shown.
SMALL = 5
SUPPRESSED = "<5"
#: Statistics Sweden's symbol for a value that is not shown.
WITHHELD = ".."
OPEN_PHASES = (CasePhase.REFERRAL, CasePhase.ASSESSMENT, CasePhase.ACTIVE, CasePhase.FOLLOW_UP)


@dataclass(frozen=True)
class Figure:
    """One count as it may be shown: ``display`` is "0", "<5", ".." or the number."""

    display: str
    suppressed: bool

    def __str__(self) -> str:
        return self.display


@dataclass(frozen=True)
class AgencyFigures:
    """Plan items per responsible agency."""

    agency_id: int
    agency_name: str
    items_completed: Figure
    items_overdue: Figure


@dataclass(frozen=True)
class ExitFigures:
    """The exit programme in one period (see exit_programme_figures for the exact definitions)."""

    start: date
    end: date
    #: The day open cases and overdue items are measured at: ``end``, or today if ``end`` is still ahead.
    as_of: date
    new_referrals: Figure
    open_cases: Figure
    #: CasePhase value -> Figure, for the four open phases in lifecycle order.
    cases_by_phase: dict[str, Figure]
    items_completed: Figure
    items_overdue: Figure
    by_agency: tuple[AgencyFigures, ...]

    @property
    def suppressed(self) -> bool:
        """True if any figure is shown as "<5" or "..": the overview says so next to the table."""
        figures = [self.new_referrals, self.open_cases, self.items_completed, self.items_overdue,
                   *self.cases_by_phase.values()]
        figures += [f for row in self.by_agency for f in (row.items_completed, row.items_overdue)]
        return any(f.suppressed for f in figures)


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    """First and last day of a calendar quarter (1–4)."""
    if not 1 <= quarter <= 4:
        raise ValueError("a quarter is 1 to 4")
    first = date(year, 3 * quarter - 2, 1)
    last = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return first, last - timedelta(days=1)


def last_complete_quarter(before: date, today: date | None = None) -> tuple[int, int] | None:
    """(year, quarter) of the last calendar quarter that ended before ``before`` and is over by ``today``."""
    today = today or today_local()
    day = min(before, today) - timedelta(days=1)
    year, quarter = day.year, (day.month - 1) // 3 + 1
    if quarter_bounds(year, quarter)[1] != day:  # ``day`` is inside its quarter: take the one before
        year, quarter = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    return year, quarter


def figure(count: int) -> Figure:
    """A single count, with 1–4 suppressed."""
    if 0 < count < SMALL:
        return Figure(SUPPRESSED, True)
    return Figure(str(count), False)


def _total_and_cells(counts: Mapping[K, int]) -> tuple[Figure, dict[K, Figure]]:
    """A breakdown and its total; the total is withheld if it would pin down a suppressed cell.

    Knowing the total and the shown cells, the suppressed cells sum to ``h``;
    each of the ``k`` of them lies in [max(1, h - 4(k-1)), min(4, h - (k-1))].
    When that range is a single value (always so for k = 1), the total is withheld.
    """
    cells = {key: figure(count) for key, count in counts.items()}
    total = figure(sum(counts.values()))
    hidden = [counts[key] for key, cell in cells.items() if cell.suppressed]
    if hidden and not total.suppressed:
        k, h = len(hidden), sum(hidden)
        if max(1, h - (SMALL - 1) * (k - 1)) == min(SMALL - 1, h - (k - 1)):
            total = Figure(WITHHELD, True)
    return total, cells


def _on_team(agency_id: int, boundary):
    """The agency was on the case team at ``boundary`` (added before it, not removed before it)."""
    return exists().where(
        CaseTeamMember.case_id == Case.id,
        CaseTeamMember.agency_id == agency_id,
        CaseTeamMember.created_at < boundary,
        or_(CaseTeamMember.removed_at.is_(None), CaseTeamMember.removed_at >= boundary),
    )


def _phase_at(boundary, last_day: date):
    """(case_id, phase) of every case as it stood at ``boundary``, from its CaseTransition history.

    A case without any recorded transition (imported, say) counts in its
    current phase from its referral date on.
    """
    ranked = (
        select(CaseTransition.case_id, CaseTransition.to_phase.label("phase"),
               func.row_number().over(partition_by=CaseTransition.case_id,
                                      order_by=(CaseTransition.at.desc(), CaseTransition.id.desc())).label("rank"))
        .where(CaseTransition.at < boundary)
        .subquery()
    )
    from_history = select(ranked.c.case_id, ranked.c.phase).where(ranked.c.rank == 1)
    without_history = select(Case.id.label("case_id"), Case.phase.label("phase")).where(
        ~exists().where(CaseTransition.case_id == Case.id), Case.referred_on <= last_day)
    return union_all(from_history, without_history).subquery()


def _live_cases(stmt, agency_id: int | None, boundary):
    """Restrict a SELECT joined to Case to cases not erased (and, given an agency, with it on the team)."""
    stmt = stmt.join(Participant, Case.participant_id == Participant.id).where(Participant.erased_at.is_(None))
    if agency_id is not None:
        stmt = stmt.where(_on_team(agency_id, boundary))
    return stmt


def _by_agency(stmt) -> dict[int, int]:
    return {agency: count for agency, count in db.session.execute(
        stmt.with_only_columns(PlanItem.responsible_agency_id, func.count())
        .group_by(PlanItem.responsible_agency_id))}


def exit_programme_figures(start: date, end: date, *, agency_id: int | None = None,
                           by_agency: bool = True) -> ExitFigures:
    """Aggregate exit-programme figures for the days ``start``..``end`` (inclusive, Europe/Stockholm).

    - new referrals: cases whose ``referred_on`` falls in the period;
    - open cases by phase: the phase each case was in at the end of ``as_of``
      (the last day of the period, or today if that is still ahead),
      reconstructed from the transition history; closed cases are not counted;
    - plan items completed: status done with ``completed_on`` in the period;
    - plan items overdue: at the end of ``as_of``, items that existed
      (created before), were due before ``as_of`` (``due_on < as_of``, as
      PlanItem.is_overdue), were not completed by then (open now, or done
      after ``as_of``), on cases open at ``as_of``. Cancelled items never count;
    - both item figures overall and by responsible agency (with ``by_agency=False`` only overall: the
      totals are then not withheld for the sake of a breakdown nobody is shown).

    Erased cases are gone and count nowhere. With ``agency_id``, cases count
    only if that agency was on their team at the end of the period, and plan
    items only if that agency is responsible for them.
    """
    if start > end:
        raise ValueError("the period ends before it starts")
    as_of = min(end, today_local())
    end_boundary = start_of_day_utc(end + timedelta(days=1))
    as_of_boundary = start_of_day_utc(as_of + timedelta(days=1))

    referrals = db.session.scalar(_live_cases(
        select(func.count()).select_from(Case).where(Case.referred_on.between(start, end)), agency_id, end_boundary))

    phase_at = _phase_at(as_of_boundary, as_of)
    phase_rows = db.session.execute(_live_cases(
        select(phase_at.c.phase, func.count()).select_from(phase_at).join(Case, Case.id == phase_at.c.case_id),
        agency_id, as_of_boundary).group_by(phase_at.c.phase))
    by_phase = {CasePhase(phase): count for phase, count in phase_rows}
    open_cases, phase_cells = _total_and_cells({p.value: by_phase.get(p, 0) for p in OPEN_PHASES})

    items = _live_cases(select(PlanItem).join(Case, PlanItem.case_id == Case.id), None, end_boundary)
    if agency_id is not None:
        items = items.where(PlanItem.responsible_agency_id == agency_id)
    completed = _by_agency(items.where(PlanItem.status == PlanItemStatus.DONE,
                                       PlanItem.completed_on.between(start, end)))
    open_at = select(phase_at.c.case_id).where(phase_at.c.phase != CasePhase.CLOSED)
    overdue = _by_agency(items.where(
        PlanItem.created_at < as_of_boundary,
        PlanItem.due_on < as_of,
        or_(PlanItem.status.in_(OPEN_ITEM_STATUSES),
            and_(PlanItem.status == PlanItemStatus.DONE, PlanItem.completed_on > as_of)),
        PlanItem.case_id.in_(open_at),
    ))

    if not by_agency:
        return ExitFigures(start=start, end=end, as_of=as_of, new_referrals=figure(referrals),
                           open_cases=open_cases, cases_by_phase=phase_cells,
                           items_completed=figure(sum(completed.values())),
                           items_overdue=figure(sum(overdue.values())), by_agency=())
    agencies = sorted(set(completed) | set(overdue))
    completed_total, completed_cells = _total_and_cells({a: completed.get(a, 0) for a in agencies})
    overdue_total, overdue_cells = _total_and_cells({a: overdue.get(a, 0) for a in agencies})
    names = dict(db.session.execute(select(Agency.id, Agency.name).where(Agency.id.in_(agencies))).all())
    rows = sorted(
        (AgencyFigures(a, names.get(a, ""), completed_cells[a], overdue_cells[a]) for a in agencies),
        key=lambda row: row.agency_name,
    )
    return ExitFigures(start=start, end=end, as_of=as_of, new_referrals=figure(referrals), open_cases=open_cases,
                       cases_by_phase=phase_cells, items_completed=completed_total, items_overdue=overdue_total,
                       by_agency=tuple(rows))
