"""The yearly documents required by Lag (2023:196): the draft lägesbild and the åtgärdsplan.

Only the process leader's text is stored (YearlyDocument.sections, JSON per
section key). Everything else is compiled when the document is shown or
exported: the incident picture from the overview's own functions
(``period_figures``, the hotspot rule, ``exit_for_year``: complete quarters only), the processes and
interventions from their tables. Nothing here reads a case.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.db import flush_in_savepoint
from app.extensions import db
from app.overview.figures import period_figures, shift_week
from app.overview.figures import hotspots as hotspot_rule
from app.overview.figures.aggregate import week_ranges, week_counts_query
from app.overview.figures.weeks import weeks_touching
from app.overview.models import Area, Category, IncidentReport, ReportStatus
from app.processes.dates import is_late, local_today
from app.processes.labels import (INTERVENTION_KIND_LABELS, PROCESS_STATUS_LABELS, PROCESS_TYPE_LABELS,
                                  WORK_STATUS_LABELS)
from app.processes.models import (CLOSED_STATUSES, InterventionKind, Process, WorkStatus, YearlyDocument,
                                  YearlyDocumentKind)
from app.processes.access import visible_process_ids, visible_processes_query
from app.processes.overview_links import interventions_between
from app.security.audit import record
from app.security.authz import gate
from app.security.permissions import Permission

#: The earliest year a document can be made for; the latest is next year.
MIN_YEAR = 2000
#: The longest text of one section.
MAX_SECTION = 20_000

#: The editable sections of each document, in order: (key, heading).
SECTIONS: dict[YearlyDocumentKind, list[tuple[str, Any]]] = {
    YearlyDocumentKind.SITUATION: [
        ("summary", _l("Sammanfattning")),
        ("analysis", _l("Analys och slutsatser")),
        ("factors", _l("Risk- och skyddsfaktorer")),
        ("next", _l("Fortsatt arbete")),
    ],
    YearlyDocumentKind.ACTION_PLAN: [
        ("introduction", _l("Inledning")),
        ("priorities", _l("Prioriteringar")),
        ("follow_up", _l("Uppföljning och ansvar")),
    ],
}

CONFLICT_MESSAGE = _l("Dokumentet har ändrats av någon annan sedan du öppnade det. Inget sparades. "
                      "Kopiera din text, ladda om sidan och gör om ändringen.")

MONTHS = [_l("jan"), _l("feb"), _l("mar"), _l("apr"), _l("maj"), _l("jun"),
          _l("jul"), _l("aug"), _l("sep"), _l("okt"), _l("nov"), _l("dec")]


class YearlyConflict(Exception):
    """Someone else saved the document since the form was opened; nothing was saved."""


def max_year(today: date | None = None) -> int:
    return (today or local_today()).year + 1


def valid_year(year: int, today: date | None = None) -> bool:
    """Years a document can be shown for: 2000 up to next year."""
    return MIN_YEAR <= year <= max_year(today)


def parse_kind(value: str) -> YearlyDocumentKind | None:
    try:
        return YearlyDocumentKind(value)
    except ValueError:
        return None


# ------------------------------------------------------------------ stored text


def get_document(year: int, kind: YearlyDocumentKind) -> YearlyDocument | None:
    return db.session.scalars(select(YearlyDocument).where(
        YearlyDocument.year == year, YearlyDocument.kind == kind)).one_or_none()


def section_texts(document: YearlyDocument | None) -> dict[str, str]:
    """{section key: text} of the document (unknown keys and a malformed store are ignored)."""
    if document is None:
        return {}
    try:
        stored = json.loads(document.sections or "{}")
    except ValueError:
        return {}
    if not isinstance(stored, dict):
        return {}
    return {key: str(value) for key, value in stored.items() if isinstance(value, str)}


def sections_for_display(kind: YearlyDocumentKind, document: YearlyDocument | None) -> list[dict]:
    """[{key, title, text}] in the document's order, as plain data."""
    texts = section_texts(document)
    return [{"key": key, "title": str(title), "text": texts.get(key, "")} for key, title in SECTIONS[kind]]


