"""Areas and incident categories (administrators). API tokens live in views/tokens.py."""

from __future__ import annotations

import json

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from app.admin.forms import DestructiveConfirmForm
from app.db import db
from app.overview import area_import, taxonomy
from app.overview.charts import area_map
from app.overview.forms_taxonomy import AreaForm, AreaImportConfirmForm, AreaImportForm, CategoryForm
from app.overview.models import Area, Category
from app.overview.views import form_status, page_arg, per_page, taxonomy_bp
from app.security.authz import requires
from app.security.permissions import Permission


def _load(model, object_id: int):
    # An id beyond a database integer is simply unknown (the driver would overflow on it).
    obj = db.session.get(model, object_id) if 0 < object_id < 2**31 else None
    if obj is None:
        abort(404)
    return obj


def _apply(form, error: taxonomy.TaxonomyError) -> None:
    target = form[error.field] if error.field and error.field in form else None
    (target.errors if target is not None else form.form_errors).append(str(error))


# ------------------------------------------------------------------ areas


@taxonomy_bp.get("/areas")
@requires(Permission.TAXONOMY_MANAGE)
def areas():
    """Areas with search, sorting, pagination and how many reports use each."""
    q = request.args.get("q", "").strip()[:100]
    sort = request.args.get("sort", "name")
    pagination, usage = taxonomy.list_areas(q=q, sort=sort, page=page_arg(), per_page=per_page())
    return render_template("taxonomy/areas.html", pagination=pagination, usage=usage, q=q, sort=sort)


def _render_area(form: AreaForm, area: Area | None):
    used = taxonomy.reports_using(area) if area else 0
    return render_template("taxonomy/area_form.html", form=form, area=area, used=used,
                           imported=bool(area and taxonomy.has_imported_geometry(area)),
                           destructive=DestructiveConfirmForm()), form_status(form)


@taxonomy_bp.route("/areas/new", methods=["GET", "POST"])
@requires(Permission.TAXONOMY_MANAGE)
def area_new():
    """Add an area with an optional polygon."""
    form = AreaForm()
    if form.validate_on_submit():
        try:
            taxonomy.create_area(name=form.name.data, code=form.code.data, polygon=form.polygon.data,
                                 active=form.active.data)
        except taxonomy.TaxonomyError as exc:
            _apply(form, exc)
        else:
            flash(_("Området är sparat."), "success")
            return redirect(url_for("taxonomy.areas"))
    return _render_area(form, None)


@taxonomy_bp.route("/areas/<int:area_id>", methods=["GET", "POST"])
@requires(Permission.TAXONOMY_MANAGE)
def area_edit(area_id: int):
    """Edit an area; one that reports use is deactivated rather than deleted."""
    area = _load(Area, area_id)
    if request.method == "GET":
        points = taxonomy.polygon_points(area)
        form = AreaForm(obj=area, polygon=json.dumps(points) if points else "")
    else:
        form = AreaForm()
    if form.validate_on_submit():
        try:
            taxonomy.update_area(area, name=form.name.data, code=form.code.data, polygon=form.polygon.data,
                                 active=form.active.data)
        except taxonomy.TaxonomyError as exc:
            _apply(form, exc)
        else:
            flash(_("Ändringarna är sparade."), "success")
            return redirect(url_for("taxonomy.areas"))
    return _render_area(form, area)


@taxonomy_bp.post("/areas/<int:area_id>/delete")
@requires(Permission.TAXONOMY_MANAGE)
def area_delete(area_id: int):
    """Delete an area that no report uses (after an explicit confirmation)."""
    area = _load(Area, area_id)
    confirm = DestructiveConfirmForm()
    if not confirm.validate_on_submit():
        flash(_("Inget ändrades: bekräfta genom att kryssa i rutan."), "error")
        return redirect(url_for("taxonomy.area_edit", area_id=area.id))
    try:
        taxonomy.delete_unused(area)
    except taxonomy.TaxonomyError as exc:
        form = AreaForm(formdata=None, obj=area)
        form.form_errors.append(str(exc))
        return _render_area(form, area)
    flash(_("Området är borttaget."), "success")
    return redirect(url_for("taxonomy.areas"))


# ------------------------------------------------------------------ areas from a GeoJSON file


def _properties(form) -> dict:
    return {"name_property": form.name_property.data or None, "code_property": form.code_property.data or None}


def _render_preview(token: str, geo: area_import.GeoFile | None, form: AreaImportConfirmForm, status: int = 200):
    preview_map = None
    if geo is not None and geo.features:
        from app.overview.geography import drawable_shapes

        shapes = drawable_shapes([{"id": f.index} for f in geo.features],
                                 {f.index: f.geometry_json for f in geo.features})
        preview_map = area_map([{"name": f.name, "count": 0, "polygon": s["polygon"]}
                                for f, s in zip(geo.features, shapes)], _("Områdena i filen"), counts=False)
    return render_template("taxonomy/area_import_preview.html", geo=geo, form=form, token=token,
                           preview_map=preview_map), status


