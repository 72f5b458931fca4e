"""The cross-process page of what is late or due, and the status report PDF (routes on processes_bp)."""

from __future__ import annotations

from datetime import timedelta

from flask import make_response, render_template, request
from flask_babel import force_locale, get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.admin.models import Agency
from app.audit.pdf import render_pdf
from app.extensions import db
from app.processes import dates
from app.processes import due as due_service
from app.processes.access import MAX_ID, load_process, visible_action_items_query
from app.processes.labels import LATE_LABEL, PROCESS_STATUS_LABELS, PROCESS_TYPE_LABELS, WORK_STATUS_LABELS
from app.processes.models import CLOSED_STATUSES, ActionItem, Meeting
from app.processes.schedule import projected_dates
from app.processes.timeline import load_timeline_milestones, milestone_summary, timeline_svg
from app.processes.views import processes_bp as bp
from app.security.audit import audited_read
from app.security.authz import requires
from app.security.permissions import Permission

LANGS = ("sv", "en")
TRUE_VALUES = ("1", "true", "on", "yes")
FALSE_VALUES = ("", "0", "false", "off", "no")


def kind_label(kind: str) -> str:
    return _("Delmål") if kind == due_service.MILESTONE else _("Åtgärdspunkt")


def _parse_filters(args) -> tuple[dict, list[str]]:
    """(filters, error messages) from the query string; a bad value is ignored and reported."""
    filters: dict = {"agency_id": None, "kind": None, "only_late": False}
    errors: list[str] = []
    agency = (args.get("agency") or "").strip()
    if agency:
        if agency.isascii() and agency.isdigit() and 0 < int(agency) <= MAX_ID:  # "²".isdigit(), int("²") fails
            filters["agency_id"] = int(agency)
        else:
            errors.append(_("Okänd myndighet i filtret; den ignorerades."))
    kind = (args.get("kind") or "").strip()
    if kind:
        if kind in due_service.KINDS:
            filters["kind"] = kind
        else:
            errors.append(_("Okänd typ i filtret; den ignorerades."))
    late = (args.get("late") or "").strip().lower()
    if late in TRUE_VALUES:
        filters["only_late"] = True
    elif late not in FALSE_VALUES:
        errors.append(_("Ogiltigt värde för \"bara försenade\"; det ignorerades."))
    return filters, errors


#: Rows per agency and kind on the page (the counts are always complete).
PAGE_ROWS_PER_AGENCY = 50


class _Labels:
    """The page's repeated texts, translated once per request instead of once per row."""

    def __init__(self):
        self.kinds = {kind: kind_label(kind) for kind in due_service.KINDS}
        self.statuses = {status: str(label) for status, label in WORK_STATUS_LABELS.items()}
        self.late = str(LATE_LABEL)
        self.today = _("Idag")
        self._when: dict[tuple[bool, int], str] = {}

    def when(self, entry: due_service.DueEntry) -> str:
        key = (entry.late, entry.days_late if entry.late else entry.days_left)
        text = self._when.get(key)
        if text is None:
            if entry.late:
                text = f"{self.late}: " + ngettext("%(num)d dag", "%(num)d dagar", entry.days_late)
            elif entry.days_left == 0:
                text = self.today
            else:
                text = ngettext("om %(num)d dag", "om %(num)d dagar", entry.days_left)
            self._when[key] = text
        return text


@bp.get("/due")
@requires(Permission.PROCESS_LIST)
def due():
    """Late and due-soon milestones and action items of every process and meeting the user may see, by agency."""
    filters, errors = _parse_filters(request.args)
    today = dates.local_today()
    overview = due_service.due_overview(current_user, today, dates.DUE_HORIZON_DAYS, per_agency=PAGE_ROWS_PER_AGENCY,
                                        **filters)
    agencies = db.session.execute(select(Agency.id, Agency.name).where(Agency.active.is_(True))
                                  .order_by(Agency.name)).all()
    html = render_template("processes/due.html", overview=overview, filters=filters, errors=errors,
                           agencies=agencies, entry_url=due_service.EntryLinks(), labels=_Labels(),
                           horizon_end=today + timedelta(days=dates.DUE_HORIZON_DAYS))
    return html, 400 if errors else 200


