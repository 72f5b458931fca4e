"""Server-side SVG charts: the same markup on screen and in the PDF (no scripts, no inline styles, no tiles).

- ``trend_bars``: a small bar chart of weekly counts (the 12-week small multiples and the period trend).
- ``area_map``: the areas' polygons (WGS 84 lon/lat) projected into the viewBox and shaded by count.

Every chart is ``role="img"`` with a ``<title>`` text alternative; the page also shows the same
numbers as a table. Colours are presentation attributes, which the CSP allows.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence

from markupsafe import Markup, escape

#: Five classes of ColorBrewer "Blues" (colour-blind safe); zero is white. Counts are also printed on them:
#: dark ink on the three light ones, white on the two dark ones, each at a contrast of at least 4.5:1.
SHADES = ("#c6dbef", "#9ecae1", "#6baed6", "#2171b5", "#08519c")
ZERO = "#ffffff"
BAR = "#3182bd"
BAR_LAST = "#08519c"
#: A week only partly inside the period: lighter, with a dashed outline, and "delvis" in the text alternative.
BAR_PARTIAL = "#c6dbef"
INK = "#222222"
#: The page's sans-serif: one font family in the PDF (each extra font costs a subsetting pass).
FONT = "sans-serif"


def svg_num(value: float) -> str:
    """A coordinate for SVG: one decimal at most, no trailing zeros."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


_num = svg_num


#: Chart text is at least this many pixels where the chart is drawn at its own size (phones included).
TEXT_PX = 12


