"""Counting accepted reports: one GROUP BY on plain columns, no report is loaded or decrypted."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import func, or_, select, union_all

from app.db import db
from app.overview.figures import hotspots
from app.overview.figures.weeks import same_week_last_year, shift_week, week_start
from app.overview.models import Area, Category, IncidentReport, ReportStatus

#: Weeks in the trend charts (ending with the week shown).
TREND_WEEKS = 12
#: Weeks whose mean is the "previous weeks" comparison.
PREVIOUS_WEEKS = 4
#: The longest period the period view accepts.
MAX_PERIOD_DAYS = 366

R = IncidentReport


def week_ranges(weeks: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """(iso_year, first week, last week) runs covering the given weeks, per ISO year."""
    by_year: dict[int, list[int]] = defaultdict(list)
    for year, week in weeks:
        by_year[year].append(week)
    return [(year, min(ws), max(ws)) for year, ws in sorted(by_year.items())]


def week_counts_query(ranges: list[tuple[int, int, int]]):
    """Accepted reports per (iso_year, iso_week, category, area) in the given (year, first, last) week ranges.

    One SELECT per contiguous week range, glued with UNION ALL: each is an
    index-only scan of ix_incident_report_week, where one SELECT with OR-ed
    ranges makes PostgreSQL fall back to a bitmap heap scan (4x slower at 1M reports).
    """
    parts = [
        select(R.iso_year, R.iso_week, R.category_id, R.area_id, func.count().label("n"))
        .where(R.status == ReportStatus.ACCEPTED, R.iso_year == year, R.iso_week.between(first, last))
        .group_by(R.iso_year, R.iso_week, R.category_id, R.area_id)
        for year, first, last in ranges
    ]
    return parts[0] if len(parts) == 1 else union_all(*parts)


def _taxonomy(category_ids: set[int], area_ids: set[int],
              polygons: dict[int, str | None] | None = None) -> tuple[list[dict], list[dict]]:
    """Active categories and areas, plus inactive ones that have counts, in display order.

    Given a ``polygons`` dict, also fills it with each area's polygon JSON (for the map, in the same query).
    """
    categories = db.session.execute(
        select(Category.id, Category.code, Category.name_sv, Category.name_en)
        .where(or_(Category.active.is_(True), Category.id.in_(category_ids or {-1})))
        .order_by(Category.sort_order, Category.name_sv)
    ).all()
    columns = [Area.id, Area.code, Area.name] + ([Area.polygon] if polygons is not None else [])
    areas = db.session.execute(
        select(*columns).where(or_(Area.active.is_(True), Area.id.in_(area_ids or {-1}))).order_by(Area.name)
    ).all()
    if polygons is not None:
        polygons.update((a.id, a.polygon) for a in areas)
    return ([{"id": c.id, "code": c.code, "name_sv": c.name_sv, "name_en": c.name_en} for c in categories],
            [{"id": a.id, "code": a.code, "name": a.name} for a in areas])


#: A percentage against a reference smaller than this says more about chance than about change ("+2082 %"
#: from a reference of 0.5): the change is then shown as a difference only, marked as too little to compare.
MIN_PERCENT_REFERENCE = 5


def _change(count: int, reference: float | None) -> dict:
    """Absolute and relative change against a reference. ``percent`` is None, and ``thin`` True, when the
    reference is below MIN_PERCENT_REFERENCE; everything is None when there is nothing to compare with."""
    if reference is None:
        return {"reference": None, "diff": None, "percent": None, "thin": False}
    diff = count - reference
    thin = reference < MIN_PERCENT_REFERENCE
    return {"reference": round(reference, 2), "diff": round(diff, 2),
            "percent": None if thin else round(100 * diff / reference, 1), "thin": thin}


def _line(count: int, previous: list[int], last_year: int, *, compare: bool = True) -> dict:
    """One row's count and its comparisons; ``compare`` False (a week still running) compares nothing: a
    partial week against whole weeks would always look like a fall."""
    mean = sum(previous) / len(previous)
    return {"count": count, "previous_mean": round(mean, 2),
            "vs_previous": _change(count, mean if compare else None),
            "last_year": last_year, "vs_last_year": _change(count, last_year if compare else None)}


def week_figures(iso_year: int, iso_week: int) -> dict:
    """The figures of one ISO week (Monday–Sunday, Europe/Stockholm) from ACCEPTED reports; JSON-serialisable.

    Raises ValueError for a week the year does not have (54, or 53 in a 52-week year).

    Keys:
    - ``iso_year``, ``iso_week``; ``start``, ``end``: the Monday and Sunday as "YYYY-MM-DD".
    - ``categories``: [{id, code, name_sv, name_en}] and ``areas``: [{id, code, name}] — active ones plus
      inactive ones with counts in any week used, in display order. Every list below follows these orders.
    - ``total``, each entry of ``by_category`` ({..category, count, ...}) and of ``by_area`` ({..area, count, ...})
      carry: ``count``; ``previous_mean`` (mean of the previous four ISO weeks); ``vs_previous`` and
      ``vs_last_year``: {reference, diff, percent} (percent None when the reference is 0); ``last_year``:
      the count in the same ISO week a year earlier — week 53 is compared with week 52 when the earlier
      year has no week 53.
    - ``table``: [{area_id, counts: [count per category], total}] — the category × area table;
      ``column_totals``: [count per category].
    - ``comparison``: {previous_weeks: [[year, week] × 4, oldest first], last_year: [year, week]}.
    - ``hotspots``: [{area_id, area_name, category_id, category_code, name_sv, name_en, count, baseline,
      p_value}], most improbable first; ``hotspot_rule``: hotspots.rule() (old snapshots: {baseline_weeks, floor, min_count, alpha, method})
      (see app/overview/figures/hotspots.py).
    - ``trend``: {weeks: [[year, week] × 12, oldest first, ending with this week], total: [counts],
      by_category: [[counts] per category]}.
    """
    return week_figures_with_polygons(iso_year, iso_week, None)


def week_figures_with_polygons(iso_year: int, iso_week: int, polygons: dict[int, str | None] | None) -> dict:
    """week_figures, also filling ``polygons`` (area id → polygon JSON) when given, for the map."""
    week_start(iso_year, iso_week)  # validates
    history = [shift_week(iso_year, iso_week, -k) for k in range(hotspots.BASELINE_WEEKS, 0, -1)]
    last_year = same_week_last_year(iso_year, iso_week)
    this_week = (iso_year, iso_week)
    weeks = history + [this_week]

    ranges = week_ranges(weeks)
    if last_year not in weeks:  # never is with 12 weeks of history; kept so the ranges never overlap
        ranges.append((last_year[0], last_year[1], last_year[1]))
    rows = db.session.execute(week_counts_query(ranges)).all()
    # counts[(year, week)][(category_id, area_id)]
    counts: dict[tuple[int, int], dict[tuple[int, int], int]] = defaultdict(dict)
    for year, week, category_id, area_id, n in rows:
        counts[(year, week)][(category_id, area_id)] = n
    categories, areas = _taxonomy({r[2] for r in rows}, {r[3] for r in rows}, polygons)

    # One pass for every sum the page shows: per week overall, per week and category, per week and area.
    per_week: dict[tuple[int, int], int] = defaultdict(int)
    per_category: dict[tuple[tuple[int, int], int], int] = defaultdict(int)
    per_area: dict[tuple[tuple[int, int], int], int] = defaultdict(int)
    history_sum: dict[tuple[int, int], int] = defaultdict(int)
    history_set = set(history)
    for week, cells in counts.items():
        for (category_id, area_id), n in cells.items():
            per_week[week] += n
            per_category[(week, category_id)] += n
            per_area[(week, area_id)] += n
            if week in history_set:
                history_sum[(category_id, area_id)] += n

    def total_of(week, category_id=None, area_id=None) -> int:
        if category_id is not None:
            return per_category.get((week, category_id), 0)
        if area_id is not None:
            return per_area.get((week, area_id), 0)
        return per_week.get(week, 0)

    previous = history[-PREVIOUS_WEEKS:]
    trend_weeks = weeks[-TREND_WEEKS:]
    now = counts.get(this_week, {})

    running = running_week_through(iso_year, iso_week)

    def line(category_id=None, area_id=None) -> dict:
        return _line(total_of(this_week, category_id, area_id),
                     [total_of(w, category_id, area_id) for w in previous],
                     total_of(last_year, category_id, area_id), compare=running is None)

    # The baseline counts only the history weeks that have data at all; every cell with a report in the
    # history or this week is tested, together (hotspots.py). Cells under the minimum count can never be
    # flagged, so only the others are computed (they still count among the cells tested).
    history_weeks = sum(1 for w in history if per_week.get(w, 0) > 0)
    tested = len(set(history_sum) | set(now))
    candidates = [(key, n) for key, n in now.items() if n >= hotspots.MIN_COUNT]
    checks = hotspots.check_cells([(n, history_sum.get(key, 0)) for key, n in candidates],
                                  history_weeks=history_weeks, tested=tested)
    found = [(check, category_id, area_id)
             for ((category_id, area_id), _n), check in zip(candidates, checks) if check.flagged]
    category_by_id = {c["id"]: c for c in categories}
    area_by_id = {a["id"]: a for a in areas}
    found.sort(key=lambda f: (f[0].p_value, -f[0].count))

    return {
        "iso_year": iso_year,
        "iso_week": iso_week,
        # The week is still running (Stockholm time): the last day with figures, else None.
        "running_through": running.isoformat() if running else None,
        "start": week_start(iso_year, iso_week).isoformat(),
        "end": (week_start(iso_year, iso_week) + timedelta(days=6)).isoformat(),
        "categories": categories,
        "areas": areas,
        "total": line(),
        "by_category": [{**c, **line(category_id=c["id"])} for c in categories],
        "by_area": [{**a, **line(area_id=a["id"])} for a in areas],
        "table": [{"area_id": a["id"], "counts": [now.get((c["id"], a["id"]), 0) for c in categories],
                   "total": total_of(this_week, area_id=a["id"])} for a in areas],
        "column_totals": [total_of(this_week, category_id=c["id"]) for c in categories],
        "comparison": {"previous_weeks": [list(w) for w in previous], "last_year": list(last_year)},
        "hotspots": [{"area_id": a, "area_name": area_by_id[a]["name"], "category_id": c,
                      "category_code": category_by_id[c]["code"], "name_sv": category_by_id[c]["name_sv"],
                      "name_en": category_by_id[c]["name_en"], "count": check.count,
                      "baseline": round(check.baseline, 2), "p_value": float(f"{check.p_value:.3g}")}
                     for check, c, a in found],
        "hotspot_rule": hotspots.rule(tested=tested, history_weeks=history_weeks),
        "trend": {"weeks": [list(w) for w in trend_weeks],
                  "total": [total_of(w) for w in trend_weeks],
                  "by_category": [[total_of(w, category_id=c["id"]) for w in trend_weeks] for c in categories]},
    }


def running_week_through(iso_year: int, iso_week: int, today: date | None = None) -> date | None:
    """Today (Stockholm) if the week has begun and not ended, else None."""
    from app.overview.figures.weeks import local_today

    today = today or local_today()
    start = week_start(iso_year, iso_week)
    return today if start <= today <= start + timedelta(days=6) else None


def _calendar_year(start: date, end: date) -> bool:
    return start.year == end.year and (start.month, start.day, end.month, end.day) == (1, 1, 12, 31)


def previous_period(start: date, end: date) -> tuple[date, date]:
    """The period compared with ``start``..``end``: a calendar year with the calendar year before it, any
    other period with the period of the same length that ends the day before ``start``."""
    if _calendar_year(start, end):
        return date(start.year - 1, 1, 1), date(start.year - 1, 12, 31)
    length = (end - start).days + 1
    return start - timedelta(days=length), start - timedelta(days=1)


def same_span_end(start: date, end: date, through: date) -> date:
    """The last day of the earlier period's span that matches ``start``..``through``: the same date a year
    back for a calendar year (29 February becomes 28 February), else as many days into it."""
    if _calendar_year(start, end):
        return through.replace(year=through.year - 1) if (through.month, through.day) != (2, 29) else date(
            through.year - 1, 2, 28)
    return previous_period(start, end)[0] + (through - start)


def period_figures(start: date, end: date, polygons: dict[int, str | None] | None = None,
                   today: date | None = None) -> dict:
    """Accepted reports with a Stockholm local date in ``start``..``end`` (inclusive), by area and category.

    Raises ValueError when end is before start or the period is longer than 366 days.
    Keys as in week_figures where they apply: ``start``, ``end``, ``days``, ``status`` ("complete",
    "running": the period has begun and not ended, counted through ``through`` = today, Stockholm, or
    "future": nothing to count yet), ``through``, ``previous`` ({start, end, whole, basis}: the period compared
    with, see previous_period, basis "year_before" or "same_length_before"; for a running period only the same span of it, so year to date is compared
    with the same dates last year, and ``whole`` holds its full end), ``categories``, ``areas``,
    ``total``/``by_category``/``by_area`` entries {count, previous, vs_previous: {reference, diff, percent,
    thin}} (no comparison for a future period), ``table``, ``column_totals``, and ``trend``: {weeks:
    [[year, week]...] — the ISO weeks touching the counted span, days: [days of each week inside it; under
    7 for a partial first or last week], total: [counts], by_category: [[counts] per category]}.
    Given a ``polygons`` dict, also fills it with area id → polygon JSON for the map.
    """
    from app.overview.figures.weeks import local_today, weeks_touching

    if end < start:
        raise ValueError("the period ends before it starts")
    days = (end - start).days + 1
    if days > MAX_PERIOD_DAYS:
        raise ValueError("the period is too long")
    today = today or local_today()
    status = "complete" if end < today else "running" if start <= today else "future"
    through = end if status == "complete" else today if status == "running" else None
    prev_start, prev_whole_end = previous_period(start, end)
    # The same span of the earlier period as the one counted now (all of it when the period is over).
    prev_end = prev_whole_end if status == "complete" else same_span_end(start, end, through or start)

    rows = db.session.execute(
        select(R.iso_year, R.iso_week, R.category_id, R.area_id, func.count())
        .where(R.status == ReportStatus.ACCEPTED, R.local_date.between(start, through))
        .group_by(R.iso_year, R.iso_week, R.category_id, R.area_id)
    ).all() if through else []  # a future period counts nothing
    prev_rows = db.session.execute(
        select(R.category_id, R.area_id, func.count())
        .where(R.status == ReportStatus.ACCEPTED, R.local_date.between(prev_start, prev_end))
        .group_by(R.category_id, R.area_id)
    ).all() if through else []
    now: dict[tuple[int, int], int] = defaultdict(int)
    weekly: dict[tuple[int, int], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for year, week, category_id, area_id, n in rows:
        now[(category_id, area_id)] += n
        weekly[(year, week)][category_id] += n
    before = {(c, a): n for c, a, n in prev_rows}
    categories, areas = _taxonomy({r[2] for r in rows} | {r[0] for r in prev_rows},
                                  {r[3] for r in rows} | {r[1] for r in prev_rows}, polygons)

    def sum_of(cells, category_id=None, area_id=None) -> int:
        return sum(n for (c, a), n in cells.items()
                   if (category_id is None or c == category_id) and (area_id is None or a == area_id))

    def line(category_id=None, area_id=None) -> dict:
        count, previous = sum_of(now, category_id, area_id), sum_of(before, category_id, area_id)
        return {"count": count, "previous": previous if through else None,
                "vs_previous": _change(count, previous if through else None)}

    touching = weeks_touching(start, through or end)
    trend_weeks, week_days = [week for week, _days in touching], [days for _week, days in touching]

    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "days": days,
        "status": status,
        "through": through.isoformat() if through else None,
        "previous": {"start": prev_start.isoformat(), "end": prev_end.isoformat(),
                     "whole": prev_whole_end.isoformat(),
                     "basis": "year_before" if _calendar_year(start, end) else "same_length_before"},
        "categories": categories,
        "areas": areas,
        "total": line(),
        "by_category": [{**c, **line(category_id=c["id"])} for c in categories],
        "by_area": [{**a, **line(area_id=a["id"])} for a in areas],
        "table": [{"area_id": a["id"], "counts": [now.get((c["id"], a["id"]), 0) for c in categories],
                   "total": sum_of(now, area_id=a["id"])} for a in areas],
        "column_totals": [sum_of(now, category_id=c["id"]) for c in categories],
        "trend": {"weeks": [list(w) for w in trend_weeks], "days": week_days,
                  "total": [sum(weekly.get(w, {}).values()) for w in trend_weeks],
                  "by_category": [[weekly.get(w, {}).get(c["id"], 0) for w in trend_weeks] for c in categories]},
    }
