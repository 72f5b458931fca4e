"""Areas and incident categories: the administrator's lists, and the default categories.

An area or category that reports use is deactivated, never deleted, so old
reports and published weeks keep their meaning. Every change is audited as
``taxonomy.changed`` (what changed, never free text).
"""

from __future__ import annotations

import json
import math

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from app.db import db
from app.overview.models import Area, Category, IncidentReport
from app.security.audit import record
from app.security.permissions import Permission

#: (code, Swedish name, English name), in the order of BRIEF.md.
DEFAULT_CATEGORIES: list[tuple[str, str, str]] = [
    ("skadegorelse", "Skadegörelse", "Vandalism"),
    ("klotter", "Klotter", "Graffiti"),
    ("nedskrapning", "Nedskräpning", "Littering"),
    ("brand", "Brand, inklusive fordonsbrand", "Fire, including vehicle fire"),
    ("samling", "Otrygghetsskapande samling", "Insecurity-creating gathering"),
    ("hot", "Hot", "Threats"),
    ("vald", "Våld/bråk", "Violence, fights"),
    ("narkotika", "Misstänkt narkotikahantering", "Suspected drug activity"),
    ("otrygg_plats", "Otrygg plats", "Unsafe place"),
    ("personal", "Incident mot personal", "Incident against staff"),
    ("inbrott_stold", "Inbrott/stöld", "Burglary, theft"),
    ("buskorning", "Buskörning", "Reckless driving"),
    ("ordningsstorning", "Ordningsstörning", "Public disorder"),
    ("sociala_medier", "Oro/rykten i sociala medier", "Unrest or rumours on social media"),
    ("arrangemang", "Arrangemang/information", "Planned event, information"),
    ("ovrigt", "Övrigt", "Other"),
]

MAX_POLYGON_POINTS = 500
AREA_SORTS = {"name": Area.name, "-name": Area.name.desc(), "code": Area.code, "-code": Area.code.desc()}
CATEGORY_SORTS = {
    "order": Category.sort_order, "-order": Category.sort_order.desc(),
    "name": Category.name_sv, "-name": Category.name_sv.desc(),
    "code": Category.code, "-code": Category.code.desc(),
}


class TaxonomyError(ValueError):
    """A change the administrator must correct: ``field`` names the form field, the message is user-facing."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.field = field


# ------------------------------------------------------------------ polygons


def parse_polygon(text: str | None) -> list[list[float]] | None:
    """A polygon from JSON text ``[[lon, lat], ...]``: at least 3 points, WGS 84 ranges. Empty → None."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        points = json.loads(text)
    except ValueError:
        raise TaxonomyError(_l("Polygonen är inte giltig JSON. Skriv den som [[longitud, latitud], ...]."),
                            "polygon") from None
    if not isinstance(points, list) or not all(isinstance(p, list) and len(p) == 2 for p in points):
        raise TaxonomyError(_l("Polygonen ska vara en lista av punkter [longitud, latitud]."), "polygon")
    if len(points) > 1 and points[0] == points[-1]:
        points = points[:-1]  # an explicitly closed ring: the first point repeated at the end
    if len(points) < 3:
        raise TaxonomyError(_l("Polygonen behöver minst tre olika punkter."), "polygon")
    if len(points) > MAX_POLYGON_POINTS:
        raise TaxonomyError(_l("Polygonen får ha högst %(max)s punkter.", max=MAX_POLYGON_POINTS), "polygon")
    clean = []
    for lon, lat in points:
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in (lon, lat)):
            raise TaxonomyError(_l("Polygonens koordinater ska vara tal."), "polygon")
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise TaxonomyError(_l("Longitud ska vara mellan -180 och 180 och latitud mellan -90 och 90."), "polygon")
        clean.append([round(float(lon), 6), round(float(lat), 6)])
    if len({tuple(p) for p in clean}) < 3:
        raise TaxonomyError(_l("Polygonen behöver minst tre olika punkter."), "polygon")
    return clean


def polygon_points(area: Area) -> list[list[float]]:
    """The stored polygon of an area as a list of [lon, lat] (empty if none or unreadable)."""
    try:
        points = json.loads(area.polygon or "[]")
    except ValueError:
        return []
    return points if isinstance(points, list) else []


# ------------------------------------------------------------------ choices for forms


def active_areas() -> list[Area]:
    return list(db.session.scalars(select(Area).where(Area.active.is_(True)).order_by(Area.name)))


def active_categories() -> list[Category]:
    return list(db.session.scalars(
        select(Category).where(Category.active.is_(True)).order_by(Category.sort_order, Category.name_sv)))


def area_names() -> dict[int, str]:
    """Every area's name by id (inactive ones too: old reports and history name them)."""
    return dict(db.session.execute(select(Area.id, Area.name)).all())


def category_names(locale: str | None) -> dict[int, str]:
    """Every category's name in the UI language by id."""
    return {c.id: c.name(locale) for c in db.session.scalars(select(Category))}


# ------------------------------------------------------------------ lists


def _usage(column, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = db.session.execute(select(column, func.count()).where(column.in_(ids)).group_by(column))
    return dict(rows.all())


def list_areas(q: str = "", sort: str = "name", page: int = 1, per_page: int = 25):
    """Areas searchable by name or code, sorted and paginated, with how many reports use each."""
    stmt = select(Area)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(Area.name.ilike(like), Area.code.ilike(like)))
    stmt = stmt.order_by(AREA_SORTS.get(sort, Area.name), Area.id)
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False)
    return pagination, _usage(IncidentReport.area_id, [a.id for a in pagination.items])


