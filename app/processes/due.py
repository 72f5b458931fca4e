"""What is late or due soon across processes and meetings, grouped by owning agency.

Only the late/due subset is loaded: per kind ONE query filters in SQL on
visibility (the same access queries as every other read path), an open status
and ``due_date <= today + horizon``, joins the names it shows, and counts per
agency with window functions, so an agency with many items shows the first
``per_agency`` of them (earliest due first) next to its full counts.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask import url_for
from sqlalchemy import and_, case, func, select
from werkzeug.routing import BuildError

from app.admin.models import Agency
from app.extensions import db
from app.processes.access import visible_action_items_query, visible_milestones_query, visible_process_ids
from app.processes.dates import DUE_HORIZON_DAYS
from app.processes.models import CLOSED_STATUSES, ActionItem, Meeting, Milestone, Process, WorkStatus

MILESTONE = "milestone"
ACTION_ITEM = "action_item"
KINDS = (MILESTONE, ACTION_ITEM)
#: Rows shown per agency and kind; the counts are always complete.
PER_AGENCY = 100


@dataclass(slots=True)
class DueEntry:
    kind: str  # "milestone" | "action_item"
    id: int
    title: str
    #: The process name (milestones) or the meeting title (action items).
    context: str
    #: For an action item of a process meeting: the process name.
    process_name: str | None
    agency_id: int
    due_date: date
    status: WorkStatus
    late: bool
    days_late: int
    days_left: int
    #: (endpoint, url_for keyword arguments) of the page the entry links to.
    endpoint: str
    params: dict

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"


@dataclass
class AgencyGroup:
    agency_id: int
    name: str
    entries: list[DueEntry] = field(default_factory=list)
    count: int = 0
    late_count: int = 0

    @property
    def shown(self) -> int:
        return len(self.entries)

    @property
    def more(self) -> bool:
        return self.count > len(self.entries)


@dataclass
class DueOverview:
    today: date
    horizon_days: int
    groups: list[AgencyGroup]

    @property
    def total(self) -> int:
        return sum(g.count for g in self.groups)

    @property
    def late_total(self) -> int:
        return sum(g.late_count for g in self.groups)

    @property
    def entries(self) -> list[DueEntry]:
        return [e for g in self.groups for e in g.entries]

    def __bool__(self) -> bool:
        return bool(self.groups)


_SENTINEL_INT = 2147480001
_SENTINEL_UUID = uuid.UUID(int=0xA2A2A2A2A2A2A2A2)


class EntryLinks:
    """Links of many entries: url_for once per endpoint, then the id written in (a page may show a thousand rows)."""

    def __init__(self):
        self._patterns: dict[str, tuple[str, str] | None] = {}

    def _pattern(self, endpoint: str, key: str, sentinel: Any) -> tuple[str, str] | None:
        if endpoint not in self._patterns:
            try:
                url = url_for(endpoint, **{key: sentinel})
            except BuildError:  # that page is not part of this build
                self._patterns[endpoint] = None
            else:
                text = str(sentinel)
                self._patterns[endpoint] = (url, text) if url.count(text) == 1 else None
        return self._patterns[endpoint]

    def __call__(self, entry: DueEntry) -> str | None:
        key = "process_id" if entry.kind == MILESTONE else "meeting_id"
        sentinel = _SENTINEL_INT if entry.kind == MILESTONE else _SENTINEL_UUID
        pattern = self._pattern(entry.endpoint, key, sentinel)
        if pattern is None:
            return entry_url(entry)
        url, text = pattern
        return url.replace(text, str(entry.params[key])) + "#" + entry.params["_anchor"]


def entry_url(entry: DueEntry) -> str | None:
    """The page an entry links to (None if that page is not part of this build)."""
    try:
        return url_for(entry.endpoint, **entry.params)
    except BuildError:
        return None


def _windowed(query, item, today: date, per_agency: int):
    """Add row number and per-agency counts (computed before the row cap) and keep the first ``per_agency``."""
    late = case((item.due_date < today, 1), else_=0)
    query = query.add_columns(
        func.row_number().over(partition_by=item.agency_id, order_by=(item.due_date, item.id)).label("rn"),
        func.count().over(partition_by=item.agency_id).label("n"),
        func.sum(late).over(partition_by=item.agency_id).label("n_late"),
    ).subquery()
    return select(query).where(query.c.rn <= per_agency)


def _filters(item, today: date, horizon_days: int, agency_id: int | None, only_late: bool):
    clauses = [item.status.notin_(list(CLOSED_STATUSES))]
    clauses.append(item.due_date < today if only_late else item.due_date <= today + timedelta(days=horizon_days))
    if agency_id is not None:
        clauses.append(item.agency_id == agency_id)
    return and_(*clauses)


def due_overview(user: Any, today: date, horizon_days: int = DUE_HORIZON_DAYS, *, agency_id: int | None = None,
                 kind: str | None = None, only_late: bool = False, per_agency: int = PER_AGENCY) -> DueOverview:
    """Open milestones and action items the user may see that are late or due within ``horizon_days``.

    ``today`` is the Stockholm day (``local_today()``); late means due before it.
    """
    rows: list[tuple[DueEntry, str, int, int]] = []
    if kind in (None, MILESTONE):
        query = (visible_milestones_query(user)
                 .with_only_columns(Milestone.id, Milestone.title, Milestone.due_date, Milestone.status,
                                    Milestone.agency_id, Milestone.process_id, Process.name.label("context"),
                                    Agency.name.label("agency_name"))
                 .join(Process, Process.id == Milestone.process_id)
                 .join(Agency, Agency.id == Milestone.agency_id)
                 .where(_filters(Milestone, today, horizon_days, agency_id, only_late)))
        for r in db.session.execute(_windowed(query, Milestone, today, per_agency)):
            entry = DueEntry(kind=MILESTONE, id=r.id, title=r.title, context=r.context, process_name=r.context,
                             agency_id=r.agency_id, due_date=r.due_date, status=WorkStatus(r.status),
                             late=r.due_date < today, days_late=max((today - r.due_date).days, 0),
                             days_left=max((r.due_date - today).days, 0), endpoint="processes.detail",
                             params={"process_id": r.process_id, "_anchor": f"milestone-{r.id}"})
            rows.append((entry, r.agency_name, r.n, r.n_late))
    if kind in (None, ACTION_ITEM):
        query = (visible_action_items_query(user)
                 .with_only_columns(ActionItem.id, ActionItem.title, ActionItem.due_date, ActionItem.status,
                                    ActionItem.agency_id, Meeting.id.label("meeting_id"),
                                    Meeting.title.label("context"),
                                    # The owning agency of an item may take no part in the meeting's process:
                                    # then it sees the item, not the process's name.
                                    case((Process.id.in_(visible_process_ids(user)), Process.name),
                                         else_=None).label("process_name"),
                                    Agency.name.label("agency_name"))
                 .outerjoin(Process, Process.id == Meeting.process_id)
                 .join(Agency, Agency.id == ActionItem.agency_id)
                 .where(_filters(ActionItem, today, horizon_days, agency_id, only_late)))
        for r in db.session.execute(_windowed(query, ActionItem, today, per_agency)):
            meeting_id = r.meeting_id if isinstance(r.meeting_id, uuid.UUID) else uuid.UUID(str(r.meeting_id))
            entry = DueEntry(kind=ACTION_ITEM, id=r.id, title=r.title, context=r.context,
                             process_name=r.process_name, agency_id=r.agency_id, due_date=r.due_date,
                             status=WorkStatus(r.status), late=r.due_date < today,
                             days_late=max((today - r.due_date).days, 0),
                             days_left=max((r.due_date - today).days, 0), endpoint="meetings.detail",
                             params={"meeting_id": meeting_id, "_anchor": f"action-{r.id}"})
            rows.append((entry, r.agency_name, r.n, r.n_late))

    groups: dict[int, AgencyGroup] = {}
    counted: set[tuple[int, str]] = set()
    for entry, agency_name, n, n_late in rows:
        group = groups.get(entry.agency_id)
        if group is None:
            group = groups[entry.agency_id] = AgencyGroup(agency_id=entry.agency_id, name=agency_name)
        group.entries.append(entry)
        if (entry.agency_id, entry.kind) not in counted:  # the window counts repeat on every row of the agency
            counted.add((entry.agency_id, entry.kind))
            group.count += int(n)
            group.late_count += int(n_late or 0)
    for group in groups.values():
        group.entries.sort(key=lambda e: (e.due_date, e.kind, e.id))
    ordered = sorted(groups.values(), key=lambda g: (g.name.casefold(), g.agency_id))
    return DueOverview(today=today, horizon_days=horizon_days, groups=ordered)
