"""The weekly overview: the week page, analysis and focus, publishing, versions, PDF and periods.

Users with OVERVIEW_READ see the live figures and the draft; users with only
OVERVIEW_PUBLISHED (partners, coordinators) see the latest published version.
Published versions render from their stored snapshot only, never recomputed.
"""

from __future__ import annotations

import json
from datetime import date

from flask import abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.audit.pdf import render_pdf
from app.overview import publishing
from app.overview.charts import figure_charts, fmt_change, fmt_num, fmt_p
from app.overview.figures import is_valid_week, last_complete_week, period_figures, shift_week
from app.overview.figures.points import period_points
from app.overview.forms_week import NoteForm, PeriodError, PublishForm, parse_period
from app.overview.views import overview_bp as bp
from app.processes import overview_links
from app.processes.labels import (INTERVENTION_KIND_LABELS, LATE_LABEL, PROCESS_STATUS_LABELS, PROCESS_TYPE_LABELS,
                                  WORK_STATUS_LABELS)
from app.security.audit import audited_read
from app.security.authz import can, requires
from app.security.permissions import Permission

LANGS = ("sv", "en")

# Number formatting for the overview templates and PDFs (Python filters: macros were a third of the render time).
bp.add_app_template_filter(fmt_num, "overview_num")
bp.add_app_template_filter(fmt_change, "overview_change")
bp.add_app_template_filter(fmt_p, "overview_p")


def _week_or_404(year: int, week: int) -> None:
    if not is_valid_week(year, week):
        abort(make_response(render_template(
            "errors/error.html", code=404, title=_("Veckan finns inte"),
            message=_("Vecka %(week)s år %(year)s finns inte. Ett år har 52 eller 53 ISO-veckor.",
                      week=week, year=year)), 404))


def _locale() -> str:
    return str(get_locale() or "sv")


def _phase_labels() -> dict:
    try:
        from app.cases.labels import PHASE_LABELS
    except ImportError:
        return {}
    return {phase.value: str(label) for phase, label in PHASE_LABELS.items()}


def _labels() -> dict:
    """Display labels of the activity's enum values (plain strings, also for the PDF)."""
    return {
        "intervention_kind": {k.value: str(v) for k, v in INTERVENTION_KIND_LABELS.items()},
        "process_type": {k.value: str(v) for k, v in PROCESS_TYPE_LABELS.items()},
        "process_status": {k.value: str(v) for k, v in PROCESS_STATUS_LABELS.items()},
        "work_status": {k.value: str(v) for k, v in WORK_STATUS_LABELS.items()},
        "late": str(LATE_LABEL),
    }


def _activity(snapshot: dict | None) -> dict | None:
    """The snapshot's interventions, processes and milestones that the current user may see (None: no snapshot).

    Filtered here for every path (live, published, PDF): the snapshot holds them unfiltered.
    """
    if not snapshot:
        return None
    activity = overview_links.visible_activity(snapshot.get("activity"), current_user)
    views = current_app.view_functions
    return {
        **activity,
        "areas": overview_links.by_area(activity, snapshot["figures"]["areas"]),
        "labels": _labels(),
        "link_interventions": "interventions.detail" in views,
        "link_processes": "processes.detail" in views,
    }


def _context(year: int, week: int, snapshot: dict | None, *, version=None) -> dict:
    """What the week templates need: plain data plus the SVG charts."""
    locale = _locale()
    charts = figure_charts(snapshot["figures"], snapshot["shapes"], locale,
                           points=snapshot.get("points")) if snapshot else None
    prev_y, prev_w = shift_week(year, week, -1)
    next_y, next_w = shift_week(year, week, 1)
    return {
        "year": year, "week": week, "snapshot": snapshot, "figures": snapshot["figures"] if snapshot else None,
        "charts": charts, "english": locale.startswith("en"),
        # Plain data (the PDF templates never get ORM objects).
        "version": {"number": version.number, "published_at": version.published_at} if version is not None else None,
        "phase_labels": _phase_labels(), "prev_week": (prev_y, prev_w), "next_week": (next_y, next_w),
        "summary": json.loads(version.change_summary) if version is not None and version.change_summary else None,
        "activity": _activity(snapshot),
    }


