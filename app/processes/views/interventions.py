"""Views of the interventions blueprint: list, create, show, edit, delete, and the evaluation (page and PDF).

Interventions are area-level: reading them needs INTERVENTION_READ, changing them
INTERVENTION_MANAGE, and the evaluation EVALUATION_READ, all route-level (the
policy grants them "always"), so list, page, evaluation and PDF apply the same rule.
"""

from __future__ import annotations

from typing import Any

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.routing import BuildError

from app.admin.forms import DestructiveConfirmForm
from app.audit.pdf import render_pdf
from app.db import db, utcnow
from app.overview.models import Area
from app.processes import evaluation as ev
from app.processes import interventions as service
from app.processes.dates import local_today
from app.processes.evaluation_chart import evaluation_chart
from app.processes.form_fields import show_hidden_errors
from app.processes.forms_interventions import (InterventionFilterForm, InterventionForm, parse_evaluation_args)
from app.processes.labels import INTERVENTION_KIND_LABELS
from app.processes.models import Intervention
from app.processes.views import interventions_bp as bp
from app.security.audit import audited_read
from app.security.authz import authorize, can, requires
from app.security.permissions import Permission
from app.web import form_status, page_arg, per_page


@bp.app_template_filter("evaluation_num")
def evaluation_num(value: float | None, digits: int = 1) -> str:
    """A number with a Swedish decimal comma and a real minus sign ("−2,5"); "–" for none."""
    if value is None:
        return "–"
    text = format_decimal(value, format="#,##0." + "0" * digits if digits else "#,##0")
    return text.replace("-", "−")


def _state(intervention: Intervention, today) -> str:
    if intervention.start_date > today:
        return "planned"
    if intervention.end_date is not None and intervention.end_date < today:
        return "ended"
    return "active"



def _state_label(state: str) -> str:
    return {"planned": _("Planerad"), "active": _("Pågår"), "ended": _("Avslutad")}[state]


# ------------------------------------------------------------------ list


@bp.get("/")
@requires(Permission.INTERVENTION_READ)
def index():
    """Interventions with search (title), filters (kind, area, active/planned/ended), sorting and pagination."""
    today = local_today()
    form = InterventionFilterForm(request.args)
    form.set_areas(service.area_choices())
    sort = request.args.get("sort", "-start")
    if sort.lstrip("-") not in service.SORTS:
        sort = "-start"
    if not form.validate():
        return render_template("interventions/list.html", form=form, pagination=None, sort=sort, today=today,
                               kinds=INTERVENTION_KIND_LABELS, state_of=_state, state_label=_state_label), 400
    filters = service.InterventionFilters(q=form.q.data or None, kind=form.kind.data or None,
                                          area_id=form.area.data or None, state=form.state.data or None)
    pagination = db.paginate(service.interventions_query(filters, sort, today), page=page_arg(),
                             per_page=per_page(), error_out=False)
    return render_template("interventions/list.html", form=form, pagination=pagination, sort=sort, today=today,
                           kinds=INTERVENTION_KIND_LABELS, state_of=_state, state_label=_state_label)


# ------------------------------------------------------------------ create, show, edit, delete


def _form(intervention: Intervention | None = None, *, from_request: bool = True) -> InterventionForm:
    if intervention is not None and not from_request:
        form = InterventionForm(formdata=None, data={
            "title": intervention.title, "kind": intervention.kind.value, "description": intervention.description,
            "agency_id": intervention.agency_id, "process_id": intervention.process_id,
            "start_date": intervention.start_date, "end_date": intervention.end_date,
            "area_ids": [a.id for a in intervention.areas], "category_ids": [c.id for c in intervention.categories],
            "version": intervention.version})
    else:
        form = InterventionForm()
    form.set_choices(
        agencies=service.agency_choices(intervention.agency_id if intervention else None),
        processes=service.process_choices(current_user, intervention.process_id if intervention else None),
        areas=service.area_choices(intervention.areas if intervention else ()),
        categories=service.category_choices(intervention.categories if intervention else ()))
    return form


def _render_form(form: InterventionForm, intervention: Intervention | None, status: int):
    return render_template("interventions/form.html", form=form, intervention=intervention), status


