"""Server-side SVG charts: projection, shading, legend and text alternatives."""

from __future__ import annotations

import json
import re

from app.overview import charts


def test_trend_bars_has_a_bar_per_week_and_a_text_alternative():
    svg = charts.trend_bars([0, 2, 4], ["v. 1", "v. 2", "v. 3"], "Klotter")
    assert svg.count("<rect") == 3
    assert 'role="img"' in svg and "<title>Klotter: v. 1 0, v. 2 2, v. 3 4</title>" in svg
    heights = [float(h) for h in re.findall(r'height="([\d.]+)" fill', svg)]
    assert heights[0] == 0 and heights[2] == 2 * heights[1]
    assert 'fill="#08519c"' in svg  # the current week is darker


def test_trend_bars_escape_names():
    svg = charts.trend_bars([1], ["v. 1"], "<script>")
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_area_map_projects_polygons_into_the_viewbox_and_shades_by_count():
    shapes = [
        {"name": "Norr", "count": 10, "polygon": [[17.90, 59.45], [17.95, 59.45], [17.95, 59.48], [17.90, 59.48]]},
        {"name": "Söder", "count": 0, "polygon": [[17.90, 59.40], [17.95, 59.40], [17.95, 59.43], [17.90, 59.43]]},
        {"name": "Utan karta", "count": 3, "polygon": None},
    ]
    svg = str(charts.area_map(shapes, "Karta", legend_title="Antal"))
    width, height = map(float, re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg).groups())
    polygons = [(re.findall(r"([\d.]+),([\d.]+)", d), fill)
                for d, fill in re.findall(r'<path d="([^"]+)" fill="([^"]+)" fill-rule="evenodd"', svg)]
    assert len(polygons) == 2
    for points, _fill in polygons:
        for x, y in points:
            assert 0 <= float(x) <= width and 0 <= float(y) <= height
    north_y = [float(y) for _x, y in polygons[0][0]]
    south_y = [float(y) for _x, y in polygons[1][0]]
    assert max(north_y) < min(south_y)  # north is up
    assert polygons[0][1] == charts.SHADES[-1] and polygons[1][1] == charts.ZERO
    assert "Karta: Norr 10, Söder 0, Utan karta 3" in svg  # the text alternative names every area
    assert "Antal" in svg and "1–2" in svg and "9–10" in svg  # legend classes


def test_area_map_without_any_polygon_falls_back_to_text():
    svg = str(charts.area_map([{"name": "A", "count": 1, "polygon": None}], "Karta"))
    assert "<svg" not in svg and "Karta: A 1" in svg


def test_parse_polygon_rejects_malformed_input():
    assert charts.parse_polygon(None) is None
    assert charts.parse_polygon("not json") is None
    assert charts.parse_polygon(json.dumps([[1, 2], [3, 4]])) is None
    assert charts.parse_polygon(json.dumps([[1, 2], [3, "x"], [5, 6]])) is None
    assert charts.parse_polygon(json.dumps([[1, 2], [3, 4], [5, 6]])) == [(1, 2), (3, 4), (5, 6)]


def test_legend_classes_cover_every_count():
    for top in (0, 1, 4, 5, 7, 23):
        breaks = charts.shade_breaks(top)
        assert all(charts.shade(n, breaks) in charts.SHADES for n in range(1, top + 1))
        labels = [label for _, label in charts.legend_classes(top)]
        assert labels[0] == "0"