@bp.get("/")
@requires(Permission.OVERVIEW_PUBLISHED)
def index():
    """Go to the last complete ISO week (Stockholm): the week a meeting discusses. The running week is one
    click on ("Vecka N →"), and says it is running."""
    year, week = last_complete_week()
    return redirect(url_for("overview.week", year=year, week=week))


def _live_page(year: int, week: int, note_form: NoteForm | None = None) -> str:
    """The live week page with the draft and what changed since the last published version."""
    snapshot = publishing.live_snapshot(year, week)
    versions = publishing.versions(year, week)
    note = snapshot["note"]
    context = _context(year, week, snapshot)
    context.update(
        live=True, versions=versions,
        changes=publishing.changes_since(versions[0] if versions else None, snapshot),
        note_form=note_form or NoteForm(data={"analysis": note["analysis"], "focus": note["focus"]}),
    )
    return render_template("overview/week.html", **context)


@bp.get("/<int:year>/<int:week>")
@requires(Permission.OVERVIEW_PUBLISHED)
def week(year: int, week: int):
    """The week's overview: live with the draft for readers, else the latest published version."""
    _week_or_404(year, week)
    if can(Permission.OVERVIEW_READ):
        return _live_page(year, week)
    versions = publishing.versions(year, week)
    latest = versions[0] if versions else None
    context = _context(year, week, publishing.snapshot_of(latest) if latest else None, version=latest)
    context.update(live=False, versions=versions, changes=None, note_form=None)
    return render_template("overview/week.html", **context)


@bp.post("/<int:year>/<int:week>/note")
@requires(Permission.OVERVIEW_EDIT)
def note(year: int, week: int):
    """Save the analysts' analysis and the focus areas (the draft of the week)."""
    _week_or_404(year, week)
    form = NoteForm()
    if not form.validate_on_submit():
        return _live_page(year, week, form), 400
    publishing.save_note(year, week, analysis=(form.analysis.data or "").strip(),
                         focus=(form.focus.data or "").strip(), by=current_user)
    flash(_("Analysen och fokusområdena är sparade."), "success")
    return redirect(url_for("overview.week", year=year, week=week) + "#analys")


def _publish_page(year: int, week: int, form: PublishForm, status: int = 200):
    snapshot = publishing.live_snapshot(year, week)
    versions = publishing.versions(year, week)
    return render_template(
        "overview/publish.html", year=year, week=week, form=form, figures=snapshot["figures"],
        note=snapshot["note"], versions=versions, english=_locale().startswith("en"),
        changes=publishing.changes_since(versions[0] if versions else None, snapshot),
    ), status


@bp.get("/<int:year>/<int:week>/publish")
@requires(Permission.OVERVIEW_PUBLISH)
def publish_confirm(year: int, week: int):
    """Confirmation step: what is about to be frozen, and what changed since the last version."""
    _week_or_404(year, week)
    return _publish_page(year, week, PublishForm())


@bp.post("/<int:year>/<int:week>/publish")
@requires(Permission.OVERVIEW_PUBLISH)
def publish(year: int, week: int):
    """Freeze the week as the next numbered version (needs the confirmation tick)."""
    _week_or_404(year, week)
    form = PublishForm()
    if not form.validate_on_submit():
        return _publish_page(year, week, form, 400)
    try:
        version = publishing.publish_week(year, week, by=current_user)
    except publishing.PublishError as exc:
        flash(str(exc), "error")
        return _publish_page(year, week, form, 409)
    flash(_("Vecka %(week)s är publicerad som version %(number)s.", week=week, number=version.number), "success")
    return redirect(url_for("overview.version", year=year, week=week, number=version.number))


@bp.get("/<int:year>/<int:week>/versions/<int:number>")
@requires(Permission.OVERVIEW_PUBLISHED)
def version(year: int, week: int, number: int):
    """One published version, exactly as it was published (rendered from its snapshot)."""
    _week_or_404(year, week)
    found = publishing.get_version(year, week, number)
    if found is None:
        abort(404)
    context = _context(year, week, publishing.snapshot_of(found), version=found)
    context.update(live=False, versions=publishing.versions(year, week), changes=None, note_form=None)
    return render_template("overview/week.html", **context)


