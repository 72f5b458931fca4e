"""The individual plan (genomförandeplan): plan items, follow-ups, approved versions, and what a user may see of it.

Every change writes one audit event naming the case code, never the goal or
any other text. Concurrent edits of an item are caught by its ``version``
(optimistic locking): the second writer gets a PlanConflict and nothing of
theirs is saved. ``plan_page`` builds the plain data that both the plan page
and the plan PDF show, so the two are redacted by the same policy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from app.admin.models import Agency
from app.cases.access import items_assigned_query, readable, redact, visible_plan_items
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
from app.cases.service import CaseError, add_team_member
from app.db import db
from app.security import audit
from app.security.authz import gate
from app.security.models import User
from app.security.permissions import Permission

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


def _text(value: str | None, max_len: int, missing) -> str:
    value = (value or "").strip()
    if not value:
        raise CaseError(missing)
    if len(value) > max_len:
        raise CaseError(_l("Högst %(max)d tecken.", max=max_len))
    return value


def _check_dates(start_on: date, due_on: date) -> None:
    if not isinstance(start_on, date) or not isinstance(due_on, date):
        raise CaseError(_l("Ange start- och slutdatum."))
    if due_on < start_on:
        raise CaseError(_l("Slutdatum kan inte ligga före startdatum."))


def _active_agency(agency: Agency | int | None) -> Agency:
    if agency is not None and not isinstance(agency, Agency):
        agency = db.session.get(Agency, agency)
    if agency is None or not agency.active:
        raise CaseError(_l("Okänd eller inaktiv myndighet."))
    return agency


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
    part, area, goal = _normalised({"part": part, "area": area, "goal": goal}).values()
    _check_dates(start_on, due_on)
    agency = _active_agency(responsible_agency)
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
            value = _text(value, MAX_GOAL, _l("Ange ett mål."))
        values[name] = value
    return values


def update_item(item: PlanItem, actor, *, expected_version: int, **changes) -> PlanItem:
    """Change a plan item if nobody else has since ``expected_version`` (else PlanConflict, nothing saved)."""
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
        agency = _active_agency(changed.pop("responsible_agency_id"))
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
    text = _text(text, MAX_TEXT, _l("Skriv vad som har hänt."))
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


def _order(item: PlanItem) -> tuple:
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
        for item in sorted(case.plan_items, key=_order)
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


def summarize_changes(previous: list[dict] | None, current: list[dict]) -> str:
    """What changed between two snapshots, one line per item, for people to read."""
    if previous is None:
        return _("Första versionen")
    before = {entry["id"]: entry for entry in previous}
    after = {entry["id"]: entry for entry in current}
    lines = [_("Ny: %(item)s", item=_label(e)) for i, e in after.items() if i not in before]
    lines += [_("Borttagen: %(item)s", item=_label(e)) for i, e in before.items() if i not in after]
    for ident, entry in after.items():
        if ident in before and (fields := _field_changes(before[ident], entry)):
            lines.append(_("Ändrad: %(item)s (%(fields)s)", item=_label(entry), fields=", ".join(fields)))
    return "\n".join(lines) or _("Inga ändringar sedan föregående version.")


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


# ------------------------------------------------------------------ what a user sees


@dataclass
class PlanPage:
    """The plan as one user may see it: plain data for the page and the PDF, and the field sets shown."""

    code: str
    participant_name: str | None
    parts: list[dict[str, Any]]
    latest: dict[str, Any] | None
    versions_readable: bool
    generated_at: datetime | None = None
    sets: set[str] = field(default_factory=set)

    @property
    def item_count(self) -> int:
        return sum(len(part["items"]) for part in self.parts)


class _ItemViews:
    """Builds the plain data of visible items for one user, collecting the field sets shown."""

    def __init__(self, user, today: date):
        self.user, self.today = user, today
        self.sets: set[str] = set()
        self.decide = gate().decide

    @staticmethod
    def _agency_name(agency_id: int | None) -> str:
        agency = db.session.get(Agency, agency_id) if agency_id is not None else None
        return agency.name if agency else ""

    def followups(self, item: PlanItem) -> list[dict[str, Any]]:
        shown = []
        for followup in item.followups:
            view = redact(followup, self.user)
            if view.can_read("text"):
                self.sets |= view.sets
                shown.append({"written_at": followup.written_at, "agency": self._agency_name(followup.author_agency_id),
                              "text": view.text})
        return shown

    def item(self, shown) -> dict[str, Any]:
        """One item as ``redact`` returned it (only items whose plan.items the user may read)."""
        item = shown.obj
        self.sets |= shown.sets
        return {
            "id": str(item.id),
            "version": item.version,
            "part": item.part.value,
            "part_label": str(PLAN_PART_LABELS[item.part]),
            "area": str(PLAN_AREA_LABELS[item.area]),
            "goal": shown.goal,
            "agency": item.responsible_agency.name,
            "officer": item.officer.full_name if item.officer else None,
            "start_on": item.start_on,
            "due_on": item.due_on,
            "status": item.status.value,
            "status_label": str(PLAN_STATUS_LABELS[item.status]),
            "completed_on": item.completed_on,
            "overdue": item.is_overdue(self.today),
            "followups": self.followups(item),
            "can_update": self.decide(self.user, Permission.PLAN_ITEM_UPDATE, item),
        }


def plan_page(case: Case, user=None, *, with_identity: bool = False, today: date | None = None) -> PlanPage:
    """The plan items this user may see (visible_plan_items), each with its follow-ups, grouped by part.

    The participant's name is included only when asked for (the PDF) and only if
    the user may read person.identity.
    """
    user = user or current_user
    views = _ItemViews(user, today or today_local())
    parts: dict[PlanPart, list] = {part: [] for part in PlanPart}
    for shown in sorted(visible_plan_items(case, user), key=lambda s: _order(s.obj)):
        parts[shown.obj.part].append(views.item(shown))
    name = None
    if with_identity and readable(case.participant, "person.identity", user):
        person = redact(case.participant, user)
        name = " ".join(p for p in (person.first_name, person.last_name) if p)
        views.sets |= person.sets & {"person.identity"}
    latest = latest_version(case)
    return PlanPage(
        code=case.code,
        participant_name=name,
        parts=[{"part": part.value, "label": str(PLAN_PART_LABELS[part]), "items": items}
               for part, items in parts.items()],
        latest=None if latest is None else {"number": latest.number, "approved_at": latest.approved_at,
                                            "participant_agreed_on": latest.participant_agreed_on},
        versions_readable=views.decide(user, "fieldset.read:plan.versions", case, fieldset="plan.versions"),
        sets=views.sets,
    )


def item_page(item: PlanItem, user=None) -> tuple[dict[str, Any] | None, set[str]]:
    """One item as this user may see it (None if they may not read it), and the field sets shown."""
    user = user or current_user
    shown = redact(item, user)
    if "plan.items" not in shown.sets:
        return None, set()
    views = _ItemViews(user, today_local())
    return views.item(shown), views.sets


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


# ------------------------------------------------------------------ form choices


def agency_choices(include: int | None = None) -> list[tuple[int, str]]:
    """Active agencies (plus ``include``, an item's current agency even if inactive now)."""
    stmt = select(Agency).where((Agency.active.is_(True)) | (Agency.id == (include or -1))).order_by(Agency.name)
    return [(a.id, a.name) for a in db.session.scalars(stmt)]


def officer_choices(agency_ids, include: int | None = None) -> list[tuple[int, str]]:
    """Active users of these agencies (plus ``include``, the current officer), labelled "name, agency"."""
    stmt = (
        select(User.id, User.full_name, Agency.name)
        .join(Agency, User.agency_id == Agency.id)
        .where((User.agency_id.in_(list(agency_ids)) & User.active.is_(True)) | (User.id == (include or -1)))
        .order_by(Agency.name, User.full_name, User.id)
    )
    return [(user_id, f"{name}, {agency}") for user_id, name, agency in db.session.execute(stmt)]
