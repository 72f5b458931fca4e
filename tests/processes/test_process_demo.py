"""The demo has living processes (with late milestones), meetings, and an intervention whose effect can be evaluated."""

from __future__ import annotations

import functools
import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.demo import load_demo
from app.overview import demo as incident_demo
from app.overview.models import Area, Category
from app.processes import demo
from app.processes.dates import is_due_soon, is_late
from app.processes.models import (
    ActionItem,
    Intervention,
    Meeting,
    MeetingKind,
    Milestone,
    Process,
    ProcessType,
    WorkStatus,
)

#: Full volume in the intervention's area and its comparison areas; a trickle elsewhere; 32 weeks instead of 104.
KEEP = {demo.DEMO_INTERVENTION_AREA, *demo.DEMO_COMPARISON_AREAS}
#: A fixed "today" (a Wednesday): the demo's random draws are seeded by it, so every run sees the same data.
TODAY = date(2026, 11, 25)


@pytest.fixture()
def loaded(app, db, monkeypatch):
    monkeypatch.setattr(incident_demo, "WEEKS", 32)
    monkeypatch.setattr(incident_demo, "DEMO_AREAS", [
        spec if spec[0] in KEEP else spec[:3] + (2,) + spec[4:] for spec in incident_demo.DEMO_AREAS])
    monkeypatch.setattr(incident_demo, "load_demo_incidents",
                        functools.partial(incident_demo.load_demo_incidents, today=TODAY))
    monkeypatch.setattr(demo, "local_today", lambda: TODAY)
    with app.app_context():
        load_demo()
        yield TODAY


def _count(db, model):
    return db.scalar(select(func.count()).select_from(model))


def test_demo_processes_have_late_done_and_soon_milestones_with_dependencies(loaded, db):
    today = loaded
    processes = db.scalars(select(Process).order_by(Process.id)).all()
    assert {p.type for p in processes} >= {ProcessType.EST_AREA, ProcessType.SSPF, ProcessType.EXIT_DEVELOPMENT}
    assert all(p.owner is not None and p.owner.email == demo.LEADER for p in processes)
    assert all(p.owner_agency.name == demo.UNIT for p in processes)
    for process in processes:
        assert 5 <= len(process.milestones) <= 8
        assert any(m.depends_on for m in process.milestones)
        assert any(m.status == WorkStatus.DONE for m in process.milestones)
        # a done milestone never waits for an open one
        for m in process.milestones:
            if m.status == WorkStatus.DONE:
                assert all(d.status == WorkStatus.DONE for d in m.depends_on), m.title
    milestones = [m for p in processes for m in p.milestones]
    assert sum(is_late(m.status, m.due_date, today) for m in milestones) >= 3
    assert sum(is_due_soon(m.status, m.due_date, today) for m in milestones) >= 3
    station = next(p for p in processes if p.type == ProcessType.EST_AREA)
    assert {a.name for a in station.agencies} >= {demo.POLICE, demo.HOUSING, demo.SOCIAL}
    assert station.areas and station.categories


def test_demo_meetings_have_minutes_decisions_and_a_late_action_item(loaded, db):
    today = loaded
    meetings = db.scalars(select(Meeting)).all()
    process_meetings = [m for m in meetings if m.kind == MeetingKind.PROCESS]
    assert len(process_meetings) >= 2
    assert all(m.minutes and m.decisions and m.attendees for m in process_meetings)
    items = db.scalars(select(ActionItem)).all()
    assert any(is_late(i.status, i.due_date, today) for i in items)
    assert any(i.status == WorkStatus.DONE for i in items)

    (est,) = [m for m in meetings if m.kind == MeetingKind.EST]
    last_week = (today - timedelta(weeks=1)).isocalendar()
    assert (est.iso_year, est.iso_week) == (last_week.year, last_week.week)
    agenda = json.loads(est.agenda)
    assert agenda["hotspots"] and agenda["analysis"]
    assert est.action_items and est.minutes

    # That week, the one the overview opens on, is the published one (partners see only published weeks),
    # with the analysis the meeting discussed; the running week stays a live draft.
    from app.overview import publishing

    published = publishing.latest(last_week.year, last_week.week)
    assert published is not None and published.number == 1
    assert publishing.snapshot_of(published)["note"]["analysis"] == agenda["analysis"]
    running = today.isocalendar()
    assert publishing.latest(running.year, running.week) is None


def test_demo_interventions_and_the_shared_constants(loaded, db):
    today = loaded
    interventions = db.scalars(select(Intervention)).all()
    assert 2 <= len(interventions) <= 4
    (patrols,) = [i for i in interventions if i.title == demo.DEMO_INTERVENTION_TITLE]
    assert [a.code for a in patrols.areas] == [demo.DEMO_INTERVENTION_AREA]
    assert {c.code for c in patrols.categories} == set(demo.DEMO_INTERVENTION_CATEGORIES)
    assert patrols.start_date == demo.demo_intervention_start(today)
    assert patrols.active_on(today) and patrols.process is not None
    assert 16 * 7 <= (today - patrols.start_date).days <= 20 * 7 + 6


def test_demo_intervention_effect_is_recovered_with_an_interval_that_excludes_zero(loaded, db):
    from app.processes.evaluation import evaluate

    today = loaded
    areas = {a.code: a.id for a in db.scalars(select(Area))}
    categories = [db.scalar(select(Category.id).where(Category.code == c)) for c in demo.DEMO_INTERVENTION_CATEGORIES]
    result = evaluate(area_ids=[areas[demo.DEMO_INTERVENTION_AREA]], category_ids=categories,
                      start=demo.demo_intervention_start(today), weeks_before=12, weeks_after=12,
                      comparison_area_ids=[areas[c] for c in demo.DEMO_COMPARISON_AREAS], today=today)
    assert result.can_say, result.reason_codes
    assert result.before_weeks == 12 and result.after_weeks == 12
    assert result.absolute.high < 0, result.absolute
    assert result.ratio.high < 1
    # About a 45 % drop, on top of a seasonal decline shared with the comparison areas.
    assert 0.35 <= result.ratio.estimate <= 0.75, result.ratio


def test_comparison_areas_show_no_such_effect(loaded, db):
    """The same evaluation with a comparison area as "treated" finds nothing: the effect is the intervention's."""
    from app.processes.evaluation import evaluate

    today = loaded
    areas = {a.code: a.id for a in db.scalars(select(Area))}
    categories = [db.scalar(select(Category.id).where(Category.code == c)) for c in demo.DEMO_INTERVENTION_CATEGORIES]
    placebo, *others = demo.DEMO_COMPARISON_AREAS
    result = evaluate(area_ids=[areas[placebo]], category_ids=categories, start=demo.demo_intervention_start(today),
                      weeks_before=12, weeks_after=12, comparison_area_ids=[areas[c] for c in others], today=today)
    assert result.ratio is not None and result.ratio.covers_one, result.ratio
    assert result.absolute.covers_zero, result.absolute


def test_loading_twice_adds_no_processes(loaded, db):
    before = [_count(db, m) for m in (Process, Milestone, Meeting, ActionItem, Intervention)]
    assert demo.load_demo_processes() == 0
    load_demo(incidents=False)
    assert [_count(db, m) for m in (Process, Milestone, Meeting, ActionItem, Intervention)] == before
