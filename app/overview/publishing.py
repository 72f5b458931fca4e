"""The week's draft (analysis and focus areas), its live snapshot, and publishing frozen numbered versions.

A snapshot is everything the week page shows, as plain JSON: the figures, the
area polygons for the map, the analysis and focus areas and the exit-programme
figures as display strings. A published version stores its snapshot and the
(report id, version) pairs it counted, and is never changed: its page and PDF
render from the stored snapshot only. Comparing those pairs with today's
accepted reports gives "changed since publication".
"""

from __future__ import annotations

import json
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.db import db, utcnow
from app.overview.figures import week_start
from app.overview.figures.aggregate import week_figures_with_polygons
from app.overview.figures.points import week_points
from app.overview.models import IncidentReport, PublishedWeek, ReportStatus, WeekNote
from app.security.audit import record
from app.labels import register_action_labels

SNAPSHOT_SCHEMA = 1
#: Labels for the audit log viewer (registered for the audit pages, app/labels.py).
ACTION_LABELS = register_action_labels({
    "overview.note_changed": "Lägesbildens analys eller fokusområden ändrade",
    "overview.publish": "Lägesbild publicerad",
    "overview.export": "Lägesbild exporterad (PDF)",
})


class PublishError(ValueError):
    """Publishing could not go ahead; the message is user-facing."""


def week_ref(iso_year: int, iso_week: int) -> str:
    """The audit object id of a week: "2026-W05"."""
    return f"{iso_year:04d}-W{iso_week:02d}"


def get_note(iso_year: int, iso_week: int) -> WeekNote | None:
    """The week's draft analysis and focus areas, if any were written."""
    return db.session.scalars(
        select(WeekNote).where(WeekNote.iso_year == iso_year, WeekNote.iso_week == iso_week)).one_or_none()


def save_note(iso_year: int, iso_week: int, *, analysis: str | None, focus: str | None, by) -> WeekNote:
    """Write the week's analysis and focus areas (audited overview.note_changed, without the text)."""
    week_start(iso_year, iso_week)
    note = get_note(iso_year, iso_week)
    if note is None:
        note = WeekNote(iso_year=iso_year, iso_week=iso_week)
        db.session.add(note)
    changed = [name for name, value in (("analysis", analysis), ("focus", focus))
               if (getattr(note, name) or None) != (value or None)]
    note.analysis = analysis or None
    note.focus = focus or None
    note.updated_by_id = getattr(by, "id", None)
    db.session.flush()
    record("overview.note_changed", object_type="week", object_id=week_ref(iso_year, iso_week),
           detail={"fields": ",".join(changed) or "none"})
    return note


def exit_quarter(year: int, quarter: int) -> dict | None:
    """The exit-programme aggregates of one complete calendar quarter as display strings, exactly as
    app.cases.figures gives them (the only grain they are published at: policies/README.md)."""
    try:
        from app.cases.figures import exit_programme_figures, quarter_bounds
    except ImportError:
        return None
    start, end = quarter_bounds(year, quarter)
    figures = exit_programme_figures(start, end, by_agency=False)
    return {
        "grain": "quarter",
        "year": year,
        "quarter": quarter,
        "start": figures.start.isoformat(),
        "end": figures.end.isoformat(),
        "as_of": figures.as_of.isoformat(),
        "new_referrals": str(figures.new_referrals),
        "open_cases": str(figures.open_cases),
        "by_phase": [[phase, str(value)] for phase, value in figures.cases_by_phase.items()],
        "items_completed": str(figures.items_completed),
        "items_overdue": str(figures.items_overdue),
    }


def exit_for_week(monday: date) -> dict | None:
    """The week's exit-programme block: the last calendar quarter complete before the week began."""
    from app.cases.figures import last_complete_quarter

    found = last_complete_quarter(monday)
    return exit_quarter(*found) if found else None


