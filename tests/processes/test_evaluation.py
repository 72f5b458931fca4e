"""Evaluation of an intervention: the one weekly query, the difference-in-differences and its interval,
and the honest "cannot say" when the data do not allow an estimate."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from app.processes import evaluation as ev

STOCKHOLM = ZoneInfo("Europe/Stockholm")
START = date(2025, 3, 3)  # a Monday
TODAY = date(2025, 6, 4)  # a Wednesday; weeks up to Monday 2025-05-26 are complete

#: Zero-sum patterns: noise whose period means are exactly zero, so the true effect is known exactly.
NOISE_12 = [2, -1, 0, -2, 1, 3, -3, 0, 1, -1, 2, -2]
NOISE_8 = [1, -2, 2, 0, -1, 1, -1, 0]
NOISE_12B = [-1, 1, 2, -2, 0, 1, -1, 0, 2, -2, 1, -1]
NOISE_8B = [0, 1, -1, 2, -2, 1, 0, -1]


@pytest.fixture()
def weekly(app, db, factory):
    """add(area, category, first_monday, counts, status=...): that many reports each week (Wednesday noon)."""
    from app.overview.models import ReportStatus
    from app.overview.service import description_key, new_report

    org = factory.agency(kind="youth")

    def add(area, category, first_monday, counts, status="accepted"):
        with app.app_context():
            reports = []
            for i, n in enumerate(counts):
                day = first_monday + timedelta(weeks=i, days=2)
                at = datetime(day.year, day.month, day.day, 11, tzinfo=timezone.utc)
                key = description_key(day)
                reports += [new_report(occurred_at=at, area_id=area.id, category_id=category.id, setting="public",
                                       description=None, organisation_id=org.id, status=ReportStatus(status),
                                       key=key) for _ in range(n)]
            db.add_all(reports)
            db.flush()

    return add


def _run(app, **kwargs):
    with app.test_request_context():
        result = ev.evaluate(**kwargs)
        texts = [str(r.text) for r in result.reasons]
    return result, texts


def _scenario(incidents, weekly, treated_after_level):
    """One treated area (20/week before, ``treated_after_level`` after) and two flat comparison areas (10/week)."""
    cat = incidents.category()
    treated, comp_a, comp_b = incidents.area(), incidents.area(), incidents.area()
    first = START - timedelta(weeks=12)
    weekly(treated, cat, first, [20 + x for x in NOISE_12] + [treated_after_level + x for x in NOISE_8])
    weekly(comp_a, cat, first, [10 + x for x in NOISE_12B] + [10 + x for x in NOISE_8B])
    weekly(comp_b, cat, first, [10 - x for x in NOISE_12B] + [10 + x for x in NOISE_8])
    return cat, treated, [comp_a, comp_b]


def test_known_injected_effect_is_recovered_within_its_interval(app, db, incidents, weekly):
    cat, treated, comparison = _scenario(incidents, weekly, treated_after_level=14)
    result, reasons = _run(app, area_ids=[treated.id], category_ids=[cat.id], start=START, weeks_before=12,
                           weeks_after=8, comparison_area_ids=[c.id for c in comparison], today=TODAY)
    assert reasons == []
    assert result.before_weeks == 12 and result.after_weeks == 8
    assert result.treated_before_mean == pytest.approx(20)
    assert result.treated_after_mean == pytest.approx(14)
    assert result.comparison_before_mean == pytest.approx(10)
    assert result.comparison_after_mean == pytest.approx(10)
    assert result.absolute.estimate == pytest.approx(-6)
    assert result.absolute.low < -6 < result.absolute.high
    assert result.absolute.high < 0, "a clear drop must not be called uncertain"
    # Relative: 14/20 against 10/10 → 0.7, its interval excludes 1.
    assert result.ratio.estimate == pytest.approx(0.7)
    assert result.ratio.high < 1


def test_no_effect_gives_an_interval_covering_zero(app, db, incidents, weekly):
    cat, treated, comparison = _scenario(incidents, weekly, treated_after_level=20)
    result, reasons = _run(app, area_ids=[treated.id], category_ids=[cat.id], start=START, weeks_before=12,
                           weeks_after=8, comparison_area_ids=[c.id for c in comparison], today=TODAY)
    assert reasons == []
    assert result.absolute.estimate == pytest.approx(0)
    assert result.absolute.covers_zero
    assert result.ratio.covers_one


def test_cannot_say_when_the_weeks_after_have_not_passed(app, db, incidents, weekly):
    cat, treated, comparison = _scenario(incidents, weekly, treated_after_level=14)
    # Two weeks and a bit after the start: weeks 0 and 1 are complete, week 2 (today's) is not counted.
    result, reasons = _run(app, area_ids=[treated.id], category_ids=[cat.id], start=START, weeks_before=12,
                           weeks_after=8, comparison_area_ids=[c.id for c in comparison],
                           today=START + timedelta(days=16))
    assert result.after_weeks == 2
    assert result.reason_codes == ["no_after_weeks"]
    assert "2 hela veckor" in reasons[0]
    assert result.absolute is None and result.ratio is None and not result.can_say
    assert [w.complete for w in result.weeks if w.index >= 0] == [True, True] + [False] * 6


def test_cannot_say_before_the_start(app, db, incidents, weekly):
    cat, treated, comparison = _scenario(incidents, weekly, treated_after_level=14)
    result, _ = _run(app, area_ids=[treated.id], category_ids=[cat.id], start=START, weeks_before=12,
                     weeks_after=8, comparison_area_ids=[c.id for c in comparison], today=START - timedelta(days=3))
    assert "not_started" in result.reason_codes and result.absolute is None


def test_cannot_say_without_comparison_areas(app, db, incidents, weekly):
    cat, treated, _comparison = _scenario(incidents, weekly, treated_after_level=14)
    result, reasons = _run(app, area_ids=[treated.id], category_ids=[cat.id], start=START, weeks_before=12,
                           weeks_after=8, comparison_area_ids=[], today=TODAY)
    assert result.reason_codes == ["no_comparison"]
    assert "jämförelseområden" in reasons[0]
    assert result.absolute is None
    # The targeted area's own figures are still shown.
    assert result.treated_before_mean == pytest.approx(20)


def test_cannot_say_with_too_few_incidents(app, db, incidents, weekly):
    cat = incidents.category()
    treated, comp = incidents.area(), incidents.area()
    first = START - timedelta(weeks=6)
    weekly(treated, cat, first, [1, 2, 1, 2, 1, 1] + [1, 0, 2, 1, 1, 1])  # 14 in all
    weekly(comp, cat, first, [10] * 12)
    result, reasons = _run(app, area_ids=[treated.id], category_ids=[cat.id], start=START, weeks_before=6,
                           weeks_after=6, comparison_area_ids=[comp.id], today=TODAY)
    assert result.reason_codes == ["few_incidents"]
    assert "14" in reasons[0]
    assert result.absolute is None


def test_cannot_say_when_a_period_has_no_incidents_at_all(app, db, incidents, weekly):
    cat = incidents.category()
    treated, comp = incidents.area(), incidents.area()
    first = START - timedelta(weeks=6)
    weekly(treated, cat, first, [8] * 6 + [0] * 6)
    weekly(comp, cat, first, [10] * 12)
    result, _ = _run(app, area_ids=[treated.id], category_ids=[cat.id], start=START, weeks_before=6,
                     weeks_after=6, comparison_area_ids=[comp.id], today=TODAY)
    assert result.reason_codes == ["zero_total"]


def test_cannot_say_with_too_few_weeks_of_data_before(app, db, incidents, weekly):
    """Weeks before the first report anywhere in the chosen areas count as "no data", not as zero."""
    cat = incidents.category()
    treated, comp = incidents.area(), incidents.area()
    first = START - timedelta(weeks=3)
    weekly(treated, cat, first, [10] * 3 + [10] * 8)
    weekly(comp, cat, first, [10] * 11)
    result, _ = _run(app, area_ids=[treated.id], category_ids=[cat.id], start=START, weeks_before=12,
                     weeks_after=8, comparison_area_ids=[comp.id], today=TODAY)
    assert result.before_weeks == 3
    assert result.reason_codes == ["few_before_weeks"]
    assert sum(1 for w in result.weeks if w.phase == "before" and not w.counted) == 9


def test_rejected_reports_and_other_categories_do_not_count(app, db, incidents, weekly):
    cat, other = incidents.category(), incidents.category()
    area, elsewhere = incidents.area(), incidents.area()
    first = START - timedelta(weeks=2)
    weekly(area, cat, first, [3, 4, 5])
    weekly(area, cat, first, [7, 7, 7], status="rejected")
    weekly(area, cat, first, [2, 2, 2], status="new")
    weekly(area, cat, first, [1, 1, 1], status="duplicate")
    weekly(area, other, first, [9, 9, 9])
    weekly(elsewhere, cat, first, [6, 0, 6])
    with app.app_context():
        counts = ev.weekly_counts([area.id, elsewhere.id], [cat.id], first, first + timedelta(days=20))
        both = ev.weekly_counts([area.id], [cat.id, other.id], first, first + timedelta(days=20))
    assert counts == {area.id: [3, 4, 5], elsewhere.id: [6, 0, 6]}
    assert both == {area.id: [12, 13, 14]}


def test_weeks_are_stockholm_local_weeks(app, db, incidents):
    """Sunday 23:30 in Stockholm is still that week (though Monday in no time zone east of it),
    and Monday 00:30 Stockholm (Sunday 23:30 UTC) is the next week; in winter and in summer."""
    cat, area = incidents.category(), incidents.area()
    for local in (datetime(2025, 3, 9, 23, 30), datetime(2025, 3, 10, 0, 30),
                  datetime(2025, 6, 8, 23, 30), datetime(2025, 6, 9, 0, 30)):
        incidents.report(area=area, category=cat, occurred_at=local.replace(tzinfo=STOCKHOLM))
    with app.app_context():
        winter = ev.weekly_counts([area.id], [cat.id], date(2025, 3, 3), date(2025, 3, 16))
        summer = ev.weekly_counts([area.id], [cat.id], date(2025, 6, 2), date(2025, 6, 15))
    assert winter == {area.id: [1, 1]}
    assert summer == {area.id: [1, 1]}


def test_a_mid_week_start_leaves_its_week_out_of_both_periods(app, db, incidents, weekly):
    cat, treated, comparison = _scenario(incidents, weekly, treated_after_level=14)
    # Start on the Wednesday of the first "after" week: that week is a transition week, the after weeks are 1..
    result, _ = _run(app, area_ids=[treated.id], category_ids=[cat.id], start=START + timedelta(days=2),
                     weeks_before=12, weeks_after=7, comparison_area_ids=[c.id for c in comparison], today=TODAY)
    transition = [w for w in result.weeks if w.phase == "transition"]
    assert len(transition) == 1 and transition[0].monday == START and not transition[0].counted
    assert result.before_weeks == 12 and result.after_weeks == 7
    assert result.treated_after_mean == pytest.approx(sum(14 + x for x in NOISE_8[1:]) / 7)


def test_the_week_containing_today_is_left_out(app, db, incidents, weekly):
    cat, treated, comparison = _scenario(incidents, weekly, treated_after_level=14)
    # Today is in after-week 5 (index 5): weeks 0..4 count even though 8 were asked for.
    result, _ = _run(app, area_ids=[treated.id], category_ids=[cat.id], start=START, weeks_before=12,
                     weeks_after=8, comparison_area_ids=[c.id for c in comparison],
                     today=START + timedelta(weeks=5, days=3))
    assert result.after_weeks == 5
    assert result.weeks[12 + 5].complete is False and result.weeks[12 + 5].treated is None


# ------------------------------------------------------------------ the statistics alone (synthetic series)


def test_did_absolute_on_synthetic_series_equals_the_difference_of_mean_differences():
    interval = ev.did_absolute([10, 12, 11, 13], [5, 6, 4, 5], [8, 9, 8, 9], [8, 8, 9, 9])
    # (5 − 11.5) − (8.5 − 8.5) = −6.5
    assert interval.estimate == pytest.approx(-6.5)
    assert interval.low < -6.5 < interval.high


def test_did_absolute_without_any_spread_falls_back_on_poisson_variance():
    interval = ev.did_absolute([20] * 6, [14] * 6, [10] * 6, [10] * 6, comparison_areas=2)
    assert interval.estimate == pytest.approx(-6)
    assert interval.low < -6 < interval.high
    assert interval.high < 0


@pytest.mark.engine_independent
def test_did_ratio_is_the_interaction_of_a_quasi_poisson_regression():
    """Against statsmodels: log μ = group + period + group × period on the weekly counts, scale = Pearson χ²/df."""
    import math

    import numpy as np
    import statsmodels.api as sm

    t_b, t_a = [30, 12, 25, 41, 18, 22], [10, 19, 6, 14, 25, 9]
    c_b, c_a = [60, 45, 80, 52, 71, 40], [66, 50, 38, 90, 61, 47]
    interval = ev.did_ratio(t_b, t_a, c_b, c_a)
    assert interval.estimate == pytest.approx((sum(t_a) / sum(t_b)) / (sum(c_a) / sum(c_b)))

    y = np.array(t_b + t_a + c_b + c_a, dtype=float)
    treated = np.array([1] * 12 + [0] * 12)
    after = np.array(([0] * 6 + [1] * 6) * 2)
    x = sm.add_constant(np.column_stack([treated, after, treated * after]))
    fit = sm.GLM(y, x, family=sm.families.Poisson()).fit(scale="X2")
    assert fit.scale > 1  # these counts vary more than Poisson: the interval must widen
    assert interval.dispersion == pytest.approx(fit.scale)
    assert math.log(interval.estimate) == pytest.approx(fit.params[3])
    from scipy import stats

    q = stats.t.ppf(0.975, fit.df_resid)
    assert interval.df == fit.df_resid == 20
    assert interval.low == pytest.approx(math.exp(fit.params[3] - q * fit.bse[3]), rel=1e-9)
    assert interval.high == pytest.approx(math.exp(fit.params[3] + q * fit.bse[3]), rel=1e-9)


@pytest.mark.engine_independent
def test_did_ratio_never_narrows_below_poisson():
    import math

    from scipy import stats

    interval = ev.did_ratio([20] * 6, [10] * 6, [40] * 6, [40] * 6)  # no spread at all: φ = 1
    assert interval.estimate == pytest.approx(0.5) and interval.dispersion == 1
    se = math.sqrt(1 / 120 + 1 / 60 + 1 / 240 + 1 / 240)
    assert interval.low == pytest.approx(0.5 * math.exp(-stats.t.ppf(0.975, 20) * se), rel=1e-9)


@pytest.mark.engine_independent
def test_did_ratio_refuses_an_empty_group():
    with pytest.raises(ValueError):
        ev.did_ratio([0, 0], [1, 2], [3, 4], [5, 6])


def _poisson(rng: random.Random, lam: float) -> int:
    # Knuth's method: fine for the small means used here.
    limit, k, p = pow(2.718281828459045, -lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def test_welch_interval_covers_the_true_effect_about_95_percent_of_the_time():
    """Seeded Poisson series with a true effect of −6/week: the interval covers −6 in roughly 95 % of runs
    (a wrong method — e.g. a z-interval on a single week — would fall far outside 88–99 %)."""
    rng = random.Random(20261125)
    runs, covered, excluded_zero = 300, 0, 0
    for _ in range(runs):
        t_b = [_poisson(rng, 20) for _ in range(12)]
        t_a = [_poisson(rng, 14) for _ in range(8)]
        c_b = [(_poisson(rng, 10) + _poisson(rng, 10)) / 2 for _ in range(12)]
        c_a = [(_poisson(rng, 10) + _poisson(rng, 10)) / 2 for _ in range(8)]
        interval = ev.did_absolute(t_b, t_a, c_b, c_a, comparison_areas=2)
        covered += interval.low <= -6 <= interval.high
        excluded_zero += interval.high < 0
    assert 0.88 <= covered / runs <= 0.99
    assert excluded_zero / runs > 0.6  # the power of 12 + 8 weeks against an effect of 6/week is about 75 %


def test_no_true_effect_intervals_cover_zero_about_95_percent_of_the_time():
    rng = random.Random(7)
    runs = 300
    covered = 0
    for _ in range(runs):
        t_b = [_poisson(rng, 20) for _ in range(12)]
        t_a = [_poisson(rng, 20) for _ in range(8)]
        c_b = [_poisson(rng, 10) for _ in range(12)]
        c_a = [_poisson(rng, 10) for _ in range(8)]
        covered += ev.did_absolute(t_b, t_a, c_b, c_a).covers_zero
    assert 0.88 <= covered / runs <= 0.99


def test_evaluate_reads_the_reports_with_exactly_one_grouped_query(app, db, incidents, weekly):
    from sqlalchemy import event

    cat, treated, comparison = _scenario(incidents, weekly, treated_after_level=14)
    statements = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = db.get_bind().engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        _run(app, area_ids=[treated.id], category_ids=[cat.id], start=START, weeks_before=12, weeks_after=8,
             comparison_area_ids=[c.id for c in comparison], today=TODAY)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    on_reports = [s for s in statements if "incident_report" in s]
    assert len(on_reports) == 1
    assert "GROUP BY" in on_reports[0] and "count(" in on_reports[0].lower()


def test_chart_is_an_accessible_svg_without_inline_styles_and_escapes_text():
    from app.processes.evaluation_chart import evaluation_chart

    svg = str(evaluation_chart(["v1", "v2", "v3", "v4"], [5, 6, None, 2], [3.5, 3, None, 3], 2,
                               title="Händelser <script>", treated_label="Insats & co", comparison_label="Jämförelse",
                               start_label="Start", y_label="Antal", x_label="Vecka"))
    assert svg.startswith("<svg") and 'role="img"' in svg and "aria-label=" in svg and "<title>" in svg
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "Insats &amp; co" in svg
    assert "style=" not in svg
    assert 'stroke-dasharray="5 3"' in svg  # the start line
    # The missing (incomplete) week breaks the line: two separate pieces per series.
    assert svg.count('fill="none"') == 2 and all(d.count("M") == 2 for d in
                                                  (part.split('"')[0] for part in svg.split('<path d="')[1:]))
