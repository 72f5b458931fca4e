"""Areas from a GeoJSON file: read, preview (what would be created, updated or refused), then apply.

The administrator uploads a FeatureCollection of Polygon/MultiPolygon features, such as the
municipality's own districts or SCB's DeSO areas, in SWEREF 99 TM or WGS 84. Reading never changes
anything. The file waits in a staging folder until the administrator confirms the preview, and
``apply_import`` reads it again against today's areas. Areas are matched by code: a known code
updates that area's name and geometry, and a new code creates an area. Areas missing from the file
are left as they are. Every change is audited as ``taxonomy.changed``, the same as the area form.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import shapely
from flask import current_app
from flask_babel import lazy_gettext as _l
from shapely.geometry import shape
from sqlalchemy import select

from app.db import db
from app.overview import geography
from app.overview.models import Area
from app.overview.taxonomy import _audit

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_FEATURES = 2000
#: Corners of one area: more than a district or DeSO area needs, and the area form can still show it.
MAX_AREA_VERTICES = 20_000
MAX_NAME, MAX_CODE = 120, 40
#: Staged files older than this are removed (the preview must be confirmed within it).
STAGE_SECONDS = 3600

#: Properties tried, in order, when the administrator names none (case-insensitive).
NAME_CANDIDATES = ("namn", "name", "omradesnamn", "områdesnamn", "omrade", "område", "distriktsnamn", "distrikt",
                   "stadsdel", "regsonamn", "desonamn", "label", "kommunnamn")
CODE_CANDIDATES = ("kod", "code", "deso", "desokod", "deso_kod", "regsokod", "regso_kod", "distriktskod", "id", "fid")

#: The reason given for a geometry that encloses nothing (a line drawn as a polygon).
NO_AREA = _l("ingen yta")

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


class GeoImportError(ValueError):
    """The file as a whole cannot be read; the message is user-facing and nothing has changed."""


@dataclass
class Feature:
    index: int
    name: str
    code: str
    geometry_json: str
    vertices: int
    parts: int
    holes: int
    repaired: str | None = None
    #: Filled by plan(): "create" or "update", and for an update the existing area's id and what changes.
    action: str = ""
    area_id: int | None = None
    changes: list[str] = field(default_factory=list)


@dataclass
class Refused:
    index: int
    label: str
    reason: str


@dataclass
class GeoFile:
    epsg: int
    crs_guessed: bool
    properties: list[str]
    name_property: str | None
    code_property: str | None
    features: list[Feature]
    refused: list[Refused]
    renamed: int = 0


# ------------------------------------------------------------------ reading


def _ascii_key(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()


def _pick(properties: list[str], wanted: str | None, candidates: tuple[str, ...]) -> str | None:
    by_key = {}
    for name in properties:
        by_key.setdefault(name.casefold(), name)
        by_key.setdefault(_ascii_key(name), name)
    if wanted:
        found = by_key.get(wanted.strip().casefold()) or by_key.get(_ascii_key(wanted.strip()))
        if found is None:
            raise GeoImportError(_l("Egenskapen ”%(name)s” finns inte i filen. Filen har: %(found)s.",
                                    name=wanted.strip()[:60], found=", ".join(properties[:30]) or "–"))
        return found
    for candidate in candidates:
        if candidate in by_key:
            return by_key[candidate]
    return None


def slug(text: str) -> str:
    """A code from a name: "Östra hamnen" → "ostra-hamnen"."""
    ascii_text = _ascii_key(text)
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:MAX_CODE]


def _clean_code(value) -> str:
    text = str(value).strip().lower()
    return re.sub(r"[^a-z0-9_-]+", "-", text).strip("-")[:MAX_CODE]


def _text(value) -> str:
    if value is None or isinstance(value, (dict, list, bool)):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


def _crs(document: dict) -> int | None:
    crs = document.get("crs")
    if crs is None:
        return None
    name = crs.get("properties", {}).get("name") if isinstance(crs, dict) and isinstance(
        crs.get("properties"), dict) else None
    if not isinstance(name, str):
        raise GeoImportError(_l("Filens koordinatsystem (crs) går inte att läsa. Ange det som "
                                "”urn:ogc:def:crs:EPSG::3006” eller utelämna det."))
    try:
        return geography.epsg_from_name(name)
    except geography.CrsError:
        raise GeoImportError(_l("Okänt koordinatsystem ”%(name)s”. Använd SWEREF 99 TM (EPSG:3006) eller "
                                "WGS 84 (EPSG:4326).", name=name.strip()[:80])) from None


def _document(data: bytes) -> dict:
    if len(data) > MAX_FILE_BYTES:
        raise GeoImportError(_l("Filen är för stor (högst %(max)d MB).", max=MAX_FILE_BYTES // (1024 * 1024)))
    if not data.strip():
        raise GeoImportError(_l("Filen är tom."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise GeoImportError(_l("Filen är inte GeoJSON: den är inte text i UTF-8.")) from None
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        raise GeoImportError(_l("Filen är inte giltig JSON. Exportera lagret som GeoJSON och försök igen.")) from None
    if isinstance(document, dict) and document.get("type") == "Feature":
        document = {"type": "FeatureCollection", "features": [document], **(
            {"crs": document["crs"]} if "crs" in document else {})}
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection" \
            or not isinstance(document.get("features"), list):
        raise GeoImportError(_l("Filen är inte en GeoJSON FeatureCollection (”type”: ”FeatureCollection” med en "
                                "lista ”features”)."))
    if not document["features"]:
        raise GeoImportError(_l("Filen innehåller inga områden (listan ”features” är tom)."))
    if len(document["features"]) > MAX_FEATURES:
        raise GeoImportError(_l("Filen har fler än %(max)d områden.", max=MAX_FEATURES))
    return document


def _geometry(raw) -> tuple[object | None, str | None]:
    """(shapely geometry, None) or (None, the reason it was refused)."""
    if not isinstance(raw, dict) or raw.get("type") is None:
        return None, str(_l("Geometri saknas."))
    if raw.get("type") not in ("Polygon", "MultiPolygon"):
        return None, str(_l("Geometritypen %(type)s stöds inte (bara Polygon och MultiPolygon).",
                            type=str(raw.get("type"))[:40]))
    try:
        geometry = shape(raw)
        numbers = shapely.get_coordinates(geometry)
    except (ValueError, TypeError, IndexError, KeyError, AttributeError, shapely.errors.GEOSException):
        return None, str(_l("Koordinaterna går inte att läsa (varje punkt ska vara [x, y])."))
    if geometry.is_empty:
        return None, str(_l("Geometrin är tom."))
    if not numbers.size or not np.isfinite(numbers).all():
        return None, str(_l("Koordinaterna går inte att läsa (varje punkt ska vara [x, y])."))
    if geography.vertex_count(geometry) > MAX_AREA_VERTICES:
        return None, str(_l("Området har fler än %(max)d hörn. Förenkla lagret (t.ex. i QGIS) och försök igen.",
                            max=MAX_AREA_VERTICES))
    return geometry, None


def read_geojson(data: bytes, *, name_property: str | None = None, code_property: str | None = None) -> GeoFile:
    """Read and check a GeoJSON file without changing anything; GeoImportError when the whole file is unusable.

    Features that cannot be used are listed in ``refused`` with their reason. When the name property
    repeats (DeSO files name every area after its municipality), the code is added to the name.
    """
    document = _document(data)
    features = document["features"]
    properties: list[str] = []
    for raw in features:
        props = raw.get("properties") if isinstance(raw, dict) else None
        for key in props or {}:
            if isinstance(key, str) and key not in properties:
                properties.append(key)
    name_key = _pick(properties, name_property, NAME_CANDIDATES)
    code_key = _pick(properties, code_property, CODE_CANDIDATES)
    if name_key is None and code_key is None:
        raise GeoImportError(_l("Hittar ingen egenskap med områdenas namn. Ange vilken egenskap som håller namnet. "
                                "Filen har: %(found)s.", found=", ".join(properties[:30]) or "–"))

    epsg = _crs(document)
    parsed = []
    refused: list[Refused] = []
    for index, raw in enumerate(features, start=1):
        props = raw.get("properties") if isinstance(raw, dict) and isinstance(raw.get("properties"), dict) else {}
        name = _text(props.get(name_key))[:MAX_NAME] if name_key else ""
        code_raw = _text(props.get(code_key)) if code_key else ""
        label = name or code_raw or f"#{index}"
        if not isinstance(raw, dict) or raw.get("type") != "Feature":
            refused.append(Refused(index, label, str(_l("Posten är inte en GeoJSON Feature."))))
            continue
        if not name and not code_raw:
            refused.append(Refused(index, label, str(_l("Området saknar namn."))))
            continue
        geometry, problem = _geometry(raw.get("geometry"))
        if problem:
            refused.append(Refused(index, label, problem))
            continue
        parsed.append((index, name, code_raw, geometry))

    if not parsed:
        return GeoFile(epsg or geography.WGS84, epsg is None, properties, name_key, code_key, [], refused)
    guessed = epsg is None
    if guessed:
        bounds = shapely.total_bounds([g for _i, _n, _c, g in parsed])
        try:
            epsg = geography.guess_epsg(tuple(bounds))
        except geography.CrsError:
            raise GeoImportError(_l("Koordinaterna är varken longitud/latitud (WGS 84) eller meter i SWEREF 99 TM, "
                                    "och filen anger inget koordinatsystem (crs).")) from None

    counts: dict[str, int] = {}
    for _i, name, _c, _g in parsed:
        counts[name.casefold()] = counts.get(name.casefold(), 0) + 1
    result: list[Feature] = []
    renamed = 0
    for index, name, code_raw, geometry in parsed:
        if not name or (counts[name.casefold()] > 1 and code_raw):
            renamed += bool(name)
            name = f"{name} {code_raw}".strip()[:MAX_NAME]
        code = _clean_code(code_raw) if code_raw else slug(name)
        if not code:
            refused.append(Refused(index, name, str(_l("Området saknar en kod som går att använda."))))
            continue
        valid, reason = geography.repair(geometry)
        if valid is None or valid.area <= 0:
            refused.append(Refused(index, name, str(_l("Geometrin är ogiltig och går inte att laga (%(reason)s).",
                                                       reason=reason or str(_l("ingen yta"))))))
            continue
        wgs = geography.polygonal(shapely.set_precision(geography.to_wgs84(valid, epsg), 10 ** -geography.STORED_DECIMALS))
        if wgs is None or wgs.area <= 0:
            refused.append(Refused(index, name, str(_l("Geometrin är ogiltig och går inte att laga (%(reason)s).",
                                                       reason=str(NO_AREA)))))
            continue
        if not all(-180 <= v <= 180 for v in wgs.bounds[::2]) \
                or not all(-90 <= v <= 90 for v in wgs.bounds[1::2]):
            refused.append(Refused(index, name, str(_l("Området hamnar utanför jorden efter omräkningen: kontrollera "
                                                       "koordinatsystemet."))))
            continue
        polygons = list(wgs.geoms) if wgs.geom_type == "MultiPolygon" else [wgs]
        result.append(Feature(index=index, name=name, code=code, geometry_json=geography.geometry_json(wgs),
                              vertices=geography.vertex_count(wgs), parts=len(polygons),
                              holes=sum(len(p.interiors) for p in polygons), repaired=reason))
    return GeoFile(epsg, guessed, properties, name_key, code_key, result, sorted(refused, key=lambda r: r.index),
                   renamed)


# ------------------------------------------------------------------ preview and apply


def plan(geo: GeoFile) -> GeoFile:
    """Decide per feature: create, update (by code) or refuse (a repeated code, a name another area has)."""
    existing = list(db.session.scalars(select(Area)))
    by_code = {a.code.lower(): a for a in existing}
    by_name = {a.name.casefold(): a for a in existing}
    seen_codes: set[str] = set()
    seen_names: set[str] = set()
    kept: list[Feature] = []
    for feature in geo.features:
        if feature.code in seen_codes:
            geo.refused.append(Refused(feature.index, feature.name, str(_l("Koden %(code)s förekommer flera gånger i "
                                                                           "filen.", code=feature.code))))
            continue
        if feature.name.casefold() in seen_names:
            geo.refused.append(Refused(feature.index, feature.name, str(_l("Namnet förekommer flera gånger i filen."))))
            continue
        area = by_code.get(feature.code)
        named = by_name.get(feature.name.casefold())
        if named is not None and named is not area:
            geo.refused.append(Refused(feature.index, feature.name, str(_l(
                "Det finns redan ett område med namnet %(name)s (kod %(code)s).", name=named.name, code=named.code))))
            continue
        seen_codes.add(feature.code)
        seen_names.add(feature.name.casefold())
        if area is None:
            feature.action = "create"
        else:
            feature.action, feature.area_id = "update", area.id
            feature.changes = [k for k, v in (("name", feature.name), ("polygon", feature.geometry_json))
                               if getattr(area, k) != v]
        kept.append(feature)
    geo.features = kept
    geo.refused.sort(key=lambda r: r.index)
    return geo


def preview(data: bytes, **properties) -> GeoFile:
    return plan(read_geojson(data, **properties))


def apply_import(data: bytes, **properties) -> dict[str, int]:
    """Create and update the areas of the file as the preview showed them; audited per area."""
    geo = preview(data, **properties)
    created = updated = 0
    for feature in geo.features:
        if feature.action == "create":
            area = Area(name=feature.name, code=feature.code, polygon=feature.geometry_json, active=True)
            db.session.add(area)
            db.session.flush()
            _audit("area", "created", area)
            created += 1
        elif feature.changes:
            area = db.session.get(Area, feature.area_id)
            for key in feature.changes:
                setattr(area, key, feature.name if key == "name" else feature.geometry_json)
            db.session.flush()
            _audit("area", "updated", area, sorted(feature.changes))
            updated += 1
    return {"created": created, "updated": updated, "unchanged": len(geo.features) - created - updated,
            "refused": len(geo.refused)}


# ------------------------------------------------------------------ staging between preview and confirm


def _stage_dir() -> str:
    return current_app.config.get("AREA_IMPORT_DIR") or os.path.join(current_app.instance_path, "area-imports")


def _sweep(directory: str) -> None:
    cutoff = time.time() - STAGE_SECONDS
    for name in os.listdir(directory):
        path = os.path.join(directory, name)
        try:
            if os.path.getmtime(path) < cutoff:
                os.remove(path)
        except OSError:
            pass


def stage(data: bytes, user_id: int) -> str:
    """Keep the uploaded file until it is confirmed; returns a random token (sent in the form, never in a URL)."""
    directory = _stage_dir()
    os.makedirs(directory, mode=0o700, exist_ok=True)
    _sweep(directory)
    token = secrets.token_urlsafe(24)
    with open(os.path.join(directory, f"{token}.{int(user_id)}.geojson"), "wb") as handle:
        handle.write(data)
    return token


def staged(token: str | None, user_id: int) -> bytes | None:
    """The file staged by this user under ``token``; None when unknown, expired or someone else's."""
    if not token or not _TOKEN.match(token):
        return None
    path = os.path.join(_stage_dir(), f"{token}.{int(user_id)}.geojson")
    try:
        if os.path.getmtime(path) < time.time() - STAGE_SECONDS:
            return None
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def discard(token: str, user_id: int) -> None:
    if token and _TOKEN.match(token):
        try:
            os.remove(os.path.join(_stage_dir(), f"{token}.{int(user_id)}.geojson"))
        except OSError:
            pass
