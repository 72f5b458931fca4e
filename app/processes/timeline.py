"""Server-rendered SVG timeline of a process's milestones: the same markup on the process page and in the PDF.

No scripts and no inline ``style=""`` (CSP): colours are SVG presentation attributes
and the page's CSS only sizes the chart (classes ``tl-*``). Every status differs by
shape and by text as well as by colour:

- planned: hollow circle; in progress: filled circle;
- done: filled square with a check mark, text "Klar";
- cancelled: grey cross, text "Inställd";
- late (open and past due, derived): red diamond, the row shaded, text "Försenad N d".

A milestone pushed by open dependencies gets a dashed bar from its due date to its
projected date (``app.processes.schedule.projected_dates``); each dependency is an
arrow from the dependency's (projected) date to the dependent's. A vertical line marks
today ("Idag"). The axis covers the process period and every milestone date, with
month ticks (quarters or years when the period is long).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask_babel import format_date
from flask_babel import gettext as _
from markupsafe import Markup, escape

from app.overview.charts import svg_num as _n
from app.processes.models import Milestone, WorkStatus

# Geometry of the viewBox (user units; the CSS scales the chart to the page width).
WIDTH = 960
LABEL_W = 230
RIGHT_PAD = 110  # room for the status text after a marker at the right edge
TOP = 40
ROW = 22
LEGEND_H = 34
MAX_LABEL = 34
MAX_TICKS = 24

INK = "#1b1f24"
MUTED = "#5a6570"
GRID = "#d5dae0"
BLUE = "#0b5cad"
GREEN = "#17633a"
GREY = "#6b7682"
RED = "#a4161a"
LATE_BG = "#fbe9e9"
PUSH = "#7a4b00"
FONT = "sans-serif"


def _truncate(text: str, limit: int = MAX_LABEL) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year = min(max(index // 12, date.min.year), date.max.year)  # never beyond what a date can hold
    return date(year, index % 12 + 1 if date.min.year <= index // 12 <= date.max.year else 12, 1)


def _shift(day: date, days: int) -> date:
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


def month_ticks(start: date, end: date, max_ticks: int = MAX_TICKS) -> list[date]:
    """First days of months inside [start, end], thinned to quarters, half-years or years so at most ``max_ticks``."""
    first = _month_start(start)
    if first < start:
        first = _add_months(first, 1)
    months = (end.year - first.year) * 12 + end.month - first.month + 1
    for step in (1, 3, 6, 12, 24, 60, 120):
        if months / step <= max_ticks:
            break
    else:
        step = max(months // max_ticks, 1)
    if step > 1:  # align on the calendar (quarters start in Jan/Apr/Jul/Oct, years in January)
        for _attempt in range(12):
            if (first.month - 1) % min(step, 12) == 0:
                break
            first = _add_months(first, 1)
    ticks = []
    day = first
    while day <= end and len(ticks) <= max_ticks:
        ticks.append(day)
        following = _add_months(day, step)
        if following <= day:
            break
        day = following
    return ticks


@dataclass(frozen=True)
class TimelineSummary:
    total: int
    done: int
    in_progress: int
    planned: int
    cancelled: int
    late: int
    pushed: int


def milestone_summary(milestones: Sequence[Milestone], today: date,
                      projected: dict[int, date] | None = None) -> TimelineSummary:
    """Counts by status; ``late`` (open and past due) is also counted in planned/in progress."""
    projected = projected or {}
    counts = {status: 0 for status in WorkStatus}
    late = pushed = 0
    for m in milestones:
        counts[m.status] += 1
        if m.status not in (WorkStatus.DONE, WorkStatus.CANCELLED):
            if m.due_date < today:
                late += 1
            if projected.get(m.id, m.due_date) > m.due_date:
                pushed += 1
    return TimelineSummary(total=len(milestones), done=counts[WorkStatus.DONE],
                           in_progress=counts[WorkStatus.IN_PROGRESS], planned=counts[WorkStatus.PLANNED],
                           cancelled=counts[WorkStatus.CANCELLED], late=late, pushed=pushed)


def _marker(kind: str, x: float, y: float) -> str:
    """The status marker: a different shape per status (not colour alone)."""
    if kind == "late":
        return (f'<polygon class="tl-marker tl-marker-late" points="{_n(x)},{_n(y - 7)} {_n(x + 7)},{_n(y)} '
                f'{_n(x)},{_n(y + 7)} {_n(x - 7)},{_n(y)}" fill="{RED}" stroke="{RED}" stroke-width="1"/>')
    if kind == "done":
        return (f'<rect class="tl-marker tl-marker-done" x="{_n(x - 6)}" y="{_n(y - 6)}" width="12" height="12" '
                f'fill="{GREEN}"/><path d="M{_n(x - 3.5)},{_n(y)} l2.5,3 l4.5,-6" fill="none" stroke="#ffffff" '
                f'stroke-width="2"/>')
    if kind == "cancelled":
        return (f'<path class="tl-marker tl-marker-cancelled" d="M{_n(x - 5)},{_n(y - 5)} l10,10 '
                f'M{_n(x - 5)},{_n(y + 5)} l10,-10" stroke="{GREY}" stroke-width="2.5" fill="none"/>')
    if kind == "in_progress":
        return f'<circle class="tl-marker tl-marker-in-progress" cx="{_n(x)}" cy="{_n(y)}" r="6" fill="{BLUE}"/>'
    return (f'<circle class="tl-marker tl-marker-planned" cx="{_n(x)}" cy="{_n(y)}" r="5.5" fill="#ffffff" '
            f'stroke="{BLUE}" stroke-width="2"/>')


def _kind(m: Milestone, today: date) -> str:
    if m.status == WorkStatus.DONE:
        return "done"
    if m.status == WorkStatus.CANCELLED:
        return "cancelled"
    if m.due_date < today:
        return "late"
    return "in_progress" if m.status == WorkStatus.IN_PROGRESS else "planned"


def _status_text(kind: str, m: Milestone, today: date) -> str:
    from app.processes.labels import LATE_LABEL, WORK_STATUS_LABELS

    if kind == "late":
        return _("%(late)s %(days)s d", late=LATE_LABEL, days=(today - m.due_date).days)
    return str(WORK_STATUS_LABELS[m.status])


def timeline_svg(process: Any, milestones: Sequence[Milestone], today: date,
                 projected: dict[int, date] | None = None) -> Markup:
    """The process's timeline as inline SVG (``role="img"``), or a short message when it has no milestones.

    ``milestones`` are drawn one row each in the given order; ``projected`` maps a
    milestone id to the date its open dependencies push it to (missing = its due date).
    Only dependencies among ``milestones`` are drawn.
    """
    projected = projected or {}
    name = getattr(process, "name", "") or ""
    if not milestones:
        return Markup('<p class="timeline-empty">{}</p>').format(_("Processen har inga delmål ännu."))

    # The period: the process's dates and every due and projected date, padded a little on each side.
    days = [m.due_date for m in milestones] + [projected.get(m.id, m.due_date) for m in milestones]
    for attr in ("start_date", "end_date"):
        value = getattr(process, attr, None)
        if isinstance(value, date):
            days.append(value)
    lo, hi = min(days), max(days)
    if (hi - lo).days < 28:  # a single date or a short period: show about a month around it
        middle = lo + (hi - lo) / 2
        lo, hi = _shift(middle, -16), _shift(middle, 16)
    pad = max(2, (hi - lo).days // 40)
    lo, hi = _shift(lo, -pad), _shift(hi, pad)
    span = max((hi - lo).days, 1)
    plot_w = WIDTH - LABEL_W - RIGHT_PAD

    def x_of(day: date) -> float:
        return LABEL_W + plot_w * (day - lo).days / span

    n = len(milestones)
    rows_h = n * ROW
    height = TOP + rows_h + 8 + LEGEND_H
    index = {m.id: i for i, m in enumerate(milestones)}

    def y_of(i: int) -> float:
        return TOP + i * ROW + ROW / 2

    summary = milestone_summary(milestones, today, projected)
    today_text = format_date(today, "d MMM yyyy")
    alt = _("Tidslinje för %(name)s: %(total)s delmål, %(done)s klara, %(late)s försenade, %(pushed)s "
            "förskjutna av beroenden. Idag är %(today)s.", name=name, total=summary.total, done=summary.done,
            late=summary.late, pushed=summary.pushed, today=today_text)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" viewBox="0 0 {WIDTH} {height}" '
             f'width="{WIDTH}" height="{height}" role="img" aria-label="{escape(alt)}" font-family="{FONT}" '
             f'font-size="12">', f"<title>{escape(alt)}</title>"]

    # Late rows shaded behind everything (the row is highlighted, not only the marker).
    for i, m in enumerate(milestones):
        if _kind(m, today) == "late":
            parts.append(f'<rect class="tl-late-row" x="0" y="{_n(TOP + i * ROW)}" width="{WIDTH}" '
                         f'height="{ROW}" fill="{LATE_BG}"/>')

    # Axis: month ticks with grid lines.
    parts.append('<g class="tl-axis">')
    parts.append(f'<line x1="{LABEL_W}" y1="{TOP - 4}" x2="{_n(LABEL_W + plot_w)}" y2="{TOP - 4}" '
                 f'stroke="{MUTED}" stroke-width="1"/>')
    previous_year = None
    free_from = 0.0  # where the last month's name ends: a name that would overlap it is left out
    for tick in month_ticks(lo, hi):
        x = x_of(tick)
        label = format_date(tick, "MMM")
        if tick.year != previous_year:
            label = f"{label} {tick.year}"
        parts.append(f'<line x1="{_n(x)}" y1="{TOP - 8}" x2="{_n(x)}" y2="{TOP + rows_h}" stroke="{GRID}" '
                     f'stroke-width="1"/>')
        if x + 2 >= free_from:
            parts.append(f'<text x="{_n(x + 2)}" y="{TOP - 12}" fill="{MUTED}" font-size="12">{escape(label)}</text>')
            free_from = x + 2 + 12 * 0.6 * len(label) + 6
            previous_year = tick.year
    parts.append("</g>")

    # The process period, if it has one: a thin band on the axis.
    start, end = getattr(process, "start_date", None), getattr(process, "end_date", None)
    if isinstance(start, date):
        x1 = x_of(start)
        x2 = x_of(end) if isinstance(end, date) else LABEL_W + plot_w
        parts.append(f'<rect class="tl-period" x="{_n(x1)}" y="{TOP - 6}" width="{_n(max(x2 - x1, 1))}" height="4" '
                     f'fill="{BLUE}" opacity="0.35"><title>{escape(_("Processens period"))}</title></rect>')

    # Dependency arrows (drawn before the markers so the markers sit on top).
    parts.append('<g class="tl-deps" fill="none">')
    for m in milestones:
        for dep in m.depends_on:
            if dep.id not in index:
                continue
            i_from, i_to = index[dep.id], index[m.id]
            x1, y1 = x_of(projected.get(dep.id, dep.due_date)), y_of(i_from)
            x2, y2 = x_of(projected.get(m.id, m.due_date)) - 8, y_of(i_to)
            # Leave the dependency's marker vertically (its status text is to the right), enter the
            # dependent's marker from the left, where the arrowhead points.
            sy = y1 + (7 if y2 > y1 else -7)
            bend = max(abs(x2 - x1) / 2, 18)
            dep_text = _("%(dep)s måste vara klart före %(title)s", dep=dep.title, title=m.title)
            parts.append(
                f'<path class="tl-dep" data-from="{dep.id}" data-to="{m.id}" d="M{_n(x1)},{_n(sy)} '
                f'C{_n(x1)},{_n(y2)} {_n(x2 - bend)},{_n(y2)} {_n(x2)},{_n(y2)}" stroke="{MUTED}" '
                f'stroke-width="1.2" fill="none"><title>{escape(dep_text)}</title></path>'
                f'<polygon class="tl-dep-head" points="{_n(x2 + 1)},{_n(y2)} {_n(x2 - 5)},{_n(y2 - 3.5)} '
                f'{_n(x2 - 5)},{_n(y2 + 3.5)}" fill="{MUTED}"/>')
    parts.append("</g>")

    # One row per milestone: label, push bar, marker, status text.
    for i, m in enumerate(milestones):
        kind = _kind(m, today)
        y = y_of(i)
        x = x_of(m.due_date)
        status_text = _status_text(kind, m, today)
        tooltip = f"{m.title} — {status_text}, {format_date(m.due_date, 'd MMM yyyy')}"
        row = [f'<g class="tl-row tl-{kind.replace("_", "-")}" data-id="{m.id}">']
        label_fill = RED if kind == "late" else INK
        weight = ' font-weight="bold"' if kind == "late" else ""
        row.append(f'<text class="tl-label" x="{LABEL_W - 8}" y="{_n(y + 4)}" text-anchor="end" '
                   f'fill="{label_fill}"{weight}>{escape(_truncate(m.title))}</text>')
        moved_to = projected.get(m.id, m.due_date)
        text_x = x + 10
        if kind not in ("done", "cancelled") and moved_to > m.due_date:
            xp = x_of(moved_to)
            push_text = _("Förskjutet till %(day)s av beroenden", day=format_date(moved_to, "d MMM yyyy"))
            tooltip += f" — {push_text}"
            row.append(f'<line class="tl-push" x1="{_n(x)}" y1="{_n(y)}" x2="{_n(xp)}" y2="{_n(y)}" stroke="{PUSH}" '
                       f'stroke-width="3" stroke-dasharray="5 3"><title>{escape(push_text)}</title></line>'
                       f'<line class="tl-push-end" x1="{_n(xp)}" y1="{_n(y - 6)}" x2="{_n(xp)}" y2="{_n(y + 6)}" '
                       f'stroke="{PUSH}" stroke-width="2"/>')
            text_x = xp + 8
        row.append(_marker(kind, x, y))
        if kind != "planned":
            colour = {"late": RED, "done": GREEN, "cancelled": GREY}.get(kind, BLUE)
            row.append(f'<text class="tl-status" x="{_n(text_x)}" y="{_n(y + 4)}" fill="{colour}" font-size="12">'
                       f"{escape(status_text)}</text>")
        row.insert(1, f"<title>{escape(tooltip)}</title>")
        row.append("</g>")
        parts.append("".join(row))

    # Today: a vertical line across all rows, labelled.
    if lo <= today <= hi:
        xt = x_of(today)
        parts.append(f'<g class="tl-today"><line x1="{_n(xt)}" y1="{TOP - 8}" x2="{_n(xt)}" y2="{TOP + rows_h}" '
                     f'stroke="{RED}" stroke-width="1.5" stroke-dasharray="4 2"/>'
                     f'<text x="{_n(xt)}" y="{TOP - 26}" fill="{RED}" font-size="12" font-weight="bold" '
                     f'text-anchor="middle">'
                     f'{escape(_("Idag"))}</text><title>{escape(_("Idag"))} {escape(today_text)}</title></g>')
    else:
        after = today > hi
        xt = LABEL_W + plot_w if after else LABEL_W
        anchor = "end" if after else "start"
        arrow = "→" if after else "←"
        text = f"{_('Idag')} {today_text} {arrow}" if after else f"{arrow} {_('Idag')} {today_text}"
        parts.append(f'<g class="tl-today tl-today-outside"><text x="{_n(xt)}" y="{TOP - 24}" fill="{RED}" '
                     f'font-size="12" font-weight="bold" text-anchor="{anchor}">{escape(text)}</text></g>')

    # Legend: shape + text for each status.
    ly = TOP + rows_h + 8 + LEGEND_H / 2
    legend = [("planned", _("Planerad")), ("in_progress", _("Pågår")), ("done", _("Klar")),
              ("cancelled", _("Inställd")), ("late", _("Försenad"))]
    lx = 10.0
    parts.append('<g class="tl-legend">')
    for kind, text in legend:
        parts.append(_marker(kind, lx + 7, ly))
        parts.append(f'<text x="{_n(lx + 18)}" y="{_n(ly + 4)}" fill="{INK}" font-size="12">{escape(text)}</text>')
        lx += 30 + 6.5 * len(text)
    parts.append(f'<line x1="{_n(lx)}" y1="{_n(ly)}" x2="{_n(lx + 26)}" y2="{_n(ly)}" stroke="{PUSH}" '
                 f'stroke-width="3" stroke-dasharray="5 3"/>')
    push_label = _("Förskjutet av beroende")
    parts.append(f'<text x="{_n(lx + 32)}" y="{_n(ly + 4)}" fill="{INK}" font-size="12">{escape(push_label)}</text>')
    lx += 44 + 6.2 * len(push_label)
    parts.append(f'<path d="M{_n(lx)},{_n(ly)} h22" stroke="{MUTED}" stroke-width="1.2"/>'
                 f'<polygon points="{_n(lx + 27)},{_n(ly)} {_n(lx + 21)},{_n(ly - 3.5)} {_n(lx + 21)},{_n(ly + 3.5)}" '
                 f'fill="{MUTED}"/><text x="{_n(lx + 32)}" y="{_n(ly + 4)}" fill="{INK}" font-size="12">'
                 f'{escape(_("Beroende"))}</text>')
    parts.append("</g></svg>")
    return Markup("".join(parts))


def load_timeline_milestones(process: Any) -> list[Milestone]:
    """The process's milestones in timeline order, with their dependencies loaded in one extra query."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from app.extensions import db

    return list(db.session.scalars(
        select(Milestone).where(Milestone.process_id == process.id)
        .options(selectinload(Milestone.depends_on))
        .order_by(Milestone.due_date, Milestone.id)))


def process_timeline(process: Any, today: date, milestones: Sequence[Milestone] | None = None) -> Markup:
    """For the PDF (and any page): load the milestones if not given, project the dates and draw the timeline."""
    from app.processes.schedule import projected_dates

    milestones = list(milestones) if milestones is not None else load_timeline_milestones(process)
    return timeline_svg(process, milestones, today, projected_dates(milestones))
