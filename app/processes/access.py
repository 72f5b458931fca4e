"""Which processes, meetings and action items a user may see, derived from the policy.

Lists filter in SQL with the conditions under which the policy grants the
permission (``Gate.allowing_conditions``); pages load one object and ask the
gate again with it. Both go through here, so every read path applies the same rule.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort
from flask_login import current_user
from sqlalchemy import Select, exists, false, or_, select, true

from app.extensions import db
from app.processes.models import (ActionItem, Meeting, MeetingKind, Milestone, Process, meeting_agency,
                                  process_agency)
from app.security.authz import authorize, gate
from app.security.permissions import Permission

#: Ids above this are refused before they reach the database (PostgreSQL integers are 32-bit).
MAX_ID = 2**31 - 1


def _process_participation(user: Any):
    """SQL: the user's agency takes part in the process (listed, or the owning agency)."""
    return or_(
        Process.owner_agency_id == user.agency_id,
        exists().where(process_agency.c.process_id == Process.id, process_agency.c.agency_id == user.agency_id),
    )


def visible_processes_query(user: Any = None, permission: Permission = Permission.PROCESS_VIEW) -> Select:
    """SELECT of the processes the user may open."""
    user = user or current_user
    conditions = gate().allowing_conditions(user, permission)
    if "always" in conditions:
        return select(Process)
    if "process_participant" in conditions:
        return select(Process).where(_process_participation(user))
    return select(Process).where(false())


def visible_process_ids(user: Any = None) -> Select:
    """Subquery of the ids of the processes the user may open."""
    return visible_processes_query(user).with_only_columns(Process.id)


def _meeting_clause(user: Any, conditions: set[str]):
    clauses = []
    if "always" in conditions:
        return true()
    if "process_participant" in conditions:
        clauses.append(exists().where(meeting_agency.c.meeting_id == Meeting.id,
                                      meeting_agency.c.agency_id == user.agency_id))
        clauses.append(Meeting.process_id.in_(select(Process.id).where(_process_participation(user))))
    if "est_meeting" in conditions:
        clauses.append(Meeting.kind == MeetingKind.EST)
    return or_(*clauses) if clauses else false()


def visible_meetings_query(user: Any = None) -> Select:
    """SELECT of the meetings the user may open (and whose action items they may see)."""
    user = user or current_user
    return select(Meeting).where(_meeting_clause(user, gate().allowing_conditions(user, Permission.MEETING_VIEW)))


def visible_action_items_query(user: Any = None) -> Select:
    """SELECT of the action items of the meetings the user may open."""
    user = user or current_user
    conditions = gate().allowing_conditions(user, Permission.MEETING_VIEW)
    clause = _meeting_clause(user, conditions)
    if "process_participant" in conditions:
        # The owning agency of an action item always sees it (ActionItem.participant_agency_ids).
        clause = or_(clause, ActionItem.agency_id == user.agency_id)
    return select(ActionItem).join(ActionItem.meeting).where(clause)


def visible_milestones_query(user: Any = None) -> Select:
    """SELECT of the milestones of the processes the user may open."""
    return select(Milestone).where(Milestone.process_id.in_(visible_process_ids(user)))


def _int_id(value: Any) -> int:
    try:
        ident = int(value)
    except (TypeError, ValueError):
        abort(404)
    if not 0 < ident <= MAX_ID:
        abort(404)
    return ident


def load_process(process_id: Any, permission: Permission = Permission.PROCESS_VIEW) -> Process:
    """The process, if the current user holds ``permission`` on it (404 unknown, 403 refused)."""
    process = db.session.get(Process, _int_id(process_id))
    if process is None:
        abort(404)
    authorize(permission, process)
    return process


def load_milestone(process: Process, milestone_id: Any, permission: Permission | None = None) -> Milestone:
    """A milestone of this process (404 otherwise), checked against ``permission`` if given."""
    milestone = db.session.get(Milestone, _int_id(milestone_id))
    if milestone is None or milestone.process_id != process.id:
        abort(404)
    if permission is not None:
        authorize(permission, milestone)
    return milestone


def load_meeting(meeting_id: Any, permission: Permission = Permission.MEETING_VIEW) -> Meeting:
    """The meeting, if the current user holds ``permission`` on it."""
    try:
        ident = meeting_id if isinstance(meeting_id, uuid.UUID) else uuid.UUID(str(meeting_id))
    except (TypeError, ValueError):
        abort(404)
    meeting = db.session.get(Meeting, ident)
    if meeting is None:
        abort(404)
    authorize(permission, meeting)
    return meeting


def load_action_item(action_id: Any, permission: Permission = Permission.MEETING_VIEW) -> ActionItem:
    item = db.session.get(ActionItem, _int_id(action_id))
    if item is None:
        abort(404)
    authorize(permission, item)
    return item
