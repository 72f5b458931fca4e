"""The dependency rules of app.processes.schedule: no cycles, nothing done before what it waits for, and
moved dates propagated through chains (the projected dates the process page and timeline show)."""

from __future__ import annotations

from datetime import date

import pytest

from app.processes import schedule
from app.processes.models import WorkStatus

@pytest.fixture()
def ctx(app):
    with app.test_request_context():
        yield


@pytest.fixture()
def chain(processes, factory, ctx):
    """A ← B ← C (C waits for B, B waits for A), all open."""
    process = processes.process(agencies=[factory.agency(kind="police")])
    a = processes.milestone(process, title="A", due=date(2026, 3, 1))
    b = processes.milestone(process, title="B", due=date(2026, 3, 10), depends_on=[a])
    c = processes.milestone(process, title="C", due=date(2026, 3, 20), depends_on=[b])
    return process, a, b, c


def test_self_dependency_is_refused(chain):
    process, a, _b, _c = chain
    with pytest.raises(schedule.DependencyError, match="sig självt"):
        schedule.check_dependencies(a, list(chain[1:]), [a])


def test_direct_two_step_cycle_is_refused(chain):
    _process, a, b, c = chain
    # A waiting for B closes A → B → A.
    with pytest.raises(schedule.DependencyError, match="cirkel"):
        schedule.check_dependencies(a, [a, b, c], [b])


def test_longer_cycle_through_a_chain_is_refused(chain):
    _process, a, b, c = chain
    with pytest.raises(schedule.DependencyError, match="cirkel"):
        schedule.check_dependencies(a, [a, b, c], [c])
    assert schedule.creates_cycle(1, [2], {2: {3}, 3: {4}, 4: {1}})
    assert not schedule.creates_cycle(1, [2], {2: {3}, 3: {4}, 4: set()})


def test_acyclic_additions_are_accepted(chain):
    _process, a, b, c = chain
    schedule.check_dependencies(c, [a, b, c], [a, b])  # a shortcut, no cycle
    schedule.check_dependencies(None, [a, b, c], [c])  # a new milestone has no dependents


def test_dependency_on_another_process_is_refused(chain, processes, factory):
    _process, a, b, c = chain
    other = processes.process(agencies=[factory.agency(kind="school")])
    foreign = processes.milestone(other, title="X")
    with pytest.raises(schedule.DependencyError, match="samma process"):
        schedule.check_dependencies(c, [a, b, c], [foreign])


def test_cannot_complete_before_open_dependencies(chain):
    _process, a, b, _c = chain
    with pytest.raises(schedule.DependencyError, match="A"):
        schedule.check_can_complete(b, WorkStatus.DONE)
    schedule.check_can_complete(b, WorkStatus.IN_PROGRESS)  # only "done" waits
    schedule.check_can_complete(a, WorkStatus.DONE)  # nothing to wait for


@pytest.mark.parametrize("closed", [WorkStatus.DONE, WorkStatus.CANCELLED])
def test_done_or_cancelled_dependencies_unblock(chain, closed):
    _process, a, b, _c = chain
    a.status = closed
    assert schedule.blocking(b) == []
    schedule.check_can_complete(b, WorkStatus.DONE)


def test_projected_dates_propagate_through_a_chain(chain):
    _process, a, b, c = chain
    a.due_date = date(2026, 4, 1)  # later than both dependents
    projected = schedule.projected_dates([a, b, c])
    assert projected == {a.id: date(2026, 4, 1), b.id: date(2026, 4, 1), c.id: date(2026, 4, 1)}


def test_projection_stops_at_a_done_dependency(chain):
    _process, a, b, c = chain
    a.due_date = date(2026, 4, 1)
    a.status = WorkStatus.DONE
    projected = schedule.projected_dates([a, b, c])
    assert projected[b.id] == date(2026, 3, 10) and projected[c.id] == date(2026, 3, 20)


def test_pushes_lists_transitive_dependents_only(chain, processes):
    process, a, b, c = chain
    unrelated = processes.milestone(process, title="U", due=date(2026, 3, 5))
    moved = schedule.pushes(a, date(2026, 3, 15), [a, b, c, unrelated])
    by_title = {p.milestone.title: (p.before, p.after) for p in moved}
    assert by_title == {"B": (date(2026, 3, 10), date(2026, 3, 15))}  # C's own date (20th) still rules
    moved = schedule.pushes(a, date(2026, 3, 25), [a, b, c, unrelated])
    assert {p.milestone.title: p.after for p in moved} == {"B": date(2026, 3, 25), "C": date(2026, 3, 25)}
    assert schedule.pushes(a, date(2026, 2, 1), [a, b, c, unrelated]) == []