def exit_for_year(year: int) -> dict:
    """The yearly document's exit-programme block: each complete quarter of the calendar year, no year sum
    (a sum beside its quarters would let a suppressed quarter be worked out)."""
    from app.cases.figures import quarter_bounds, today_local

    today = today_local()
    quarters = [exit_quarter(year, q) for q in range(1, 5) if quarter_bounds(year, q)[1] < today]
    return {"grain": "quarters", "year": year, "quarters": [q for q in quarters if q]}


def area_shapes(areas: list[dict], polygons: dict[int, str | None]) -> list[dict]:
    """[{area_id, polygon}] for the map, in the order of ``areas`` (polygon: simplified MultiPolygon coordinates,
    None when missing or malformed; older snapshots hold a single ring, which the map reads too)."""
    from app.overview.geography import drawable_shapes

    return drawable_shapes(areas, polygons)


def week_activity(iso_year: int, iso_week: int) -> dict:
    """The interventions, processes and milestones of the week (app.processes.overview_links), as JSON.

    Stored unfiltered in the snapshot: the page filters it for the reader when it is shown.
    """
    from app.processes.overview_links import week_activity as compute

    return compute(iso_year, iso_week)


def live_snapshot(iso_year: int, iso_week: int) -> dict:
    """Everything the week page shows, computed now (ValueError for a week that does not exist).

    Snapshots published before ``activity`` (or ``points``, the map's report points) existed lack the key;
    readers treat it as empty.
    """
    polygons: dict[int, str | None] = {}
    figures = week_figures_with_polygons(iso_year, iso_week, polygons)
    note = get_note(iso_year, iso_week)
    monday = week_start(iso_year, iso_week)
    return {
        "schema": SNAPSHOT_SCHEMA,
        "figures": figures,
        "shapes": area_shapes(figures["areas"], polygons),
        "points": week_points(iso_year, iso_week),
        "note": {"analysis": note.analysis if note else None, "focus": note.focus if note else None},
        "exit": exit_for_week(monday),
        "activity": week_activity(iso_year, iso_week),
        "generated_at": utcnow().isoformat(),
    }


def counted_reports(iso_year: int, iso_week: int) -> dict[str, int]:
    """{report id: version} of the accepted reports the week's figures count now."""
    rows = db.session.execute(
        select(IncidentReport.id, IncidentReport.version).where(
            IncidentReport.status == ReportStatus.ACCEPTED, IncidentReport.iso_year == iso_year,
            IncidentReport.iso_week == iso_week)).all()
    return {str(report_id): version for report_id, version in rows}


def versions(iso_year: int, iso_week: int) -> list[PublishedWeek]:
    """The week's published versions, newest first."""
    return list(db.session.scalars(select(PublishedWeek).where(
        PublishedWeek.iso_year == iso_year, PublishedWeek.iso_week == iso_week).order_by(PublishedWeek.number.desc())))


def latest(iso_year: int, iso_week: int) -> PublishedWeek | None:
    """The newest published version of the week, if any."""
    found = versions(iso_year, iso_week)
    return found[0] if found else None


def get_version(iso_year: int, iso_week: int, number: int) -> PublishedWeek | None:
    """Published version ``number`` of the week, or None (also for a number no database integer holds)."""
    if not 0 < number < 2**31 or not 0 < iso_year < 10_000 or not 0 < iso_week < 54:
        return None
    return db.session.scalars(select(PublishedWeek).where(
        PublishedWeek.iso_year == iso_year, PublishedWeek.iso_week == iso_week,
        PublishedWeek.number == number)).one_or_none()


def snapshot_of(version: PublishedWeek) -> dict:
    """The frozen snapshot of a published version, exactly as stored."""
    return json.loads(version.snapshot)


def report_changes(version: PublishedWeek, current: dict[str, int]) -> dict:
    """Reports added to, removed from and changed in the week's count since ``version`` was published."""
    then = {report_id: number for report_id, number in json.loads(version.report_versions)}
    return {
        "added": len(current.keys() - then.keys()),
        "removed": len(then.keys() - current.keys()),
        "changed": sum(1 for report_id in current.keys() & then.keys() if current[report_id] != then[report_id]),
    }


