"""Meetings of a process, the weekly EST meeting and the action items decided in them.

Minutes and decisions are free text that may name a person by mistake: they
are encrypted per meeting (Meeting.minutes/decisions), never logged or audited,
and every page that shows them writes one ``meeting.read`` event first.

The weekly EST meeting (one per ISO week) opens with that week's overview: its
hotspots, the analysts' analysis and the open action items of the previous EST
meeting are frozen into the meeting's agenda (plain JSON, like the WeekNote the
analysis comes from). The focus areas decided in the meeting are saved to the
week's WeekNote, so the weekly overview shows them and publishing freezes them.

Concurrent edits are caught by the ``version`` column (optimistic locking): the
second writer gets a MeetingConflict and nothing of theirs is saved.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.admin.models import Agency
from app.db import db, flush_in_savepoint, utcnow
from app.overview.figures import week_figures, week_start
from app.overview.publishing import get_note, save_note
from app.processes.dates import is_late, local_today
from app.processes.models import (CLOSED_STATUSES, ActionItem, Meeting, MeetingKind, Process, ProcessStatus,
                                  ProcessType, WorkStatus)
from app.security import audit
from app.security.crypto.service import destroy_data_key
from app.security.models import User

MAX_TITLE = 200
MAX_ITEM_TITLE = 300
MAX_TEXT = 20_000
MAX_NOTE = 5_000
#: Agenda JSON layout version.
AGENDA_SCHEMA = 1
#: Sort keys of the meeting list (a leading "-" reverses).
MEETING_SORTS = {"date": (Meeting.held_on, Meeting.title), "title": (Meeting.title, Meeting.held_on)}

CONFLICT_MESSAGE = _l("Mötet har ändrats av någon annan sedan du öppnade det. Ladda om sidan och gör om ändringen.")
ITEM_CONFLICT_MESSAGE = _l("Åtgärdspunkten har ändrats av någon annan sedan du öppnade den. "
                           "Ladda om sidan och gör om ändringen.")


class MeetingError(ValueError):
    """A change the user must correct; the message is user-facing."""


class MeetingConflict(MeetingError):
    """Someone else saved the meeting or action item since this user loaded it."""


# ------------------------------------------------------------------ small helpers


def _text(value: str | None, max_len: int, missing=None) -> str | None:
    """Stripped text (None if empty); MeetingError when too long, or empty while required."""
    value = (value or "").strip()
    if missing is not None and not value:
        raise MeetingError(missing)
    if len(value) > max_len:
        raise MeetingError(_l("Högst %(max)d tecken.", max=max_len))
    return value or None


def _check_version(obj, expected: Any, message) -> None:
    try:
        expected = int(expected)
    except (TypeError, ValueError):
        raise MeetingConflict(message) from None
    if expected != obj.version:
        raise MeetingConflict(message)


def _flush_or_conflict(message, apply: Callable[[], None]) -> None:
    """Make the changes in a savepoint; a concurrent writer's newer version becomes a MeetingConflict."""
    flush_in_savepoint(apply, lambda: MeetingConflict(message))


def active_agencies(include: set[int] | None = None) -> list[Agency]:
    """Active agencies by name, plus those in ``include`` (e.g. today's attendees, even if inactive now)."""
    clause = Agency.active.is_(True)
    if include:
        clause = or_(clause, Agency.id.in_(include))
    return list(db.session.scalars(select(Agency).where(clause).order_by(Agency.name, Agency.id)))


def _agencies(ids) -> list[Agency]:
    """The agencies with these ids; MeetingError if one is unknown or inactive."""
    ids = {int(i) for i in ids or ()}
    found = list(db.session.scalars(select(Agency).where(Agency.id.in_(ids), Agency.active.is_(True)))) if ids else []
    if len(found) != len(ids):
        raise MeetingError(_l("Okänd eller inaktiv myndighet."))
    return found


def _agency(agency_id) -> Agency:
    agency = db.session.get(Agency, agency_id) if isinstance(agency_id, int) and 0 < agency_id < 2**31 else None
    if agency is None or not agency.active:
        raise MeetingError(_l("Okänd eller inaktiv myndighet."))
    return agency


def responsible_choices(include: int | None = None) -> list[tuple[int, str, int]]:
    """(user id, "Name (Agency)", agency id) of active users of active agencies (plus ``include``)."""
    clause = and_(User.active.is_(True), Agency.active.is_(True))
    if include:
        clause = or_(clause, User.id == include)
    rows = db.session.execute(select(User.id, User.full_name, Agency.name, Agency.id)
                              .join(Agency, User.agency_id == Agency.id).where(clause)
                              .order_by(Agency.name, User.full_name, User.id))
    return [(user_id, f"{name} ({agency})", agency_id) for user_id, name, agency, agency_id in rows]


