"""Area geometry without a database: coordinate systems, reading GeoJSON, point in area, the stored format, the map."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
from shapely.geometry import MultiPolygon, Polygon

from app.overview import area_import, charts, geography

pytestmark = pytest.mark.engine_independent

DATA = Path(__file__).resolve().parents[1] / "data"


def _kruger_grid_to_geodetic(northing: float, easting: float) -> tuple[float, float]:
    """Lantmäteriet's Gauss–Krüger formulas (grid to geodetic) for SWEREF 99 TM on GRS 80: an independent
    reference, written out here rather than asking pyproj to check pyproj."""
    a, f = 6378137.0, 1 / 298.257222101
    lon0, k0, fn, fe = math.radians(15.0), 0.9996, 0.0, 500000.0
    e2 = f * (2 - f)
    n = f / (2 - f)
    a_roof = a / (1 + n) * (1 + n**2 / 4 + n**4 / 64)
    d1 = n / 2 - 2 * n**2 / 3 + 37 * n**3 / 96 - n**4 / 360
    d2 = n**2 / 48 + n**3 / 15 - 437 * n**4 / 1440
    d3 = 17 * n**3 / 480 - 37 * n**4 / 840
    d4 = 4397 * n**4 / 161280
    a_s = e2 + e2**2 + e2**3 + e2**4
    b_s = -(7 * e2**2 + 17 * e2**3 + 30 * e2**4) / 6
    c_s = (224 * e2**3 + 889 * e2**4) / 120
    d_s = -(4279 * e2**4) / 1260
    xi = (northing - fn) / (k0 * a_roof)
    eta = (easting - fe) / (k0 * a_roof)
    xi_p = xi - sum(d * math.sin(2 * j * xi) * math.cosh(2 * j * eta) for j, d in enumerate((d1, d2, d3, d4), 1))
    eta_p = eta - sum(d * math.cos(2 * j * xi) * math.sinh(2 * j * eta) for j, d in enumerate((d1, d2, d3, d4), 1))
    phi_star = math.asin(math.sin(xi_p) / math.cosh(eta_p))
    d_lambda = math.atan(math.sinh(eta_p) / math.cos(xi_p))
    s = math.sin(phi_star)
    phi = phi_star + s * math.cos(phi_star) * (a_s + b_s * s**2 + c_s * s**4 + d_s * s**6)
    return math.degrees(phi), math.degrees(lon0 + d_lambda)


def _collection(features, crs: str | None = None) -> bytes:
    doc = {"type": "FeatureCollection", "features": features}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    return json.dumps(doc).encode()


def _square(x0, y0, x1, y1):
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]


def _feature(props, coordinates, kind="Polygon"):
    return {"type": "Feature", "properties": props, "geometry": {"type": kind, "coordinates": coordinates}}


# ------------------------------------------------------------------ coordinate systems


def test_a_sweref99_tm_point_near_stockholms_centre_lands_in_wgs84():
    # Sergels torg-ish, 6580822 N / 674032 E: Lantmäteriet's formulas put it at 59.3302 N, 18.0592 E. (The
    # rounded "59.3293 N, 18.0686 E" often quoted for Stockholm's centre is about 500 m east of this point.)
    lon, lat = geography.point_to_wgs84(674032, 6580822, geography.SWEREF99_TM)
    ref_lat, ref_lon = _kruger_grid_to_geodetic(6580822, 674032)
    assert abs(lat - ref_lat) < 1e-7 and abs(lon - ref_lon) < 1e-7  # a centimetre
    assert abs(lat - 59.3293) < 0.005 and abs(lon - 18.0686) < 0.015  # and in Stockholm's centre


def test_a_sweref_file_is_transformed_and_a_wgs84_file_is_kept():
    sweref = area_import.read_geojson((DATA / "areas_sweref99tm.geojson").read_bytes())
    assert sweref.epsg == 3006 and not sweref.crs_guessed
    assert [f.name for f in sweref.features] == ["Norrmalm (geo)", "Södermalm (geo)"]
    corners = json.loads(sweref.features[0].geometry_json)["coordinates"][0]
    for northing, easting in ((6581000, 673000), (6583000, 675000)):
        ref_lat, ref_lon = _kruger_grid_to_geodetic(northing, easting)
        assert min(abs(lon - ref_lon) + abs(lat - ref_lat) for lon, lat in corners) < 1e-6

    wgs = area_import.read_geojson(_collection([_feature({"namn": "A", "kod": "a"}, [_square(18.0, 59.3, 18.1, 59.4)])],
                                               "urn:ogc:def:crs:OGC:1.3:CRS84"))
    assert wgs.epsg == 4326 and [18.0, 59.3] in json.loads(wgs.features[0].geometry_json)["coordinates"][0]


@pytest.mark.parametrize("name, epsg", [
    ("urn:ogc:def:crs:EPSG::3006", 3006), ("EPSG:3006", 3006), ("urn:ogc:def:crs:EPSG:6.6:4326", 4326),
    ("urn:ogc:def:crs:OGC:1.3:CRS84", 4326), ("http://www.opengis.net/def/crs/EPSG/0/3011", 3011),
])
def test_crs_names(name, epsg):
    assert geography.epsg_from_name(name) == epsg


def test_without_crs_the_coordinates_decide():
    assert geography.guess_epsg((17.8, 59.2, 18.2, 59.5)) == 4326
    assert geography.guess_epsg((660000, 6570000, 690000, 6600000)) == 3006
    with pytest.raises(geography.CrsError):
        geography.guess_epsg((1000, 1000, 5000, 5000))


def test_deso_properties_are_detected_and_repeated_names_get_the_code():
    features = [_feature({"deso": f"0163C10{i}0", "kommun": "0163", "kommunnamn": "Sollentuna"},
                         [_square(670000 + i * 1000, 6590000, 670900 + i * 1000, 6590900)]) for i in range(2)]
    geo = area_import.read_geojson(_collection(features))  # no crs: metres in Sweden's range
    assert geo.crs_guessed and geo.epsg == 3006
    assert geo.name_property == "kommunnamn" and geo.code_property == "deso" and geo.renamed == 2
    assert [(f.name, f.code) for f in geo.features] == [("Sollentuna 0163C1000", "0163c1000"),
                                                         ("Sollentuna 0163C1010", "0163c1010")]
    chosen = area_import.read_geojson(_collection(features), name_property="DESO", code_property="deso")
    assert chosen.name_property == "deso" and chosen.features[0].name == "0163C1000"


# ------------------------------------------------------------------ geometry


def test_a_multipolygon_with_a_hole_is_kept_with_its_hole():
    geo = area_import.read_geojson((DATA / "areas_sweref99tm.geojson").read_bytes())
    south = geo.features[1]
    assert (south.parts, south.holes) == (2, 1)
    geometry = geography.load_geometry(south.geometry_json)
    assert isinstance(geometry, MultiPolygon) and geometry.is_valid


def test_a_self_intersecting_polygon_is_repaired_and_says_so():
    bowtie = [[18.0, 59.3], [18.1, 59.4], [18.1, 59.3], [18.0, 59.4], [18.0, 59.3]]
    geo = area_import.read_geojson(_collection([_feature({"name": "Fluga"}, [bowtie])]))
    assert geo.features[0].repaired.startswith("Self-intersection") and geo.features[0].parts == 2
    assert geo.features[0].code == "fluga"


@pytest.mark.parametrize("data, message", [
    (b"\xff\xfe not utf-8", "UTF-8"),
    (b"{not json", "JSON"),
    (b"[1, 2, 3]", "FeatureCollection"),
    (json.dumps({"type": "Polygon", "coordinates": []}).encode(), "FeatureCollection"),
    (_collection([]), "inga områden"),
    (_collection([_feature({"namn": "A"}, [_square(18, 59, 19, 60)])], "EPSG:2154"), "Okänt koordinatsystem"),
    (_collection([_feature({"namn": "A"}, [_square(1000, 1000, 2000, 2000)])]), "varken longitud"),
    (_collection([_feature({"färg": "röd"}, [_square(18, 59, 19, 60)])]), "Hittar ingen egenskap"),
    (b"   ", "tom"),
    (b"[" * 100000 + b"]" * 100000, "JSON"),
])
def test_unusable_files_are_refused_with_a_reason(data, message, app):
    with app.test_request_context(), pytest.raises(area_import.GeoImportError) as info:
        area_import.read_geojson(data)
    assert message in str(info.value)


def test_an_unknown_property_name_is_refused(app):
    with app.test_request_context(), pytest.raises(area_import.GeoImportError, match="finns inte"):
        area_import.read_geojson(_collection([_feature({"namn": "A"}, [_square(18, 59, 19, 60)])]),
                                 name_property="områdesnamn")


def test_too_big_a_file_is_refused(monkeypatch, app):
    monkeypatch.setattr(area_import, "MAX_FILE_BYTES", 100)
    with app.test_request_context(), pytest.raises(area_import.GeoImportError, match="för stor"):
        area_import.read_geojson(b" " * 101)


def test_unusable_features_are_listed_with_their_reason(app):
    features = [
        _feature({"namn": "Bra"}, [_square(18, 59, 18.1, 59.1)]),
        _feature({}, [_square(18, 59, 18.1, 59.1)]),
        _feature({"namn": "Linje"}, [[18, 59], [18.1, 59.1]], kind="LineString"),
        {"type": "Feature", "properties": {"namn": "Utan geometri"}, "geometry": None},
        _feature({"namn": "Trasig"}, [[["x", "y"], [1, 2], [3, 4], ["x", "y"]]]),
        _feature({"namn": "Streck"}, [[[18, 59], [18.1, 59.1], [18.2, 59.2], [18, 59]]]),  # no area at all
        "not a feature",
    ]
    with app.test_request_context():
        geo = area_import.read_geojson(_collection(features))
    assert [f.name for f in geo.features] == ["Bra"]
    reasons = {r.index: r.reason for r in geo.refused}
    assert "saknar namn" in reasons[2] and "LineString" in reasons[3] and "saknas" in reasons[4]
    assert "går inte att läsa" in reasons[5] and "ogiltig" in reasons[6] and "inte en GeoJSON Feature" in reasons[7]


def test_too_many_corners_are_refused(monkeypatch, app):
    monkeypatch.setattr(area_import, "MAX_AREA_VERTICES", 4)
    with app.test_request_context():
        geo = area_import.read_geojson(_collection([_feature({"namn": "A"}, [_square(18, 59, 19, 60)])]))
    assert not geo.features and "fler än 4 hörn" in geo.refused[0].reason


def test_the_older_ring_format_still_reads():
    ring = json.dumps([[17.90, 59.40], [17.95, 59.40], [17.95, 59.43], [17.90, 59.43]])
    assert isinstance(geography.load_geometry(ring), Polygon)
    assert geography.load_geometry("not json") is None and geography.load_geometry(json.dumps([[1, 2]])) is None
    assert geography.load_geometry(json.dumps({"type": "Point", "coordinates": [1, 2]})) is None


# ------------------------------------------------------------------ the area of a point


def test_a_point_inside_in_a_hole_and_outside():
    geo = area_import.read_geojson((DATA / "areas_sweref99tm.geojson").read_bytes())
    locator = geography.AreaLocator([(10 + i, f.name, f.geometry_json) for i, f in enumerate(geo.features)])
    north, south = 10, 11

    def at(easting, northing):
        lon, lat = geography.point_to_wgs84(easting, northing, 3006)
        return locator.locate(lat, lon)

    assert at(674000, 6582000) == north
    assert at(673200, 6579200) == south  # in the main part
    assert at(676200, 6579200) == south  # on the island
    assert at(674000, 6580000) is None  # in the hole
    assert at(680000, 6590000) is None  # outside every area
    assert locator.locate(float("nan"), 18.0) is None


def test_a_point_on_a_shared_border_goes_to_the_area_first_by_name():
    a = json.dumps({"type": "Polygon", "coordinates": [_square(18.0, 59.0, 18.1, 59.1)]})
    b = json.dumps({"type": "Polygon", "coordinates": [_square(18.1, 59.0, 18.2, 59.1)]})
    locator = geography.AreaLocator([(2, "Öster", b), (1, "Väster", a)])
    assert locator.locate(59.05, 18.1) == 1


# ------------------------------------------------------------------ the map


def test_the_map_draws_multipolygons_with_holes_and_the_points():
    geo = area_import.read_geojson((DATA / "areas_sweref99tm.geojson").read_bytes())
    areas = [{"id": i} for i in range(2)]
    shapes = geography.drawable_shapes(areas, {i: f.geometry_json for i, f in enumerate(geo.features)})
    lon, lat = geography.point_to_wgs84(674000, 6582000, 3006)
    svg = str(charts.area_map([{"name": "Norrmalm (geo)", "count": 2, "polygon": shapes[0]["polygon"]},
                               {"name": "Södermalm (geo)", "count": 0, "polygon": shapes[1]["polygon"]}],
                              "Karta", legend_title="Antal", points=[[lon, lat], [lon, lat], [0.0, 0.0]],
                              points_label="Rapport med koordinater", description="2 punkter"))
    paths = re.findall(r'<path d="([^"]+)" fill="[^"]+" fill-rule="evenodd"', svg)
    assert len(paths) == 2
    assert paths[0].count("M") == 1 and paths[1].count("M") == 3  # outer ring, hole, island
    circles = re.findall(r'<circle class="point" cx="([\d.]+)" cy="([\d.]+)" r="([\d.]+)"[^>]*><title>(\d+)</title>',
                         svg)
    assert len(circles) == 1 and circles[0][3] == "2"  # two reports at one place, the far-away point left out
    assert "<desc>2 punkter</desc>" in svg and "Rapport med koordinater" in svg
    assert "Karta: Norrmalm (geo) 2, Södermalm (geo) 0" in svg
    assert not re.search(r'font-size="(\d|1[01])"', svg)  # text at least 12 px


def test_drawing_simplifies_a_detailed_outline():
    circle = Polygon([(18 + 0.05 * math.cos(t / 500 * 2 * math.pi), 59.3 + 0.03 * math.sin(t / 500 * 2 * math.pi))
                      for t in range(2000)])
    shapes = geography.drawable_shapes([{"id": 1}], {1: geography.geometry_json(circle)})
    ring = shapes[0]["polygon"][0][0]
    assert 20 < len(ring) < 600


def test_an_old_snapshot_ring_still_draws():
    svg = str(charts.area_map([{"name": "A", "count": 1, "polygon": [[17.9, 59.4], [17.95, 59.4], [17.95, 59.43]]}],
                              "Karta"))
    assert svg.count("<path") == 1
