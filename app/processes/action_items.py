"""Action items decided in a meeting: tracked like milestones until done.

The process leader sets every field; the owning agency updates only the status
and a completion note. Optimistic locking as for meetings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l

from app.db import db, utcnow
from app.processes import meeting_common as base
from app.processes.dates import is_late, local_today
from app.processes.meeting_common import ITEM_CONFLICT_MESSAGE, MAX_ITEM_TITLE, MAX_NOTE, MeetingError
from app.processes.models import ActionItem, Meeting, WorkStatus
from app.security import audit


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
    title = base.text_value(title, MAX_ITEM_TITLE, _l("Ange vad som ska göras."))
    agency = base.active_agency(agency_id)
    responsible = base.responsible_user(responsible_id, agency)
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
    base.check_version(item, expected_version, ITEM_CONFLICT_MESSAGE)
    title = base.text_value(title, MAX_ITEM_TITLE, _l("Ange vad som ska göras."))
    agency = item.agency if agency_id == item.agency_id else base.active_agency(agency_id)
    responsible = base.responsible_user(responsible_id, agency, current=item.responsible_id)
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

    base.flush_or_conflict(ITEM_CONFLICT_MESSAGE, apply)
    audit.record("action_item.update", obj=item, actor=actor,
                 detail={"fields": ",".join(changed), "status": status.value})
    return item


def update_action_status(item: ActionItem, actor, *, expected_version, status, completion_note: str | None
                         ) -> ActionItem:
    """The owning agency's update: status and completion note only (every other field stays as it is)."""
    base.check_version(item, expected_version, ITEM_CONFLICT_MESSAGE)
    status = _status(status)
    note = base.text_value(completion_note, MAX_NOTE)
    changed = [name for name, value in (("status", status), ("completion_note", note))
               if getattr(item, name) != value]
    if not changed:
        return item
    def apply() -> None:
        item.status = status
        item.completion_note = note
        _complete(item, status, actor)

    base.flush_or_conflict(ITEM_CONFLICT_MESSAGE, apply)
    audit.record("action_item.update", obj=item, actor=actor,
                 detail={"fields": ",".join(changed), "status": status.value})
    return item
