"""Demo incidents: areas and categories, two years of patterned reports, hotspots, pending reviews, idempotence."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.overview import demo
from app.overview.models import Area, Category, IncidentReport, ReportStatus
from app.overview.taxonomy import parse_polygon

TODAY = date(2026, 11, 25)  # a Wednesday


@pytest.fixture()
def loaded(app, db, monkeypatch):
    """The demo at a reduced volume (the patterns and the two-year span are unchanged)."""
    monkeypatch.setattr(demo, "DEMO_AREAS", [spec[:3] + (max(2, spec[3] // 8),) + spec[4:] for spec in demo.DEMO_AREAS])
    with app.app_context():
        summary = demo.load_demo_incidents(today=TODAY)
    return summary


def _count(db, *where):
    return db.scalar(select(func.count()).select_from(IncidentReport).where(*where))


def test_demo_creates_ten_areas_with_valid_non_overlapping_polygons(loaded, db):
    areas = db.scalars(select(Area).where(Area.code.in_([spec[0] for spec in demo.DEMO_AREAS]))).all()
    assert len(areas) == 10
    boxes = []
    for area in areas:
        points = parse_polygon(area.polygon)
        lons, lats = [p[0] for p in points], [p[1] for p in points]
        assert 17.9 <= min(lons) and max(lons) <= 18.0 and 59.40 <= min(lats) and max(lats) <= 59.46
        boxes.append((min(lons), min(lats), max(lons), max(lats)))
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            overlap = min(a[2], b[2]) - max(a[0], b[0]) > 1e-9 and min(a[3], b[3]) - max(a[1], b[1]) > 1e-9
            assert not overlap, (a, b)
    assert db.scalar(select(func.count()).select_from(Category)) >= 16


def test_demo_spans_two_years_up_to_today_and_never_the_future(loaded, db):
    first, last = db.execute(select(func.min(IncidentReport.local_date), func.max(IncidentReport.local_date))).one()
    monday = TODAY - timedelta(days=TODAY.weekday())
    assert first == monday - timedelta(weeks=103)
    assert last <= TODAY
    weeks = db.scalar(select(func.count(func.distinct(IncidentReport.iso_year * 100 + IncidentReport.iso_week))))
    assert weeks == 104


def test_demo_has_summer_and_weekend_peaks(loaded, db):
    def in_months(months):
        return _count(db, func.extract("month", IncidentReport.local_date).in_(months))

    assert in_months([6, 7, 8]) > 1.3 * in_months([12, 1, 2])
    reports = db.scalars(select(IncidentReport.local_date)).all()
    weekend = sum(1 for d in reports if d.weekday() in (4, 5))
    midweek = sum(1 for d in reports if d.weekday() in (0, 1))
    assert weekend > 1.3 * midweek


def test_demo_current_week_has_hotspots_and_reports_waiting_for_review(loaded, db):
    iso = TODAY.isocalendar()
    current = (IncidentReport.iso_year == iso.year, IncidentReport.iso_week == iso.week)
    assert _count(db, *current, IncidentReport.status == ReportStatus.NEW) == demo.NEW_IN_CURRENT_WEEK
    assert _count(db, IncidentReport.status == ReportStatus.NEW) == demo.NEW_IN_CURRENT_WEEK
    fires = db.scalar(select(Category.id).where(Category.code == "brand"))
    bjorkbacken = db.scalar(select(Area.id).where(Area.code == "bjorkbacken"))
    assert _count(db, *current, IncidentReport.area_id == bjorkbacken, IncidentReport.category_id == fires) >= 8
    assert _count(db, IncidentReport.status == ReportStatus.REJECTED) > 0
    duplicate = db.scalars(select(IncidentReport).where(IncidentReport.status == ReportStatus.DUPLICATE)).first()
    assert duplicate is not None and db.get(IncidentReport, duplicate.duplicate_of_id) is not None


def test_demo_last_complete_week_shows_its_planted_hotspots_under_the_rule(app, loaded):
    """The overview opens the last complete week: the demo's planted bursts there pass Benjamini–Hochberg."""
    from app.overview.figures import week_figures

    last = (TODAY - timedelta(weeks=1)).isocalendar()
    with app.app_context():
        figures = week_figures(last.year, last.week)
    flagged = {(h["area_name"], h["category_code"]) for h in figures["hotspots"]}
    assert {("Kvarnbacken", "klotter"), ("Tallåsen", "skadegorelse")} <= flagged, flagged
    assert figures["hotspot_rule"]["history_weeks"] == 12


def test_demo_descriptions_are_encrypted_and_readable(app, loaded, db):
    report = db.scalars(select(IncidentReport).where(IncidentReport.description_ct.is_not(None))).first()
    with app.app_context():
        text = report.description
    assert any(text in options for options in demo.DESCRIPTIONS.values())


def test_demo_is_idempotent(app, loaded, db):
    before = _count(db)
    assert loaded["reports"] == before > 1000
    with app.app_context():
        again = demo.load_demo_incidents(today=TODAY)
    assert again["reports"] == 0 and _count(db) == before
    assert db.scalar(select(func.count()).select_from(Area)) == 10
    codes = db.scalars(select(Category.code)).all()
    assert len(codes) == len(set(codes))


def test_demo_reporter_owns_recent_reports_when_the_demo_users_exist(app, db, factory, monkeypatch):
    monkeypatch.setattr(demo, "DEMO_AREAS", [spec[:3] + (2,) + spec[4:] for spec in demo.DEMO_AREAS])
    youth = factory.agency(name="Fritidsgården Ljuset (fiktiv)", kind="youth")
    reporter = factory.user(roles=("reporter",), agency=youth, email=demo.DEMO_REPORTER)
    with app.app_context():
        demo.load_demo_incidents(today=TODAY)
    own = db.scalars(select(IncidentReport).where(IncidentReport.reporter_id == reporter.id)).all()
    assert own and all((TODAY - r.local_date).days < demo.REPORTER_WEEKS * 7 for r in own)
    assert all(r.organisation_id == youth.id for r in own)
