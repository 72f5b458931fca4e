"""Milestone dependencies: no cycles, nothing done before what it waits for, and moved dates propagated.

Pure functions over loaded milestones; the service and the views call them,
and the timeline draws the projected dates they compute.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Iterable

from app.processes.models import CLOSED_STATUSES, Milestone, WorkStatus


class DependencyError(ValueError):
    """A dependency that the rules refuse; the message is shown to the user."""


def _edges(milestones: Iterable[Milestone]) -> dict[int, set[int]]:
    return {m.id: {d.id for d in m.depends_on} for m in milestones}


def creates_cycle(milestone_id: int | None, depends_on_ids: Iterable[int], edges: dict[int, set[int]]) -> bool:
    """Would ``milestone_id`` depending on ``depends_on_ids`` close a cycle in ``edges`` (id → ids it depends on)?"""
    targets = set(depends_on_ids)
    if milestone_id is None:
        return False  # a new milestone has no dependents yet
    if milestone_id in targets:
        return True
    seen: set[int] = set()
    stack = list(targets)
    while stack:
        current = stack.pop()
        if current == milestone_id:
            return True
        if current in seen:
            continue
        seen.add(current)
        stack.extend(edges.get(current, ()))
    return False


def check_dependencies(milestone: Milestone | None, process_milestones: list[Milestone],
                       depends_on: list[Milestone]) -> None:
    """Refuse a dependency on another process's milestone, on itself, or one that closes a cycle."""
    from flask_babel import gettext as _

    process_ids = {m.id for m in process_milestones}
    for dep in depends_on:
        if dep.id not in process_ids:
            raise DependencyError(_("Ett delmål kan bara bero på delmål i samma process."))
    mid = milestone.id if milestone is not None else None
    if mid is not None and mid in {d.id for d in depends_on}:
        raise DependencyError(_("Ett delmål kan inte bero på sig självt."))
    edges = _edges(process_milestones)
    if creates_cycle(mid, [d.id for d in depends_on], edges):
        raise DependencyError(_("Beroendet skulle skapa en cirkel: delmålen skulle vänta på varandra."))


def blocking(milestone: Milestone) -> list[Milestone]:
    """The dependencies that are neither done nor cancelled: until they are, this one cannot be done."""
    return [dep for dep in milestone.depends_on if dep.status not in CLOSED_STATUSES]


def check_can_complete(milestone: Milestone, new_status: WorkStatus) -> None:
    from flask_babel import gettext as _

    if new_status == WorkStatus.DONE:
        waiting = blocking(milestone)
        if waiting:
            raise DependencyError(_("Delmålet kan inte markeras klart förrän det som det beror på är klart: %(titles)s",
                                    titles=", ".join(dep.title for dep in waiting)))


def projected_dates(milestones: Iterable[Milestone], overrides: dict[int, date] | None = None) -> dict[int, date]:
    """The date each milestone can be done by at the earliest: its own due date, pushed by open dependencies.

    A dependency that is done or cancelled pushes nothing. ``overrides``
    replaces due dates (to preview a move). Assumes no cycles.
    """
    items = {m.id: m for m in milestones}
    overrides = overrides or {}
    result: dict[int, date] = {}

    def project(mid: int, trail: frozenset[int] = frozenset()) -> date:
        if mid in result:
            return result[mid]
        m = items[mid]
        best = overrides.get(mid, m.due_date)
        for dep in m.depends_on:
            if dep.id in items and dep.status not in CLOSED_STATUSES and dep.id not in trail:
                best = max(best, project(dep.id, trail | {mid}))
        result[mid] = best
        return best

    for mid in items:
        project(mid)
    return result


@dataclass(frozen=True)
class Push:
    """A milestone whose projected date a move changes."""

    milestone: Milestone
    before: date
    after: date


def pushes(milestone: Milestone, new_due: date, process_milestones: list[Milestone]) -> list[Push]:
    """What moving ``milestone`` to ``new_due`` pushes: the (transitive) dependents whose projected date changes."""
    before = projected_dates(process_milestones)
    after = projected_dates(process_milestones, {milestone.id: new_due})
    return [Push(m, before[m.id], after[m.id]) for m in process_milestones
            if m.id != milestone.id and before[m.id] != after[m.id]]