def trend_bars(values: Sequence[int], labels: Sequence[str], title: str, *, width: int = 180, height: int = 48,
               highlight_last: bool = True, partial: Sequence[bool] = ()) -> Markup:
    """Bars for weekly counts, the last (current) week darker; the title lists every value. Weeks marked in
    ``partial`` (only some of their days in the period) are drawn light with a dashed outline.

    The text (the largest value above the bars, the first and last label below) is TEXT_PX tall: the chart
    grows by the two text lines rather than shrink its text; "(delvis)" is in the text alternative and
    the dashed outline, and beside the last label only when it fits."""
    from flask_babel import gettext as _

    partial = list(partial) + [False] * (len(values) - len(partial))
    partial_word = _("delvis")
    labels = list(labels)
    alt_labels = [f"{label} ({partial_word})" if part else label for label, part in zip(labels, partial)]
    n = max(len(values), 1)
    top = max(max(values, default=0), 1)
    gap = 2 if width / n > 6 else 0
    bar_w = (width - gap * (n - 1)) / n
    line = TEXT_PX + 3
    height = height + 2 * line - 12
    plot_top, plot_bottom = line, height - line
    plot_h = plot_bottom - plot_top
    alt = f"{title}: " + ", ".join(f"{label} {value}" for label, value in zip(alt_labels, values))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart trend" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" role="img" aria-label="{escape(alt)}" font-family="{FONT}">',
             f"<title>{escape(alt)}</title>",
             f'<line x1="0" y1="{plot_bottom}" x2="{width}" y2="{plot_bottom}" stroke="#999999" stroke-width="0.5"/>']
    for i, value in enumerate(values):
        h = plot_h * value / top
        fill = BAR_PARTIAL if partial[i] else BAR_LAST if highlight_last and i == len(values) - 1 else BAR
        outline = f' stroke="{BAR}" stroke-width="0.6" stroke-dasharray="1.5 1" class="partial"' if partial[i] else ""
        parts.append(f'<rect x="{_num(i * (bar_w + gap))}" y="{_num(plot_bottom - h)}" width="{_num(bar_w)}" '
                     f'height="{_num(h)}" fill="{fill}"{outline}/>')
    first = labels[0] if labels else ""
    last = (alt_labels if len(first) + len(alt_labels[-1]) <= width / (TEXT_PX * 0.62) else labels)[-1] if labels else ""
    parts.append(f'<text x="0" y="{TEXT_PX - 1}" font-size="{TEXT_PX}" fill="{INK}">max {max(values, default=0)}</text>')
    parts.append(f'<text x="0" y="{height - 2}" font-size="{TEXT_PX}" fill="{INK}">{escape(first)}</text>')
    parts.append(f'<text x="{width}" y="{height - 2}" font-size="{TEXT_PX}" fill="{INK}" text-anchor="end">'
                 f'{escape(last)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def parse_polygon(text: str | None) -> list[tuple[float, float]] | None:
    """[[lon, lat], ...] from the Area.polygon JSON; None when missing or malformed."""
    if not text:
        return None
    try:
        points = [(float(p[0]), float(p[1])) for p in json.loads(text)]
    except (ValueError, TypeError, IndexError, KeyError):
        return None
    if len(points) < 3 or not all(math.isfinite(x) and math.isfinite(y) for x, y in points):
        return None
    return points


def shade_breaks(top: int) -> list[int]:
    """Upper bounds of the five classes for counts 1..top (equal intervals of whole numbers)."""
    step = max(math.ceil(top / len(SHADES)), 1)
    return [step * (i + 1) for i in range(len(SHADES))]


def shade(count: int, breaks: Sequence[int]) -> str:
    if count <= 0:
        return ZERO
    for bound, colour in zip(breaks, SHADES):
        if count <= bound:
            return colour
    return SHADES[-1]


def legend_classes(top: int) -> list[tuple[str, str]]:
    """(colour, "from–to") for the legend: zero, then each class that can occur."""
    breaks = shade_breaks(top)
    classes = [(ZERO, "0")]
    low = 1
    for bound, colour in zip(breaks, SHADES):
        if low > top:
            break
        classes.append((colour, str(low) if low == bound else f"{low}–{bound}"))
        low = bound + 1
    return classes


def _rings(polygon) -> list[list[list[tuple[float, float]]]]:
    """Polygons → rings → (lon, lat) from a shape's ``polygon``: a single ring [[lon, lat], ...] (older snapshots,
    typed areas), one polygon's rings, or MultiPolygon coordinates (geography.drawing_coordinates)."""
    try:
        if isinstance(polygon[0][0], (int, float)):
            polygon = [[polygon]]
        elif isinstance(polygon[0][0][0], (int, float)):
            polygon = [polygon]
        out = []
        for part in polygon:
            rings = [[(float(p[0]), float(p[1])) for p in ring] for ring in part]
            rings = [r for r in rings if len(r) >= 3 and all(math.isfinite(x) and math.isfinite(y) for x, y in r)]
            if rings:
                out.append(rings)
        return out
    except (TypeError, IndexError, KeyError, ValueError):
        return []


#: Report points: a dark orange that stands out from the blues, with a white rim.
POINT = "#a63603"
#: 13 user units: drawn at 360 wide, the text is still 12 px where a phone (from 365 px) shrinks the map to fit.
MAP_FONT = 13


def area_map(shapes: Sequence[dict], title: str, *, width: int = 360, legend_title: str = "",
             points: Sequence[Sequence[float]] = (), points_label: str = "", description: str = "",
             counts: bool = True) -> Markup:
    """A choropleth of areas with the reports' points.

    ``shapes`` = [{name, count, polygon}] where polygon is a ring [[lon, lat], ...] or MultiPolygon coordinates
    (holes are cut out with the even-odd rule); areas without a polygon are left out (the table beside the map
    lists every area). ``points`` = [[lon, lat], ...]; points at the same place are drawn once, larger, and
    their number is in the point's title. ``description`` becomes the SVG's ``<desc>``. ``counts=False``
    draws the outlines only, with names and no legend (the import preview).
    """
    drawn = [(s, rings) for s in shapes if s.get("polygon") and (rings := _rings(s["polygon"]))]
    counts = ", ".join(f"{s['name']} {s['count']}" for s in shapes)
    alt = f"{title}: {counts}" if counts else title
    if not drawn:
        return Markup(f'<p class="map-missing">{escape(alt)}</p>')
    lons = [x for _s, parts in drawn for part in parts for x, _y in part[0]]
    lats = [y for _s, parts in drawn for part in parts for _x, y in part[0]]
    min_lon, max_lon, min_lat, max_lat = min(lons), max(lons), min(lats), max(lats)
    # Equirectangular projection around the middle latitude: fine for one municipality.
    kx = math.cos(math.radians((min_lat + max_lat) / 2))
    span_x = max((max_lon - min_lon) * kx, 1e-9)
    span_y = max(max_lat - min_lat, 1e-9)
    pad = 8
    top = max((s["count"] for s, _parts in drawn), default=0)
    legend_rows = _legend_rows(legend_classes(top), width - 2 * pad) if counts else []
    legend_h = (18 + 22 * len(legend_rows) + (22 if points and points_label else 0)) if counts else 0
    scale = (width - 2 * pad) / span_x
    map_h = span_y * scale
    if map_h > width * 1.2:  # very tall municipality: fit the height instead
        scale = (width * 1.2) / span_y
        map_h = width * 1.2
    height = math.ceil(map_h + 2 * pad + legend_h)

    def project(lon: float, lat: float) -> tuple[float, float]:
        return pad + (lon - min_lon) * kx * scale, pad + (max_lat - lat) * scale

    breaks = shade_breaks(top)
    if not counts:
        breaks = [math.inf] * len(SHADES)
    parts_svg = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart map" viewBox="0 0 {width} {height}" '
                 f'width="{width}" height="{height}" role="img" aria-label="{escape(alt)}" font-family="{FONT}">',
                 f"<title>{escape(alt)}</title>"]
    if description:
        parts_svg.append(f"<desc>{escape(description)}</desc>")
    labels = []
    for s, polygons in drawn:
        projected = [[[project(x, y) for x, y in ring] for ring in rings] for rings in polygons]
        d = " ".join("M" + " L".join(f"{_num(x)},{_num(y)}" for x, y in ring) + " Z"
                     for rings in projected for ring in rings)
        fill = shade(s["count"], breaks) if counts else ZERO
        tip = f'{escape(s["name"])}: {s["count"]}' if counts else escape(s["name"])
        parts_svg.append(f'<path d="{d}" fill="{fill}" fill-rule="evenodd" stroke="#555555" stroke-width="1" '
                         f'stroke-linejoin="round"><title>{tip}</title></path>')
        labels.append((s, fill, projected))
    placed = Counter()
    for point in points:
        try:
            lon, lat = float(point[0]), float(point[1])
        except (TypeError, IndexError, ValueError):
            continue
        if min_lon <= lon <= max_lon and min_lat <= lat <= max_lat:
            placed[(lon, lat)] += 1
    base, opacity = (3, "") if len(placed) <= 150 else (1.8, ' fill-opacity="0.7"')  # a year: smaller dots
    for (lon, lat), n in sorted(placed.items()):
        x, y = project(lon, lat)
        parts_svg.append(f'<circle class="point" cx="{_num(x)}" cy="{_num(y)}" r="{_num(base + min(n - 1, 4) * 0.6)}" '
                         f'fill="{POINT}"{opacity} stroke="#ffffff" stroke-width="0.8"><title>{n}</title></circle>')
    for s, fill, projected in labels:
        colour = "#ffffff" if fill in SHADES[3:] else INK
        name = _short(s["name"])

        def label(x: float, y: float, text: str, bold: bool = False) -> None:
            # The same text drawn first as a halo in the area's own colour keeps it readable over the points
            # (a second element rather than paint-order, which the PDF renderer does not know).
            common = (f'x="{_num(x)}" y="{_num(y)}" font-size="{MAP_FONT}" text-anchor="middle"'
                      + (' font-weight="bold"' if bold else ""))
            parts_svg.append(f'<text {common} fill="{fill}" stroke="{fill}" stroke-width="3" stroke-linejoin="round" '
                             f'aria-hidden="true">{escape(text)}</text><text {common} fill="{colour}">{escape(text)}</text>')

        spot = _label_spot(projected, name, 2.5 if counts else 1.3)
        if spot is not None:
            label(spot[0], spot[1] - 2 if counts else spot[1] + 4, name)
            if counts:
                label(spot[0], spot[1] + 12, str(s["count"]), bold=True)
        elif counts and (spot := _label_spot(projected, str(s["count"]), 1.3)) is not None:
            label(spot[0], spot[1] + 4, str(s["count"]), bold=True)  # too narrow for its name: the count alone
    if not counts:
        parts_svg.append("</svg>")
        return Markup("".join(parts_svg))
    y = height - legend_h + 10
    parts_svg.append(f'<text x="{pad}" y="{y}" font-size="{MAP_FONT}" fill="{INK}">{escape(legend_title)}</text>')
    for number, row in enumerate(legend_rows):
        if number:
            y += 22
        for x, colour, label in row:
            parts_svg.append(f'<rect x="{pad + x}" y="{y + 6}" width="14" height="14" fill="{colour}" '
                             f'stroke="#555555" stroke-width="0.5"/><text x="{pad + x + 18}" y="{y + 18}" '
                             f'font-size="{MAP_FONT}" fill="{INK}">{label}</text>')
    if points and points_label:  # on a line of its own
        y += 22
        parts_svg.append(f'<circle cx="{pad + 7}" cy="{y + 13}" r="4" fill="{POINT}" stroke="#ffffff" '
                         f'stroke-width="1"/><text x="{pad + 18}" y="{y + 18}" font-size="{MAP_FONT}" '
                         f'fill="{INK}">{escape(points_label)}</text>')
    parts_svg.append("</svg>")
    return Markup("".join(parts_svg))


