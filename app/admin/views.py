"""Administration pages: agencies and user accounts (no case content)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.admin import service
from app.admin.forms import AGENCY_KIND_LABELS, ROLE_LABELS, AgencyForm, ConfirmForm, DestructiveConfirmForm, NewUserForm, UserForm
from app.admin.models import Agency, AgencyKind
from app.extensions import db
from app.security.authz import requires
from app.security.models import User
from app.security.permissions import Permission

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _page() -> int:
    return max(request.args.get("page", 1, type=int) or 1, 1)


def _load(model, object_id: int):
    obj = db.session.get(model, object_id)
    if obj is None:
        abort(404)
    return obj


@bp.get("/agencies")
@requires(Permission.AGENCY_MANAGE)
def agencies():
    """List agencies with search, sorting and pagination."""
    q = request.args.get("q", "").strip()[:100]
    sort = request.args.get("sort", "name")
    pagination = service.list_agencies(q=q, sort=sort, page=_page())
    return render_template(
        "admin/agencies.html", pagination=pagination, q=q, sort=sort, kind_labels=AGENCY_KIND_LABELS
    )


@bp.route("/agencies/new", methods=["GET", "POST"])
@requires(Permission.AGENCY_MANAGE)
def agency_new():
    """Register an agency."""
    form = AgencyForm()
    if form.validate_on_submit():
        try:
            service.create_agency(form.name.data, AgencyKind(form.kind.data))
        except service.AdminError as exc:
            form.name.errors.append(str(exc))
        else:
            flash(_("Myndigheten är registrerad."), "success")
            return redirect(url_for("admin.agencies"))
    return render_template("admin/agency_form.html", form=form, agency=None), 400 if form.errors else 200


@bp.route("/agencies/<int(max=2147483647):agency_id>", methods=["GET", "POST"])
@requires(Permission.AGENCY_MANAGE)
def agency_edit(agency_id: int):
    """Edit an agency."""
    agency = _load(Agency, agency_id)
    form = AgencyForm(obj=agency, kind=agency.kind.value) if request.method == "GET" else AgencyForm()
    if form.validate_on_submit():
        try:
            service.update_agency(agency, form.name.data, AgencyKind(form.kind.data), form.active.data)
        except service.AdminError as exc:
            form.name.errors.append(str(exc))
        else:
            flash(_("Ändringarna är sparade."), "success")
            return redirect(url_for("admin.agencies"))
    return render_template("admin/agency_form.html", form=form, agency=agency), 400 if form.errors else 200


@bp.get("/users")
@requires(Permission.USER_MANAGE)
def users():
    """List user accounts with search, sorting and pagination."""
    q = request.args.get("q", "").strip()[:100]
    sort = request.args.get("sort", "email")
    pagination = service.list_users(q=q, sort=sort, page=_page())
    return render_template("admin/users.html", pagination=pagination, q=q, sort=sort, role_label_map=ROLE_LABELS)


def _user_form(form_cls, **kwargs):
    form = form_cls(**kwargs)
    form.agency_id.choices = service.agency_choices()
    return form


@bp.route("/users/new", methods=["GET", "POST"])
@requires(Permission.USER_MANAGE)
def user_new():
    """Create a user account."""
    form = _user_form(NewUserForm)
    if form.validate_on_submit():
        try:
            service.create_user(
                form.email.data,
                form.full_name.data,
                _load(Agency, form.agency_id.data),
                form.roles.data,
                form.password.data,
            )
        except service.AdminError as exc:
            form.email.errors.append(str(exc))
        else:
            flash(_("Kontot är skapat."), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=None), 400 if form.errors else 200


@bp.route("/users/<int(max=2147483647):user_id>", methods=["GET", "POST"])
@requires(Permission.USER_MANAGE)
def user_edit(user_id: int):
    """Edit a user account's name, agency and roles."""
    user = _load(User, user_id)
    if request.method == "GET":
        form = _user_form(UserForm, obj=user, roles=user.role_names)
    else:
        form = _user_form(UserForm)
    form.email.render_kw = {"readonly": True}
    form.email.data = user.email
    if form.validate_on_submit():
        service.update_user(user, form.full_name.data, _load(Agency, form.agency_id.data), form.roles.data)
        flash(_("Ändringarna är sparade."), "success")
        return redirect(url_for("admin.users"))
    return (
        render_template(
            "admin/user_form.html", form=form, user=user, confirm=ConfirmForm(), destructive=DestructiveConfirmForm()
        ),
        400 if form.errors else 200,
    )


@bp.post("/users/<int(max=2147483647):user_id>/deactivate")
@requires(Permission.USER_MANAGE)
def user_deactivate(user_id: int):
    """Deactivate an account; its sessions end at once."""
    user = _load(User, user_id)
    if DestructiveConfirmForm().validate_on_submit():
        service.deactivate_user(user)
        flash(_("Kontot är inaktiverat och alla dess sessioner är avslutade."), "success")
    else:
        flash(_("Inget ändrades: bekräfta genom att kryssa i rutan."), "error")
    return redirect(url_for("admin.user_edit", user_id=user.id))


@bp.post("/users/<int(max=2147483647):user_id>/reactivate")
@requires(Permission.USER_MANAGE)
def user_reactivate(user_id: int):
    """Allow an account to log in again."""
    user = _load(User, user_id)
    if ConfirmForm().validate_on_submit():
        service.reactivate_user(user)
        flash(_("Kontot är aktiverat."), "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))


@bp.post("/users/<int(max=2147483647):user_id>/reset-mfa")
@requires(Permission.USER_MANAGE)
def user_reset_mfa(user_id: int):
    """Remove an account's authenticator so the user enrols again."""
    user = _load(User, user_id)
    if DestructiveConfirmForm().validate_on_submit():
        service.reset_mfa(user)
        flash(_("Tvåstegsverifieringen är återställd. Användaren registrerar en ny app vid nästa inloggning."), "success")
    else:
        flash(_("Inget ändrades: bekräfta genom att kryssa i rutan."), "error")
    return redirect(url_for("admin.user_edit", user_id=user.id))