def save_document(year: int, kind: YearlyDocumentKind, texts: dict[str, str], *, expected_version: Any,
                  by) -> YearlyDocument:
    """Store the sections if nobody saved since ``expected_version`` (0: not yet created), audited yearly.update.

    Raises YearlyConflict (nothing saved) on a stale version or a concurrent first save.
    """
    try:
        expected = int(expected_version)
    except (TypeError, ValueError):
        raise YearlyConflict(CONFLICT_MESSAGE) from None
    document = get_document(year, kind)
    if expected != (document.version if document else 0):
        raise YearlyConflict(CONFLICT_MESSAGE)
    keys = [key for key, _title in SECTIONS[kind]]
    before = section_texts(document)
    after = {key: (texts.get(key) or "").strip() for key in keys}
    changed = [key for key in keys if before.get(key, "") != after[key]]
    def apply() -> None:
        nonlocal document
        if document is None:
            document = YearlyDocument(year=year, kind=kind)
            db.session.add(document)
        document.sections = json.dumps(after, ensure_ascii=False, sort_keys=True)
        document.updated_by_id = getattr(by, "id", None)

    flush_in_savepoint(apply, lambda: YearlyConflict(CONFLICT_MESSAGE), errors=(IntegrityError,))
    record("yearly.update", object_type="yearly_document", object_id=f"{year}-{kind.value}",
           detail={"year": year, "kind": kind.value, "sections": ",".join(changed) or "none"})
    return document


def years_overview(today: date | None = None) -> list[dict]:
    """The years with accepted reports, the current year and years with a document, newest first.

    [{year, situation: last edited or None, action_plan: last edited or None}].
    """
    today = today or local_today()
    first, last = db.session.execute(
        select(func.min(IncidentReport.local_date), func.max(IncidentReport.local_date))
        .where(IncidentReport.status == ReportStatus.ACCEPTED)).one()
    years = {today.year}
    if first is not None and last is not None:
        years |= set(range(first.year, last.year + 1))
    edited: dict[int, dict[str, Any]] = defaultdict(dict)
    for year, kind, updated_at in db.session.execute(
            select(YearlyDocument.year, YearlyDocument.kind, YearlyDocument.updated_at)):
        years.add(year)
        edited[year][kind.value] = updated_at
    return [{"year": y, "situation": edited[y].get("situation"), "action_plan": edited[y].get("action_plan")}
            for y in sorted((y for y in years if valid_year(y, today)), reverse=True)]


# ------------------------------------------------------------------ the lägesbild