def _responsible(user_id, agency: Agency, current: int | None = None) -> User | None:
    if user_id in (None, ""):
        return None
    user = db.session.get(User, user_id) if isinstance(user_id, int) and 0 < user_id < 2**31 else None
    if user is None or (not user.active and user.id != current):
        raise MeetingError(_l("Okänd eller inaktiv användare."))
    if user.agency_id != agency.id:
        raise MeetingError(_l("Den ansvariga personen tillhör inte den valda myndigheten."))
    return user


def decision_lines(text: str | None) -> list[str]:
    """The decisions, one per non-empty line."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


# ------------------------------------------------------------------ listing


def search_meetings(query: Select, *, kind: MeetingKind | None = None, process_id: int | None = None,
                    q: str = "", sort: str = "-date") -> Select:
    """The visible meetings (``query``) filtered by kind, process and title, sorted."""
    if kind is not None:
        query = query.where(Meeting.kind == kind)
    if process_id is not None:
        query = query.where(Meeting.process_id == process_id)
    q = (q or "").strip()
    if q:
        query = query.where(Meeting.title.icontains(q, autoescape=True))
    key = sort.lstrip("-")
    columns = MEETING_SORTS.get(key, MEETING_SORTS["date"])
    descending = sort.startswith("-") if key in MEETING_SORTS else True
    order = [c.desc() if descending else c.asc() for c in columns]
    # The list shows each meeting's process and number of action items: load them with the page.
    return query.options(selectinload(Meeting.process), selectinload(Meeting.action_items)).order_by(*order, Meeting.id)


# ------------------------------------------------------------------ process meetings


def create_meeting(process: Process, actor, *, title: str, held_on: date, attendee_ids, minutes: str | None,
                   decisions: str | None) -> Meeting:
    """Record a meeting of a process (audited meeting.create, without any of its text)."""
    title = _text(title, MAX_TITLE, _l("Ange en rubrik."))
    if not isinstance(held_on, date):
        raise MeetingError(_l("Ange ett datum som ÅÅÅÅ-MM-DD."))
    attendees = _agencies(attendee_ids)
    minutes, decisions = _text(minutes, MAX_TEXT), _text(decisions, MAX_TEXT)
    meeting = Meeting(kind=MeetingKind.PROCESS, process=process, title=title, held_on=held_on,
                      created_by_id=getattr(actor, "id", None))
    meeting.attendees = attendees
    meeting.minutes = minutes
    meeting.decisions = decisions
    db.session.add(meeting)
    db.session.flush()
    audit.record("meeting.create", obj=meeting, actor=actor,
                 detail={"kind": meeting.kind.value, "process": process.id, "attendees": len(attendees)})
    return meeting


def update_meeting(meeting: Meeting, actor, *, expected_version, title: str, held_on: date, attendee_ids,
                   minutes: str | None, decisions: str | None, focus: str | None = None) -> Meeting:
    """Change a meeting unless someone else has since ``expected_version``; an EST meeting also sets its focus."""
    _check_version(meeting, expected_version, CONFLICT_MESSAGE)
    title = _text(title, MAX_TITLE, _l("Ange en rubrik."))
    if not isinstance(held_on, date):
        raise MeetingError(_l("Ange ett datum som ÅÅÅÅ-MM-DD."))
    minutes, decisions = _text(minutes, MAX_TEXT), _text(decisions, MAX_TEXT)
    if focus is not None:
        _text(focus, MAX_TEXT)  # refused before anything changes
    current_ids = {a.id for a in meeting.attendees}
    wanted = {int(i) for i in attendee_ids or ()}
    # An attendee that has since been deactivated may stay; new ones must be active.
    attendees = [a for a in meeting.attendees if a.id in wanted] + _agencies(wanted - current_ids)
    values = {"title": title, "held_on": held_on, "minutes": minutes, "decisions": decisions}
    changed = [name for name in ("title", "held_on") if getattr(meeting, name) != values[name]]
    if wanted != current_ids:
        changed.append("attendees")
    changed += [name for name in ("minutes", "decisions") if (getattr(meeting, name) or None) != values[name]]
    if meeting.kind == MeetingKind.EST and focus is not None:
        note = get_note(meeting.iso_year, meeting.iso_week)
        if (note.focus if note else None) != _text(focus, MAX_TEXT):
            changed.append("focus")

    def apply() -> None:
        for name in changed:
            if name == "attendees":
                meeting.attendees = attendees
            elif name == "focus":
                # The focus lives in the week's note: touch the meeting so its version moves too,
                # and a second person editing the same focus gets the conflict message.
                meeting.updated_at = utcnow()
            else:
                setattr(meeting, name, values[name])

    if changed:
        _flush_or_conflict(CONFLICT_MESSAGE, apply)
        audit.record("meeting.update", obj=meeting, actor=actor, detail={"fields": ",".join(changed)})
    if meeting.kind == MeetingKind.EST and focus is not None:
        set_focus(meeting, focus, actor)
    return meeting


def delete_meeting(meeting: Meeting, actor) -> None:
    """Delete a meeting and its action items; its data key is destroyed, so the minutes are gone for good."""
    audit.record("meeting.delete", obj=meeting, actor=actor,
                 detail={"kind": meeting.kind.value, "items": len(meeting.action_items)})
    data_key = meeting.data_key
    db.session.delete(meeting)
    db.session.flush()
    destroy_data_key(data_key)


# ------------------------------------------------------------------ the weekly EST meeting


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
    open_items = []
    if previous is not None:
        open_items = [{"id": item.id, "title": item.title, "agency": item.agency.name if item.agency else "",
                       "due": item.due_date.isoformat(), "status": item.status.value}
                      for item in previous.action_items if item.status not in CLOSED_STATUSES]
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
    focus = _text(focus, MAX_TEXT)
    note = get_note(meeting.iso_year, meeting.iso_week)
    if (note.focus if note else None) == focus:
        return False
    save_note(meeting.iso_year, meeting.iso_week, analysis=note.analysis if note else None, focus=focus, by=actor)
    return True


# ------------------------------------------------------------------ action items


@dataclass
class ActionRow:
    """An action item as the meeting page shows it."""

    item: ActionItem
    late: bool


def action_rows(meeting: Meeting, today: date | None = None) -> list[ActionRow]:
    today = today or local_today()
    return [ActionRow(item, is_late(item.status, item.due_date, today)) for item in meeting.action_items]


def _status(value) -> WorkStatus:
    try:
        return WorkStatus(value)
    except ValueError:
        raise MeetingError(_l("Välj en status i listan.")) from None


def _complete(item: ActionItem, status: WorkStatus, actor) -> None:
    if status == WorkStatus.DONE and item.completed_at is None:
        item.completed_at = utcnow()
        item.completed_by_id = getattr(actor, "id", None)
    elif status != WorkStatus.DONE:
        item.completed_at = None
        item.completed_by_id = None


def create_action_item(meeting: Meeting, actor, *, title: str, agency_id: int, responsible_id: int | None,
                       due_date: date, status=WorkStatus.PLANNED) -> ActionItem:
    """Add an action item to a meeting (audited action_item.create)."""
    title = _text(title, MAX_ITEM_TITLE, _l("Ange vad som ska göras."))
    agency = _agency(agency_id)
    responsible = _responsible(responsible_id, agency)
    if not isinstance(due_date, date):
        raise MeetingError(_l("Ange ett datum som ÅÅÅÅ-MM-DD."))
    status = _status(status)
    item = ActionItem(meeting=meeting, title=title, agency_id=agency.id, agency=agency,
                      responsible_id=responsible.id if responsible else None, due_date=due_date, status=status)
    _complete(item, status, actor)
    db.session.add(item)
    db.session.flush()
    audit.record("action_item.create", obj=item, actor=actor,
                 detail={"meeting": str(meeting.id), "agency": agency.id, "status": status.value,
                         "due": due_date.isoformat()})
    return item


def update_action_item(item: ActionItem, actor, *, expected_version, title: str, agency_id: int,
                       responsible_id: int | None, due_date: date, status) -> ActionItem:
    """Change every field of an action item (the process leader); optimistic locking as for meetings."""
    _check_version(item, expected_version, ITEM_CONFLICT_MESSAGE)
    title = _text(title, MAX_ITEM_TITLE, _l("Ange vad som ska göras."))
    agency = item.agency if agency_id == item.agency_id else _agency(agency_id)
    responsible = _responsible(responsible_id, agency, current=item.responsible_id)
    if not isinstance(due_date, date):
        raise MeetingError(_l("Ange ett datum som ÅÅÅÅ-MM-DD."))
    status = _status(status)
    values = {"title": title, "agency_id": agency.id, "responsible_id": responsible.id if responsible else None,
              "due_date": due_date, "status": status}
    changed = [name for name, value in values.items() if getattr(item, name) != value]
    if not changed:
        return item
    def apply() -> None:
        for name in changed:
            setattr(item, name, values[name])
        if "agency_id" in changed:
            item.agency = agency
        _complete(item, status, actor)

    _flush_or_conflict(ITEM_CONFLICT_MESSAGE, apply)
    audit.record("action_item.update", obj=item, actor=actor,
                 detail={"fields": ",".join(changed), "status": status.value})
    return item


def update_action_status(item: ActionItem, actor, *, expected_version, status, completion_note: str | None
                         ) -> ActionItem:
    """The owning agency's update: status and completion note only (every other field stays as it is)."""
    _check_version(item, expected_version, ITEM_CONFLICT_MESSAGE)
    status = _status(status)
    note = _text(completion_note, MAX_NOTE)
    changed = [name for name, value in (("status", status), ("completion_note", note))
               if getattr(item, name) != value]
    if not changed:
        return item
    def apply() -> None:
        item.status = status
        item.completion_note = note
        _complete(item, status, actor)

    _flush_or_conflict(ITEM_CONFLICT_MESSAGE, apply)
    audit.record("action_item.update", obj=item, actor=actor,
                 detail={"fields": ",".join(changed), "status": status.value})
    return item
