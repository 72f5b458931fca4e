"""The weekly EST meeting (one per ISO week): its agenda, opening it, and the focus areas it decides.

It opens with that week's overview: its hotspots, the analysts' analysis and
the open action items of the previous EST meeting are frozen into the meeting's
agenda (plain JSON, like the WeekNote the analysis comes from). The focus areas
decided in the meeting are saved to the week's WeekNote, so the weekly overview
shows them and publishing freezes them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError

from app.admin.models import Agency
from app.db import db
from app.overview.figures import week_figures, week_start
from app.overview.publishing import get_note, save_note
from app.processes import meeting_common as base
from app.processes.access import visible_action_items_query
from app.processes.dates import is_late, local_today
from app.processes.meeting_common import MAX_TEXT
from app.processes.models import (CLOSED_STATUSES, ActionItem, Meeting, MeetingKind, Process, ProcessStatus,
                                  ProcessType)
from app.security import audit

#: Agenda JSON layout version.
AGENDA_SCHEMA = 1


def est_meeting(iso_year: int, iso_week: int) -> Meeting | None:
    """The EST meeting of an ISO week, if it was opened."""
    return db.session.scalars(select(Meeting).where(
        Meeting.kind == MeetingKind.EST, Meeting.iso_year == iso_year, Meeting.iso_week == iso_week)).one_or_none()


def previous_est_meeting(iso_year: int, iso_week: int) -> Meeting | None:
    """The latest EST meeting of a week before this one."""
    return db.session.scalars(
        select(Meeting).where(Meeting.kind == MeetingKind.EST, or_(
            Meeting.iso_year < iso_year, and_(Meeting.iso_year == iso_year, Meeting.iso_week < iso_week)))
        .order_by(Meeting.iso_year.desc(), Meeting.iso_week.desc()).limit(1)).one_or_none()


def proposed_agenda(iso_year: int, iso_week: int) -> dict:
    """The agenda the week's EST meeting opens with: hotspots, the analysts' analysis, open action items.

    Plain JSON-able data with names copied in, so later renames never change a stored agenda.
    """
    figures = week_figures(iso_year, iso_week)
    note = get_note(iso_year, iso_week)
    previous = previous_est_meeting(iso_year, iso_week)
    open_items = [{"id": item.id, "title": item.title, "agency": item.agency.name if item.agency else "",
                   "due": item.due_date.isoformat(), "status": item.status.value}
                  for item in carried_items(previous)]
    return {
        "schema": AGENDA_SCHEMA,
        "iso_year": iso_year,
        "iso_week": iso_week,
        "hotspots": [{"area": h["area_name"], "category_sv": h["name_sv"], "category_en": h["name_en"],
                      "count": h["count"], "expected": h["baseline"], "p_value": h["p_value"]}
                     for h in figures["hotspots"]],
        "total": figures["total"]["count"],
        "analysis": note.analysis if note else None,
        "previous": ({"iso_year": previous.iso_year, "iso_week": previous.iso_week, "meeting_id": str(previous.id)}
                     if previous is not None else None),
        "open_items": open_items,
    }


def carried_items(previous: Meeting | None) -> list[ActionItem]:
    """The action items the next EST meeting carries: the previous meeting's open items, and those it carried
    itself that are still open (so an item stays on the agenda until it is closed). Items closed since are not."""
    if previous is None:
        return []
    ids = {item.id for item in previous.action_items}
    ids |= {entry["id"] for entry in (agenda_of(previous) or {}).get("open_items", ())
            if isinstance(entry, dict) and isinstance(entry.get("id"), int)}
    if not ids:
        return []
    return list(db.session.scalars(select(ActionItem).where(ActionItem.id.in_(ids),
                                                            ActionItem.status.not_in(CLOSED_STATUSES))
                                   .order_by(ActionItem.due_date, ActionItem.id)))


@dataclass
class CarriedRow:
    """An action item carried onto an EST agenda, as one viewer may see it (live status, derived lateness)."""

    item: ActionItem
    late: bool


def carried_rows(agenda: dict | None, user, today: date | None = None) -> list[CarriedRow]:
    """The agenda's carried action items that ``user`` may see, as they stand now.

    The agenda stores their ids; each row is loaded through visible_action_items_query, so a viewer who may not
    see an item does not see it listed, nor its title.
    """
    ids = [entry["id"] for entry in (agenda or {}).get("open_items", ())
           if isinstance(entry, dict) and isinstance(entry.get("id"), int)]
    if not ids:
        return []
    today = today or local_today()
    items = db.session.scalars(visible_action_items_query(user).where(ActionItem.id.in_(ids))
                               .order_by(ActionItem.due_date, ActionItem.id)).unique()
    return [CarriedRow(item, is_late(item.status, item.due_date, today)) for item in items]


def agenda_of(meeting: Meeting) -> dict | None:
    """The stored agenda of a meeting (None if it has none or it cannot be read)."""
    if not meeting.agenda:
        return None
    try:
        agenda = json.loads(meeting.agenda)
    except ValueError:
        return None
    return agenda if isinstance(agenda, dict) else None


def est_default_attendees() -> list[Agency]:
    """The active agencies taking part in the active EST area processes."""
    processes = db.session.scalars(select(Process).where(
        Process.type == ProcessType.EST_AREA, Process.status == ProcessStatus.ACTIVE))
    ids = set()
    for process in processes:
        ids |= process.participant_agency_ids
    if not ids:
        return []
    return list(db.session.scalars(select(Agency).where(Agency.id.in_(ids), Agency.active.is_(True))
                                   .order_by(Agency.name)))


def est_meeting_day(iso_year: int, iso_week: int, today: date | None = None) -> date:
    """Today if today lies in that week, else the week's Monday."""
    monday = week_start(iso_year, iso_week)
    today = today or local_today()
    return today if tuple(today.isocalendar()[:2]) == (iso_year, iso_week) else monday