@bp.route("/new", methods=["GET", "POST"])
@requires(Permission.INTERVENTION_MANAGE)
def new():
    """Register an intervention: kind, responsible agency, period, target areas and categories."""
    form = _form()
    del form.version  # a new intervention has no version yet
    status = 200
    if form.validate_on_submit():
        try:
            intervention = service.create_intervention(form.values(), by=current_user)
        except service.InterventionError as exc:
            form.form_errors.append(str(exc))
            status = 400
        else:
            flash(_("Insatsen är sparad."), "success")
            return redirect(url_for("interventions.detail", intervention_id=intervention.id))
    return _render_form(form, None, max(status, form_status(form)))


@bp.get("/<int:intervention_id>")
@requires(Permission.INTERVENTION_READ)
def detail(intervention_id: int):
    """One intervention: what, where, when, who, and the link to its evaluation."""
    intervention = service.load_intervention(intervention_id)
    authorize(Permission.INTERVENTION_READ, intervention)
    today = local_today()
    process = intervention.process
    process_visible = process is not None and can(Permission.PROCESS_VIEW, process)
    process_url = None
    if process_visible:
        try:
            process_url = url_for("processes.detail", process_id=process.id)
        except BuildError:
            process_url = None
    return render_template("interventions/detail.html", intervention=intervention, kinds=INTERVENTION_KIND_LABELS,
                           state=_state_label(_state(intervention, today)), today=today,
                           process_visible=process_visible, process_url=process_url)


@bp.route("/<int:intervention_id>/edit", methods=["GET", "POST"])
@requires(Permission.INTERVENTION_MANAGE)
def edit(intervention_id: int):
    """Edit an intervention; a stale form (someone else saved first) gives 409 and saves nothing."""
    intervention = service.load_intervention(intervention_id)
    authorize(Permission.INTERVENTION_MANAGE, intervention)
    form = _form(intervention, from_request=request.method == "POST")
    status = 200
    if form.validate_on_submit():
        try:
            service.update_intervention(intervention, form.values(), expected_version=form.version.data,
                                        by=current_user)
        except service.InterventionError as exc:
            form.form_errors.append(str(exc))
            status = 409 if isinstance(exc, service.InterventionConflict) else 400
        else:
            flash(_("Ändringarna är sparade."), "success")
            return redirect(url_for("interventions.detail", intervention_id=intervention.id))
    return _render_form(form, intervention, show_hidden_errors(form, max(status, form_status(form))))


@bp.route("/<int:intervention_id>/delete", methods=["GET", "POST"])
@requires(Permission.INTERVENTION_MANAGE)
def delete(intervention_id: int):
    """Delete an intervention after an explicit confirmation (GET shows the confirmation)."""
    intervention = service.load_intervention(intervention_id)
    authorize(Permission.INTERVENTION_MANAGE, intervention)
    confirm = DestructiveConfirmForm()
    if request.method == "POST":
        if confirm.validate_on_submit():
            service.delete_intervention(intervention, by=current_user)
            flash(_("Insatsen är borttagen."), "success")
            return redirect(url_for("interventions.index"))
        return render_template("interventions/confirm_delete.html", intervention=intervention, confirm=confirm), 400
    return render_template("interventions/confirm_delete.html", intervention=intervention, confirm=confirm)


# ------------------------------------------------------------------ evaluation


def summary_sentence(result: ev.Evaluation) -> str:
    """The headline (the ratio of rate ratios) in one plain sentence, or an empty string when it cannot be said."""
    if not result.can_say:
        return ""
    ratio = result.ratio
    interval = _("kvot %(ratio)s, 95 %% intervall %(low)s till %(high)s", ratio=evaluation_num(ratio.estimate, 2),
                 low=evaluation_num(ratio.low, 2), high=evaluation_num(ratio.high, 2))
    percent = round(ratio.percent)
    if percent == 0:
        text = _("Ingen skillnad: antalet i insatsområdena blev ungefär det som jämförelseområdena ger anledning "
                 "att vänta (%(interval)s).", interval=interval)
    elif percent < 0:
        text = _("Minskning med cirka %(n)s %% mot det som jämförelseområdena ger anledning att vänta "
                 "(%(interval)s).", n=-percent, interval=interval)
    else:
        text = _("Ökning med cirka %(n)s %% mot det som jämförelseområdena ger anledning att vänta "
                 "(%(interval)s).", n=percent, interval=interval)
    if ratio.covers_one:
        text += " " + _("Intervallet omfattar 1 (ingen förändring): uppgifterna räcker inte för att skilja en "
                        "effekt från slumpmässig variation.")
    return text


