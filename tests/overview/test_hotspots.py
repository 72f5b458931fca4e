"""The hotspot rule on constructed data: the Poisson tail of each cell, at least 3 reports, the week's cells
tested together with Benjamini–Hochberg at q = 0.05, and enough history; and simulated weeks with no change
(fixed seed) that check the stated false-alarm rate, and constructed spikes that must still be found."""

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
    # From nothing, 3 reports: P(X >= 3 | 0.5) = 0.0144: above q = 0.05 for one cell? No: 0.0144 < 0.05, so
    # alone it is flagged; among 160 cells it needs p <= 0.05/160 and is not (see the BH tests below).
    alone = hotspots.check_cell(3, [0] * 12)
    assert alone.flagged and 0.01 < alone.p_value < 0.02
    among_many = hotspots.check_cells([(3, 0)], history_weeks=12, tested=160)[0]
    assert not among_many.flagged


def test_benjamini_hochberg_on_a_known_example():
    # Sorted p 0.001, 0.008, 0.039, 0.041, 0.6 with m = 5, q = 0.05: thresholds 0.01, 0.02, 0.03, 0.04, 0.05.
    # The largest k with p_(k) <= k q / m is k = 2: the two smallest are rejected.
    p = [0.039, 0.001, 0.6, 0.008, 0.041]
    assert hotspots.benjamini_hochberg(p, 5, 0.05) == [False, True, False, True, False]
    # With more hypotheses tested than given (m = 50), only p <= 0.001 survives.
    assert hotspots.benjamini_hochberg(p, 50, 0.05) == [False, True, False, False, False]


def test_too_little_history_flags_nothing():
    # Right after a fresh start every active cell used to be flagged: now 7 weeks with data are not enough.
    checks = hotspots.check_cells([(20, 0), (9, 1)], history_weeks=7, tested=2)
    assert not any(c.flagged for c in checks)
    assert hotspots.check_cells([(20, 0)], history_weeks=8, tested=2)[0].flagged


def _simulated_week(rng, rates, history=12):
    """One week of counts and the 12 before it, every cell at its own unchanged Poisson rate."""
    import numpy as np

    past = rng.poisson(np.tile(rates, (history, 1)))
    now = rng.poisson(rates)
    return now, past.sum(axis=0)


def _flags(now, past_total, tested):
    cells = [(int(n), int(t)) for n, t in zip(now, past_total) if n >= hotspots.MIN_COUNT]
    return sum(c.flagged for c in hotspots.check_cells(cells, history_weeks=12, tested=tested))


def test_under_no_change_the_false_alarm_rate_holds_across_the_weeks_cells():
    """160 cells (10 areas x 16 categories) with rates from quiet to busy, 2,000 simulated weeks, no change:
    the share of weeks with any false flag must stay within q = 0.05 (what Benjamini–Hochberg guarantees when
    nothing changed), and the mean number of false flags per week stays about q (measured 0.044 and 0.050).
    The old rule (each cell at 0.01) flagged 0.93 a week, with at least one in 60 % of weeks."""
    import numpy as np

    rng = np.random.default_rng(20261202)
    rates = rng.choice([0.2, 0.5, 1.0, 2.0, 4.0, 8.0], size=160)
    flags = []
    old_rule = []
    for _ in range(2000):
        now, past = _simulated_week(rng, rates)
        tested = int(((now > 0) | (past > 0)).sum())
        flags.append(_flags(now, past, tested))
        baselines = np.maximum(past / 12, hotspots.FLOOR)
        from scipy.stats import poisson

        p = poisson.sf(now - 1, baselines)
        old_rule.append(int(((now >= 3) & (p < 0.01)).sum()))
    flags = np.array(flags)
    assert (flags > 0).mean() <= hotspots.FALSE_ALARM_RATE, (flags > 0).mean()
    assert flags.mean() <= 1.2 * hotspots.FALSE_ALARM_RATE, flags.mean()
    assert np.mean(old_rule) > 0.5 and (np.array(old_rule) > 0).mean() > 0.5  # the simulation is one where the old rule did raise false alarms


def test_constructed_spikes_are_still_found_among_the_160_cells():
    import numpy as np

    rng = np.random.default_rng(7)
    rates = rng.choice([0.5, 1.0, 2.0, 4.0], size=160)
    found = 0
    for _ in range(200):
        now, past = _simulated_week(rng, rates)
        spike = 5  # a quiet cell (rate 0.5-4 a week) with a burst of 15, and a busy one at 4 with 16
        rates_spike = now.copy()
        rates_spike[spike] = 15
        cells = [(int(n), int(t)) for n, t in zip(rates_spike, past)]
        checks = hotspots.check_cells(cells, history_weeks=12, tested=160)
        found += checks[spike].flagged
    assert found >= 190, found


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
    assert f["hotspot_rule"]["correction"] == "benjamini-hochberg"
    assert f["hotspot_rule"]["false_alarm_rate"] == 0.05 and f["hotspot_rule"]["history_weeks"] == 12
    assert f["hotspot_rule"]["tested_cells"] == 3  # a×k1, b×k2, b×k1 (a×k2 has rejected reports only)


def test_a_snapshot_published_under_the_old_rule_still_explains_its_own_rule(app):
    """Published versions keep the rule they were computed with; the page explains that rule, not today's."""
    old = {"baseline_weeks": 12, "floor": 0.5, "min_count": 3, "alpha": 0.01, "method": "scipy.stats.poisson.sf"}
    with app.test_request_context():
        macros = app.jinja_env.get_template("overview/_macros.html").module
        old_text = str(macros.hotspot_rule(old, False))
        new_text = str(macros.hotspot_rule(hotspots.rule(tested=40, history_weeks=12), False))
    assert "under 0,01" in old_text and "Regeln som gällde när versionen publicerades" in old_text
    assert "Benjamini" not in old_text
    assert "Benjamini–Hochbergs metod på nivån 0,05" in new_text and "40 stycken" in new_text
    assert "För kort historik" not in new_text
