"""Action items decided in a meeting: tracked like milestones until done, and the decisions they come from.

The process leader sets every field; the owning agency updates only the status
and a completion note. Optimistic locking as for meetings.

A decision can become an action item in the same step (record_decision): the
decision is added to the meeting's encrypted decisions and the item keeps only
its number there (ActionItem.decision_no), so the text never leaves the meeting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l

from app.db import db, utcnow
from app.processes import meeting_common as base
from app.processes.dates import is_late, local_today
from app.processes.meeting_common import (CONFLICT_MESSAGE, ITEM_CONFLICT_MESSAGE, MAX_DECISION, MAX_ITEM_TITLE,
                                          MAX_NOTE, MAX_TEXT, MeetingError, decision_lines)
from app.processes.models import ActionItem, Meeting, WorkStatus
from app.security import audit


@dataclass
class ActionRow:
    """An action item as the meeting page shows it."""

    item: ActionItem
    late: bool


def action_rows(meeting: Meeting, today: date | None = None) -> list[ActionRow]:
    """The meeting's action items with their derived lateness."""
    today = today or local_today()
    return [ActionRow(item, is_late(item.status, item.due_date, today)) for item in meeting.action_items]


def _decision(text: str | None) -> str:
    """One decision: a single line (the decisions are stored one per line), required, at most MAX_DECISION."""
    text = " ".join((text or "").split())
    return base.text_value(text, MAX_DECISION, _l("Skriv beslutet."))


def record_decision(meeting: Meeting, actor, *, expected_version, decision: str, make_action: bool = False,
                    title: str | None = None, agency_id=None, responsible_id=None, due_date=None
                    ) -> tuple[int, ActionItem | None]:
    """Add a decision to a meeting and, if asked, the action item it becomes, in one step: (decision no, item).

    Everything is checked before anything changes; a refusal or a concurrent writer saves neither.
    """
    base.check_version(meeting, expected_version, CONFLICT_MESSAGE)
    decision = _decision(decision)
    lines = decision_lines(meeting.decisions)
    decisions = "\n".join([*lines, decision])
    if len(decisions) > MAX_TEXT:
        raise MeetingError(_l("Mötets beslut får vara högst %(max)d tecken tillsammans.", max=MAX_TEXT))
    number = len(lines) + 1
    item = None
    if make_action:
        title = base.text_value(title, MAX_ITEM_TITLE, _l("Ange vad som ska göras."))
        if agency_id in (None, ""):
            raise MeetingError(_l("Välj den myndighet som ansvarar för åtgärden."))
        agency = base.active_agency(agency_id)
        responsible = base.responsible_user(responsible_id, agency)
        if not isinstance(due_date, date):
            raise MeetingError(_l("Ange när åtgärden ska vara klar (ÅÅÅÅ-MM-DD)."))
        item = ActionItem(title=title, agency_id=agency.id, agency=agency,
                          responsible_id=responsible.id if responsible else None, due_date=due_date,
                          status=WorkStatus.PLANNED, decision_no=number)

    def apply() -> None:
        meeting.decisions = decisions
        if item is not None:
            item.meeting = meeting
            db.session.add(item)

    base.flush_or_conflict(CONFLICT_MESSAGE, apply)
    audit.record("meeting.update", obj=meeting, actor=actor, detail={"fields": "decisions", "decision": number})
    if item is not None:
        audit.record("action_item.create", obj=item, actor=actor,
                     detail={"meeting": str(meeting.id), "agency": item.agency_id, "status": item.status.value,
                             "due": item.due_date.isoformat(), "decision": number})
    return number, item


def follow_decisions(meeting: Meeting, old: str | None, new: str | None) -> None:
    """Keep the action items' decision numbers on their decisions when the decisions are edited.

    An item follows its decision's text to its new line (the same line if it is unchanged there); an item
    whose decision was removed or reworded keeps no number.
    """
    before, after = decision_lines(old), decision_lines(new)
    taken: set[int] = set()
    for item in meeting.action_items:
        if item.decision_no is None:
            continue
        text = before[item.decision_no - 1] if 0 < item.decision_no <= len(before) else None
        candidates = [i for i, line in enumerate(after, start=1) if line == text and i not in taken]
        number = (item.decision_no if item.decision_no in candidates else candidates[0]) if candidates else None
        if number is not None:
            taken.add(number)
        if number != item.decision_no:
            item.decision_no = number


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