def _monthly(start: date, end: date) -> tuple[dict[tuple[int, int], int], dict[tuple[int, int], int]]:
    """Accepted reports per (month, category id) and per (quarter, area id) in the period."""
    r = IncidentReport
    by_month: dict[tuple[int, int], int] = defaultdict(int)
    by_quarter: dict[tuple[int, int], int] = defaultdict(int)
    for day, category_id, n in db.session.execute(
            select(r.local_date, r.category_id, func.count())
            .where(r.status == ReportStatus.ACCEPTED, r.local_date.between(start, end))
            .group_by(r.local_date, r.category_id)):
        by_month[(day.month, category_id)] += n
    for day, area_id, n in db.session.execute(
            select(r.local_date, r.area_id, func.count())
            .where(r.status == ReportStatus.ACCEPTED, r.local_date.between(start, end))
            .group_by(r.local_date, r.area_id)):
        by_quarter[((day.month - 1) // 3 + 1, area_id)] += n
    return by_month, by_quarter


def year_weeks(year: int) -> list[tuple[int, int]]:
    """The ISO weeks with at least one day in the calendar year ``year`` (the first and last may be partial
    and belong to the ISO year before or after)."""
    return [week for week, _days in weeks_touching(date(year, 1, 1), date(year, 12, 31))]


def week_label(iso_year: int, iso_week: int, year: int) -> str:
    """A week of the year's hotspot list: "12", or "1 (2026)" for a week of another ISO year."""
    return str(iso_week) if iso_year == year else f"{iso_week} ({iso_year})"


def year_hotspots(year: int, year_counts: dict[tuple[int, int], int] | None = None) -> list[dict]:
    """Area × category cells that were a hotspot (the overview's weekly rule) in at least one week of the
    calendar year ``year``.

    The year is the calendar year, 1 January – 31 December, as in every section of the document. Each ISO
    week with a day in it is tested exactly as on the week page (the whole week, against the cell's own
    previous 12 weeks), so a partial first or last week counts as a whole week here. ``year_count`` is the
    cell's count in the calendar year, from ``year_counts`` ({(category id, area id): count}, as the
    document's tables give it; computed when not given). Most weeks first.
    """
    weeks = year_weeks(year)
    history = [shift_week(*weeks[0], -k) for k in range(hotspot_rule.BASELINE_WEEKS, 0, -1)]
    order = history + weeks
    index = {week: i for i, week in enumerate(order)}
    series: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0] * len(order))
    for y, w, category_id, area_id, n in db.session.execute(week_counts_query(week_ranges(order))).all():
        if (y, w) in index:
            series[(category_id, area_id)][index[(y, w)]] += n
    base = len(history)
    week_totals = [sum(counts[i] for counts in series.values()) for i in range(len(order))]
    flagged: dict[tuple[int, int], list[tuple[tuple[int, int], int]]] = defaultdict(list)
    # Each week as the week page tests it: its cells together, against the history weeks that have data.
    for i in range(base, len(order)):
        history_weeks = sum(1 for j in range(i - base, i) if week_totals[j] > 0)
        tested = sum(1 for counts in series.values() if any(counts[i - base:i + 1]))
        candidates = [(cell, counts[i], sum(counts[i - base:i])) for cell, counts in series.items()
                      if counts[i] >= hotspot_rule.MIN_COUNT]
        checks = hotspot_rule.check_cells([(count, past) for _cell, count, past in candidates],
                                          history_weeks=history_weeks, tested=tested)
        for (cell, count, _past), check in zip(candidates, checks):
            if check.flagged:
                flagged[cell].append((order[i], count))
    if not flagged:
        return []
    if year_counts is None:
        year_counts = _calendar_counts(year, set(flagged))
    area_names = dict(db.session.execute(select(Area.id, Area.name).where(
        Area.id.in_({a for _c, a in flagged}))).all())
    categories = {c.id: c for c in db.session.execute(select(Category.id, Category.name_sv, Category.name_en).where(
        Category.id.in_({c for c, _a in flagged}))).all()}
    found = [{"area_id": a, "area_name": area_names.get(a, ""), "category_id": c,
              "name_sv": categories[c].name_sv, "name_en": categories[c].name_en,
              "weeks": len(hits), "week_numbers": [week_label(*w, year) for w, _n in hits],
              "max_count": max(n for _w, n in hits), "year_count": year_counts.get((c, a), 0)}
             for (c, a), hits in flagged.items()]
    found.sort(key=lambda h: (-h["weeks"], -h["year_count"], h["area_name"], h["name_sv"]))
    return found