@taxonomy_bp.route("/areas/import", methods=["GET", "POST"])
@requires(Permission.TAXONOMY_MANAGE)
def area_import_upload():
    """Upload a GeoJSON file of areas (districts, DeSO); it is only previewed, nothing changes yet."""
    form = AreaImportForm()
    if form.validate_on_submit():
        data = form.file.data.read(area_import.MAX_FILE_BYTES + 1)
        try:
            geo = area_import.preview(data, **_properties(form))
        except area_import.GeoImportError as exc:
            form.form_errors.append(str(exc))
        else:
            token = area_import.stage(data, current_user.id)
            confirm = AreaImportConfirmForm(formdata=None, token=token, name_property=geo.name_property or "",
                                            code_property=geo.code_property or "")
            return _render_preview(token, geo, confirm)
    return render_template("taxonomy/area_import.html", form=form, max_mb=area_import.MAX_FILE_BYTES // 2**20,
                           max_vertices=area_import.MAX_AREA_VERTICES), form_status(form)


@taxonomy_bp.post("/areas/import/confirm")
@requires(Permission.TAXONOMY_MANAGE)
def area_import_confirm():
    """Apply a previewed GeoJSON file (action "apply"), or read it again with other properties ("reread")."""
    form = AreaImportConfirmForm()
    data = area_import.staged(form.token.data, current_user.id) if form.validate_on_submit() else None
    if data is None:
        flash(_("Inget ändrades: den uppladdade filen finns inte längre eller formuläret har gått ut. "
                "Ladda upp filen igen."), "error")
        return redirect(url_for("taxonomy.area_import_upload"))
    try:
        if request.form.get("action") != "apply":
            return _render_preview(form.token.data, area_import.preview(data, **_properties(form)), form)
        result = area_import.apply_import(data, **_properties(form))
    except area_import.GeoImportError as exc:
        form.form_errors.append(str(exc))
        return _render_preview(form.token.data, None, form, 400)
    area_import.discard(form.token.data, current_user.id)
    flash(_("Importen är klar: %(created)s, %(updated)s.",
            created=ngettext("%(num)d nytt område", "%(num)d nya områden", result["created"]),
            updated=ngettext("%(num)d uppdaterat", "%(num)d uppdaterade", result["updated"])), "success")
    return redirect(url_for("taxonomy.areas"))


# ------------------------------------------------------------------ categories


@taxonomy_bp.get("/categories")
@requires(Permission.TAXONOMY_MANAGE)
def categories():
    """Categories with search, sorting, pagination and how many reports use each."""
    q = request.args.get("q", "").strip()[:100]
    sort = request.args.get("sort", "order")
    pagination, usage = taxonomy.list_categories(q=q, sort=sort, page=page_arg(), per_page=per_page())
    return render_template("taxonomy/categories.html", pagination=pagination, usage=usage, q=q, sort=sort)


def _render_category(form: CategoryForm, category: Category | None):
    used = taxonomy.reports_using(category) if category else 0
    return render_template("taxonomy/category_form.html", form=form, category=category, used=used,
                           destructive=DestructiveConfirmForm()), form_status(form)


def _category_values(form: CategoryForm) -> dict:
    return {"code": form.code.data, "name_sv": form.name_sv.data, "name_en": form.name_en.data,
            "sort_order": form.sort_order.data, "active": form.active.data}


@taxonomy_bp.route("/categories/new", methods=["GET", "POST"])
@requires(Permission.TAXONOMY_MANAGE)
def category_new():
    """Add a category with its Swedish and English names."""
    form = CategoryForm()
    if form.validate_on_submit():
        try:
            taxonomy.create_category(**_category_values(form))
        except taxonomy.TaxonomyError as exc:
            _apply(form, exc)
        else:
            flash(_("Kategorin är sparad."), "success")
            return redirect(url_for("taxonomy.categories"))
    return _render_category(form, None)


@taxonomy_bp.route("/categories/<int:category_id>", methods=["GET", "POST"])
@requires(Permission.TAXONOMY_MANAGE)
def category_edit(category_id: int):
    """Edit a category; one that reports use is deactivated rather than deleted."""
    category = _load(Category, category_id)
    form = CategoryForm(obj=category) if request.method == "GET" else CategoryForm()
    if form.validate_on_submit():
        try:
            taxonomy.update_category(category, **_category_values(form))
        except taxonomy.TaxonomyError as exc:
            _apply(form, exc)
        else:
            flash(_("Ändringarna är sparade."), "success")
            return redirect(url_for("taxonomy.categories"))
    return _render_category(form, category)


@taxonomy_bp.post("/categories/<int:category_id>/delete")
@requires(Permission.TAXONOMY_MANAGE)
def category_delete(category_id: int):
    """Delete a category that no report uses (after an explicit confirmation)."""
    category = _load(Category, category_id)
    confirm = DestructiveConfirmForm()
    if not confirm.validate_on_submit():
        flash(_("Inget ändrades: bekräfta genom att kryssa i rutan."), "error")
        return redirect(url_for("taxonomy.category_edit", category_id=category.id))
    try:
        taxonomy.delete_unused(category)
    except taxonomy.TaxonomyError as exc:
        form = CategoryForm(formdata=None, obj=category)
        form.form_errors.append(str(exc))
        return _render_category(form, category)
    flash(_("Kategorin är borttagen."), "success")
    return redirect(url_for("taxonomy.categories"))
