"""The evaluation does not invent effects (issue 17): per-area counts on both sides, the ratio of rate ratios
as the headline with a quasi-Poisson interval, checked by simulation with fixed seeds.

Six areas: two targeted (8 and 15 a week) and four comparison areas (5, 10, 12 and 20 a week), 12 weeks
before and 12 after. Under no effect, at most 8 % of the headline's 95 % intervals may exclude 1, for
Poisson counts, for negative binomial counts (variance μ + μ²/4, as overdispersed as the demo's) and when
every area grows by 30 %. A known effect (×0.6 in the targeted areas) is recovered.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pytest

from app.processes import evaluation as ev

TARGETED = (8.0, 15.0)
BIG_TARGETED = (20.0, 30.0)  # busier than the comparison areas
COMPARISON = (5.0, 10.0, 12.0, 20.0)
WEEKS = 12
RUNS = 1000
NB_SHAPE = 4.0  # variance μ + μ²/4


def _weeks(rng: np.random.Generator, levels, factor: float, kind: str) -> np.ndarray:
    """Weekly counts, shape (weeks, areas)."""
    lam = np.array(levels) * factor
    if kind == "negbin":  # gamma-Poisson mixture: each area-week has its own rate
        lam = rng.gamma(NB_SHAPE, lam / NB_SHAPE, size=(WEEKS, len(levels)))
    return rng.poisson(lam, size=(WEEKS, len(levels)))


def _dataset(rng, kind: str, *, everyone: float = 1.0, effect: float = 1.0, targeted=TARGETED):
    """(t_before, t_after, c_before, c_after): per-week counts per area, shape (weeks, areas)."""
    return (_weeks(rng, targeted, 1.0, kind), _weeks(rng, targeted, everyone * effect, kind),
            _weeks(rng, COMPARISON, 1.0, kind), _weeks(rng, COMPARISON, everyone, kind))


def _headline(data) -> ev.RatioInterval:
    t_b, t_a, c_b, c_a = (d.sum(axis=1).tolist() for d in data)
    return ev.did_ratio(t_b, t_a, c_b, c_a)


def _level(data) -> ev.Interval:
    t_b, t_a, c_b, c_a = data
    return ev.did_absolute((t_b.mean(axis=1)).tolist(), (t_a.mean(axis=1)).tolist(),
                           (c_b.mean(axis=1)).tolist(), (c_a.mean(axis=1)).tolist(),
                           treated_areas=len(TARGETED), comparison_areas=len(COMPARISON))


def _poisson_only(data) -> tuple[float, float]:
    """The interval the page used before: exp(log r ± 1.96 √(Σ 1/totals)), plain Poisson."""
    totals = [d.sum() for d in data]
    t_b, t_a, c_b, c_a = totals
    log_r = math.log(t_a / t_b) - math.log(c_a / c_b)
    se = math.sqrt(sum(1 / t for t in totals))
    return math.exp(log_r - 1.959964 * se), math.exp(log_r + 1.959964 * se)


@pytest.mark.engine_independent
@pytest.mark.parametrize("kind,everyone,seed,targeted", [
    ("poisson", 1.0, 1701, TARGETED), ("negbin", 1.0, 1702, TARGETED), ("poisson", 1.3, 1703, TARGETED),
    ("negbin", 1.3, 1704, TARGETED), ("poisson", 1.3, 1706, BIG_TARGETED)])
def test_under_no_effect_at_most_8_percent_of_headline_intervals_exclude_one(kind, everyone, seed, targeted):
    rng = np.random.default_rng(seed)
    excluded = 0
    for _ in range(RUNS):
        excluded += not _headline(_dataset(rng, kind, everyone=everyone, targeted=targeted)).covers_one
    rate = excluded / RUNS
    assert rate <= 0.08, f"{kind}, everyone ×{everyone}: {rate:.3f} of the intervals exclude no effect"
    assert rate >= 0.01, f"{kind}: {rate:.3f}: an interval this wide would hide real effects"


@pytest.mark.engine_independent
def test_the_plain_poisson_interval_fails_on_overdispersed_counts():
    """What the test above guards against: the old interval excludes 1 far too often on the demo-like counts."""
    rng = np.random.default_rng(1702)
    excluded = 0
    for _ in range(RUNS):
        low, high = _poisson_only(_dataset(rng, "negbin"))
        excluded += not low <= 1 <= high
    assert excluded / RUNS > 0.15


@pytest.mark.engine_independent
def test_the_level_difference_shows_a_false_effect_when_everyone_grows_by_30_percent():
    """Why the ratio is the headline: with targeted areas busier (25 a week) than the comparison areas (11.75),
    +30 % everywhere adds 7.5 a week there and 3.5 in the comparison areas, so the difference in levels reports
    about +4 where nothing happened, and its interval excludes 0 most of the time. The ratio stays at 1."""
    rng = np.random.default_rng(1705)
    ratios, levels, level_excluded = [], [], 0
    for _ in range(300):
        data = _dataset(rng, "poisson", everyone=1.3, targeted=BIG_TARGETED)
        ratios.append(_headline(data).estimate)
        level = _level(data)
        levels.append(level.estimate)
        level_excluded += not level.covers_zero
    assert float(np.exp(np.mean(np.log(ratios)))) == pytest.approx(1.0, abs=0.02)
    assert float(np.mean(levels)) == pytest.approx(25 * 0.3 - 11.75 * 0.3, abs=0.3)
    assert level_excluded / 300 > 0.5


@pytest.mark.engine_independent
@pytest.mark.parametrize("kind,seed", [("poisson", 1801), ("negbin", 1802)])
def test_a_known_effect_is_recovered(kind, seed):
    """×0.6 in the targeted areas after the start: the estimate centres on 0.6 and the interval covers it."""
    rng = np.random.default_rng(seed)
    estimates, covered, found = [], 0, 0
    for _ in range(RUNS // 2):
        interval = _headline(_dataset(rng, kind, effect=0.6))
        estimates.append(interval.estimate)
        covered += interval.low <= 0.6 <= interval.high
        found += interval.high < 1
    assert float(np.exp(np.mean(np.log(estimates)))) == pytest.approx(0.6, abs=0.03)
    assert covered / (RUNS // 2) >= 0.90
    # Measured: a 40 % fall over 12 + 12 weeks is found in 99 % of Poisson datasets and 58 % of negative
    # binomial ones (those counts are far noisier; the interval widens instead of inventing certainty).
    assert found / (RUNS // 2) >= (0.9 if kind == "poisson" else 0.5)


# ------------------------------------------------------------------ through the database


def test_two_targeted_and_four_comparison_areas_that_all_go_from_8_to_12_show_no_effect(app, db, incidents):
    """The issue's example: the old estimate summed the targeted areas and averaged the comparison areas and
    reported "Ökning med cirka 4,0 per vecka"; per area on both sides it is 0, and the ratio 1."""
    from app.overview.models import ReportStatus
    from app.overview.service import description_key, new_report

    start = date(2025, 3, 3)  # a Monday
    cat = incidents.category()
    targeted = [incidents.area(), incidents.area()]
    comparison = [incidents.area() for _ in range(4)]
    org_id = incidents.report(area=targeted[0], category=cat, occurred_at=datetime(2024, 1, 1, tzinfo=timezone.utc),
                              status="rejected").organisation_id
    with app.app_context():
        reports = []
        for week in range(-6, 6):
            day = start + timedelta(weeks=week, days=2)
            at = datetime(day.year, day.month, day.day, 11, tzinfo=timezone.utc)
            for area in targeted + comparison:
                reports += [new_report(occurred_at=at, area_id=area.id, category_id=cat.id, setting="public",
                                       description=None, organisation_id=org_id, status=ReportStatus.ACCEPTED,
                                       key=description_key(day)) for _ in range(8 if week < 0 else 12)]
        db.add_all(reports)
        db.flush()
        result = ev.evaluate(area_ids=[a.id for a in targeted], category_ids=[cat.id], start=start,
                             weeks_before=6, weeks_after=6, comparison_area_ids=[a.id for a in comparison],
                             today=date(2025, 6, 4))
    assert result.reasons == []
    assert result.treated_before_mean == 8 and result.treated_after_mean == 12
    assert result.comparison_before_mean == 8 and result.comparison_after_mean == 12
    assert result.absolute.estimate == pytest.approx(0)
    assert result.ratio.estimate == pytest.approx(1) and result.ratio.covers_one
