"""Comparable spans (issue 17): a running period against the same span of the one before, a calendar year
against the calendar year before, a future period compares nothing, partial weeks are marked."""

from __future__ import annotations

import subprocess
from datetime import date, datetime, timedelta, timezone

from app.overview.figures import period_figures
from app.overview.figures.aggregate import previous_period, same_span_end


def noon(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, 11, tzinfo=timezone.utc)  # 12/13 local: the same date in Stockholm


def test_the_earlier_span_of_a_year_a_quarter_and_a_leap_day():
    assert previous_period(date(2026, 1, 1), date(2026, 12, 31)) == (date(2025, 1, 1), date(2025, 12, 31))
    # 2024 has 366 days: still compared with the calendar year 2023, not with 366 days before it.
    assert previous_period(date(2024, 1, 1), date(2024, 12, 31)) == (date(2023, 1, 1), date(2023, 12, 31))
    assert previous_period(date(2026, 10, 1), date(2026, 12, 31)) == (date(2026, 7, 1), date(2026, 9, 30))
    assert same_span_end(date(2026, 1, 1), date(2026, 12, 31), date(2026, 3, 10)) == date(2025, 3, 10)
    assert same_span_end(date(2028, 1, 1), date(2028, 12, 31), date(2028, 2, 29)) == date(2027, 2, 28)
    # 45 days into the quarter: the first 46 days of the quarter before.
    assert same_span_end(date(2026, 10, 1), date(2026, 12, 31), date(2026, 11, 15)) == date(2026, 8, 15)


def test_year_to_date_is_compared_with_the_same_dates_last_year(app, incidents):
    area, cat = incidents.area(name="Område A"), incidents.category(name_sv="K1")
    today = date(2026, 3, 10)
    for d in (date(2026, 1, 1), date(2026, 3, 10)):          # counted: 2
        incidents.report(area=area, category=cat, occurred_at=noon(d))
    incidents.report(area=area, category=cat, occurred_at=noon(date(2026, 3, 11)))  # after "today": not counted
    for d in [date(2025, 1, 1) + timedelta(days=7 * k) for k in range(10)]:         # 1 Jan .. 5 Mar 2025: 10
        incidents.report(area=area, category=cat, occurred_at=noon(d))
    incidents.report(area=area, category=cat, occurred_at=noon(date(2025, 3, 10)))  # the same date: counted, 11
    for d in (date(2025, 3, 11), date(2025, 7, 1), date(2025, 12, 31)):             # the rest of 2025: not
        incidents.report(area=area, category=cat, occurred_at=noon(d))
    with app.app_context():
        p = period_figures(date(2026, 1, 1), date(2026, 12, 31), today=today)
        whole = period_figures(date(2025, 1, 1), date(2025, 12, 31), today=today)
    assert p["status"] == "running" and p["through"] == "2026-03-10"
    assert p["previous"] == {"start": "2025-01-01", "end": "2025-03-10", "whole": "2025-12-31",
                             "basis": "year_before"}
    assert p["total"]["count"] == 2 and p["total"]["previous"] == 11
    assert round(p["total"]["vs_previous"]["percent"]) == -82  # (2 - 11) / 11, not (2 - 14) / 14
    # The trend stops at today's week: no empty future weeks that would read as a fall.
    assert p["trend"]["weeks"][-1] == [2026, 11] and sum(p["trend"]["total"]) == 2
    # The year before, now over, is compared whole with 2024 (empty here: no percentage from nothing).
    assert whole["status"] == "complete" and whole["total"]["count"] == 14
    assert whole["total"]["previous"] == 0 and whole["total"]["vs_previous"]["percent"] is None


def test_a_period_that_has_not_begun_compares_nothing(app, incidents):
    area, cat = incidents.area(name="Område A"), incidents.category(name_sv="K1")
    incidents.report(area=area, category=cat, occurred_at=noon(date(2026, 11, 2)))
    with app.app_context():
        p = period_figures(date(2027, 1, 1), date(2027, 3, 31), today=date(2026, 12, 2))
    assert p["status"] == "future" and p["through"] is None
    assert p["total"] == {"count": 0, "previous": None,
                          "vs_previous": {"reference": None, "diff": None, "percent": None, "thin": False}}


