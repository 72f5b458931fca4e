"""One gate for every read path of the case module.

Lists, detail pages, search, counts, history, exports and PDFs all go
through these helpers, so they apply exactly the same policy:

- ``visible_cases_query`` narrows a list in SQL by the conditions the policy
  grants ``case:view`` under (coordinates_case, on_case_team, ...), and
  ``visible_cases`` checks each row again with the gate;
- ``load_case`` loads one case by its code and authorizes the permission on it
  (403 and an audit event if refused; 404 for unknown codes);
- ``Redacted`` / ``redact`` return only the fields of the field sets the user
  may read now (consent and emergency access are evaluated per request);
- ``audited_page`` writes the one audit event of a read, naming the field sets
  shown, right after the page is produced and before it is sent (no page if it fails).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, TypeVar

from flask import abort
from flask_login import current_user
from sqlalchemy import Select, exists, false, or_, select, true

from app.cases.models import Case, CaseTeamMember, PlanItem
from app.db import db
from app.security.audit import audited_read
from app.security.authz import authorize, gate
from app.security.permissions import Permission

T = TypeVar("T")


def _condition_clause(condition: str, user: Any):
    """SQL for a policy condition on exit_case; unknown conditions grant nothing in SQL."""
    if condition == "always":
        return true()
    if condition == "coordinates_case":
        return Case.coordinator_id == user.id
    if condition in ("on_case_team", "consent_covers", "emergency_access", "assigned_to_agency"):
        # Each of these requires the user's agency on the (current) team first.
        return exists().where(
            CaseTeamMember.case_id == Case.id,
            CaseTeamMember.agency_id == user.agency_id,
            CaseTeamMember.removed_at.is_(None),
        )
    return false()


def visible_cases_query(user: Any = None, permission: Permission = Permission.CASE_VIEW) -> Select:
    """SELECT of the cases the user may open, derived from the policy lines for ``permission``."""
    user = user or current_user
    conditions = gate().allowing_conditions(user, permission)
    if not conditions:
        return select(Case).where(false())
    return select(Case).where(or_(*(_condition_clause(c, user) for c in sorted(conditions))))


def visible_cases(cases: Iterable[Case], user: Any = None, permission: Permission = Permission.CASE_VIEW) -> list[Case]:
    """Defence in depth: the gate's object-level answer for every row a query returned."""
    user = user or current_user
    decide = gate().decide
    return [case for case in cases if decide(user, permission, case)]


def load_case(code: str, permission: Permission = Permission.CASE_VIEW) -> Case:
    """The case with this code, if the current user holds ``permission`` on it (404 unknown, 403 refused)."""
    if not code or len(code) > 20:
        abort(404)
    case = db.session.scalar(select(Case).where(Case.code == code))
    if case is None:
        if was_erased(code):
            from flask import make_response, render_template

            abort(make_response(render_template("cases/erased.html"), 410))
        abort(404)
    authorize(permission, case)
    return case


def was_erased(code: str) -> bool:
    """Whether a case with this code was erased by the retention run (its rows are gone; the audit log's
    ``case.erased`` event, which names only the code, is the record of it)."""
    from app.audit.models import AuditEvent

    return db.session.scalar(select(AuditEvent.id).where(
        AuditEvent.object_id == code, AuditEvent.object_type == "case", AuditEvent.action == "case.erased").limit(1)
    ) is not None


def load_in_case(model: type[T], case: Case, object_id: str) -> T:
    """A record of ``model`` by its id, only if it belongs to ``case`` (404 otherwise)."""
    try:
        ident: Any = uuid.UUID(object_id) if isinstance(object_id, str) else object_id
    except ValueError:
        abort(404)
    obj = db.session.get(model, ident)
    owner = getattr(obj, "case_id", None) if obj is not None else None
    if owner is None and obj is not None and hasattr(obj, "item"):
        owner = obj.item.case_id
    if obj is None or owner != case.id:
        abort(404)
    return obj


@dataclass
class Redacted:
    """A record as the user may see it: ``values`` holds only readable fields; ``sets`` names their field sets."""

    obj: Any
    values: dict[str, Any]
    sets: set[str]

    def __getattr__(self, name: str) -> Any:
        # Plain (non-personal) attributes pass through; personal ones only if granted.
        values = self.__dict__.get("values", {})
        if name in values:
            return values[name]
        obj = self.__dict__.get("obj")
        if name in getattr(type(obj), "__encrypted_fields__", {}):
            return None
        return getattr(obj, name)

    def can_read(self, attribute: str) -> bool:
        return attribute in self.values


def redact(obj: Any, user: Any = None) -> Redacted:
    values, sets = gate().redact(user or current_user, obj)
    return Redacted(obj, values, sets)


def readable(obj: Any, fieldset: str, user: Any = None) -> bool:
    return gate().decide(user or current_user, "fieldset.read:" + fieldset, obj, fieldset=fieldset)


def require_readable(obj: Any, fieldset: str) -> None:
    """403 (and an audit event) unless the current user may read this field set of the object now."""
    from flask import g

    from app.security.audit import record_denial
    from app.security.authz import FIELDSET_READ, note_decision

    permission = FIELDSET_READ + fieldset
    allowed, line = gate().decision(current_user, permission, obj, fieldset=fieldset)
    if not allowed:
        g.lots_denied_permission = permission
        record_denial(permission, obj, fieldset=fieldset, rule=line)
        abort(403)
    note_decision(permission, line, obj)


def visible_plan_items(case: Case, user: Any = None) -> list[Redacted]:
    """The plan items this user may see at all (coordinator: all; partner: own agency's, or covered by consent)."""
    user = user or current_user
    items = []
    for item in case.plan_items:
        shown = redact(item, user)
        if "plan.items" in shown.sets:
            items.append(shown)
    return items


@dataclass
class ReadLog:
    """Collects the field sets a page shows, for its one audit event."""

    sets: set[str] = field(default_factory=set)

    def add(self, shown: Redacted | Iterable[Redacted] | None) -> None:
        if shown is None:
            return
        if isinstance(shown, Redacted):
            self.sets |= shown.sets
            return
        for one in shown:
            self.sets |= one.sets


def audited_page(action: str, case: Case | None, field_sets: Iterable[str], produce: Callable[[], T],
                 permission: Permission | None = None, **event: Any) -> T:
    """Produce the response, then write the read event (object = case code, field sets shown); see audited_read."""
    if case is not None:
        event.setdefault("obj", case)
    return audited_read(action, produce, field_sets=sorted(field_sets), permission=permission, **event)


def items_assigned_query(agency_id: int) -> Select:
    """Plan items assigned to an agency on open cases whose current team includes it."""
    return (
        select(PlanItem)
        .join(Case, PlanItem.case_id == Case.id)
        .where(
            PlanItem.responsible_agency_id == agency_id,
            exists().where(
                CaseTeamMember.case_id == Case.id,
                CaseTeamMember.agency_id == agency_id,
                CaseTeamMember.removed_at.is_(None),
            ),
        )
    )
