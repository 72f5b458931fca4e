"""The link from the weekly overview to processes and interventions.

``week_activity`` gives, as plain JSON, what is going on in a week: the
interventions active in it, the processes running in it and the milestones
due in it. The overview stores it in the week's snapshot, so a published
version keeps what the meeting saw. Who may see which entries is decided when
the page is shown (``visible_activity``): interventions need
``intervention:read``; processes and milestones only show for the processes
the reader may open (``process:view``), like everywhere else.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import or_, select

from app.admin.models import Agency
from app.extensions import db
from app.overview.models import Area
from app.overview.figures import week_start
from app.processes.access import visible_processes_query
from app.processes.dates import is_late, local_today
from app.processes.interventions import active_interventions
from app.processes.models import Milestone, Process, ProcessStatus, WorkStatus, process_area, process_category
from app.security.authz import can
from app.security.permissions import Permission

#: Process statuses that count as "running" when the process period overlaps the week.
RUNNING_STATUSES = (ProcessStatus.PLANNED, ProcessStatus.ACTIVE, ProcessStatus.PAUSED)


def interventions_between(start: date, end: date) -> list[dict]:
    """The interventions whose period overlaps [start, end], as JSON entries."""
    return [{
        "id": i.id, "title": i.title, "kind": i.kind.value, "agency": i.agency.name if i.agency else "",
        "start": i.start_date.isoformat(), "end": i.end_date.isoformat() if i.end_date else None,
        "process_id": i.process_id,
        "area_ids": [a.id for a in i.areas],
        "areas": [{"id": a.id, "name": a.name} for a in i.areas],
        "categories": [{"id": c.id, "name_sv": c.name_sv, "name_en": c.name_en} for c in i.categories],
    } for i in active_interventions(start, end)]


def _processes(start: date, end: date) -> list[dict]:
    rows = db.session.execute(
        select(Process.id, Process.name, Process.type, Process.status, Process.start_date, Process.end_date)
        .where(Process.status.in_(RUNNING_STATUSES), Process.start_date <= end,
               or_(Process.end_date.is_(None), Process.end_date >= start))
        .order_by(Process.name, Process.id)).all()
    ids = [r.id for r in rows]
    areas: dict[int, list[dict]] = defaultdict(list)
    categories: dict[int, list[int]] = defaultdict(list)
    if ids:
        for process_id, area_id, area_name in db.session.execute(
                select(process_area.c.process_id, Area.id, Area.name).join(Area, Area.id == process_area.c.area_id)
                .where(process_area.c.process_id.in_(ids)).order_by(Area.name)):
            areas[process_id].append({"id": area_id, "name": area_name})
        for process_id, category_id in db.session.execute(
                select(process_category.c.process_id, process_category.c.category_id)
                .where(process_category.c.process_id.in_(ids))):
            categories[process_id].append(category_id)
    return [{"id": r.id, "name": r.name, "type": r.type.value, "status": r.status.value,
             "start": r.start_date.isoformat(), "end": r.end_date.isoformat() if r.end_date else None,
             "area_ids": [a["id"] for a in areas[r.id]], "areas": areas[r.id],
             "category_ids": sorted(categories[r.id])} for r in rows]


def _milestones(start: date, end: date, as_of: date) -> list[dict]:
    rows = db.session.execute(
        select(Milestone.id, Milestone.process_id, Milestone.title, Milestone.due_date, Milestone.status,
               Agency.name.label("agency"), Process.name.label("process_name"))
        .join(Process, Process.id == Milestone.process_id).join(Agency, Agency.id == Milestone.agency_id)
        .where(Milestone.due_date.between(start, end), Milestone.status != WorkStatus.CANCELLED)
        .order_by(Milestone.due_date, Process.name, Milestone.id)).all()
    return [{"id": r.id, "process_id": r.process_id, "process_name": r.process_name, "title": r.title,
             "agency": r.agency, "due": r.due_date.isoformat(), "status": r.status.value,
             "late": is_late(r.status, r.due_date, as_of)} for r in rows]


def week_activity(iso_year: int, iso_week: int, *, today: date | None = None) -> dict:
    """What is going on in the ISO week, as JSON: interventions, running processes and milestones due.

    - ``interventions``: active on at least one day of the week (period overlaps Monday–Sunday);
    - ``processes``: status planned, active or paused and a period overlapping the week;
    - ``milestones``: due Monday–Sunday, not cancelled; ``late`` as of the week's Sunday, or today
      if the week is not over yet (the due day itself is never late).
    Raises ValueError for a week the year does not have.
    """
    monday = week_start(iso_year, iso_week)
    sunday = monday + timedelta(days=6)
    as_of = min(sunday, today or local_today())
    return {
        "as_of": as_of.isoformat(),
        "interventions": interventions_between(monday, sunday),
        "processes": _processes(monday, sunday),
        "milestones": _milestones(monday, sunday, as_of),
    }


EMPTY = {"as_of": None, "interventions": [], "processes": [], "milestones": []}


def visible_activity(activity: dict | None, user: Any) -> dict:
    """The entries of a (possibly old, possibly frozen) activity dict this user may see now.

    Snapshots published before the activity existed have none: they show nothing.
    Processes and milestones are kept only for processes the user may open today
    (a deleted process is no longer shown).
    """
    activity = activity or EMPTY
    interventions = list(activity.get("interventions") or []) if can(Permission.INTERVENTION_READ) else []
    processes = list(activity.get("processes") or [])
    milestones = list(activity.get("milestones") or [])
    wanted = {p["id"] for p in processes} | {m["process_id"] for m in milestones}
    allowed: set[int] = set()
    if wanted:
        allowed = set(db.session.scalars(
            visible_processes_query(user).with_only_columns(Process.id).where(Process.id.in_(wanted))))
    return {
        "as_of": activity.get("as_of"),
        "interventions": interventions,
        "processes": [p for p in processes if p["id"] in allowed],
        "milestones": [m for m in milestones if m["process_id"] in allowed],
    }


def by_area(activity: dict, areas: list[dict]) -> list[dict]:
    """Rows for the page: per area (in the figures' order) its interventions and processes; areas
    that appear only in the activity come after, and entries without an area last (area None)."""
    names = {a["id"]: a["name"] for a in areas}
    for entry in activity["interventions"] + activity["processes"]:
        for area in entry.get("areas") or []:
            names.setdefault(area["id"], area["name"])
    rows: dict[int | None, dict] = {}

    def row(area_id):
        if area_id not in rows:
            rows[area_id] = {"area_id": area_id, "name": names.get(area_id), "interventions": [], "processes": []}
        return rows[area_id]

    for entry in activity["interventions"]:
        for area_id in entry.get("area_ids") or [None]:
            row(area_id)["interventions"].append(entry)
    for entry in activity["processes"]:
        for area_id in entry.get("area_ids") or [None]:
            row(area_id)["processes"].append(entry)
    order = {a["id"]: i for i, a in enumerate(areas)}
    return sorted(rows.values(), key=lambda r: (r["area_id"] is None, order.get(r["area_id"], len(order)),
                                                r["name"] or ""))