# ------------------------------------------------------------------ the status report PDF


def _pdf_lang() -> str:
    lang = request.args.get("lang") or str(get_locale() or "sv")
    return lang if lang in LANGS else "sv"


def report_context(process, today) -> dict:
    """Plain data for the status report: facts, counts, timeline, late/due and open action items."""
    milestones = load_timeline_milestones(process)
    projected = projected_dates(milestones)
    summary = milestone_summary(milestones, today, projected)

    def row(m) -> dict:
        late = dates.is_late(m.status, m.due_date, today)
        moved = projected.get(m.id, m.due_date)
        return {"id": m.id, "title": m.title, "agency": m.agency.name if m.agency else "", "due": m.due_date,
                "status": str(LATE_LABEL) if late else str(WORK_STATUS_LABELS[m.status]), "late": late,
                "days_late": (today - m.due_date).days if late else 0, "closed": m.status in CLOSED_STATUSES,
                "due_soon": dates.is_due_soon(m.status, m.due_date, today, dates.DUE_HORIZON_DAYS),
                "projected": moved if moved > m.due_date and m.status not in CLOSED_STATUSES else None,
                "depends_on": [d.title for d in m.depends_on]}

    rows = [row(m) for m in milestones]
    items = db.session.execute(
        visible_action_items_query(current_user)
        .with_only_columns(ActionItem.id, ActionItem.title, ActionItem.due_date, ActionItem.status,
                           Agency.name.label("agency"), Meeting.title.label("meeting"))
        .join(Agency, Agency.id == ActionItem.agency_id)
        .where(Meeting.process_id == process.id, ActionItem.status.notin_(list(CLOSED_STATUSES)))
        .order_by(ActionItem.due_date, ActionItem.id)).all()
    actions = [{"title": a.title, "agency": a.agency, "meeting": a.meeting, "due": a.due_date,
                "late": dates.is_late(a.status, a.due_date, today),
                "status": str(LATE_LABEL) if dates.is_late(a.status, a.due_date, today)
                else str(WORK_STATUS_LABELS[a.status])} for a in items]
    return {
        "process": {"id": process.id, "name": process.name, "type": str(PROCESS_TYPE_LABELS[process.type]),
                    "status": str(PROCESS_STATUS_LABELS[process.status]), "goal": process.goal or "",
                    "start": process.start_date, "end": process.end_date,
                    "owner_agency": process.owner_agency.name if process.owner_agency else "",
                    "agencies": [a.name for a in process.agencies], "areas": [a.name for a in process.areas]},
        "today": today, "horizon_days": dates.DUE_HORIZON_DAYS, "summary": summary,
        "timeline": timeline_svg(process, milestones, today, projected),
        "late": [r for r in rows if r["late"]],
        "due_soon": [r for r in rows if r["due_soon"]],
        "milestones": rows, "actions": actions,
    }


@bp.get("/<int:process_id>/report.pdf")
@requires(Permission.PROCESS_EXPORT)
def report_pdf(process_id: int):
    """A status report of one process for the steering group (audited process.export)."""
    process = load_process(process_id, Permission.PROCESS_EXPORT)
    lang = _pdf_lang()
    today = dates.local_today()

    def produce():
        with force_locale(lang):
            context = report_context(process, today)
            pdf = render_pdf("pdf/process_report.html", lang=lang, **context)
        response = make_response(pdf)
        response.headers["Content-Type"] = "application/pdf"
        response.headers["Content-Disposition"] = f'attachment; filename="statusrapport-process-{process.id}.pdf"'
        return response

    return audited_read("process.export", produce, obj=process, permission=Permission.PROCESS_EXPORT,
                        detail={"format": "pdf", "lang": lang})
