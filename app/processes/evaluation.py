"""Evaluation of an area intervention: weekly counts before and after its start, beside comparison areas.

The estimate is a difference-in-differences (DiD): how much the weekly count in the
targeted areas changed from before to after the start, minus how much it changed
in the comparison areas over the same weeks (their mean per area, so the scales
are comparable). It is an indication, not proof; the page says so.

Method (also stated on the page and in the README):

- Weeks are ISO weeks of the incident's Europe/Stockholm calendar date; only accepted
  reports of the intervention's categories count. Only complete weeks count: the week
  containing "today" and later weeks are left out.
- Week 0 is the week containing the start date. If the start is a Monday, week 0 is the
  first week after; otherwise week 0 is partly before and partly after and is left out of
  both periods (shown, not counted).
- "Before" weeks that precede the first week with any report in the targeted or
  comparison areas are treated as "no data" (the reports were not yet collected).
- Absolute DiD = (T̄_after − T̄_before) − (C̄_after − C̄_before), in incidents per week, where
  T_t is the targeted areas' summed count and C̄_t the comparison areas' mean per area.
  Its 95 % interval: Welch's t on the weekly differences D_t = T_t − C̄_t, after vs before
  (mean(D_after) − mean(D_before) equals the DiD; SE from the sample variances; Welch–
  Satterthwaite degrees of freedom). Assumes independent weeks with a stable spread in
  each period; over-dispersion is captured by the sample variance. If the weekly
  differences have no spread at all, the Poisson variance of the means is used instead.
- Relative DiD (ratio of rate ratios) = (T_after/T_before) / (C_after/C_before) over the summed
  counts (comparison summed over all comparison areas; equal numbers of weeks cancel); 95 %
  interval on the log scale with var(log) = 1/T_a + 1/T_b + 1/C_a + 1/C_b (Poisson counts).
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
                 comparison_areas: int = 1, confidence: float = CONFIDENCE) -> Interval:
    """Difference-in-differences in incidents per week with a Welch-t interval on the weekly differences.

    ``comparison_*`` are the comparison areas' mean per area per week; each series needs ≥ 2 weeks.
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
        # No spread at all in the weekly differences: fall back on the Poisson variance of the means.
        k = max(comparison_areas, 1)
        se = math.sqrt(sum(treated_after) / n_a ** 2 + sum(treated_before) / n_b ** 2
                       + (sum(comparison_after) * k / n_a ** 2 + sum(comparison_before) * k / n_b ** 2) / k ** 2)
        q = _normal_quantile(0.5 + confidence / 2)
    return Interval(estimate, estimate - q * se, estimate + q * se)


def _t_quantile(p: float, df: float) -> float:
    from scipy import stats  # imported where it is used: scipy costs about 75 MiB and a second per process

    return float(stats.t.ppf(p, df))


def _normal_quantile(p: float) -> float:
    from scipy import stats

    return float(stats.norm.ppf(p))


def did_ratio(treated_before: int, treated_after: int, comparison_before: int, comparison_after: int, *,
              confidence: float = CONFIDENCE) -> Interval:
    """Ratio of rate ratios (T_a/T_b)/(C_a/C_b) over summed counts, Poisson interval on the log scale.

    The before and after periods must have the same number of weeks for T and C (they do: the
    same weeks), so the weeks cancel. All four totals must be > 0.
    """
    log_ratio = math.log(treated_after / treated_before) - math.log(comparison_after / comparison_before)
    se = math.sqrt(1 / treated_after + 1 / treated_before + 1 / comparison_after + 1 / comparison_before)
    z = _normal_quantile(0.5 + confidence / 2)
    return Interval(math.exp(log_ratio), math.exp(log_ratio - z * se), math.exp(log_ratio + z * se))


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
    treated: int | None
    comparison: float | None  #: mean per comparison area

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
    absolute: Interval | None = None
    ratio: Interval | None = None

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
                        today=today, comparison_area_count=len(comparison))

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
        treated = treated_series[i] if complete else None
        comp_mean = comparison_sums[i] / len(comparison) if complete and comparison else None
        result.weeks.append(Week(relative, week_monday, iso[0], iso[1], phase, complete, counted, treated, comp_mean))
        if counted:
            (t_before if phase == "before" else t_after).append(treated_series[i])
            (c_before if phase == "before" else c_after).append(comparison_sums[i])

    k = len(comparison)
    result.before_weeks, result.after_weeks = len(t_before), len(t_after)
    result.treated_before_total, result.treated_after_total = sum(t_before), sum(t_after)
    result.comparison_before_total, result.comparison_after_total = sum(c_before), sum(c_after)
    if t_before:
        result.treated_before_mean = _mean(t_before)
        result.comparison_before_mean = _mean(c_before) / k if k else None
    if t_after:
        result.treated_after_mean = _mean(t_after)
        result.comparison_after_mean = _mean(c_after) / k if k else None

    result.reasons = _reasons(result, k, targeted, list(category_ids))
    if not result.reasons:
        result.absolute = did_absolute(t_before, t_after, [c / k for c in c_before], [c / k for c in c_after],
                                       comparison_areas=k)
        result.ratio = did_ratio(result.treated_before_total, result.treated_after_total,
                                 result.comparison_before_total, result.comparison_after_total)
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
