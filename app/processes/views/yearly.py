"""The yearly documents (Lag 2023:196): the draft lägesbild and the åtgärdsplan, their edit form and PDFs.

Readers (yearly:read) see both documents in full: the åtgärdsplan is the
municipality's official plan and lists every process and intervention of the
year. Only yearly:edit holders change the text sections.
"""

from __future__ import annotations

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.audit.pdf import render_pdf
from app.overview.charts import figure_charts, trend_bars
from app.overview.publishing import area_shapes
from app.processes import yearly as service
from app.processes.dates import local_today
from app.processes.form_fields import show_hidden_errors
from app.processes.forms_yearly import form_class, section_keys
from app.processes.labels import YEARLY_KIND_LABELS
from app.processes.models import YearlyDocumentKind
from app.processes.views import yearly_bp as bp
from app.security.audit import audited_read
from app.security.authz import requires
from app.security.permissions import Permission

LANGS = ("sv", "en")
PAGES = {YearlyDocumentKind.SITUATION: "yearly.situation", YearlyDocumentKind.ACTION_PLAN: "yearly.action_plan"}

def _year_or_404(year: int) -> None:
    if not service.valid_year(year):
        abort(make_response(render_template(
            "errors/error.html", code=404, title=_("Året finns inte"),
            message=_("Årsdokument finns för åren %(first)s–%(last)s.", first=service.MIN_YEAR,
                      last=service.max_year())), 404))


def _kind_or_404(kind: str) -> YearlyDocumentKind:
    found = service.parse_kind(kind)
    if found is None:
        abort(404)
    return found


def _phase_labels() -> dict:
    try:
        from app.cases.labels import PHASE_LABELS
    except ImportError:
        return {}
    return {phase.value: str(label) for phase, label in PHASE_LABELS.items()}


def _english(locale: str | None = None) -> bool:
    return str(locale or get_locale() or "sv").startswith("en")


def _situation_context(year: int, locale: str) -> dict:
    """Plain data and SVG charts of the yearly lägesbild (the same for the page and the PDF)."""
    polygons: dict = {}
    data = service.situation_data(year, polygons)
    figures = data["figures"]
    charts = figure_charts(figures, area_shapes(figures["areas"], polygons), locale, highlight_last=False)
    charts["months"] = trend_bars([m["total"] for m in data["months"]], [m["label"] for m in data["months"]],
                                  _("Antal rapporter per månad"), width=360, height=90, highlight_last=False)
    document = service.get_document(year, YearlyDocumentKind.SITUATION)
    return {"year": year, "kind": "situation", "data": data, "figures": figures, "charts": charts,
            "sections": service.sections_for_display(YearlyDocumentKind.SITUATION, document),
            "updated_at": document.updated_at if document else None, "english": _english(locale),
            "phase_labels": _phase_labels()}


def _action_plan_context(year: int, locale: str) -> dict:
    data = service.action_plan_data(year, user=current_user)
    document = service.get_document(year, YearlyDocumentKind.ACTION_PLAN)
    return {"year": year, "kind": "action_plan", "data": data,
            "sections": service.sections_for_display(YearlyDocumentKind.ACTION_PLAN, document),
            "updated_at": document.updated_at if document else None, "english": _english(locale)}


@bp.get("/")
@requires(Permission.YEARLY_READ)
def index():
    """The years with data, with links to both documents and when their text was last edited."""
    return render_template("yearly/index.html", years=service.years_overview())


@bp.get("/<int:year>/lagesbild")
@requires(Permission.YEARLY_READ)
def situation(year: int):
    """The draft yearly lägesbild: the year's incident picture and the process leader's text."""
    _year_or_404(year)
    return render_template("yearly/situation.html", **_situation_context(year, str(get_locale() or "sv")))


@bp.get("/<int:year>/atgardsplan")
@requires(Permission.YEARLY_READ)
def action_plan(year: int):
    """The åtgärdsplan: the text sections and every process and intervention active in the year."""
    _year_or_404(year)
    return render_template("yearly/action_plan.html", **_action_plan_context(year, str(get_locale() or "sv")))


def _edit_page(year: int, kind: YearlyDocumentKind, form, status: int = 200, conflict: str | None = None):
    return render_template("yearly/edit.html", year=year, kind=kind.value, title=YEARLY_KIND_LABELS[kind],
                           form=form, keys=section_keys(kind), conflict=conflict,
                           back=url_for(PAGES[kind], year=year)), status


@bp.route("/<int:year>/<kind>/edit", methods=["GET", "POST"])
@requires(Permission.YEARLY_EDIT)
def edit(year: int, kind: str):
    """Edit the text sections of a yearly document (optimistic locking on its version)."""
    _year_or_404(year)
    doc_kind = _kind_or_404(kind)
    cls = form_class(doc_kind)
    if request.method == "GET":
        document = service.get_document(year, doc_kind)
        texts = service.section_texts(document)
        data = {key: texts.get(key, "") for key in section_keys(doc_kind)}
        return _edit_page(year, doc_kind, cls(data={**data, "version": document.version if document else 0}))
    form = cls()
    if not form.validate_on_submit():
        return _edit_page(year, doc_kind, form, show_hidden_errors(form, 400))
    try:
        service.save_document(year, doc_kind, {key: form[key].data for key in section_keys(doc_kind)},
                              expected_version=form.version.data, by=current_user)
    except service.YearlyConflict as exc:
        return _edit_page(year, doc_kind, form, 409, conflict=str(exc))
    flash(_("Texten är sparad."), "success")
    return redirect(url_for(PAGES[doc_kind], year=year))


def _pdf_lang() -> str:
    lang = request.args.get("lang") or str(get_locale() or "sv")
    return lang if lang in LANGS else "sv"


def _pdf(kind: YearlyDocumentKind, year: int, template: str, build, filename: str):
    lang = _pdf_lang()

    def produce():
        with force_locale(lang):
            context = build(year, lang)
            pdf = render_pdf(template, lang=lang, generated=local_today(), **context)
        response = make_response(pdf)
        response.headers["Content-Type"] = "application/pdf"
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    return audited_read("yearly.export", produce, object_type="yearly_document", object_id=f"{year}-{kind.value}",
                        permission=Permission.YEARLY_READ,
                        detail={"year": year, "kind": kind.value, "format": "pdf", "lang": lang})


@bp.get("/<int:year>/lagesbild.pdf")
@requires(Permission.YEARLY_READ)
def situation_pdf(year: int):
    """The yearly lägesbild as a PDF marked as a draft (audited yearly.export)."""
    _year_or_404(year)
    return _pdf(YearlyDocumentKind.SITUATION, year, "pdf/yearly_situation.html", _situation_context,
                f"lagesbild-{year}.pdf")


@bp.get("/<int:year>/atgardsplan.pdf")
@requires(Permission.YEARLY_READ)
def action_plan_pdf(year: int):
    """The åtgärdsplan as a PDF marked as a draft (audited yearly.export)."""
    _year_or_404(year)
    return _pdf(YearlyDocumentKind.ACTION_PLAN, year, "pdf/yearly_action_plan.html", _action_plan_context,
                f"atgardsplan-{year}.pdf")
