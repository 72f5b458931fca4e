"""The hotspot rule on constructed data: P(X >= count | baseline) < 0.01 with at least 3 reports."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

from app.overview.figures import hotspots, week_figures


def exact_tail(count: int, lam: float) -> float:
    return 1 - sum(math.exp(-lam) * lam**k / math.factorial(k) for k in range(count))


def test_tail_probability_matches_the_poisson_sum():
    for count, lam in [(3, 0.5), (5, 1.0), (10, 4.2), (1, 0.5), (0, 2.0)]:
        assert math.isclose(hotspots.tail_probability(count, lam), exact_tail(count, lam), rel_tol=1e-9, abs_tol=1e-12)


def test_quiet_cell_with_a_burst_is_flagged():
    # Baseline 1 report in 12 weeks -> lambda = max(1/12, 0.5) = 0.5; P(X >= 4 | 0.5) = 0.00175.
    check = hotspots.check_cell(4, [0] * 11 + [1])
    assert check.baseline == 0.5
    assert check.p_value < 0.01 and check.flagged


def test_busy_cell_with_its_usual_count_is_not_flagged():
    # Baseline 6 a week; 9 is high but P(X >= 9 | 6) = 0.153.
    check = hotspots.check_cell(9, [6] * 12)
    assert check.p_value > 0.1 and not check.flagged


def test_two_reports_are_never_a_hotspot_even_from_zero():
    # P(X >= 2 | 0.5) = 0.090 would not pass anyway, but the minimum count decides first.
    assert not hotspots.check_cell(2, [0] * 12).flagged
    # Just under the minimum with an improbable tail: still not flagged.
    assert hotspots.tail_probability(2, 0.05) < 0.01
    assert hotspots.MIN_COUNT == 3


def test_floor_keeps_a_new_cell_from_being_flagged_on_three_reports_only_when_the_tail_is_large():
    # From nothing, 3 reports: P(X >= 3 | 0.5) = 0.0144 >= 0.01 -> not a hotspot.
    check = hotspots.check_cell(3, [0] * 12)
    assert not check.flagged and 0.01 < check.p_value < 0.02


def test_week_figures_flags_the_burst_cell_and_not_the_busy_one(app, incidents):
    a, b = incidents.area(name="Brännpunkt"), incidents.area(name="Lugnt")
    k1, k2 = incidents.category(), incidents.category()
    monday = datetime(2026, 5, 11, 10, tzinfo=timezone.utc)  # 2026-W20
    for week in range(1, 13):  # the previous 12 weeks: b × k2 has 6 a week, a × k1 once
        for _ in range(6):
            incidents.report(area=b, category=k2, occurred_at=monday - timedelta(weeks=week))
    incidents.report(area=a, category=k1, occurred_at=monday - timedelta(weeks=5))
    incidents.report(area=a, category=k1, occurred_at=monday - timedelta(weeks=13))  # outside the baseline
    for _ in range(5):
        incidents.report(area=a, category=k1, occurred_at=monday)
    for _ in range(9):
        incidents.report(area=b, category=k2, occurred_at=monday)
    for _ in range(2):
        incidents.report(area=b, category=k1, occurred_at=monday)
    for _ in range(4):
        incidents.report(area=a, category=k2, occurred_at=monday, status="rejected")

    with app.app_context():
        f = week_figures(2026, 20)
    assert [(h["area_id"], h["category_id"], h["count"]) for h in f["hotspots"]] == [(a.id, k1.id, 5)]
    assert f["hotspots"][0]["baseline"] == 0.5
    assert math.isclose(f["hotspots"][0]["p_value"], exact_tail(5, 0.5), rel_tol=1e-2)
    assert f["hotspot_rule"] == {"baseline_weeks": 12, "floor": 0.5, "min_count": 3, "alpha": 0.01,
                                 "method": "scipy.stats.poisson.sf"}
