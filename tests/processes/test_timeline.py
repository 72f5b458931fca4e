"""The server-rendered timeline: well-formed SVG, today marked, late highlighted, dependencies and pushes drawn."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest

from app.processes.schedule import projected_dates
from app.processes.timeline import month_ticks, process_timeline, timeline_svg

NS = {"s": "http://www.w3.org/2000/svg"}
TODAY = date(2026, 3, 10)


@pytest.fixture()
def ctx(app):
    with app.test_request_context():
        yield


def _svg(markup) -> ET.Element:
    return ET.fromstring(str(markup))


def _rows(root):
    return {g.get("data-id"): g for g in root.iter("{http://www.w3.org/2000/svg}g")
            if "tl-row" in (g.get("class") or "")}


def test_svg_is_well_formed_with_today_late_and_dependency(ctx, processes, factory):
    police = factory.agency(kind="police")
    process = processes.process(agencies=[police], start=TODAY - timedelta(days=60), end=TODAY + timedelta(days=60))
    first = processes.milestone(process, agency=police, title="Kartläggning", due=TODAY - timedelta(days=4))
    second = processes.milestone(process, agency=police, title="Belysning lagad", due=TODAY - timedelta(days=10),
                                 depends_on=[first])
    done = processes.milestone(process, agency=police, title="Startmöte", due=TODAY - timedelta(days=30),
                               status="done")
    milestones = [done, second, first]
    root = _svg(timeline_svg(process, milestones, TODAY, projected_dates(milestones)))

    assert root.get("role") == "img" and "3 delmål" in root.get("aria-label")
    assert root.find("s:title", NS) is not None
    today = [g for g in root.iter("{http://www.w3.org/2000/svg}g") if "tl-today" in (g.get("class") or "")]
    assert len(today) == 1 and today[0].find("s:line", NS) is not None
    assert "Idag" in "".join(today[0].itertext())

    rows = _rows(root)
    late_row = rows[str(first.id)]
    assert "tl-late" in late_row.get("class")
    assert "Försenad 4 d" in "".join(late_row.itertext())  # text, not colour alone
    assert late_row.find("s:polygon", NS) is not None  # the late marker is a diamond
    assert "tl-done" in rows[str(done.id)].get("class") and "Klar" in "".join(rows[str(done.id)].itertext())

    deps = [p for p in root.iter("{http://www.w3.org/2000/svg}path") if p.get("class") == "tl-dep"]
    assert [(p.get("data-from"), p.get("data-to")) for p in deps] == [(str(first.id), str(second.id))]
    # The arrow runs from the dependency's row to the dependent's row.
    d = deps[0].get("d")
    y_start = float(d.split()[0].split(",")[1])
    y_end = float(d.split()[-1].split(",")[1])
    assert y_start > y_end  # "first" is drawn below "second" (rows in the given order)


def test_pushed_milestone_gets_a_bar_to_its_projected_date(ctx, processes, factory):
    police = factory.agency(kind="police")
    process = processes.process(agencies=[police], start=TODAY)
    first = processes.milestone(process, agency=police, due=TODAY + timedelta(days=40))
    second = processes.milestone(process, agency=police, due=TODAY + timedelta(days=20), depends_on=[first])
    free = processes.milestone(process, agency=police, due=TODAY + timedelta(days=25))
    projected = projected_dates([first, second, free])
    assert projected[second.id] == first.due_date
    rows = _rows(_svg(timeline_svg(process, [first, second, free], TODAY, projected)))
    pushed = [ln for ln in rows[str(second.id)].iter("{http://www.w3.org/2000/svg}line")
              if ln.get("class") == "tl-push"]
    assert len(pushed) == 1 and float(pushed[0].get("x2")) > float(pushed[0].get("x1"))
    assert pushed[0].get("stroke-dasharray")
    assert "Förskjutet till" in "".join(rows[str(second.id)].itertext())
    assert not any(ln.get("class") == "tl-push" for ln in rows[str(free.id)].iter("{http://www.w3.org/2000/svg}line"))

    # Once the dependency is done it pushes nothing.
    first.status = first.status.__class__("done")
    projected = projected_dates([first, second, free])
    rows = _rows(_svg(timeline_svg(process, [first, second, free], TODAY, projected)))
    assert not any(ln.get("class") == "tl-push" for ln in rows[str(second.id)].iter("{http://www.w3.org/2000/svg}line"))


def test_titles_are_escaped(ctx, processes, factory):
    police = factory.agency(kind="police")
    process = processes.process(name='P <b>"&', agencies=[police])
    evil = processes.milestone(process, agency=police, title='<script>alert("x")</script> & co')
    markup = str(timeline_svg(process, [evil], TODAY, {}))
    assert "<script>" not in markup
    assert "&lt;script&gt;" in markup
    root = _svg(markup)
    assert root.find(".//s:script", NS) is None
    assert '<script>alert("x")</script> & co' in "".join(root.itertext())  # the full title in the tooltip


def test_empty_process_renders_a_message(ctx, processes, factory):
    process = processes.process()
    markup = str(timeline_svg(process, [], TODAY, {}))
    assert "<svg" not in markup and "inga delmål" in markup


def test_single_date_and_today_outside_the_period(ctx, processes, factory):
    police = factory.agency(kind="police")
    process = processes.process(agencies=[police], start=date(2020, 5, 1), end=date(2020, 5, 1))
    only = processes.milestone(process, agency=police, due=date(2020, 5, 1), status="done")
    root = _svg(timeline_svg(process, [only], TODAY, {}))
    today = [g for g in root.iter("{http://www.w3.org/2000/svg}g") if "tl-today" in (g.get("class") or "")]
    assert "tl-today-outside" in today[0].get("class") and "→" in "".join(today[0].itertext())
    assert float(root.get("width")) > 0


def test_long_period_caps_ticks_and_many_milestones_render_fast(ctx, processes, factory):
    assert len(month_ticks(date(2000, 1, 1), date(2040, 12, 31))) <= 25
    assert len(month_ticks(date(2026, 1, 15), date(2026, 4, 2))) == 3  # Feb, Mar, Apr
    police = factory.agency(kind="police")
    process = processes.process(agencies=[police], start=date(2010, 1, 1), end=date(2035, 1, 1))
    milestones, previous = [], []
    for i in range(220):
        m = processes.milestone(process, agency=police, title=f"Delmål {i}",
                                due=date(2010, 1, 1) + timedelta(days=40 * i), depends_on=previous)
        milestones.append(m)
        previous = [m]
    root = _svg(process_timeline(process, TODAY, milestones))
    assert len(_rows(root)) == 220
    ticks = [t for t in root.find("s:g[@class='tl-axis']", NS).iter("{http://www.w3.org/2000/svg}text")]
    assert len(ticks) <= 25


def test_month_labels_follow_the_locale(app, processes, factory):
    from flask_babel import force_locale

    police = factory.agency(kind="police")
    process = processes.process(agencies=[police], start=date(2026, 4, 20), end=date(2026, 6, 20))
    m = processes.milestone(process, agency=police, due=date(2026, 5, 20))
    with app.test_request_context():
        swedish = str(timeline_svg(process, [m], TODAY, {}))
        with force_locale("en"):
            english = str(timeline_svg(process, [m], TODAY, {}))
    assert "maj" in swedish and "May" in english
    assert "Idag" in swedish


def test_extreme_dates_do_not_break_the_axis(ctx):
    from types import SimpleNamespace

    from app.processes.models import WorkStatus

    process = SimpleNamespace(id=1, name="Ytterlighet", start_date=date(1, 1, 1), end_date=date(9999, 12, 31))
    milestones = [SimpleNamespace(id=i, title=f"M{i}", due_date=day, status=WorkStatus.PLANNED, depends_on=[])
                  for i, day in enumerate([date(1, 1, 1), date(9999, 12, 31), TODAY])]
    root = _svg(timeline_svg(process, milestones, TODAY, {}))
    assert len(_rows(root)) == 3
    assert len(month_ticks(date(9999, 11, 2), date(9999, 12, 31))) == 1