def _calendar_counts(year: int, cells: set[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """Accepted reports per (category id, area id) with a local date in the calendar year, for ``cells``."""
    r = IncidentReport
    rows = db.session.execute(
        select(r.category_id, r.area_id, func.count())
        .where(r.status == ReportStatus.ACCEPTED, r.local_date.between(date(year, 1, 1), date(year, 12, 31)),
               r.area_id.in_({a for _c, a in cells}), r.category_id.in_({c for c, _a in cells}))
        .group_by(r.category_id, r.area_id)).all()
    return {(c, a): n for c, a, n in rows}


def situation_data(year: int, polygons: dict[int, str | None] | None = None) -> dict:
    """The compiled part of the yearly lägesbild (plain data): figures, months, quarters, hotspots, exit figures."""
    from app.overview.publishing import exit_for_year

    start, end = date(year, 1, 1), date(year, 12, 31)
    figures = period_figures(start, end, polygons)
    by_month, by_quarter = _monthly(start, end)
    months = [{"month": m, "label": str(MONTHS[m - 1]),
               "total": sum(by_month.get((m, c["id"]), 0) for c in figures["categories"]),
               "counts": [by_month.get((m, c["id"]), 0) for c in figures["categories"]]} for m in range(1, 13)]
    quarters = [{"area_id": a["id"], "name": a["name"],
                 "counts": [by_quarter.get((q, a["id"]), 0) for q in range(1, 5)], "total": a["count"]}
                for a in figures["by_area"]]
    return {
        "year": year, "figures": figures, "months": months, "quarters": quarters,
        "hotspots": year_hotspots(year, {(c["id"], row["area_id"]): n for row in figures["table"]
                                         for c, n in zip(figures["categories"], row["counts"])}),
        "hotspot_rule": hotspot_rule.rule(),
        "exit": exit_for_year(year),
    }


# ------------------------------------------------------------------ the åtgärdsplan


def _period(start: date, end: date | None) -> dict:
    return {"start": start.isoformat(), "end": end.isoformat() if end else None}


def action_plan_data(year: int, today: date | None = None, user: Any = None) -> dict:
    """The compiled part of the åtgärdsplan (plain data): the processes ``user`` may see and every
    intervention active in ``year`` (a process leader sees every process; an analyst those their agency
    takes part in, as everywhere else; ``user`` None: every process, for code that is not a request).

    Milestone follow-up counts the process's milestones due in the year (cancelled ones are left out):
    done, late (open and due before the assessment day: 31 December, or today while the year runs)
    and open; the late ones are listed.
    """
    start, end = date(year, 1, 1), date(year, 12, 31)
    as_of = min(end, today or local_today())
    base = select(Process) if user is None else visible_processes_query(user)
    processes = db.session.scalars(
        base.where(Process.start_date <= end, or_(Process.end_date.is_(None), Process.end_date >= start))
        .options(selectinload(Process.milestones)).order_by(Process.name, Process.id)).all()
    visible = None if user is None else set(db.session.scalars(visible_process_ids(user)))
    rows = []
    for process in processes:
        due = [m for m in process.milestones if start <= m.due_date <= end and m.status != WorkStatus.CANCELLED]
        late = [m for m in due if is_late(m.status, m.due_date, as_of)]
        done = [m for m in due if m.status == WorkStatus.DONE]
        rows.append({
            "id": process.id, "name": process.name, "type": str(PROCESS_TYPE_LABELS[process.type]),
            "status": str(PROCESS_STATUS_LABELS[process.status]),
            "owner": process.owner.full_name if process.owner else "",
            "owner_agency": process.owner_agency.name if process.owner_agency else "",
            "agencies": [a.name for a in process.agencies], "goal": process.goal or "",
            "areas": [a.name for a in process.areas],
            "period": _period(process.start_date, process.end_date),
            "milestones": {"total": len(due), "done": len(done), "late": len(late),
                           "open": sum(1 for m in due if m.status not in CLOSED_STATUSES) - len(late)},
            "late": [{"title": m.title, "agency": m.agency.name if m.agency else "", "due": m.due_date.isoformat(),
                      "status": str(WORK_STATUS_LABELS[m.status])} for m in late],
        })
    names = {p.id: p.name for p in processes}
    interventions = []
    for entry in interventions_between(start, end):
        process_id = entry["process_id"]
        if process_id is not None and process_id not in names:
            # A linked process the reader may not open is not named (the intervention itself is area-level).
            linked = db.session.get(Process, process_id) if visible is None or process_id in visible else None
            names[process_id] = linked.name if linked else ""
        interventions.append({
            "id": entry["id"], "title": entry["title"],
            "kind": str(INTERVENTION_KIND_LABELS[InterventionKind(entry["kind"])]),
            "areas": [a["name"] for a in entry["areas"]], "categories": entry["categories"],
            "agency": entry["agency"], "period": {"start": entry["start"], "end": entry["end"]},
            "process": names.get(process_id) if process_id is not None else None,
        })
    return {"year": year, "as_of": as_of.isoformat(), "processes": rows, "interventions": interventions,
            "all_processes": user is None or "always" in gate().allowing_conditions(user, Permission.PROCESS_VIEW)}

