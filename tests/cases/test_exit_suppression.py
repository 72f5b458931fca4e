"""No suppressed exit-programme figure can be recovered from what is published (issue 17).

Every published figure becomes a linear constraint over the smallest pieces it is made of (for counts over
days: the stretches between any two published boundaries; for counts at a date: the phases at that date).
A figure shown as "<5" or ".." is *determined* when its minimum and its maximum over all non-negative
integer solutions agree (scipy's MILP). The checker is first shown to catch the leak the issue describes,
then run over everything Lots publishes for a year of constructed cases whose cells are 1–4.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from app.cases.models import STOCKHOLM, CasePhase, CaseTransition, PlanItem

YEAR = 2025


@dataclass(frozen=True)
class Published:
    """One figure as shown: a flow over days ``start``..``end``, or a stock of ``parts`` at ``end``."""

    measure: str  # "referrals", "completed" (flows); "open", "overdue" (stocks)
    start: date | None
    end: date
    display: str
    parts: tuple[str, ...] = ("all",)  # for a stock: which of its parts (phases) it sums

    @property
    def suppressed(self) -> bool:
        return self.display in ("<5", "..")


def published_from_block(block: dict) -> list[Published]:
    """The figures of one quarter block (app.overview.publishing.exit_quarter) as the checker reads them."""
    start, end, as_of = (date.fromisoformat(block[k]) for k in ("start", "end", "as_of"))
    phases = tuple(phase for phase, _v in block["by_phase"])
    out = [Published("referrals", start, end, block["new_referrals"]),
           Published("completed", start, end, block["items_completed"]),
           Published("overdue", None, as_of, block["items_overdue"]),
           Published("open", None, as_of, block["open_cases"], phases)]
    out += [Published("open", None, as_of, value, (phase,)) for phase, value in block["by_phase"]]
    return out


def determined(figures: list[Published]) -> list[tuple[Published, int]]:
    """The suppressed figures whose value follows from the published ones, with that value."""
    variables: dict[tuple, int] = {}
    rows = []
    cuts: dict[str, set[date]] = {}
    for f in figures:
        if f.start is not None:
            cuts.setdefault(f.measure, set()).update({f.start, f.end + timedelta(days=1)})

    def expression(f: Published) -> dict[int, float]:
        if f.start is None:  # a stock: its parts at the date
            keys = [(f.measure, part, f.end) for part in f.parts]
        else:  # a flow: the elementary stretches inside its range
            bounds = sorted(c for c in cuts[f.measure] if f.start <= c <= f.end + timedelta(days=1))
            keys = [(f.measure, a, b) for a, b in zip(bounds, bounds[1:])]
        return {variables.setdefault(key, len(variables)): 1.0 for key in keys}

    for f in figures:
        rows.append((f, expression(f)))
    n = len(variables)
    if n == 0:
        return []
    matrix, low, high = [], [], []
    for f, expr in rows:
        row = np.zeros(n)
        for i, c in expr.items():
            row[i] = c
        if f.display == "<5":
            lo, hi = 1, 4
        elif f.display == "..":
            lo, hi = 0, np.inf
        else:
            lo = hi = int(f.display)
        matrix.append(row), low.append(lo), high.append(hi)
    constraint = LinearConstraint(np.array(matrix), low, high)
    found = []
    for f, expr in rows:
        if not f.suppressed:
            continue
        c = np.zeros(n)
        for i, v in expr.items():
            c[i] = v
        values = []
        for sign in (1, -1):
            result = milp(sign * c, constraints=[constraint], integrality=np.ones(n), bounds=Bounds(0, 10_000))
            assert result.success, result.message  # the truth is a solution: the system is never empty
            values.append(round(sign * result.fun))
        if values[0] == values[1]:
            found.append((f, values[0]))
    return found


def _iso_weeks(year: int) -> list[tuple[date, date]]:
    monday = date(year, 1, 1) - timedelta(days=date(year, 1, 1).weekday())
    weeks = []
    while monday <= date(year, 12, 31):
        weeks.append((monday, monday + timedelta(days=6)))
        monday += timedelta(weeks=1)
    return weeks


@pytest.mark.engine_independent
def test_the_checker_recovers_the_week_the_issue_describes():
    """The old publication: a week "<5", another week 6, the year 8 (every other week 0) gives away 2."""
    weeks = _iso_weeks(YEAR)[1:-1]  # the weeks wholly inside 2025; the partial first and last week show 0
    shown = {weeks[2]: "<5", weeks[6]: "6"}
    figures = [Published("referrals", a, b, shown.get((a, b), "0")) for a, b in _iso_weeks(YEAR)]
    figures.append(Published("referrals", date(YEAR, 1, 1), date(YEAR, 12, 31), "8"))
    assert [(f.start, value) for f, value in determined(figures)] == [(weeks[2][0], 2)]
    # And the total beside its breakdown: 12 open, 6 + 5 + 0 shown, assessment "<5" → 1.
    stock = [Published("open", None, date(YEAR, 3, 8), "12", ("referral", "assessment", "active", "follow_up"))]
    stock += [Published("open", None, date(YEAR, 3, 8), v, (p,))
              for p, v in (("referral", "6"), ("assessment", "<5"), ("active", "5"), ("follow_up", "0"))]
    assert [value for _f, value in determined(stock)] == [1]


@pytest.mark.engine_independent
def test_the_checker_leaves_an_undetermined_cell_alone():
    figures = [Published("referrals", date(YEAR, 1, 1), date(YEAR, 3, 31), "<5"),
               Published("referrals", date(YEAR, 4, 1), date(YEAR, 6, 30), "7")]
    assert determined(figures) == []


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=STOCKHOLM).astimezone(timezone.utc)


@pytest.fixture()
def programme(app, db, factory, monkeypatch):
    """A year of cases with small cells: referrals 6 + 6 in Q1 (weeks 3 and 8), 3 in Q2 (one week), 6 in Q3
    (one week), 0 in Q4; two of Q1's cases in assessment from March, Q2's three active from May; three
    plan items completed in Q3 and two overdue at the end of Q3."""
    from app.cases import figures

    monkeypatch.setattr(figures, "today_local", lambda: date(2026, 12, 2))
    police = factory.agency(kind="police")
    coordinator = factory.user(roles=("coordinator",))

    def case(history, items=()):
        made = factory.case(coordinator, phase=history[-1][0], items=items)
        made.referred_on = history[0][1]
        previous = None
        for phase, day in history:
            db.add(CaseTransition(case=made, from_phase=previous, to_phase=CasePhase(phase), at=at(day)))
            previous = CasePhase(phase)
        for member in made.team:
            member.created_at = at(made.referred_on)
        db.flush()
        return made

    d = lambda m, day: date(YEAR, m, day)  # noqa: E731
    q1 = [case([("referral", d(1, 13 + k % 5))]) for k in range(6)]
    q1 += [case([("referral", d(2, 17 + k % 5))]) for k in range(6)]
    for made in q1[:2]:
        db.add(CaseTransition(case=made, from_phase=CasePhase.REFERRAL, to_phase=CasePhase.ASSESSMENT,
                              at=at(d(3, 20))))
        made.phase = CasePhase.ASSESSMENT
    q2 = [case([("referral", d(4, 8 + k)), ("assessment", d(5, 2)), ("active", d(5, 20))]) for k in range(3)]
    q3 = [case([("referral", d(7, 7 + k % 5))]) for k in range(6)]
    item = dict(responsible_agency_id=police.id, start_on=d(1, 15), created_at=at(d(4, 1)), area="housing",
                part="support")
    for k in range(3):
        db.add(PlanItem(data_key=q2[k].participant.data_key, case=q2[k], due_on=d(9, 1), status="done",
                        completed_on=d(8, 10 + k), **item))
    for k in range(2):
        db.add(PlanItem(data_key=q2[k].participant.data_key, case=q2[k], due_on=d(9, 1), status="planned",
                        **item))
    db.flush()
    return q1 + q2 + q3


def test_nothing_lots_publishes_determines_a_suppressed_exit_figure(app, db, programme):
    from app.overview.publishing import exit_for_week, exit_for_year, live_snapshot
    from app.processes.yearly import situation_data

    with app.app_context(), app.test_request_context():
        blocks = [exit_for_week(monday) for monday, _sunday in _iso_weeks(YEAR) + _iso_weeks(YEAR + 1)[:3]]
        year = exit_for_year(YEAR)
        # What the pages use is exactly these blocks; the API serves the snapshot's figures, no exit block.
        snapshot = live_snapshot(YEAR, 20)
        assert snapshot["exit"] == exit_for_week(date.fromisocalendar(YEAR, 20, 1))
        assert "exit" not in snapshot["figures"] and "new_referrals" not in str(snapshot["figures"])
        assert situation_data(YEAR)["exit"] == year
    assert [(q["quarter"], q["new_referrals"]) for q in year["quarters"]] == [(1, "12"), (2, "<5"), (3, "6"),
                                                                             (4, "0")]
    published = [f for block in blocks + year["quarters"] if block for f in published_from_block(block)]
    suppressed = {(f.measure, f.end, f.parts) for f in published if f.suppressed}
    # The constructed cells are small: the second quarter's referrals, the assessment phase at the end of Q1
    # and Q2, the active phase at the end of Q2, Q3's completed and overdue items.
    assert ("referrals", date(YEAR, 6, 30), ("all",)) in suppressed
    assert ("open", date(YEAR, 3, 31), ("assessment",)) in suppressed
    assert ("completed", date(YEAR, 9, 30), ("all",)) in suppressed
    assert ("overdue", date(YEAR, 9, 30), ("all",)) in suppressed
    assert determined(published) == []


def test_the_same_cases_published_by_week_and_year_would_leak(app, db, programme):
    """What the quarter grain prevents: the same data at the old grain (weeks and the year) pins Q2's week:
    21 in the year − 6 − 6 − 6 = 3."""
    from app.cases.figures import exit_programme_figures

    with app.app_context():
        figures = [Published("referrals", a, b, str(exit_programme_figures(a, b).new_referrals))
                   for a, b in _iso_weeks(YEAR)]
        figures.append(Published("referrals", date(YEAR, 1, 1), date(YEAR, 12, 31),
                                 str(exit_programme_figures(date(YEAR, 1, 1), date(YEAR, 12, 31)).new_referrals)))
    assert [(f.start, value) for f, value in determined(figures)] == [(date(YEAR, 4, 7), 3)]


def test_a_version_published_with_weekly_exit_figures_shows_none_of_them(app):
    """Snapshots from before the quarter rule hold a week's figures; beside the quarters they could leak."""
    old = {"start": "2026-03-02", "end": "2026-03-08", "as_of": "2026-03-08", "new_referrals": "<5",
           "open_cases": "12", "by_phase": [["referral", "6"]], "items_completed": "7", "items_overdue": "3"}
    with app.test_request_context():
        macros = app.jinja_env.get_template("overview/_macros.html").module
        text = str(macros.exit_section(old, {}))
        quarter = str(macros.exit_section({**old, "grain": "quarter", "year": 2026, "quarter": 1,
                                           "start": "2026-01-01", "end": "2026-03-31"}, {}))
    assert "publicerades med veckosiffror" in text and "&lt;5" not in text and ">12<" not in text
    assert "Kvartal 1 2026" in quarter and "&lt;5" in quarter and ">12<" in quarter
