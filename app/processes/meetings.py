"""Meetings of a process: the list, and recording, editing and deleting a meeting.

Minutes and decisions are free text that may name a person by mistake: they
are encrypted per meeting (Meeting.minutes/decisions), never logged or audited,
and every page that shows them writes one ``meeting.read`` event first.

Concurrent edits are caught by the ``version`` column (optimistic locking): the
second writer gets a MeetingConflict and nothing of theirs is saved. The weekly
EST meeting is in app.processes.est, action items in app.processes.action_items.
"""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select
from sqlalchemy.orm import selectinload

from app.db import db, utcnow
from app.overview.publishing import get_note
from app.processes import action_items, est
from app.processes import meeting_common as base
from app.processes.meeting_common import CONFLICT_MESSAGE, MAX_TEXT, MAX_TITLE, MeetingError
from app.processes.models import Meeting, MeetingKind, Process
from app.security import audit
from app.security.crypto.service import destroy_data_key

#: Sort keys of the meeting list (a leading "-" reverses).
MEETING_SORTS = {"date": (Meeting.held_on, Meeting.title), "title": (Meeting.title, Meeting.held_on)}


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
    title = base.text_value(title, MAX_TITLE, _l("Ange en rubrik."))
    if not isinstance(held_on, date):
        raise MeetingError(_l("Ange ett datum som ÅÅÅÅ-MM-DD."))
    attendees = base.active_agencies_by_id(attendee_ids)
    minutes, decisions = base.text_value(minutes, MAX_TEXT), base.text_value(decisions, MAX_TEXT)
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
    base.check_version(meeting, expected_version, CONFLICT_MESSAGE)
    title = base.text_value(title, MAX_TITLE, _l("Ange en rubrik."))
    if not isinstance(held_on, date):
        raise MeetingError(_l("Ange ett datum som ÅÅÅÅ-MM-DD."))
    minutes, decisions = base.text_value(minutes, MAX_TEXT), base.text_value(decisions, MAX_TEXT)
    if focus is not None:
        base.text_value(focus, MAX_TEXT)  # refused before anything changes
    current_ids = {a.id for a in meeting.attendees}
    wanted = {int(i) for i in attendee_ids or ()}
    # An attendee that has since been deactivated may stay; new ones must be active.
    attendees = [a for a in meeting.attendees if a.id in wanted] + base.active_agencies_by_id(wanted - current_ids)
    values = {"title": title, "held_on": held_on, "minutes": minutes, "decisions": decisions}
    changed = [name for name in ("title", "held_on") if getattr(meeting, name) != values[name]]
    if wanted != current_ids:
        changed.append("attendees")
    changed += [name for name in ("minutes", "decisions") if (getattr(meeting, name) or None) != values[name]]
    if meeting.kind == MeetingKind.EST and focus is not None:
        note = get_note(meeting.iso_year, meeting.iso_week)
        if (note.focus if note else None) != base.text_value(focus, MAX_TEXT):
            changed.append("focus")

    def apply() -> None:
        if "decisions" in changed:
            action_items.follow_decisions(meeting, meeting.decisions, values["decisions"])
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
        base.flush_or_conflict(CONFLICT_MESSAGE, apply)
        audit.record("meeting.update", obj=meeting, actor=actor, detail={"fields": ",".join(changed)})
    if meeting.kind == MeetingKind.EST and focus is not None:
        est.set_focus(meeting, focus, actor)
    return meeting


def delete_meeting(meeting: Meeting, actor) -> None:
    """Delete a meeting and its action items; its data key is destroyed, so the minutes are gone for good."""
    audit.record("meeting.delete", obj=meeting, actor=actor,
                 detail={"kind": meeting.kind.value, "items": len(meeting.action_items)})
    data_key = meeting.data_key
    db.session.delete(meeting)
    db.session.flush()
    destroy_data_key(data_key)
