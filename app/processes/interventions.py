"""Area interventions (insatser): the service functions and the queries that read them.

Interventions are about areas and incident categories, never about a person; every
change writes one audit event with ids and dates only. Concurrent edits are caught by
``version`` (optimistic locking): the second writer gets an InterventionConflict and
nothing of theirs is saved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import abort
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import selectinload

from app.admin.models import Agency
from app.db import flush_in_savepoint, utcnow
from app.extensions import db
from app.overview.models import Area, Category
from app.processes.access import MAX_ID, visible_processes_query
from app.processes.models import Intervention, InterventionKind, Process
from app.security import audit

CONFLICT_MESSAGE = _l("Insatsen har ändrats av någon annan sedan du öppnade den. Ladda om sidan och gör om "
                      "ändringen.")


class InterventionError(ValueError):
    """A change the user must correct (message in Swedish, no personal data)."""


class InterventionConflict(InterventionError):
    """Someone else saved the intervention since this user loaded it."""


# ------------------------------------------------------------------ queries


def active_interventions(start: date, end: date) -> list[Intervention]:
    """Interventions whose period overlaps [start, end] (areas and categories loaded)."""
    query = (
        select(Intervention)
        .where(Intervention.start_date <= end,
               or_(Intervention.end_date.is_(None), Intervention.end_date >= start))
        .options(selectinload(Intervention.areas), selectinload(Intervention.categories))
        .order_by(Intervention.start_date, Intervention.id)
    )
    return list(db.session.scalars(query))


def load_intervention(intervention_id: Any) -> Intervention:
    """The intervention or 404 (the permission is checked by the route: interventions are area-level)."""
    try:
        ident = int(intervention_id)
    except (TypeError, ValueError):
        abort(404)
    if not 0 < ident <= MAX_ID:
        abort(404)
    intervention = db.session.get(Intervention, ident)
    if intervention is None:
        abort(404)
    return intervention


#: Sort keys of the list (a leading "-" reverses).
SORTS = {"start": Intervention.start_date, "title": Intervention.title}


@dataclass
class InterventionFilters:
    q: str | None = None
    kind: str | None = None
    area_id: int | None = None
    state: str | None = None  #: active, planned, ended


def interventions_query(filters: InterventionFilters, sort: str, today: date) -> Select:
    """SELECT of interventions matching the filters, sorted (default: latest start first)."""
    stmt = select(Intervention)
    if filters.q:
        escaped = filters.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(Intervention.title.ilike(f"%{escaped}%", escape="\\"))
    if filters.kind:
        stmt = stmt.where(Intervention.kind == InterventionKind(filters.kind))
    if filters.area_id:
        stmt = stmt.where(Intervention.areas.any(Area.id == filters.area_id))
    if filters.state == "active":
        stmt = stmt.where(Intervention.start_date <= today,
                          or_(Intervention.end_date.is_(None), Intervention.end_date >= today))
    elif filters.state == "planned":
        stmt = stmt.where(Intervention.start_date > today)
    elif filters.state == "ended":
        stmt = stmt.where(Intervention.end_date < today)
    key = sort.lstrip("-")
    column = SORTS.get(key, Intervention.start_date)
    descending = sort.startswith("-") if key in SORTS else True
    return stmt.order_by(column.desc() if descending else column.asc(), Intervention.id.desc())


def area_choices(include: Any = ()) -> list[tuple[int, str]]:
    """Active areas by name, plus ``include`` (an intervention's current areas, even if inactive now)."""
    ids = [a.id for a in include]
    stmt = select(Area.id, Area.name).where(or_(Area.active.is_(True), Area.id.in_(ids or [-1])))
    return [(i, n) for i, n in db.session.execute(stmt.order_by(Area.name, Area.id))]


def category_choices(include: Any = ()) -> list[tuple[int, str]]:
    ids = [c.id for c in include]
    stmt = select(Category.id, Category.name_sv).where(or_(Category.active.is_(True), Category.id.in_(ids or [-1])))
    return [(i, n) for i, n in db.session.execute(stmt.order_by(Category.sort_order, Category.name_sv, Category.id))]


def agency_choices(include: int | None = None) -> list[tuple[int, str]]:
    stmt = select(Agency.id, Agency.name).where(or_(Agency.active.is_(True), Agency.id == (include or -1)))
    return [(i, n) for i, n in db.session.execute(stmt.order_by(Agency.name, Agency.id))]


def process_choices(user: Any, include: int | None = None) -> list[tuple[int, str]]:
    """Processes the user may see (the link may only point at one of them), plus the current link."""
    visible = visible_processes_query(user).with_only_columns(Process.id, Process.name)
    rows = list(db.session.execute(visible.order_by(Process.name, Process.id)))
    if include and include not in {i for i, _ in rows}:
        current = db.session.get(Process, include)
        if current is not None:
            rows.append((current.id, current.name))
    return [(i, n) for i, n in rows]


# ------------------------------------------------------------------ changes


def _resolve(values: dict[str, Any], user: Any, current: Intervention | None = None) -> dict[str, Any]:
    """Check every id (known, and for the process: visible to the user) and the dates; InterventionError if not."""
    title = (values.get("title") or "").strip()
    if not title:
        raise InterventionError(_l("Ange en rubrik."))
    if len(title) > 200:
        raise InterventionError(_l("Rubriken får vara högst 200 tecken."))
    try:
        kind = InterventionKind(values.get("kind"))
    except ValueError:
        raise InterventionError(_l("Välj typ av insats.")) from None
    start, end = values.get("start_date"), values.get("end_date")
    if not isinstance(start, date):
        raise InterventionError(_l("Ange startdatum."))
    if end is not None and end < start:
        raise InterventionError(_l("Slutdatum kan inte ligga före startdatum."))
    agency = db.session.get(Agency, values.get("agency_id") or 0)
    if agency is None or (not agency.active and (current is None or current.agency_id != agency.id)):
        raise InterventionError(_l("Den ansvariga myndigheten finns inte eller är inaktiv."))
    process = None
    if values.get("process_id"):
        allowed = {i for i, _ in process_choices(user, current.process_id if current else None)}
        if values["process_id"] not in allowed:
            raise InterventionError(_l("Processen finns inte eller är inte synlig för dig."))
        process = db.session.get(Process, values["process_id"])
    area_ids = sorted(set(values.get("area_ids") or ()))
    category_ids = sorted(set(values.get("category_ids") or ()))
    if not area_ids:
        raise InterventionError(_l("Välj minst ett område."))
    if not category_ids:
        raise InterventionError(_l("Välj minst en kategori."))
    areas = list(db.session.scalars(select(Area).where(Area.id.in_(area_ids))))
    categories = list(db.session.scalars(select(Category).where(Category.id.in_(category_ids))))
    if len(areas) != len(area_ids):
        raise InterventionError(_l("Ett av de valda områdena finns inte."))
    if len(categories) != len(category_ids):
        raise InterventionError(_l("En av de valda kategorierna finns inte."))
    return {"title": title, "kind": kind, "description": (values.get("description") or "").strip(),
            "agency_id": agency.id, "process": process, "start_date": start, "end_date": end,
            "areas": areas, "categories": categories}


def _detail(intervention: Intervention) -> dict[str, Any]:
    return {"kind": intervention.kind.value, "start": intervention.start_date.isoformat(),
            "end": intervention.end_date.isoformat() if intervention.end_date else "",
            "areas": ",".join(str(a.id) for a in intervention.areas)[:100]}


def create_intervention(values: dict[str, Any], *, by: Any) -> Intervention:
    """Create an intervention from validated form values; audit ``intervention.create``."""
    clean = _resolve(values, by)
    intervention = Intervention(title=clean["title"], kind=clean["kind"], description=clean["description"],
                                agency_id=clean["agency_id"], process=clean["process"],
                                start_date=clean["start_date"], end_date=clean["end_date"],
                                created_by_id=getattr(by, "id", None))
    intervention.areas = clean["areas"]
    intervention.categories = clean["categories"]
    db.session.add(intervention)
    db.session.flush()
    audit.record("intervention.create", object_type="intervention", object_id=intervention.id,
                 detail=_detail(intervention))
    return intervention


def update_intervention(intervention: Intervention, values: dict[str, Any], *, expected_version: Any,
                        by: Any) -> Intervention:
    """Change an intervention unless someone else saved it since ``expected_version`` (InterventionConflict)."""
    try:
        expected = int(expected_version)
    except (TypeError, ValueError):
        raise InterventionConflict(CONFLICT_MESSAGE) from None
    if expected != intervention.version:
        raise InterventionConflict(CONFLICT_MESSAGE)
    clean = _resolve(values, by, intervention)
    changed = sorted(name for name in ("title", "kind", "description", "agency_id", "start_date", "end_date")
                     if getattr(intervention, name) != clean[name])
    if intervention.process is not clean["process"]:
        changed.append("process")
    if {a.id for a in intervention.areas} != {a.id for a in clean["areas"]}:
        changed.append("areas")
    if {c.id for c in intervention.categories} != {c.id for c in clean["categories"]}:
        changed.append("categories")
    if not changed:
        return intervention
    def apply() -> None:
        for name in ("title", "kind", "description", "agency_id", "start_date", "end_date", "process", "areas",
                     "categories"):
            setattr(intervention, name, clean[name])
        # Touch the row so its version moves even when only the link tables change.
        intervention.updated_at = utcnow()

    flush_in_savepoint(apply, lambda: InterventionConflict(CONFLICT_MESSAGE))
    audit.record("intervention.update", object_type="intervention", object_id=intervention.id,
                 detail={"fields": ",".join(sorted(changed))[:100]})
    return intervention


def delete_intervention(intervention: Intervention, *, by: Any) -> None:
    """Delete an intervention (after the user confirmed); audit ``intervention.delete``."""
    ident = intervention.id
    detail = _detail(intervention)
    db.session.delete(intervention)
    db.session.flush()
    audit.record("intervention.delete", object_type="intervention", object_id=ident, detail=detail)