def _legend_rows(classes: list[tuple[str, str]], room: float) -> list[list[tuple[float, str, str]]]:
    """The legend's (x, colour, label) items, wrapped onto as many rows as ``room`` needs (large yearly counts
    make long labels): an item is a 14-unit swatch, a gap and its label at about 0.6 em per character."""
    rows: list[list[tuple[float, str, str]]] = [[]]
    x = 0.0
    for colour, label in classes:
        item = 18 + MAP_FONT * 0.6 * len(label)
        if rows[-1] and x + item > room:
            rows.append([])
            x = 0.0
        rows[-1].append((x, colour, label))
        x += item + 10
    return rows


def _label_spot(projected: list, text: str, lines: float = 2.5) -> tuple[float, float] | None:
    """Where an area's name and count fit: a point inside its largest part whose box holds the text, or None."""
    from shapely.geometry import Polygon

    best = None
    for rings in projected:
        try:
            polygon = Polygon(rings[0], rings[1:])
        except ValueError:
            continue
        if best is None or polygon.area > best.area:
            best = polygon
    if best is None or best.is_empty:
        return None
    min_x, min_y, max_x, max_y = best.bounds
    if max_x - min_x < 0.62 * MAP_FONT * len(text) + 4 or max_y - min_y < lines * MAP_FONT:
        return None
    spot = best.representative_point() if not best.is_valid or best.centroid.within(best) is False else best.centroid
    return spot.x, spot.y


