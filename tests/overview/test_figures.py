"""Aggregation correctness of week_figures and period_figures against hand-computed fixtures."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest

from app.overview.figures import period_figures, same_week_last_year, week_figures


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def by_id(entries, ident):
    return next(e for e in entries if e["id"] == ident)


@pytest.fixture()
def taxonomy(incidents):
    a, b = incidents.area(name="Område A"), incidents.area(name="Område B")
    k1, k2 = incidents.category(name_sv="K1"), incidents.category(name_sv="K2")
    return a, b, k1, k2


def test_week_53_counts_monday_midnight_in_and_sunday_before_out(app, incidents, taxonomy):
    a, b, k1, k2 = taxonomy
    # 2026-W53 is Mon 2026-12-28 .. Sun 2027-01-03 (Stockholm, CET = UTC+1).
    incidents.report(area=a, category=k1, occurred_at=utc(2026, 12, 27, 22, 59, 59))  # Sun 23:59:59 -> W52
    incidents.report(area=a, category=k1, occurred_at=utc(2026, 12, 27, 23, 0, 0))    # Mon 00:00:00 -> W53
    incidents.report(area=a, category=k2, occurred_at=utc(2027, 1, 3, 22, 59, 59))    # Sun 23:59:59 -> W53
    incidents.report(area=b, category=k2, occurred_at=utc(2027, 1, 3, 23, 0, 0))      # Mon 00:00:00 -> 2027-W01
    incidents.report(area=b, category=k1, occurred_at=utc(2026, 12, 30, 12), status="rejected")
    incidents.report(area=b, category=k1, occurred_at=utc(2026, 12, 30, 12), status="new")
    incidents.report(area=b, category=k1, occurred_at=utc(2026, 12, 30, 12), status="duplicate")
    incidents.report(area=b, category=k1, occurred_at=utc(2026, 12, 31, 12))          # -> W53
    # Previous four weeks W49..W52: 2 + 0 + 1 + (1 above) = 4 -> mean 1.0
    incidents.report(area=a, category=k1, occurred_at=utc(2026, 11, 30, 9))          # W49
    incidents.report(area=b, category=k2, occurred_at=utc(2026, 12, 6, 9))           # W49
    incidents.report(area=a, category=k2, occurred_at=utc(2026, 12, 16, 9))          # W51
    # Same week last year: 2025 has no week 53, so W52 of 2025 (2025-12-22..28) is compared.
    incidents.report(area=a, category=k1, occurred_at=utc(2025, 12, 24, 12))
    incidents.report(area=a, category=k1, occurred_at=utc(2025, 12, 28, 22, 59, 59))  # Sun 23:59:59 -> 2025-W52
    incidents.report(area=a, category=k2, occurred_at=utc(2025, 12, 28, 23, 0, 0))    # Mon -> 2026-W01

    with app.app_context():
        f = week_figures(2026, 53)
        next_week = week_figures(2027, 1)
    json.dumps(f)  # the API serves it as it is

    assert (f["start"], f["end"]) == ("2026-12-28", "2027-01-03")
    assert f["comparison"]["last_year"] == [2025, 52]
    assert f["comparison"]["previous_weeks"] == [[2026, 49], [2026, 50], [2026, 51], [2026, 52]]
    assert f["total"]["count"] == 3
    assert f["total"]["previous_mean"] == 1.0
    # A reference of 1 is too little for a percentage: the difference only, marked as thin.
    assert f["total"]["vs_previous"] == {"reference": 1.0, "diff": 2.0, "percent": None, "thin": True}
    assert f["total"]["last_year"] == 2
    assert f["total"]["vs_last_year"] == {"reference": 2, "diff": 1, "percent": None, "thin": True}
    assert by_id(f["by_category"], k1.id)["count"] == 2
    assert by_id(f["by_category"], k2.id)["count"] == 1
    assert by_id(f["by_area"], a.id)["count"] == 2
    assert by_id(f["by_area"], b.id)["count"] == 1
    assert by_id(f["by_area"], a.id)["last_year"] == 2
    cats = [c["id"] for c in f["categories"]]
    table = {row["area_id"]: dict(zip(cats, row["counts"])) for row in f["table"]}
    assert table == {a.id: {k1.id: 1, k2.id: 1}, b.id: {k1.id: 1, k2.id: 0}}
    assert dict(zip(cats, f["column_totals"])) == {k1.id: 2, k2.id: 1}
    assert f["trend"]["weeks"][-1] == [2026, 53] and len(f["trend"]["weeks"]) == 12
    assert f["trend"]["total"][-5:] == [2, 0, 1, 1, 3]
    assert f["trend"]["by_category"][cats.index(k1.id)][-5:] == [1, 0, 0, 1, 2]
    assert next_week["total"]["count"] == 1
    assert next_week["comparison"]["last_year"] == [2026, 1]
    assert next_week["total"]["last_year"] == 1


def test_same_week_last_year_maps_week_53_to_52_only_when_needed():
    assert same_week_last_year(2026, 53) == (2025, 52)
    assert same_week_last_year(2021, 52) == (2020, 52)
    assert same_week_last_year(2027, 10) == (2026, 10)


def test_invalid_weeks_raise():
    with pytest.raises(ValueError):
        week_figures(2026, 54)
    with pytest.raises(ValueError):
        week_figures(2025, 53)
    with pytest.raises(ValueError):
        week_figures(2026, 0)


def test_spring_dst_change_sunday_midnight(app, incidents, taxonomy):
    a, _, k1, _ = taxonomy
    # Sun 2026-03-29 02:00 CET -> 03:00 CEST. Monday 2026-03-30 00:00 CEST = 2026-03-29 22:00 UTC.
    incidents.report(area=a, category=k1, occurred_at=utc(2026, 3, 29, 0, 30))       # Sun 01:30 CET -> W13
    incidents.report(area=a, category=k1, occurred_at=utc(2026, 3, 29, 1, 30))       # Sun 03:30 CEST -> W13
    incidents.report(area=a, category=k1, occurred_at=utc(2026, 3, 29, 21, 59, 59))  # Sun 23:59:59 CEST -> W13
    incidents.report(area=a, category=k1, occurred_at=utc(2026, 3, 29, 22, 0, 0))    # Mon 00:00 CEST -> W14
    incidents.report(area=a, category=k1, occurred_at=utc(2026, 3, 29, 22, 30))      # Mon 00:30 (UTC+1 would say Sun)
    incidents.report(area=a, category=k1, occurred_at=utc(2026, 3, 22, 22, 59, 59))  # Sun 23:59:59 CET -> W12
    incidents.report(area=a, category=k1, occurred_at=utc(2026, 3, 22, 23, 0, 0))    # Mon 00:00 CET -> W13
    with app.app_context():
        w13, w14 = week_figures(2026, 13), week_figures(2026, 14)
    assert w13["total"]["count"] == 4
    assert w14["total"]["count"] == 2
    assert w14["trend"]["total"][-3:] == [1, 4, 2]


def test_autumn_dst_change_sunday_midnight(app, incidents, taxonomy):
    a, _, k1, _ = taxonomy
    # Sun 2026-10-25 03:00 CEST -> 02:00 CET. Monday 2026-10-26 00:00 CET = 2026-10-25 23:00 UTC.
    incidents.report(area=a, category=k1, occurred_at=utc(2026, 10, 25, 0, 30))      # Sun 02:30 CEST -> W43
    incidents.report(area=a, category=k1, occurred_at=utc(2026, 10, 25, 1, 30))      # Sun 02:30 CET -> W43
    incidents.report(area=a, category=k1, occurred_at=utc(2026, 10, 25, 22, 30))     # Sun 23:30 CET (UTC+2 would say Mon)
    incidents.report(area=a, category=k1, occurred_at=utc(2026, 10, 25, 22, 59, 59))  # Sun 23:59:59 CET -> W43
    incidents.report(area=a, category=k1, occurred_at=utc(2026, 10, 25, 23, 0, 0))   # Mon 00:00 CET -> W44
    incidents.report(area=a, category=k1, occurred_at=utc(2026, 10, 18, 21, 59, 59))  # Sun 23:59:59 CEST -> W42
    incidents.report(area=a, category=k1, occurred_at=utc(2026, 10, 18, 22, 0, 0))   # Mon 00:00 CEST -> W43
    with app.app_context():
        w43, w44 = week_figures(2026, 43), week_figures(2026, 44)
    assert w43["total"]["count"] == 5
    assert w44["total"]["count"] == 1
    assert w44["total"]["previous_mean"] == 1.5  # W40..W43: 0 + 0 + 1 + 5


def test_week_with_no_reports_has_zero_everywhere(app, incidents, taxonomy):
    a, b, k1, k2 = taxonomy
    with app.app_context():
        f = week_figures(2026, 20)
    assert f["total"]["count"] == 0 and f["total"]["vs_previous"]["percent"] is None
    assert f["hotspots"] == []
    assert [row["counts"] for row in f["table"]] == [[0, 0], [0, 0]]


def test_period_counts_inclusive_local_dates_against_previous_period(app, incidents, taxonomy):
    a, b, k1, k2 = taxonomy
    # Q3 2026: 1 Jul .. 30 Sep (92 days); previous period: 31 Mar .. 30 Jun.
    incidents.report(area=a, category=k1, occurred_at=utc(2026, 6, 30, 21, 59, 59))  # 30 Jun 23:59:59 -> before
    incidents.report(area=a, category=k1, occurred_at=utc(2026, 6, 30, 22, 0, 0))    # 1 Jul 00:00 -> in
    incidents.report(area=b, category=k2, occurred_at=utc(2026, 9, 30, 21, 59, 59))  # 30 Sep 23:59:59 -> in
    incidents.report(area=b, category=k2, occurred_at=utc(2026, 9, 30, 22, 0, 0))    # 1 Oct -> out
    incidents.report(area=b, category=k1, occurred_at=utc(2026, 8, 1, 12), status="rejected")
    incidents.report(area=b, category=k1, occurred_at=utc(2026, 3, 30, 21, 59, 59))  # 30 Mar -> out of previous
    incidents.report(area=b, category=k1, occurred_at=utc(2026, 3, 30, 22, 0, 0))    # 31 Mar -> previous
    with app.app_context():
        p = period_figures(date(2026, 7, 1), date(2026, 9, 30))
    assert p["days"] == 92
    assert p["status"] == "complete" and p["through"] == "2026-09-30"
    assert p["previous"] == {"start": "2026-03-31", "end": "2026-06-30", "whole": "2026-06-30",
                             "basis": "same_length_before"}
    assert p["total"]["count"] == 2 and p["total"]["previous"] == 2
    assert by_id(p["by_area"], a.id)["count"] == 1 and by_id(p["by_area"], a.id)["previous"] == 1
    assert by_id(p["by_category"], k2.id)["count"] == 1 and by_id(p["by_category"], k2.id)["previous"] == 0
    assert by_id(p["by_category"], k2.id)["vs_previous"]["percent"] is None
    assert p["trend"]["weeks"][0] == [2026, 27] and p["trend"]["weeks"][-1] == [2026, 40]
    assert sum(p["trend"]["total"]) == 2


def test_period_rejects_end_before_start_and_too_long(app):
    with app.app_context():
        with pytest.raises(ValueError):
            period_figures(date(2026, 2, 1), date(2026, 1, 1))
        with pytest.raises(ValueError):
            period_figures(date(2025, 1, 1), date(2026, 1, 2))



def test_a_percentage_needs_a_reference_of_at_least_five():
    from app.overview.figures.aggregate import MIN_PERCENT_REFERENCE, _change

    assert MIN_PERCENT_REFERENCE == 5
    assert _change(12, 0.5) == {"reference": 0.5, "diff": 11.5, "percent": None, "thin": True}
    assert _change(15, 5) == {"reference": 5, "diff": 10, "percent": 200.0, "thin": False}
    assert _change(3, None)["diff"] is None


def test_a_running_week_compares_nothing_and_says_through_which_day(app, db, incidents):
    from datetime import date, datetime, timezone

    from app.overview.figures import week_figures
    from app.overview.figures.aggregate import running_week_through
    from app.overview.figures.weeks import current_week

    assert running_week_through(2026, 49, today=date(2026, 12, 2)) == date(2026, 12, 2)  # a Wednesday
    assert running_week_through(2026, 48, today=date(2026, 12, 2)) is None
    area, category = incidents.area(), incidents.category()
    incidents.report(area=area, category=category, occurred_at=datetime.now(timezone.utc))
    with app.app_context():
        f = week_figures(*current_week())
    assert f["running_through"] is not None
    assert f["total"]["vs_previous"]["diff"] is None and f["total"]["vs_last_year"]["diff"] is None
    assert all(c["vs_previous"]["diff"] is None for c in f["by_category"])