def _pdf_lang() -> str:
    lang = request.args.get("lang") or _locale()
    return lang if lang in LANGS else "sv"


def _pdf_response(pdf: bytes, filename: str):
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/<int:year>/<int:week>.pdf")
@requires(Permission.OVERVIEW_PUBLISHED)
def week_pdf(year: int, week: int):
    """The week as a PDF for the meeting: live for readers, else the latest (or ?version=N) published version."""
    _week_or_404(year, week)
    number = request.args.get("version", type=int)
    chosen = publishing.get_version(year, week, number) if number else None
    if number and chosen is None:
        abort(404)
    if chosen is None and not can(Permission.OVERVIEW_READ):
        chosen = publishing.latest(year, week)
        if chosen is None:
            abort(make_response(render_template(
                "errors/error.html", code=404, title=_("Inte publicerad"),
                message=_("Vecka %(week)s år %(year)s är inte publicerad ännu.", week=week, year=year)), 404))
    lang = _pdf_lang()
    snapshot = publishing.snapshot_of(chosen) if chosen else publishing.live_snapshot(year, week)

    def produce():
        with force_locale(lang):
            context = _context(year, week, snapshot, version=chosen)
            context.update(live=chosen is None, lang=lang)
            pdf = render_pdf("pdf/overview_week.html", **context)
        return _pdf_response(pdf, f"lagesbild-{year}-v{week:02d}.pdf")

    return audited_read("overview.export", produce, object_type="week", object_id=publishing.week_ref(year, week),
                        permission=Permission.OVERVIEW_PUBLISHED if chosen else Permission.OVERVIEW_READ,
                        detail={"format": "pdf", "lang": lang, "version": chosen.number if chosen else "live"})


def _period_or_400(template: str):
    """(period, error response): parse the query string; bad input renders the form again with 400."""
    try:
        return parse_period(request.args), None
    except PeriodError as exc:
        return None, (render_template(template, period=None, figures=None, charts=None, error=str(exc),
                                      args=request.args, english=_locale().startswith("en")), 400)


def _period_points(figures: dict) -> list[list[float]]:
    """The map's points: the accepted reports the period's figures count (through its last counted day)."""
    through = figures.get("through")
    return period_points(date.fromisoformat(figures["start"]), date.fromisoformat(through) if through else None)


@bp.get("/period")
@requires(Permission.OVERVIEW_READ)
def period():
    """The same picture for a chosen period (quarter, four months, year) against the period before it."""
    chosen, error = _period_or_400("overview/period.html")
    if error:
        return error
    polygons: dict = {}
    figures = period_figures(chosen.start, chosen.end, polygons) if chosen else None
    charts = (figure_charts(figures, publishing.area_shapes(figures["areas"], polygons), _locale(),
                            highlight_last=False, points=_period_points(figures)) if figures else None)
    return render_template("overview/period.html", period=chosen, figures=figures, charts=charts, error=None,
                           args=request.args, english=_locale().startswith("en"))


@bp.get("/period.pdf")
@requires(Permission.OVERVIEW_READ)
def period_pdf():
    """The period picture as a PDF (audited overview.export)."""
    chosen, error = _period_or_400("overview/period.html")
    if error:
        return error
    if chosen is None:
        return redirect(url_for("overview.period"))
    lang = _pdf_lang()
    polygons: dict = {}
    figures = period_figures(chosen.start, chosen.end, polygons)
    shapes = publishing.area_shapes(figures["areas"], polygons)
    points = _period_points(figures)

    def produce():
        with force_locale(lang):
            charts = figure_charts(figures, shapes, lang, highlight_last=False, points=points)
            pdf = render_pdf("pdf/overview_period.html", period=chosen, figures=figures, charts=charts,
                             english=lang == "en", lang=lang)
        return _pdf_response(pdf, f"lagesbild-{chosen.start.isoformat()}-{chosen.end.isoformat()}.pdf")

    return audited_read("overview.export", produce, object_type="period",
                        object_id=f"{chosen.start.isoformat()}..{chosen.end.isoformat()}",
                        permission=Permission.OVERVIEW_READ, detail={"format": "pdf", "lang": lang})