def changes_since(version: PublishedWeek | None, snapshot: dict) -> dict | None:
    """What differs between a published version and the live snapshot (None when nothing was published)."""
    if version is None:
        return None
    figures = snapshot["figures"]
    reports = report_changes(version, counted_reports(figures["iso_year"], figures["iso_week"]))
    summary = figure_changes(snapshot_of(version), snapshot)
    return {"number": version.number, "reports": reports, "figures": summary,
            "any": any(reports.values()) or bool(summary)}


def _counts(entries: list[dict], key: str = "id") -> dict:
    """{id: count} of a by_category or by_area list."""
    return {e[key]: e["count"] for e in entries}


def figure_changes(old: dict, new: dict) -> list[dict]:
    """Which shown figures differ between two snapshots (totals, categories, areas, hotspots, texts)."""
    before, after = old["figures"], new["figures"]
    changes = []
    if before["total"]["count"] != after["total"]["count"]:
        changes.append({"what": "total", "old": before["total"]["count"], "new": after["total"]["count"]})
    names = {c["id"]: c for c in before["categories"] + after["categories"]}
    old_c, new_c = _counts(before["by_category"]), _counts(after["by_category"])
    for cid in sorted(old_c.keys() | new_c.keys(), key=lambda i: names[i]["name_sv"]):
        if old_c.get(cid, 0) != new_c.get(cid, 0):
            changes.append({"what": "category", "name_sv": names[cid]["name_sv"], "name_en": names[cid]["name_en"],
                            "old": old_c.get(cid, 0), "new": new_c.get(cid, 0)})
    areas = {a["id"]: a for a in before["areas"] + after["areas"]}
    old_a, new_a = _counts(before["by_area"]), _counts(after["by_area"])
    for aid in sorted(old_a.keys() | new_a.keys(), key=lambda i: areas[i]["name"]):
        if old_a.get(aid, 0) != new_a.get(aid, 0):
            changes.append({"what": "area", "name": areas[aid]["name"], "old": old_a.get(aid, 0),
                            "new": new_a.get(aid, 0)})
    cell = lambda h: (h["area_id"], h["category_id"], h["count"])  # noqa: E731
    if sorted(map(cell, before["hotspots"])) != sorted(map(cell, after["hotspots"])):
        changes.append({"what": "hotspots", "old": len(before["hotspots"]), "new": len(after["hotspots"])})
    for field in ("analysis", "focus"):
        if (old["note"].get(field) or "") != (new["note"].get(field) or ""):
            changes.append({"what": field})
    return changes


def publish_week(iso_year: int, iso_week: int, *, by) -> PublishedWeek:
    """Freeze the week as the next numbered version, with a change summary against the previous one (audited)."""
    snapshot = live_snapshot(iso_year, iso_week)
    current = counted_reports(iso_year, iso_week)
    previous = latest(iso_year, iso_week)
    number = (previous.number + 1) if previous else 1
    summary = None
    if previous is not None:
        summary = {"previous": previous.number, "reports": report_changes(previous, current),
                   "figures": figure_changes(snapshot_of(previous), snapshot)}
    version = PublishedWeek(
        iso_year=iso_year, iso_week=iso_week, number=number, published_by_id=getattr(by, "id", None),
        snapshot=json.dumps(snapshot, ensure_ascii=False, sort_keys=True),
        report_versions=json.dumps(sorted([report_id, v] for report_id, v in current.items())),
        change_summary=json.dumps(summary, ensure_ascii=False) if summary else None,
    )
    savepoint = db.session.begin_nested()
    try:
        db.session.add(version)
        db.session.flush()
        savepoint.commit()
    except IntegrityError:
        savepoint.rollback()
        raise PublishError(_l("Veckan publicerades samtidigt av någon annan. Ladda om sidan och försök igen.")) from None
    record("overview.publish", object_type="week", object_id=week_ref(iso_year, iso_week),
           detail={"version": number, "reports": len(current)})
    return version

