"""Area geometry: the stored format, coordinate systems, and which area a point lies in.

``Area.polygon`` holds WGS 84 longitude/latitude as JSON text in one of two forms:

- a GeoJSON geometry, ``{"type": "Polygon" | "MultiPolygon", "coordinates": ...}`` (areas imported from
  GeoJSON, with holes and several parts);
- the older single ring ``[[lon, lat], ...]`` (typed in the area form, the demo areas).

Both read into a shapely geometry here. Files in SWEREF 99 TM (EPSG:3006, the national grid SCB's DeSO
areas come in) or one of the SWEREF 99 local zones (EPSG:3007–3018) are transformed to WGS 84 with pyproj.
"""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree
from shapely.validation import explain_validity, make_valid

WGS84 = 4326
SWEREF99_TM = 3006
#: EPSG codes read from a file: WGS 84, SWEREF 99 TM and the SWEREF 99 local projection zones.
ACCEPTED_EPSG = frozenset({WGS84, SWEREF99_TM, *range(3007, 3019)})
#: Decimals kept of a stored longitude/latitude (1e-7 degrees is about a centimetre).
STORED_DECIMALS = 7

_EPSG_NAME = re.compile(r"^(?:urn:ogc:def:crs:epsg:[0-9.]*:|epsg:|https?://www\.opengis\.net/def/crs/epsg/[0-9.]+/)"
                        r"(\d{4,6})$", re.IGNORECASE)
_CRS84 = re.compile(r"^(?:urn:ogc:def:crs:ogc:[0-9.]*:crs84|https?://www\.opengis\.net/def/crs/ogc/[0-9.]+/crs84)$",
                    re.IGNORECASE)


class CrsError(ValueError):
    """A coordinate reference system the import does not know; ``name`` is what the file said (or None)."""

    def __init__(self, name: str | None):
        super().__init__(name or "")
        self.name = name


# ------------------------------------------------------------------ coordinate systems


def epsg_from_name(name: str) -> int:
    """The EPSG code of a GeoJSON ``crs`` name ("urn:ogc:def:crs:EPSG::3006", "EPSG:4326", CRS84)."""
    text = name.strip()
    if _CRS84.match(text):
        return WGS84
    found = _EPSG_NAME.match(text)
    if found and int(found.group(1)) in ACCEPTED_EPSG:
        return int(found.group(1))
    raise CrsError(text[:80])


def guess_epsg(bounds: tuple[float, float, float, float]) -> int:
    """A file without ``crs``: longitude/latitude ranges mean WGS 84, metres in Sweden's range SWEREF 99 TM."""
    min_x, min_y, max_x, max_y = bounds
    if -180 <= min_x <= max_x <= 180 and -90 <= min_y <= max_y <= 90:
        return WGS84
    if 100_000 <= min_x <= max_x <= 1_100_000 and 6_000_000 <= min_y <= max_y <= 7_800_000:
        return SWEREF99_TM
    raise CrsError(None)


@lru_cache(maxsize=16)
def _transformer(epsg: int):
    from pyproj import Transformer

    return Transformer.from_crs(f"EPSG:{epsg}", f"EPSG:{WGS84}", always_xy=True)


def to_wgs84(geometry: BaseGeometry, epsg: int) -> BaseGeometry:
    """The geometry in WGS 84 longitude/latitude (unchanged when it already is)."""
    if epsg == WGS84:
        return geometry
    transformer = _transformer(epsg)

    def convert(xy: np.ndarray) -> np.ndarray:
        lon, lat = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(geometry, convert)


def point_to_wgs84(x: float, y: float, epsg: int) -> tuple[float, float]:
    """(lon, lat) of one coordinate pair (x = easting, y = northing for SWEREF)."""
    lon, lat = _transformer(epsg).transform(x, y) if epsg != WGS84 else (x, y)
    return float(lon), float(lat)


# ------------------------------------------------------------------ geometry


def polygonal(geometry: BaseGeometry) -> Polygon | MultiPolygon | None:
    """Only the areal parts of a geometry (make_valid may return lines beside them); None if there are none."""
    if isinstance(geometry, (Polygon, MultiPolygon)):
        return None if geometry.is_empty else geometry
    parts = [g for g in getattr(geometry, "geoms", []) if isinstance(g, (Polygon, MultiPolygon)) and not g.is_empty]
    polygons = [p for g in parts for p in (g.geoms if isinstance(g, MultiPolygon) else [g])]
    if not polygons:
        return None
    return polygons[0] if len(polygons) == 1 else MultiPolygon(polygons)


def repair(geometry: BaseGeometry) -> tuple[Polygon | MultiPolygon | None, str | None]:
    """(valid polygonal geometry or None, the reason it was invalid, e.g. "Self-intersection[…]")."""
    if geometry.is_valid:
        return polygonal(geometry), None
    reason = explain_validity(geometry)
    return polygonal(make_valid(geometry)), reason


def _rounded(coordinates, decimals: int):
    if isinstance(coordinates, (int, float)):
        return round(float(coordinates), decimals)
    return [_rounded(c, decimals) for c in coordinates]


