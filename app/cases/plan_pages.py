"""What a user sees of the individual plan: plain data for the plan page, the item page and the plan PDF.

``plan_page`` builds the data that both the plan page and the plan PDF show, so
the two are redacted by the same policy; every builder collects the field sets
it showed, for the page's one audit event. Changes to the plan live in
app.cases.plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask_login import current_user

from app.admin.models import Agency
from app.cases.access import readable, redact, visible_plan_items
from app.cases.labels import PLAN_AREA_LABELS, PLAN_PART_LABELS, PLAN_STATUS_LABELS
from app.cases.models import Case, PlanItem, PlanPart, today_local
from app.cases.plan import changes_since_approval, item_order, latest_version, version_items
from app.db import db
from app.security.authz import gate
from app.security.permissions import Permission


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
    #: Changed since the latest approved version: a draft ("Utkast – ändrat sedan fastställd version N").
    draft: bool = True
    #: The changes since that version, for those who may read the approved versions (else None).
    changes: list[str] | None = None
    #: Set when this is an approved version's own content (the PDF of version N), not the plan as it stands.
    version_number: int | None = None

    @property
    def status_label(self) -> str:
        """What this plan is, in words, for the top of the page and every PDF page."""
        from flask_babel import gettext as _

        if self.version_number is not None:
            return _("Fastställd version %(number)s", number=self.version_number)
        if self.latest is None:
            return _("Utkast – planen har ännu inte fastställts")
        if self.draft:
            return _("Utkast – ändrat sedan fastställd version %(number)s", number=self.latest["number"])
        return _("Fastställd version %(number)s", number=self.latest["number"])

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
    for shown in sorted(visible_plan_items(case, user), key=lambda s: item_order(s.obj)):
        parts[shown.obj.part].append(views.item(shown))
    name = None
    if with_identity and readable(case.participant, "person.identity", user):
        person = redact(case.participant, user)
        name = " ".join(p for p in (person.first_name, person.last_name) if p)
        views.sets |= person.sets & {"person.identity"}
    latest = latest_version(case)
    versions_readable = views.decide(user, "fieldset.read:plan.versions", case, fieldset="plan.versions")
    changes = changes_since_approval(case)
    if versions_readable and changes:
        views.sets.add("plan.versions")
    return PlanPage(
        code=case.code,
        participant_name=name,
        parts=[{"part": part.value, "label": str(PLAN_PART_LABELS[part]), "items": items}
               for part, items in parts.items()],
        latest=None if latest is None else {"number": latest.number, "approved_at": latest.approved_at,
                                            "participant_agreed_on": latest.participant_agreed_on},
        versions_readable=versions_readable,
        sets=views.sets,
        draft=changes is None or bool(changes),
        changes=changes if versions_readable else None,
    )


def version_page(case: Case, version, user=None, *, with_identity: bool = False) -> PlanPage:
    """An approved version exactly as approved (its snapshot), for those who may read plan.versions."""
    user = user or current_user
    parts: dict[str, list] = {part.value: [] for part in PlanPart}
    for entry in version_items(version):
        parts[entry["part"]].append({**entry, "area": str(entry["area_label"]), "status_label": str(entry["status_label"]),
                                     "overdue": False, "followups": []})
    name = None
    sets = {"plan.versions"}
    if with_identity and readable(case.participant, "person.identity", user):
        person = redact(case.participant, user)
        name = " ".join(p for p in (person.first_name, person.last_name) if p)
        sets |= person.sets & {"person.identity"}
    return PlanPage(
        code=case.code, participant_name=name,
        parts=[{"part": part.value, "label": str(PLAN_PART_LABELS[part]), "items": parts[part.value]}
               for part in PlanPart],
        latest={"number": version.number, "approved_at": version.approved_at,
                "participant_agreed_on": version.participant_agreed_on},
        versions_readable=True, sets=sets, draft=False, version_number=version.number)


def item_page(item: PlanItem, user=None) -> tuple[dict[str, Any] | None, set[str]]:
    """One item as this user may see it (None if they may not read it), and the field sets shown."""
    user = user or current_user
    shown = redact(item, user)
    if "plan.items" not in shown.sets:
        return None, set()
    views = _ItemViews(user, today_local())
    return views.item(shown), views.sets