def list_categories(q: str = "", sort: str = "order", page: int = 1, per_page: int = 25):
    """Categories searchable by code or either name, sorted and paginated, with their report counts."""
    stmt = select(Category)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(Category.code.ilike(like), Category.name_sv.ilike(like), Category.name_en.ilike(like)))
    stmt = stmt.order_by(CATEGORY_SORTS.get(sort, Category.sort_order), Category.name_sv, Category.id)
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False)
    return pagination, _usage(IncidentReport.category_id, [c.id for c in pagination.items])


def reports_using(obj: Area | Category) -> int:
    column = IncidentReport.area_id if isinstance(obj, Area) else IncidentReport.category_id
    return db.session.scalar(select(func.count()).select_from(IncidentReport).where(column == obj.id)) or 0


# ------------------------------------------------------------------ changes


def _clean(value: str | None) -> str:
    return (value or "").strip()


def _unique(model, column, value: str, exclude_id: int | None, message, field: str) -> None:
    stmt = select(model.id).where(func.lower(column) == value.lower())
    if exclude_id is not None:
        stmt = stmt.where(model.id != exclude_id)
    if db.session.scalar(stmt) is not None:
        raise TaxonomyError(message, field)


def _audit(kind: str, action: str, obj, changed: list[str] = ()) -> None:
    record("taxonomy.changed", object_type=obj.__tablename__, object_id=obj.id, permission=Permission.TAXONOMY_MANAGE,
           detail={"kind": kind, "action": action, "changed": ",".join(changed), "active": str(obj.active).lower()})


def _area_values(name: str, code: str, polygon: str | None, exclude_id: int | None) -> dict:
    name, code = _clean(name), _clean(code).lower()
    if not name:
        raise TaxonomyError(_l("Ange ett namn."), "name")
    if not code:
        raise TaxonomyError(_l("Ange en kod."), "code")
    _unique(Area, Area.name, name, exclude_id, _l("Det finns redan ett område med det namnet."), "name")
    _unique(Area, Area.code, code, exclude_id, _l("Det finns redan ett område med den koden."), "code")
    points = parse_polygon(polygon)
    return {"name": name, "code": code, "polygon": json.dumps(points) if points else None}


def create_area(*, name: str, code: str, polygon: str | None = None, active: bool = True) -> Area:
    """Add an area (polygon as JSON text, validated)."""
    area = Area(active=bool(active), **_area_values(name, code, polygon, None))
    db.session.add(area)
    db.session.flush()
    _audit("area", "created", area)
    return area


def has_imported_geometry(area: Area) -> bool:
    """True when the area's polygon is a GeoJSON geometry from a file import (not a ring typed in the form)."""
    return (area.polygon or "").lstrip().startswith("{")


def update_area(area: Area, *, name: str, code: str, polygon: str | None, active: bool) -> Area:
    """Rename, recode, redraw or (de)activate an area. An imported geometry is kept when ``polygon`` is empty
    (the form does not show it; a new GeoJSON import or a typed ring replaces it)."""
    values = _area_values(name, code, polygon, area.id) | {"active": bool(active)}
    if values["polygon"] is None and has_imported_geometry(area):
        values["polygon"] = area.polygon
    changed = sorted(k for k, v in values.items() if getattr(area, k) != v)
    for key in changed:
        setattr(area, key, values[key])
    db.session.flush()
    if changed:
        _audit("area", "updated", area, changed)
    return area


def _category_values(code: str, name_sv: str, name_en: str, sort_order: int | None, exclude_id: int | None) -> dict:
    code, name_sv, name_en = _clean(code).lower(), _clean(name_sv), _clean(name_en)
    if not code:
        raise TaxonomyError(_l("Ange en kod."), "code")
    if not name_sv:
        raise TaxonomyError(_l("Ange ett svenskt namn."), "name_sv")
    if not name_en:
        raise TaxonomyError(_l("Ange ett engelskt namn."), "name_en")
    _unique(Category, Category.code, code, exclude_id, _l("Det finns redan en kategori med den koden."), "code")
    return {"code": code, "name_sv": name_sv, "name_en": name_en, "sort_order": int(sort_order or 0)}


def create_category(*, code: str, name_sv: str, name_en: str, sort_order: int | None = 0,
                    active: bool = True) -> Category:
    """Add an incident category with its Swedish and English names."""
    category = Category(active=bool(active), **_category_values(code, name_sv, name_en, sort_order, None))
    db.session.add(category)
    db.session.flush()
    _audit("category", "created", category)
    return category


def update_category(category: Category, *, code: str, name_sv: str, name_en: str, sort_order: int | None,
                    active: bool) -> Category:
    """Rename, reorder or (de)activate a category."""
    values = _category_values(code, name_sv, name_en, sort_order, category.id) | {"active": bool(active)}
    changed = sorted(k for k, v in values.items() if getattr(category, k) != v)
    for key in changed:
        setattr(category, key, values[key])
    db.session.flush()
    if changed:
        _audit("category", "updated", category, changed)
    return category


def delete_unused(obj: Area | Category) -> None:
    """Delete an area or category that no report uses; one in use must be deactivated instead."""
    if reports_using(obj):
        raise TaxonomyError(_l("Det finns rapporter som använder den här posten. Inaktivera den i stället."))
    kind = "area" if isinstance(obj, Area) else "category"
    _audit(kind, "deleted", obj)
    db.session.delete(obj)
    db.session.flush()


def ensure_default_categories() -> dict[str, Category]:
    """Create the default categories that are missing (by code); return every category by code."""
    existing = {c.code: c for c in db.session.scalars(select(Category))}
    for order, (code, name_sv, name_en) in enumerate(DEFAULT_CATEGORIES, start=1):
        if code not in existing:
            existing[code] = Category(code=code, name_sv=name_sv, name_en=name_en, sort_order=order * 10, active=True)
            db.session.add(existing[code])
    db.session.flush()
    return existing
