"""Evaluation of an area intervention: weekly counts before and after its start, beside comparison areas.

The headline is a relative difference-in-differences, the ratio of rate ratios: how much the weekly
count in the targeted areas changed from before to after the start, as a ratio, divided by the same
ratio in the comparison areas over the same weeks. Beside it, the difference in levels, per area and
week on both sides. It is an indication, not proof; the page says so.

Method (also stated on the page and in the README):

- Weeks are ISO weeks of the incident's Europe/Stockholm calendar date; only accepted
  reports of the intervention's categories count. Only complete weeks count: the week
  containing "today" and later weeks are left out.
- Week 0 is the week containing the start date. If the start is a Monday, week 0 is the
  first week after; otherwise week 0 is partly before and partly after and is left out of
  both periods (shown, not counted).
- "Before" weeks that precede the first week with any report in the targeted or
  comparison areas are treated as "no data" (the reports were not yet collected).
- Both sides are counted the same way: T_t is the targeted areas' weekly count per area (their
  sum divided by their number m), C_t the comparison areas' weekly count per area (sum / k). So
  neither the number of targeted areas nor the number of comparison areas moves the estimate.
- Headline, ratio of rate ratios RR = (T̄_after/T̄_before) / (C̄_after/C̄_before): the Poisson
  regression log μ = group + period + group×period on the weekly counts, whose interaction is log RR.
  Its 95 % interval is quasi-Poisson: var(log RR) = φ · (1/ΣT_a + 1/ΣT_b + 1/ΣC_a + 1/ΣC_b) over the
  summed counts, with the dispersion φ = max(1, Pearson χ² / (N − 4)) estimated from the N weekly
  counts of the four group × period cells, and a t quantile with N − 4 degrees of freedom. So counts
  that vary more than Poisson widen the interval. It is the headline because a change that hits every
  area by the same percentage (everyone +30 %) leaves it at 1, while the difference in levels then
  shows a false effect whenever the targeted areas are larger or smaller than the comparison areas.
- Beside it, the difference in levels: (T̄_after − T̄_before) − (C̄_after − C̄_before), in incidents per
  area and week, with Welch's t on the weekly differences D_t = T_t − C_t, after vs before (mean(D_after) −
  mean(D_before) equals the DiD; SE from the sample variances; Welch–Satterthwaite degrees of freedom).
  If the weekly differences have no spread at all, the Poisson variance of the means is used instead.
- Both intervals assume independent weeks: correlated weeks (one troubled week followed by
  another) make the true uncertainty larger than shown. The page says so.
- "Cannot say" (no estimate) when: fewer than 4 complete weeks after the start, fewer than
  4 complete weeks with data before it, no comparison areas, or too few incidents (targeted
  before + after < 20, or any of the four totals is 0).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, tuple_

from app.extensions import db
from app.overview.models import Area, IncidentReport, ReportStatus

#: Query-argument limits of the evaluation page.
WEEKS_BEFORE_DEFAULT, WEEKS_BEFORE_MIN, WEEKS_BEFORE_MAX = 12, 2, 104
WEEKS_AFTER_DEFAULT, WEEKS_AFTER_MIN, WEEKS_AFTER_MAX = 12, 1, 104
#: The "cannot say" thresholds.
MIN_WEEKS = 4
MIN_TREATED_INCIDENTS = 20
CONFIDENCE = 0.95


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


# ------------------------------------------------------------------ the one query


def weekly_counts(area_ids: Iterable[int], category_ids: Iterable[int], first_day: date,
                  last_day: date) -> dict[int, list[int]]:
    """Accepted reports per area and week, from ``first_day``'s week to ``last_day``'s week (whole weeks).

    One GROUP BY (area, ISO year, ISO week) over the plain columns; list index 0 is the
    week of ``first_day``. Every requested area gets a list (zeros where nothing was reported).
    """
    area_ids, category_ids = sorted(set(area_ids)), sorted(set(category_ids))
    first, last = monday(first_day), monday(last_day)
    n_weeks = (last - first).days // 7 + 1
    result = {area_id: [0] * max(n_weeks, 0) for area_id in area_ids}
    if n_weeks <= 0 or not area_ids or not category_ids:
        return result
    y0, w0, _ = first.isocalendar()
    y1, w1, _ = last.isocalendar()
    # Whole weeks, so the ISO-week range equals the local-date range, and it is answered from
    # ix_incident_report_week (status, iso_year, iso_week, category_id, area_id) alone.
    week = tuple_(IncidentReport.iso_year, IncidentReport.iso_week)
    query = (
        select(IncidentReport.area_id, IncidentReport.iso_year, IncidentReport.iso_week, func.count())
        .where(IncidentReport.status == ReportStatus.ACCEPTED,
               week >= tuple_(y0, w0), week <= tuple_(y1, w1),
               IncidentReport.category_id.in_(category_ids),
               IncidentReport.area_id.in_(area_ids))
        .group_by(IncidentReport.area_id, IncidentReport.iso_year, IncidentReport.iso_week)
    )
    for area_id, iso_year, iso_week, count in db.session.execute(query):
        index = (date.fromisocalendar(iso_year, iso_week, 1) - first).days // 7
        if 0 <= index < n_weeks:
            result[area_id][index] += count
    return result


def default_comparison_area_ids(targeted: Iterable[int]) -> list[int]:
    """All active areas the intervention does not target."""
    targeted = set(targeted)
    return [a for a in db.session.scalars(select(Area.id).where(Area.active.is_(True)).order_by(Area.name))
            if a not in targeted]


# ------------------------------------------------------------------ statistics (pure functions)


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float

    @property
    def covers_zero(self) -> bool:
        return self.low <= 0 <= self.high

    @property
    def covers_one(self) -> bool:
        return self.low <= 1 <= self.high


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def _var(values: Sequence[float]) -> float:
    """Sample variance (n − 1)."""
    m = _mean(values)
    return sum((v - m) ** 2 for v in values) / (len(values) - 1)


def did_absolute(treated_before: Sequence[float], treated_after: Sequence[float],
                 comparison_before: Sequence[float], comparison_after: Sequence[float], *,
                 treated_areas: int = 1, comparison_areas: int = 1, confidence: float = CONFIDENCE) -> Interval:
    """Difference-in-differences in incidents per area and week, Welch-t interval on the weekly differences.

    Every series is a count per area per week (the group's sum divided by its number of areas,
    ``treated_areas`` and ``comparison_areas``); each series needs ≥ 2 weeks.
    """
    if min(len(treated_before), len(treated_after)) < 2:
        raise ValueError("each period needs at least two weeks")
    d_before = [t - c for t, c in zip(treated_before, comparison_before, strict=True)]
    d_after = [t - c for t, c in zip(treated_after, comparison_after, strict=True)]
    n_b, n_a = len(d_before), len(d_after)
    estimate = _mean(d_after) - _mean(d_before)
    v_b, v_a = _var(d_before) / n_b, _var(d_after) / n_a
    se = math.sqrt(v_a + v_b)
    if se > 0:
        df = (v_a + v_b) ** 2 / ((v_a ** 2) / (n_a - 1) + (v_b ** 2) / (n_b - 1))
        q = _t_quantile(0.5 + confidence / 2, df)
    else:
        # No spread at all in the weekly differences: the Poisson variance of the means. A group of m areas
        # with per-area counts x has the variance Σx / (m · n²) for its mean over n weeks.
        m, k = max(treated_areas, 1), max(comparison_areas, 1)
        se = math.sqrt((sum(treated_after) / n_a ** 2 + sum(treated_before) / n_b ** 2) / m
                       + (sum(comparison_after) / n_a ** 2 + sum(comparison_before) / n_b ** 2) / k)
        q = _normal_quantile(0.5 + confidence / 2)
    return Interval(estimate, estimate - q * se, estimate + q * se)


def _t_quantile(p: float, df: float) -> float:
    from scipy import stats  # imported where it is used: scipy costs about 75 MiB and a second per process

    return float(stats.t.ppf(p, df))


def _normal_quantile(p: float) -> float:
    from scipy import stats

    return float(stats.norm.ppf(p))


@dataclass(frozen=True)
class RatioInterval(Interval):
    dispersion: float = 1.0  #: the quasi-Poisson φ used (at least 1)
    df: int = 0  #: degrees of freedom of the t quantile

    @property
    def percent(self) -> float:
        """The change against what the comparison areas lead one to expect, in per cent (RR − 1)."""
        return (self.estimate - 1) * 100


def quasi_poisson_dispersion(cells: Sequence[Sequence[float]]) -> tuple[float, int]:
    """(Pearson χ² / (N − groups), N − groups) for weekly counts in groups, each with its own mean."""
    chi2, n = 0.0, 0
    for values in cells:
        mu = _mean(values)
        n += len(values)
        if mu > 0:
            chi2 += sum((v - mu) ** 2 for v in values) / mu
    df = n - len(cells)
    return (chi2 / df if df > 0 else 1.0), df


def did_ratio(treated_before: Sequence[int], treated_after: Sequence[int], comparison_before: Sequence[int],
              comparison_after: Sequence[int], *, confidence: float = CONFIDENCE) -> RatioInterval:
    """Ratio of rate ratios (T̄_a/T̄_b)/(C̄_a/C̄_b) from weekly counts, with a quasi-Poisson interval.

    The series are the groups' weekly counts (sums over their areas: the ratio is the same per area).
    var(log RR) = φ (1/ΣT_a + 1/ΣT_b + 1/ΣC_a + 1/ΣC_b), φ = max(1, Pearson χ²/(N − 4)), t quantile with
    N − 4 degrees of freedom. All four sums must be > 0 and each series needs ≥ 2 weeks.
    """
    cells = [treated_before, treated_after, comparison_before, comparison_after]
    if min(len(c) for c in cells) < 2:
        raise ValueError("each period needs at least two weeks")
    sums = [sum(c) for c in cells]
    if min(sums) <= 0:
        raise ValueError("every group and period needs incidents")
    t_b, t_a, c_b, c_a = (_mean(c) for c in cells)
    log_ratio = math.log(t_a / t_b) - math.log(c_a / c_b)
    phi, df = quasi_poisson_dispersion(cells)
    phi = max(phi, 1.0)
    se = math.sqrt(phi * sum(1 / s for s in sums))
    q = _t_quantile(0.5 + confidence / 2, df)
    return RatioInterval(math.exp(log_ratio), math.exp(log_ratio - q * se), math.exp(log_ratio + q * se),
                         dispersion=phi, df=df)


# ------------------------------------------------------------------ the evaluation


@dataclass(frozen=True)
class Week:
    index: int  #: relative to the start week (0)
    monday: date
    iso_year: int
    iso_week: int
    phase: str  #: "before", "transition", "after"
    complete: bool
    counted: bool
    treated: float | None  #: count per targeted area (their sum / their number)
    comparison: float | None  #: count per comparison area

    @property
    def label(self) -> str:
        return f"v{self.iso_week}"


@dataclass(frozen=True)
class Reason:
    code: str  #: no_after_weeks, not_started, few_before_weeks, no_comparison, few_incidents, zero_total
    text: object  #: lazy Swedish text


@dataclass
class Evaluation:
    start: date
    start_monday: date
    weeks_before: int
    weeks_after: int
    today: date
    comparison_area_count: int
    treated_area_count: int = 0
    weeks: list[Week] = field(default_factory=list)
    before_weeks: int = 0
    after_weeks: int = 0
    treated_before_total: int = 0
    treated_after_total: int = 0
    comparison_before_total: int = 0
    comparison_after_total: int = 0
    treated_before_mean: float | None = None
    treated_after_mean: float | None = None
    comparison_before_mean: float | None = None
    comparison_after_mean: float | None = None
    reasons: list[Reason] = field(default_factory=list)
    absolute: Interval | None = None  #: the difference in levels, per area and week
    ratio: RatioInterval | None = None  #: the headline: ratio of rate ratios

    @property
    def can_say(self) -> bool:
        return not self.reasons and self.absolute is not None

    @property
    def treated_change(self) -> float | None:
        if self.treated_before_mean is None or self.treated_after_mean is None:
            return None
        return self.treated_after_mean - self.treated_before_mean

    @property
    def comparison_change(self) -> float | None:
        if self.comparison_before_mean is None or self.comparison_after_mean is None:
            return None
        return self.comparison_after_mean - self.comparison_before_mean

    @property
    def reason_codes(self) -> list[str]:
        return [r.code for r in self.reasons]


def evaluate(*, area_ids: Iterable[int], category_ids: Iterable[int], start: date, weeks_before: int,
             weeks_after: int, comparison_area_ids: Iterable[int], today: date) -> Evaluation:
    """Weekly series, before/after means and the DiD estimate with its interval, or the reasons it cannot be said."""
    targeted = sorted(set(area_ids))
    comparison = sorted(set(comparison_area_ids) - set(targeted))
    start_monday = monday(start)
    first_after = 0 if start.weekday() == 0 else 1
    first_monday = start_monday - timedelta(weeks=weeks_before)
    last_monday = start_monday + timedelta(weeks=first_after + weeks_after - 1)
    today_monday = monday(today)
    result = Evaluation(start=start, start_monday=start_monday, weeks_before=weeks_before, weeks_after=weeks_after,
                        today=today, comparison_area_count=len(comparison), treated_area_count=len(targeted))
    m = max(len(targeted), 1)

    # Only complete weeks are asked for: the week containing today and later weeks are left out.
    last_complete = min(last_monday, today_monday - timedelta(weeks=1))
    counts = weekly_counts(targeted + comparison, category_ids, first_monday, last_complete + timedelta(days=6))
    n_fetched = max((last_complete - first_monday).days // 7 + 1, 0)
    treated_series = [sum(counts[a][i] for a in targeted) for i in range(n_fetched)]
    comparison_sums = [sum(counts[a][i] for a in comparison) for i in range(n_fetched)]
    any_data = [i for i in range(n_fetched) if treated_series[i] or comparison_sums[i]]
    first_data = any_data[0] if any_data else n_fetched

    t_before: list[int] = []
    t_after: list[int] = []
    c_before: list[int] = []  # summed over comparison areas
    c_after: list[int] = []
    for i in range(weeks_before + first_after + weeks_after):
        week_monday = first_monday + timedelta(weeks=i)
        relative = i - weeks_before
        phase = "before" if relative < 0 else ("after" if relative >= first_after else "transition")
        complete = i < n_fetched
        counted = complete and phase != "transition" and (phase == "after" or i >= first_data)
        iso = week_monday.isocalendar()
        treated = treated_series[i] / m if complete else None
        comp_mean = comparison_sums[i] / len(comparison) if complete and comparison else None
        result.weeks.append(Week(relative, week_monday, iso[0], iso[1], phase, complete, counted, treated, comp_mean))
        if counted:
            (t_before if phase == "before" else t_after).append(treated_series[i])
            (c_before if phase == "before" else c_after).append(comparison_sums[i])

    k = len(comparison)
    result.before_weeks, result.after_weeks = len(t_before), len(t_after)
    result.treated_before_total, result.treated_after_total = sum(t_before), sum(t_after)
    result.comparison_before_total, result.comparison_after_total = sum(c_before), sum(c_after)
    # Both sides per area, so that neither the number of targeted nor of comparison areas moves the estimate.
    if t_before:
        result.treated_before_mean = _mean(t_before) / m
        result.comparison_before_mean = _mean(c_before) / k if k else None
    if t_after:
        result.treated_after_mean = _mean(t_after) / m
        result.comparison_after_mean = _mean(c_after) / k if k else None

    result.reasons = _reasons(result, k, targeted, list(category_ids))
    if not result.reasons:
        result.absolute = did_absolute([t / m for t in t_before], [t / m for t in t_after],
                                       [c / k for c in c_before], [c / k for c in c_after],
                                       treated_areas=m, comparison_areas=k)
        result.ratio = did_ratio(t_before, t_after, c_before, c_after)
    return result


def _reasons(ev: Evaluation, k: int, targeted: list[int], categories: list[int]) -> list[Reason]:
    reasons = []
    if not targeted or not categories:
        reasons.append(Reason("no_target", _l("Insatsen saknar målområden eller kategorier att räkna.")))
    if ev.start > ev.today:
        reasons.append(Reason("not_started", _l("Insatsen har inte startat ännu, så det finns inget efter att "
                                                "jämföra med.")))
    elif ev.after_weeks < MIN_WEEKS:
        reasons.append(Reason("no_after_weeks", _l(
            "Det har bara gått %(n)s hela veckor sedan insatsen startade (pågående vecka räknas inte). "
            "Minst %(min)s behövs.", n=ev.after_weeks, min=MIN_WEEKS)))
    if ev.before_weeks < MIN_WEEKS:
        reasons.append(Reason("few_before_weeks", _l(
            "Det finns bara %(n)s hela veckor med uppgifter före starten. Minst %(min)s behövs.",
            n=ev.before_weeks, min=MIN_WEEKS)))
    if k == 0:
        reasons.append(Reason("no_comparison", _l(
            "Det finns inga jämförelseområden. Utan dem går det inte att skilja insatsens effekt från "
            "förändringar som skett överallt.")))
    treated_total = ev.treated_before_total + ev.treated_after_total
    if targeted and categories and ev.before_weeks and ev.after_weeks:
        if treated_total < MIN_TREATED_INCIDENTS:
            reasons.append(Reason("few_incidents", _l(
                "För få händelser i insatsområdena: %(n)s före och efter sammanlagt, minst %(min)s behövs. "
                "Med så små tal kan slumpen ensam förklara skillnaden.", n=treated_total,
                min=MIN_TREATED_INCIDENTS)))
        elif k and 0 in (ev.treated_before_total, ev.treated_after_total, ev.comparison_before_total,
                         ev.comparison_after_total):
            reasons.append(Reason("zero_total", _l(
                "En av perioderna saknar händelser helt (i insatsområdena eller jämförelseområdena), så "
                "förändringen går inte att mäta.")))
    return reasons
