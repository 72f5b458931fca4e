"""Exit-programme figures for the weekly overview: counts, suppression of small counts, phase at a past date."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime, timezone

import pytest

from app.cases import figures
from app.cases.figures import WITHHELD, Figure, exit_programme_figures, figure
from app.cases.models import STOCKHOLM, CasePhase, CaseTransition, PlanArea, PlanItem

START, END = date(2026, 3, 2), date(2026, 3, 8)  # ISO week 10
TODAY = date(2026, 3, 20)
SMALL = Figure("<5", True)


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=STOCKHOLM).astimezone(timezone.utc)


def d(month: int, day: int) -> date:
    return date(2026, month, day)


@pytest.mark.parametrize("count, shown, suppressed", [
    (0, "0", False), (1, "<5", True), (2, "<5", True), (4, "<5", True), (5, "5", False), (37, "37", False),
])
def test_counts_from_one_to_four_are_shown_as_under_five(count, shown, suppressed):
    assert figure(count) == Figure(shown, suppressed)


@pytest.mark.parametrize("cells, total", [
    ({"a": 1, "b": 5}, WITHHELD),  # 6 - 5 would give the "<5" cell away
    ({"a": 1, "b": 1, "c": 5}, WITHHELD),  # two hidden cells summing to 2: both must be 1
    ({"a": 4, "b": 4, "c": 5}, WITHHELD),  # two hidden cells summing to 8: both must be 4
    ({"a": 1, "b": 2, "c": 5}, "8"),  # hidden sum 3: each is 1 or 2
    ({"a": 0, "b": 5}, "5"),
    ({"a": 2}, "<5"),
    ({}, "0"),
])
def test_a_total_is_withheld_when_it_would_reveal_a_suppressed_cell(cells, total):
    shown_total, shown_cells = figures._total_and_cells(cells)
    assert shown_total.display == total
    assert {k: c.display for k, c in shown_cells.items()} == {k: figure(v).display for k, v in cells.items()}


@pytest.fixture()
def week(app, db, factory, monkeypatch):
    """A hand-built programme around week 10 of 2026 (see the comments for what each case contributes)."""
    monkeypatch.setattr(figures, "today_local", lambda: TODAY)
    police, housing = factory.agency(kind="police"), factory.agency(kind="housing")
    coordinator = factory.user(roles=("coordinator",))

    def case(history, referred_on=None, team=(), items=()):
        case = factory.case(coordinator, phase=history[-1][0], team=team, items=items)
        case.referred_on = referred_on or history[0][1]
        previous = None
        for phase, day in history:
            db.add(CaseTransition(case=case, from_phase=previous, to_phase=CasePhase(phase), at=at(day)))
            previous = CasePhase(phase)
        if previous == CasePhase.CLOSED:
            case.closed_at = at(history[-1][1])
        for member in case.team:
            member.created_at = at(case.referred_on)
        db.flush()
        return case

    def item(agency, due, status="planned", completed=None, created=d(2, 1), area="housing", part="support"):
        return dict(responsible_agency=agency, due_on=due, status=status, completed_on=completed, start_on=d(1, 15),
                    created_at=at(created), area=area, part=part)

    # Six referrals during the week, still in referral: new referrals 6, referral phase 6 (3 by 4 March).
    referrals = [case([("referral", d(3, day))], team=[police]) for day in range(2, 8)]
    # Police were on the team of one of them at the end of the week (taken off the 9th), not of the others.
    for n, referral in enumerate(referrals):
        referral.team[-1].removed_at = at(d(3, 9) if n == 0 else d(3, 6))
    # One in assessment since February; police joined its team only after the week.
    assessment = case([("referral", d(1, 10)), ("assessment", d(2, 1))], team=[police])
    assessment.team[-1].created_at = at(d(3, 12))
    # Four active since February with police on the team; they carry the plan items.
    actives = [case([("referral", d(1, 5)), ("assessment", d(1, 20)), ("active", d(2, 1))], team=[police])
               for _ in range(4)]
    # Active from 5 March, follow-up only after the week: active at its end, in assessment on 4 March.
    case([("referral", d(1, 10)), ("assessment", d(2, 1)), ("active", d(3, 5)), ("follow_up", d(3, 15))],
         team=[police])
    # Closed on 6 March: not open at the end of the week, active on 4 March. Its open item is not overdue.
    case([("referral", d(1, 5)), ("active", d(2, 1)), ("closed", d(3, 6))], team=[police],
         items=[item(police, d(2, 28))])
    # Referred after the week: counts nowhere.
    case([("referral", d(3, 10))])
    # Erased participant: counts nowhere.
    erased = case([("referral", d(1, 5)), ("active", d(2, 1))], team=[police],
                  items=[item(police, d(3, 3), "done", d(3, 3))])
    erased.participant.erased_at = at(d(3, 1))

    specs = (
        # Police: five items completed in the week.
        [item(police, d(3, 10), "done", d(3, 3), area=area)
         for area in ("relocation", "security_measure", "housing", "legal", "mentor")]
        # Housing: two completed in the week, one before it.
        + [item(housing, d(3, 10), "done", d(3, 4)), item(housing, d(3, 10), "done", d(3, 5)),
           item(housing, d(3, 1), "done", d(2, 20))]
        # Housing overdue at the end of the week: four still open, one completed only after the week.
        + [item(housing, d(3, 1)) for _ in range(3)] + [item(housing, d(3, 7), "in_progress"),
                                                        item(housing, d(3, 1), "done", d(3, 10))]
        # Not overdue: due on the last day, cancelled, or created after the week.
        + [item(housing, END), item(housing, d(3, 1), "cancelled"), item(housing, d(3, 1), created=d(3, 9))]
    )
    for n, spec in enumerate(specs):
        spec, target = dict(spec), actives[n % len(actives)]
        db.add(PlanItem(data_key=target.participant.data_key, case=target,
                        responsible_agency_id=spec.pop("responsible_agency").id, **spec))
    db.flush()
    with app.app_context():
        yield police, housing


def test_figures_for_the_week_count_referrals_phases_and_plan_items_with_small_counts_suppressed(app, week):
    police, housing = week
    with app.app_context():
        result = exit_programme_figures(START, END)

    assert result.as_of == END
    assert result.new_referrals == Figure("6", False)
    assert {k: v.display for k, v in result.cases_by_phase.items()} == {
        "referral": "6", "assessment": "<5", "active": "5", "follow_up": "0"}
    assert result.open_cases == Figure(WITHHELD, True)  # 12 - 6 - 5 - 0 would reveal the assessment count
    assert result.items_completed == Figure(WITHHELD, True)  # 7 - 5 would reveal housing's 2
    assert result.items_overdue == Figure("5", False)
    rows = {row.agency_id: row for row in result.by_agency}
    assert set(rows) == {police.id, housing.id}
    assert (rows[police.id].items_completed, rows[police.id].items_overdue) == (Figure("5", False), Figure("0", False))
    assert (rows[housing.id].items_completed, rows[housing.id].items_overdue) == (SMALL, Figure("5", False))
    assert rows[housing.id].agency_name == housing.name
    assert result.suppressed


def test_phases_are_reconstructed_from_the_history_at_a_past_date(app, week):
    with app.app_context():
        result = exit_programme_figures(date(2026, 2, 26), date(2026, 3, 4))
    assert {k: v.display for k, v in result.cases_by_phase.items()} == {
        "referral": "<5", "assessment": "<5", "active": "5", "follow_up": "0"}
    assert result.open_cases == Figure("10", False)  # the two hidden cells sum to 5: each could be 1 to 4
    assert result.new_referrals == SMALL


def test_an_agency_sees_only_cases_it_was_on_the_team_of_and_items_it_is_responsible_for(app, week):
    police, housing = week
    with app.app_context():
        for_police = exit_programme_figures(START, END, agency_id=police.id)
        for_housing = exit_programme_figures(START, END, agency_id=housing.id)

    assert for_police.new_referrals == SMALL
    assert {k: v.display for k, v in for_police.cases_by_phase.items()} == {
        "referral": "<5", "assessment": "0", "active": "5", "follow_up": "0"}
    assert for_police.open_cases == Figure(WITHHELD, True)
    assert [row.agency_id for row in for_police.by_agency] == [police.id]
    assert (for_police.items_completed, for_police.items_overdue) == (Figure("5", False), Figure("0", False))

    assert for_housing.open_cases == Figure("0", False)
    assert (for_housing.items_completed, for_housing.items_overdue) == (SMALL, Figure("5", False))


def test_a_period_still_running_is_measured_today_and_a_reversed_period_is_refused(app, week):
    with app.app_context():
        assert exit_programme_figures(date(2026, 3, 16), date(2026, 3, 22)).as_of == TODAY
        with pytest.raises(ValueError):
            exit_programme_figures(END, START)


def test_the_result_has_only_display_strings_and_no_plan_area_anywhere(app, week):
    with app.app_context():
        result = exit_programme_figures(START, END)
    areas = {area.value for area in PlanArea}
    agency_ids = {row.agency_id for row in result.by_agency}
    seen = []

    def walk(value):
        if isinstance(value, dict):
            for key, inner in value.items():
                assert "area" not in str(key)
                seen.append(key)
                walk(inner)
        elif isinstance(value, (list, tuple)):
            for inner in value:
                walk(inner)
        else:
            # Only agency ids and the suppression flags are not strings: no raw count leaves the function.
            assert isinstance(value, (str, bool, date)) or value in agency_ids, f"raw value {value!r}"
            assert str(value) not in areas

    walk(asdict(result))
    assert "display" in seen and "cases_by_phase" in seen
