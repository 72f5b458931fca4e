"""The individual plan (genomförandeplan): plan items, follow-ups, approved versions, and the items due.

Every change writes one audit event naming the case code, never the goal or
any other text. Concurrent edits of an item are caught by its ``version``
(optimistic locking): the second writer gets a PlanConflict and nothing of
theirs is saved. What a user may see of the plan is built in app.cases.plan_pages.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app.admin.models import Agency
from app.cases.access import items_assigned_query
from app.cases.forms import MAX_SHORT_TEXT, MAX_TEXT
from app.cases.labels import PLAN_AREA_LABELS, PLAN_PART_LABELS, PLAN_STATUS_LABELS
from app.cases.models import (
    OPEN_ITEM_STATUSES,
    Case,
    CaseMeeting,
    CasePhase,
    PlanArea,
    PlanFollowUp,
    PlanItem,
    PlanItemStatus,
    PlanPart,
    PlanVersion,
    today_local,
)
from app.cases.service import CaseError, active_agency, add_team_member, clean_text, require_open
from app.db import db
from app.security import audit
from app.security.models import User

CONFLICT_MESSAGE = _l("Planpunkten har ändrats av någon annan sedan du öppnade den. Ladda om och gör om ändringen.")
#: The attributes update_item may change.
ITEM_FIELDS = ("part", "area", "goal", "responsible_agency_id", "officer_id", "start_on", "due_on", "status")
MAX_GOAL = MAX_SHORT_TEXT


class PlanConflict(CaseError):
    """Someone else changed the plan item (or approved the plan) since this user loaded it."""


# ------------------------------------------------------------------ validation


#: Enum fields of an item and the message when a value is not one of theirs.
_CHOICES = {
    "part": (PlanPart, _l("Välj skyddsplan eller stödplan.")),
    "area": (PlanArea, _l("Välj ett område i listan.")),
    "status": (PlanItemStatus, _l("Välj en status i listan.")),
}


def _member(name: str, value):
    enum_cls, message = _CHOICES[name]
    try:
        return enum_cls(value)
    except ValueError:
        raise CaseError(message) from None


def _check_dates(start_on: date, due_on: date) -> None:
    if not isinstance(start_on, date) or not isinstance(due_on, date):
        raise CaseError(_l("Ange start- och slutdatum."))
    if due_on < start_on:
        raise CaseError(_l("Slutdatum kan inte ligga före startdatum."))


def _officer(officer: User | int | None, agency: Agency) -> User | None:
    if officer is None:
        return None
    if not isinstance(officer, User):
        officer = db.session.get(User, officer)
    if officer is None or not officer.active:
        raise CaseError(_l("Okänd eller inaktiv handläggare."))
    if officer.agency_id != agency.id:
        raise CaseError(_l("Handläggaren tillhör inte den valda myndigheten."))
    return officer


def _ensure_on_team(case: Case, agency: Agency, actor) -> None:
    """The responsible agency joins the case team: it must see the case to work on its item."""
    if agency.id not in case.team_agency_ids:
        add_team_member(case, agency, actor)


# ------------------------------------------------------------------ items


def create_item(case: Case, actor, *, part, area, goal: str, responsible_agency: Agency | int,
                officer: User | int | None = None, start_on: date, due_on: date,
                meeting: CaseMeeting | None = None) -> PlanItem:
    """Add a measure to the plan; the responsible agency joins the case team if it is not on it."""
    require_open(case)
    part, area, goal = _normalised({"part": part, "area": area, "goal": goal}).values()
    _check_dates(start_on, due_on)
    agency = active_agency(responsible_agency)
    officer = _officer(officer, agency)
    if meeting is not None and meeting.case_id != case.id:
        raise CaseError(_l("Mötet hör inte till ärendet."))
    _ensure_on_team(case, agency, actor)
    item = PlanItem(data_key=case.participant.data_key, case=case, part=part, area=area,
                    responsible_agency=agency, officer=officer, start_on=start_on, due_on=due_on,
                    status=PlanItemStatus.PLANNED, meeting_id=meeting.id if meeting else None,
                    created_by_id=actor.id)
    item.goal = goal
    db.session.add(item)
    db.session.flush()
    audit.record("plan_item.created", obj=case, actor=actor, field_sets=["plan.items"],
                 detail={"item": str(item.id), "part": part.value, "agency": agency.id})
    return item


def _normalised(changes: dict[str, Any]) -> dict[str, Any]:
    """Item values checked and converted (enums, trimmed goal); CaseError for a value the user must correct."""
    unknown = set(changes) - set(ITEM_FIELDS)
    if unknown:
        raise TypeError(f"a plan item has no field(s) {sorted(unknown)}")
    values = {}
    for name, value in changes.items():
        if name in _CHOICES:
            value = _member(name, value)
        elif name == "goal":
            value = clean_text(value, MAX_GOAL, _l("Ange ett mål."))
        values[name] = value
    return values


def update_item(item: PlanItem, actor, *, expected_version: int, **changes) -> PlanItem:
    """Change a plan item if nobody else has since ``expected_version`` (else PlanConflict, nothing saved)."""
    require_open(item.case)
    try:
        expected = int(expected_version)
    except (TypeError, ValueError):
        raise PlanConflict(CONFLICT_MESSAGE) from None
    if expected != item.version:
        raise PlanConflict(CONFLICT_MESSAGE)
    changed = {name: value for name, value in _normalised(changes).items() if getattr(item, name) != value}
    if not changed:
        return item
    names = sorted(changed)
    _check_dates(changed.get("start_on", item.start_on), changed.get("due_on", item.due_on))
    agency = item.responsible_agency
    if "responsible_agency_id" in changed:
        agency = active_agency(changed.pop("responsible_agency_id"))
    officer = item.officer
    if "officer_id" in changed or agency is not item.responsible_agency:
        officer = _officer(changed.pop("officer_id", item.officer_id), agency)
    savepoint = db.session.begin_nested()
    try:
        _ensure_on_team(item.case, agency, actor)
        for name, value in changed.items():
            setattr(item, name, value)
        item.responsible_agency = agency
        item.officer = officer
        if "status" in changed:
            item.completed_on = today_local() if changed["status"] == PlanItemStatus.DONE else None
        db.session.flush()
    except StaleDataError:
        savepoint.rollback()
        raise PlanConflict(CONFLICT_MESSAGE) from None
    savepoint.commit()
    audit.record("plan_item.updated", obj=item.case, actor=actor,
                 field_sets=["plan.items"] if "goal" in names else (),
                 detail={"item": str(item.id), "fields": ",".join(names)})
    return item


def add_followup(item: PlanItem, actor, text: str, status=None, *, expected_version: int | None = None) -> PlanFollowUp:
    """A dated follow-up on an item, optionally with a new status (optimistic locking as in update_item)."""
    require_open(item.case)
    text = clean_text(text, MAX_TEXT, _l("Skriv vad som har hänt."))
    if status:
        status = _member("status", status)
        if status != item.status:
            update_item(item, actor, expected_version=item.version if expected_version is None else expected_version,
                        status=status)
    followup = PlanFollowUp(data_key=item.case.participant.data_key, item=item, author_id=actor.id,
                            author_agency_id=actor.agency_id)
    followup.text = text
    db.session.add(followup)
    db.session.flush()
    audit.record("plan_item.followup_added", obj=item.case, actor=actor, field_sets=["plan.followups"],
                 detail={"item": str(item.id)})
    return followup


# ------------------------------------------------------------------ versions


def item_order(item: PlanItem) -> tuple:
    """Protection part first, then by due date."""
    return (item.part != PlanPart.PROTECTION, item.due_on, item.area.value, str(item.id))


def snapshot_items(case: Case) -> list[dict[str, Any]]:
    """The plan as it stands, as plain JSON-able data (names included, so renames never change an old version)."""
    return [
        {
            "id": str(item.id),
            "part": item.part.value,
            "area": item.area.value,
            "goal": item.goal,
            "agency": item.responsible_agency.name,
            "officer": item.officer.full_name if item.officer else None,
            "start_on": item.start_on.isoformat(),
            "due_on": item.due_on.isoformat(),
            "status": item.status.value,
        }
        for item in sorted(case.plan_items, key=item_order)
    ]


def _label(entry: dict) -> str:
    goal = entry["goal"] or ""
    goal = goal if len(goal) <= 60 else goal[:59] + "…"
    return f'{PLAN_PART_LABELS[PlanPart(entry["part"])]} – {PLAN_AREA_LABELS[PlanArea(entry["area"])]}: {goal}'


def _field_changes(old: dict, new: dict) -> list[str]:
    out = []
    if (old["part"], old["area"]) != (new["part"], new["area"]):
        out.append(_("del/område"))
    if old["goal"] != new["goal"]:
        out.append(_("mål"))
    if old["agency"] != new["agency"]:
        out.append(_("ansvarig myndighet %(old)s → %(new)s", old=old["agency"], new=new["agency"]))
    if old["officer"] != new["officer"]:
        out.append(_("handläggare"))
    if old["start_on"] != new["start_on"]:
        out.append(_("startdatum %(old)s → %(new)s", old=old["start_on"], new=new["start_on"]))
    if old["due_on"] != new["due_on"]:
        out.append(_("slutdatum %(old)s → %(new)s", old=old["due_on"], new=new["due_on"]))
    if old["status"] != new["status"]:
        out.append(_("status %(old)s → %(new)s", old=PLAN_STATUS_LABELS[PlanItemStatus(old["status"])],
                     new=PLAN_STATUS_LABELS[PlanItemStatus(new["status"])]))
    return out


def change_lines(previous: list[dict], current: list[dict]) -> list[str]:
    """What changed between two snapshots, one line per item, for people to read (empty: nothing)."""
    before = {entry["id"]: entry for entry in previous}
    after = {entry["id"]: entry for entry in current}
    lines = [_("Ny: %(item)s", item=_label(e)) for i, e in after.items() if i not in before]
    lines += [_("Borttagen: %(item)s", item=_label(e)) for i, e in before.items() if i not in after]
    for ident, entry in after.items():
        if ident in before and (fields := _field_changes(before[ident], entry)):
            lines.append(_("Ändrad: %(item)s (%(fields)s)", item=_label(entry), fields=", ".join(fields)))
    return lines


def summarize_changes(previous: list[dict] | None, current: list[dict]) -> str:
    """What changed between two snapshots, one line per item, for people to read."""
    if previous is None:
        return _("Första versionen")
    return "\n".join(change_lines(previous, current)) or _("Inga ändringar sedan föregående version.")


def changes_since_approval(case: Case) -> list[str] | None:
    """The changes made since the latest approved version (empty list: the plan is that version), or None if
    no version was ever approved. A plan with changes is a draft and must never be shown as approved."""
    previous = latest_version(case)
    if previous is None:
        return None
    return change_lines(json.loads(previous.snapshot or "[]"), snapshot_items(case))


def latest_version(case: Case) -> PlanVersion | None:
    return max(case.plan_versions, key=lambda v: v.number, default=None)


def _next_version(case: Case) -> tuple[PlanVersion | None, list[dict], str]:
    """The latest approved version, the plan as it stands, and the change summary between them."""
    previous = latest_version(case)
    current = snapshot_items(case)
    return previous, current, summarize_changes(json.loads(previous.snapshot) if previous else None, current)


def pending_changes(case: Case) -> str:
    """The change summary the next approval would record."""
    return _next_version(case)[2]


def approve_version(case: Case, actor, *, participant_agreed_on: date | None = None) -> PlanVersion:
    """Approve the plan as it stands as the next version, with a summary of what changed since the last one."""
    require_open(case)
    if participant_agreed_on is not None and participant_agreed_on > today_local():
        raise CaseError(_l("Datumet för deltagarens godkännande kan inte ligga i framtiden."))
    if not case.plan_items:
        raise CaseError(_l("Planen har inga planpunkter att fastställa."))
    previous, current, changes = _next_version(case)
    savepoint = db.session.begin_nested()
    try:
        version = PlanVersion(data_key=case.participant.data_key, case=case, approved_by_id=actor.id,
                              number=(previous.number if previous else 0) + 1,
                              participant_agreed_on=participant_agreed_on)
        version.snapshot = json.dumps(current, ensure_ascii=False)
        version.changes = changes
        db.session.add(version)
        db.session.flush()
    except IntegrityError:
        savepoint.rollback()
        raise PlanConflict(_l("Planen fastställdes samtidigt av någon annan. Ladda om och försök igen.")) from None
    savepoint.commit()
    audit.record("plan.approved", obj=case, actor=actor, field_sets=["plan.versions"],
                 detail={"version": version.number})
    return version


def version_items(version: PlanVersion) -> list[dict[str, Any]]:
    """An approved version's items with their labels, for display (its snapshot never changes)."""
    return [
        {**entry, "start_on": date.fromisoformat(entry["start_on"]), "due_on": date.fromisoformat(entry["due_on"]),
         "part_label": PLAN_PART_LABELS[PlanPart(entry["part"])],
         "area_label": PLAN_AREA_LABELS[PlanArea(entry["area"])],
         "status_label": PLAN_STATUS_LABELS[PlanItemStatus(entry["status"])]}
        for entry in json.loads(version.snapshot or "[]")
    ]


# ------------------------------------------------------------------ due work (start pages)


def _open_due(stmt, today: date, days: int) -> list[PlanItem]:
    stmt = stmt.where(
        PlanItem.status.in_(OPEN_ITEM_STATUSES),
        PlanItem.due_on <= today + timedelta(days=days),
        Case.phase != CasePhase.CLOSED,
    ).order_by(PlanItem.due_on, Case.code)
    return list(db.session.scalars(stmt))


def coordinator_items_due(user, today: date, days: int = 14) -> list[PlanItem]:
    """Open items due within ``days`` (or overdue) on the open cases this user coordinates."""
    stmt = select(PlanItem).join(Case, PlanItem.case_id == Case.id).where(Case.coordinator_id == user.id)
    return _open_due(stmt, today, days)


def agency_items_due(agency_id: int, today: date, days: int = 14) -> list[PlanItem]:
    """Open items due within ``days`` (or overdue) assigned to an agency on open cases whose team includes it."""
    return _open_due(items_assigned_query(agency_id), today, days)