def open_est_meeting(iso_year: int, iso_week: int, actor) -> tuple[Meeting, bool]:
    """Open the week's EST meeting with its agenda frozen from the week's overview; (meeting, created).

    Opening an already open week (a double click, or two leaders at once) returns the existing meeting.
    """
    existing = est_meeting(iso_year, iso_week)
    if existing is not None:
        return existing, False
    agenda = proposed_agenda(iso_year, iso_week)
    attendees = est_default_attendees()
    savepoint = db.session.begin_nested()
    try:
        meeting = Meeting(kind=MeetingKind.EST, process=None, iso_year=iso_year, iso_week=iso_week,
                          title=f"EST-möte vecka {iso_week}",  # stored data: Swedish, like the rest of the records
                          held_on=est_meeting_day(iso_year, iso_week), created_by_id=getattr(actor, "id", None))
        meeting.attendees = attendees
        meeting.agenda = json.dumps(agenda, ensure_ascii=False, sort_keys=True)
        db.session.add(meeting)
        db.session.flush()
    except IntegrityError:
        savepoint.rollback()
        existing = est_meeting(iso_year, iso_week)
        if existing is None:
            raise
        return existing, False
    savepoint.commit()
    audit.record("meeting.create", obj=meeting, actor=actor,
                 detail={"kind": "est", "week": f"{iso_year}-W{iso_week:02d}", "attendees": len(attendees),
                         "hotspots": len(agenda["hotspots"])})
    return meeting, True


def week_focus(meeting: Meeting) -> str | None:
    """The focus areas written for an EST meeting's week (None for a process meeting)."""
    if meeting.kind != MeetingKind.EST or meeting.iso_year is None:
        return None
    note = get_note(meeting.iso_year, meeting.iso_week)
    return note.focus if note else None


def set_focus(meeting: Meeting, focus: str | None, actor) -> bool:
    """Save the focus areas decided in an EST meeting to its week's note, keeping the analysts' analysis."""
    focus = base.text_value(focus, MAX_TEXT)
    note = get_note(meeting.iso_year, meeting.iso_week)
    if (note.focus if note else None) == focus:
        return False
    save_note(meeting.iso_year, meeting.iso_week, analysis=note.analysis if note else None, focus=focus, by=actor)
    return True