def level_sentence(result: ev.Evaluation) -> str:
    """The difference in levels, shown beside the headline."""
    if not result.can_say:
        return ""
    est = result.absolute
    return _("I antal: %(n)s händelser per område och vecka (95 %% intervall %(low)s till %(high)s).",
             n=("+" if round(est.estimate, 1) > 0 else "") + evaluation_num(est.estimate),
             low=evaluation_num(est.low), high=evaluation_num(est.high))


def _evaluation_context(intervention: Intervention) -> dict[str, Any]:
    """Parameters (invalid ones → message and default), the evaluation, its chart and the plain data around it."""
    targeted = {a.id for a in intervention.areas}
    areas = list(db.session.execute(select(Area.id, Area.name, Area.active).order_by(Area.name, Area.id)))
    params = parse_evaluation_args(request.args, targeted=targeted, known_areas={a.id for a in areas})
    comparison_ids = (params.comparison_ids if params.comparison_ids is not None
                      else ev.default_comparison_area_ids(targeted))
    today = local_today()
    result = ev.evaluate(area_ids=targeted, category_ids=[c.id for c in intervention.categories],
                         start=intervention.start_date, weeks_before=params.weeks_before,
                         weeks_after=params.weeks_after, comparison_area_ids=comparison_ids, today=today)
    chosen = set(comparison_ids)
    chart = evaluation_chart(
        [w.label for w in result.weeks], [w.treated for w in result.weeks], [w.comparison for w in result.weeks],
        params.weeks_before, title=_("Händelser per vecka före och efter insatsens start"),
        treated_label=_("Insatsområden (snitt per område)"), comparison_label=_("Jämförelseområden (snitt per område)"),
        start_label=_("Start"), y_label=_("Händelser per vecka"), x_label=_("ISO-vecka"))
    after_end = (intervention.end_date is not None and result.weeks
                 and result.weeks[-1].monday > intervention.end_date)
    return {
        "intervention": {
            "id": intervention.id, "title": intervention.title, "kind": INTERVENTION_KIND_LABELS[intervention.kind],
            "agency": intervention.agency.name if intervention.agency else "",
            "start_date": intervention.start_date, "end_date": intervention.end_date,
            "areas": [a.name for a in intervention.areas],
            "categories": [c.name_sv for c in intervention.categories],
        },
        "params": params,
        "result": result,
        "chart": chart,
        "sentence": summary_sentence(result),
        "level_sentence": level_sentence(result),
        "comparison_choices": [(a.id, a.name, a.id in chosen) for a in areas
                               if a.id not in targeted and (a.active or a.id in chosen)],
        "comparison_names": [a.name for a in areas if a.id in chosen],
        "after_end": after_end,
        "min_weeks": ev.MIN_WEEKS,
        "min_incidents": ev.MIN_TREATED_INCIDENTS,
    }


@bp.get("/<int:intervention_id>/evaluation")
@requires(Permission.EVALUATION_READ)
def evaluation(intervention_id: int):
    """Before/after weekly counts beside comparison areas, a difference-in-differences estimate and caveats."""
    intervention = service.load_intervention(intervention_id)
    authorize(Permission.EVALUATION_READ, intervention)
    context = _evaluation_context(intervention)
    return render_template("interventions/evaluation.html", **context)


@bp.get("/<int:intervention_id>/evaluation.pdf")
@requires(Permission.EVALUATION_READ)
def evaluation_pdf(intervention_id: int):
    """The evaluation as PDF, with the same parameters and the same figures as the page."""
    intervention = service.load_intervention(intervention_id)
    authorize(Permission.EVALUATION_READ, intervention)
    context = _evaluation_context(intervention)
    context["generated_at"] = utcnow()

    def produce():
        response = make_response(render_pdf("pdf/evaluation.html", **context))
        response.headers["Content-Type"] = "application/pdf"
        response.headers["Content-Disposition"] = f'attachment; filename="utvardering-insats-{intervention.id}.pdf"'
        return response

    params = context["params"]
    return audited_read("evaluation.export", produce, object_type="intervention", object_id=intervention.id,
                        permission=Permission.EVALUATION_READ,
                        detail={"format": "pdf", "weeks_before": params.weeks_before,
                                "weeks_after": params.weeks_after,
                                "comparison": context["result"].comparison_area_count})