def geometry_json(geometry: Polygon | MultiPolygon) -> str:
    """The stored form: a GeoJSON geometry in WGS 84, coordinates rounded to STORED_DECIMALS."""
    shaped = mapping(geometry)
    return json.dumps({"type": shaped["type"], "coordinates": _rounded(shaped["coordinates"], STORED_DECIMALS)},
                      separators=(",", ":"))


def _finite(values) -> bool:
    return all(math.isfinite(v) for v in values)


def load_geometry(text: str | None) -> Polygon | MultiPolygon | None:
    """The stored polygon of an area as a valid shapely geometry; None when missing or unreadable."""
    if not text:
        return None
    try:
        data = json.loads(text)
        if isinstance(data, list):  # the older single ring [[lon, lat], ...]
            points = [(float(p[0]), float(p[1])) for p in data]
            if len(points) < 3 or not _finite(v for p in points for v in p):
                return None
            geometry = Polygon(points)
        elif isinstance(data, dict) and data.get("type") in ("Polygon", "MultiPolygon"):
            geometry = shape(data)
        else:
            return None
    except (ValueError, TypeError, IndexError, KeyError, AttributeError, shapely.errors.GEOSException):
        return None
    if geometry.is_empty or not _finite(geometry.bounds):
        return None
    return repair(geometry)[0]


def vertex_count(geometry: BaseGeometry) -> int:
    return int(shapely.get_num_coordinates(geometry))


def drawing_coordinates(geometry: Polygon | MultiPolygon, tolerance: float, decimals: int = 5) -> list:
    """MultiPolygon coordinates [[[[lon, lat], ...] ring, ...] polygon, ...] for the SVG map, simplified to
    ``tolerance`` degrees (topology kept, so holes stay holes) and rounded."""
    simple = geometry.simplify(tolerance, preserve_topology=True) if tolerance > 0 else geometry
    polygons = simple.geoms if isinstance(simple, MultiPolygon) else [simple]
    out = []
    for polygon in polygons:
        if polygon.is_empty:
            continue
        rings = [polygon.exterior, *polygon.interiors]
        out.append([_rounded([list(c[:2]) for c in ring.coords], decimals) for ring in rings])
    return out


# ------------------------------------------------------------------ the area of a point


class AreaLocator:
    """Active areas' geometries in an R-tree: ``locate(lat, lon)`` → area id or None.

    A point on a shared border belongs to the area first by name, so the answer is always the same.
    """

    def __init__(self, rows: list[tuple[int, str, str | None]]):
        self.ids: list[int] = []
        geometries = []
        for area_id, _name, text in sorted(rows, key=lambda r: (r[1].casefold(), r[0])):
            geometry = load_geometry(text)
            if geometry is not None:
                self.ids.append(area_id)
                geometries.append(geometry)
        self.geometries = geometries
        self.tree = STRtree(geometries) if geometries else None

    def locate(self, lat: float, lon: float) -> int | None:
        if self.tree is None or not (math.isfinite(lat) and math.isfinite(lon)):
            return None
        hits = self.tree.query(Point(lon, lat), predicate="intersects")
        return self.ids[int(min(hits))] if len(hits) else None


_cache: dict = {"signature": None, "locator": None}


def area_locator() -> AreaLocator:
    """The locator of the active areas with a polygon, rebuilt only when one of them changed."""
    from sqlalchemy import func, select

    from app.db import db
    from app.overview.models import Area

    active = (Area.active.is_(True), Area.polygon.is_not(None))
    signature = tuple(db.session.execute(
        select(Area.id, Area.name, Area.updated_at, func.length(Area.polygon)).where(*active).order_by(Area.id)).all())
    if _cache["signature"] != signature or _cache["locator"] is None:
        rows = db.session.execute(select(Area.id, Area.name, Area.polygon).where(*active)).all()
        _cache.update(signature=signature, locator=AreaLocator([tuple(r) for r in rows]))
    return _cache["locator"]


def area_for_point(lat: float | None, lon: float | None) -> int | None:
    """The id of the active area that contains the point (WGS 84), or None (no point, or inside no area)."""
    if lat is None or lon is None:
        return None
    return area_locator().locate(float(lat), float(lon))


def drawable_shapes(areas: list[dict], polygons: dict[int, str | None], *, width_px: int = 420) -> list[dict]:
    """[{area_id, polygon}] for the SVG map in the order of ``areas``: MultiPolygon coordinates simplified to
    about a third of a pixel of the map, so a detailed DeSO file draws light (None when missing or unreadable)."""
    geometries = {a["id"]: load_geometry(polygons.get(a["id"])) for a in areas}
    present = [g for g in geometries.values() if g is not None]
    tolerance = 0.0
    if present:
        min_x, min_y, max_x, max_y = shapely.total_bounds(present)
        kx = math.cos(math.radians((min_y + max_y) / 2))
        tolerance = max((max_x - min_x) * kx, max_y - min_y) / (width_px * 3)
    return [{"area_id": a["id"],
             "polygon": drawing_coordinates(geometries[a["id"]], tolerance) if geometries[a["id"]] else None}
            for a in areas]
