"""The evaluation chart: weekly counts in the targeted areas and the comparison areas' mean, as a server-side SVG.

No scripts and no inline styles (CSP): colours are presentation attributes. The same
markup goes into the page and the PDF. The page shows the numbers as a table too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from markupsafe import Markup, escape

from app.overview.charts import svg_num as _num

TREATED = "#08519c"
COMPARISON = "#d95f02"
INK = "#222222"
GRID = "#dddddd"
START = "#555555"
FONT = "sans-serif"


def _ticks(value: float) -> tuple[float, float]:
    """(axis top, tick step): whole-number steps of 1, 2 or 5 × 10^n, about three to six intervals."""
    if value <= 0:
        return 1, 1
    raw = value / 5
    exp = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next((s * exp for s in (1, 2, 5, 10) if raw <= s * exp), 10 * exp)
    return step * math.ceil(value / step), step


def _path(points: list[tuple[float, float] | None]) -> str:
    """A polyline path that breaks where a value is missing (incomplete weeks)."""
    d, pen_down = [], False
    for point in points:
        if point is None:
            pen_down = False
            continue
        d.append(f"{'L' if pen_down else 'M'}{_num(point[0])},{_num(point[1])}")
        pen_down = True
    return " ".join(d)


def evaluation_chart(labels: Sequence[str], treated: Sequence[float | None], comparison: Sequence[float | None],
                     start_index: int | None, *, title: str, treated_label: str, comparison_label: str,
                     start_label: str, y_label: str, x_label: str, width: int = 640, height: int = 280) -> Markup:
    """Two weekly lines and a vertical line before week ``start_index`` (the intervention's start week)."""
    n = len(labels)
    left, right, top, bottom = 44, 12, 30, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for v in (*treated, *comparison) if v is not None]
    y_top, y_step = _ticks(max(values, default=0))
    step = plot_w / max(n - 1, 1)

    def x(i: float) -> float:
        return left + i * step

    def y(v: float) -> float:
        return top + plot_h - plot_h * v / y_top

    described = ", ".join(
        f"{label}: {'–' if t is None else _num(t)} / {'–' if c is None else _num(c)}"
        for label, t, c in zip(labels, treated, comparison))
    alt = f"{title}. {treated_label} / {comparison_label}: {described}"
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart evaluation" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" role="img" aria-label="{escape(alt)}" font-family="{FONT}">',
             f"<title>{escape(alt)}</title>"]
    # Grid and y axis labels.
    for k in range(int(round(y_top / y_step)) + 1):
        value = k * y_step
        gy = y(value)
        parts.append(f'<line x1="{left}" y1="{_num(gy)}" x2="{width - right}" y2="{_num(gy)}" stroke="{GRID}" '
                     f'stroke-width="1"/>')
        parts.append(f'<text x="{left - 4}" y="{_num(gy + 3)}" font-size="12" text-anchor="end" fill="{INK}">'
                     f"{_num(value)}</text>")
    parts.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="{INK}" stroke-width="1"/>')
    parts.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="{INK}" '
                 f'stroke-width="1"/>')
    # X labels: at most about 12, always the first and last.
    every = max(math.ceil(n / 12), 1)
    for i, label in enumerate(labels):
        if i % every == 0 or i == n - 1:
            parts.append(f'<text x="{_num(x(i))}" y="{top + plot_h + 14}" font-size="12" text-anchor="middle" '
                         f'fill="{INK}">{escape(label)}</text>')
    parts.append(f'<text x="{left + plot_w / 2:.0f}" y="{height - 18}" font-size="12" text-anchor="middle" '
                 f'fill="{INK}">{escape(x_label)}</text>')
    parts.append(f'<text x="12" y="{top + plot_h / 2:.0f}" font-size="12" text-anchor="middle" fill="{INK}" '
                 f'transform="rotate(-90 12 {top + plot_h / 2:.0f})">{escape(y_label)}</text>')
    # The start line: between the last week before and the start week.
    if start_index is not None and 0 <= start_index <= n:
        sx = x(start_index - 0.5) if n > 1 else x(0)
        sx = min(max(sx, left), width - right)
        parts.append(f'<line x1="{_num(sx)}" y1="{top}" x2="{_num(sx)}" y2="{top + plot_h}" stroke="{START}" '
                     f'stroke-width="1.5" stroke-dasharray="5 3"/>')
        parts.append(f'<text x="{_num(sx + 4)}" y="{top + 10}" font-size="12" fill="{START}">'
                     f"{escape(start_label)}</text>")
    # The two series.
    for series, colour, dash in ((comparison, COMPARISON, ' stroke-dasharray="6 3"'), (treated, TREATED, "")):
        points = [None if v is None else (x(i), y(v)) for i, v in enumerate(series)]
        d = _path(points)
        if d:
            parts.append(f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
        for point in points:
            if point is not None:
                parts.append(f'<circle cx="{_num(point[0])}" cy="{_num(point[1])}" r="2.5" fill="{colour}"/>')
    # Legend.
    ly = 12
    parts.append(f'<line x1="{left}" y1="{ly}" x2="{left + 22}" y2="{ly}" stroke="{TREATED}" stroke-width="2"/>'
                 f'<text x="{left + 27}" y="{ly + 4}" font-size="12" fill="{INK}">{escape(treated_label)}</text>')
    lx = left + 40 + 6.5 * len(treated_label)
    parts.append(f'<line x1="{_num(lx)}" y1="{ly}" x2="{_num(lx + 22)}" y2="{ly}" stroke="{COMPARISON}" '
                 f'stroke-width="2" stroke-dasharray="6 3"/>'
                 f'<text x="{_num(lx + 27)}" y="{ly + 4}" font-size="12" fill="{INK}">'
                 f"{escape(comparison_label)}</text>")
    parts.append("</svg>")
    return Markup("".join(parts))
