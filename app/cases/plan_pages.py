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
from app.cases.plan import item_order, latest_version
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