def _short(name: str, limit: int = 16) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def week_label(year: int, week: int, first: bool = False) -> str:
    from flask_babel import gettext as _

    return _("v. %(week)s %(year)s", week=week, year=year) if first else _("v. %(week)s", week=week)


def figure_charts(figures: dict, shapes: list[dict] | None, locale: str, *, highlight_last: bool = True,
                  points: Sequence[Sequence[float]] | None = None) -> dict:
    """The charts of a week's or a period's figures: ``total`` trend, ``by_category`` trends, the ``map``
    (with ``points``, the counted reports' rounded [lon, lat], when given)."""
    from flask_babel import gettext as _
    from flask_babel import ngettext

    english = str(locale).startswith("en")
    trend = figures["trend"]
    labels = [week_label(y, w, first=(i == 0)) for i, (y, w) in enumerate(trend["weeks"])]
    partial = [days < 7 for days in trend.get("days", ())]  # a period's first and last week may be partial
    by_category = []
    for category, values in zip(figures["categories"], trend["by_category"]):
        name = category["name_en"] if english else category["name_sv"]
        by_category.append({"name": name, "svg": trend_bars(values, labels, name, highlight_last=highlight_last,
                                                            partial=partial)})
    polygons = {s["area_id"]: s["polygon"] for s in shapes or []}
    map_svg = None
    if shapes is not None:
        points = list(points or [])
        description = ngettext(
            "%(num)d av rapporterna har koordinater och visas som en punkt (avrundad till ungefär 100 m).",
            "%(num)d av rapporterna har koordinater och visas som punkter (avrundade till ungefär 100 m).",
            len(points)) if points else ""
        map_svg = area_map([{"name": a["name"], "count": a["count"], "polygon": polygons.get(a["id"])}
                            for a in figures["by_area"]],
                           _("Antal accepterade rapporter per område"), legend_title=_("Antal rapporter"),
                           points=points, points_label=_("Rapport med koordinater"), description=description)
    return {
        "total": trend_bars(trend["total"], labels, _("Alla kategorier"), width=340, height=90,
                            highlight_last=highlight_last, partial=partial),
        "by_category": by_category,
        "map": map_svg,
    }


def fmt_num(value: float | int | None, english: bool = False) -> str:
    """1.25 → "1,25" (Swedish) or "1.25"; whole numbers without decimals; None → "–"."""
    if value is None:
        return "–"
    if value == int(value):
        return str(int(value))
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text if english else text.replace(".", ",")


def fmt_change(change: dict, english: bool = False) -> Markup:
    """{diff, percent} → "+2 (+50 %)", "±0 (0 %)" or "–" when there is nothing to compare with."""
    diff, percent = change.get("diff"), change.get("percent")
    if diff is None:
        return Markup("–")
    sign = "+" if diff > 0 else "±" if diff == 0 else ""
    text = f"{sign}{fmt_num(diff, english)}"
    if percent is not None:
        text += f" ({'+' if percent > 0 else ''}{fmt_num(percent, english)}\u00a0%)"
    elif change.get("thin"):
        text += " (too little to compare)" if english else " (för lite underlag för procent)"
    return Markup(escape(text))


def fmt_p(value: float, english: bool = False) -> str:
    """A tail probability with two significant digits; below 0.0001 as "< 0,0001"."""
    if value < 0.0001:
        return "< 0.0001" if english else "< 0,0001"
    text = f"{value:.2g}"
    return text if english else text.replace(".", ",")