def test_a_thin_reference_gives_no_percentage(app, incidents):
    area, cat = incidents.area(name="Område A"), incidents.category(name_sv="K1")
    incidents.report(area=area, category=cat, occurred_at=noon(date(2026, 5, 5)))   # Q2: 1
    for k in range(21):                                                               # Q3: 21
        incidents.report(area=area, category=cat, occurred_at=noon(date(2026, 7, 1) + timedelta(days=k)))
    with app.app_context():
        p = period_figures(date(2026, 7, 1), date(2026, 9, 30), today=date(2026, 12, 2))
    assert p["total"]["vs_previous"] == {"reference": 1, "diff": 20, "percent": None, "thin": True}


def test_partial_first_and_last_weeks_are_counted_in_days_and_drawn_as_partial(app, incidents):
    from app.overview.charts import figure_charts

    area, cat = incidents.area(name="Område A"), incidents.category(name_sv="K1")
    incidents.report(area=area, category=cat, occurred_at=noon(date(2026, 6, 29)))  # Mon of W27, before Q3
    incidents.report(area=area, category=cat, occurred_at=noon(date(2026, 7, 1)))   # Wed of W27, in
    with app.app_context(), app.test_request_context():
        p = period_figures(date(2026, 7, 1), date(2026, 9, 30), today=date(2026, 12, 2))
        charts = figure_charts(p, None, "sv", highlight_last=False)
    # 1 Jul 2026 is a Wednesday (W27: Wed..Sun = 5 days), 30 Sep a Wednesday (W40: Mon..Wed = 3 days).
    assert p["trend"]["weeks"][0] == [2026, 27] and p["trend"]["days"][0] == 5
    assert p["trend"]["weeks"][-1] == [2026, 40] and p["trend"]["days"][-1] == 3
    assert set(p["trend"]["days"][1:-1]) == {7} and p["trend"]["total"][0] == 1
    svg = str(charts["total"])
    assert svg.count('class="partial"') == 2
    assert "v. 27 2026 (delvis)" in svg and "v. 40 (delvis)" in svg and "v. 28 (delvis)" not in svg


def test_the_period_page_labels_a_running_period(client, login_as, incidents):
    from app.overview.figures.weeks import local_today

    login_as("analyst")
    year = local_today().year
    page = client.get(f"/overview/period?start={year}-01-01&end={year}-12-31")
    assert page.status_code == 200
    assert "Pågående period, t.o.m. " + local_today().isoformat() in page.text
    assert "mot samma tid av föregående period" in page.text
    assert ">Samma tid föregående period<" in page.text
    assert f"{year - 1}-01-01 – {(local_today().replace(year=year - 1) if local_today().strftime('%m-%d') != '02-29' else date(year - 1, 2, 28)).isoformat()}" in page.text
    over = client.get(f"/overview/period?start={year - 1}-01-01&end={year - 1}-12-31")
    assert "Pågående period" not in over.text and "samma datum året före" in over.text
    assert "Samma tid föregående period" not in over.text and ">Föregående period<" in over.text


def test_a_period_pdf_says_it_is_running(client, login_as, incidents):
    from app.overview.figures.weeks import local_today

    login_as("analyst")
    year = local_today().year
    pdf = client.get(f"/overview/period.pdf?start={year}-01-01&end={year}-12-31&lang=sv")
    assert pdf.status_code == 200
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf.data, capture_output=True, check=True).stdout.decode()
    assert "Pågående period" in text


def test_a_one_day_period_says_dag_and_a_longer_one_dagar(client, login_as):
    login_as("analyst")
    assert "2026-03-10 – 2026-03-10 (1 dag)" in client.get("/overview/period?start=2026-03-10&end=2026-03-10").text
    assert "2026-03-10 – 2026-03-11 (2 dagar)" in client.get("/overview/period?start=2026-03-10&end=2026-03-11").text
