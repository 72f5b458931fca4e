"""API tokens (administrators): list, create (the secret is shown once), revoke."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.admin.service import agency_choices
from app.db import db
from app.overview import tokens
from app.overview.forms_import import SCOPE_LABELS, ApiTokenForm, RevokeTokenForm
from app.overview.models import ApiToken
from app.overview.service import ReportError
from app.overview.views import form_status, page_arg, per_page, taxonomy_bp
from app.security.authz import requires
from app.security.permissions import Permission


@taxonomy_bp.get("/api-tokens")
@requires(Permission.API_TOKEN_MANAGE)
def api_tokens():
    """API tokens with search, sorting and pagination (never their secrets)."""
    q = request.args.get("q", "").strip()[:100]
    sort = request.args.get("sort", "-created")
    pagination = tokens.list_tokens(q=q, sort=sort, page=page_arg(), per_page=per_page())
    return render_template("tokens/index.html", pagination=pagination, q=q, sort=sort, scope_labels=SCOPE_LABELS)


@taxonomy_bp.route("/api-tokens/new", methods=["GET", "POST"])
@requires(Permission.API_TOKEN_MANAGE)
def api_token_new():
    """Create a token for an organisation; its secret is shown on the response page only."""
    form = ApiTokenForm()
    form.organisation_id.choices = agency_choices()
    if form.validate_on_submit():
        try:
            token, secret = tokens.create_token(name=form.name.data, organisation_id=form.organisation_id.data,
                                                scopes=form.scopes.data, by=current_user)
        except ReportError as exc:
            form.name.errors.append(str(exc))
        else:
            return render_template("tokens/created.html", token=token, secret=secret, scope_labels=SCOPE_LABELS)
    return render_template("tokens/new.html", form=form), form_status(form)


@taxonomy_bp.route("/api-tokens/<int:token_id>/revoke", methods=["GET", "POST"])
@requires(Permission.API_TOKEN_MANAGE)
def api_token_revoke(token_id: int):
    """Revoke a token after a confirmation; calls with it are refused from then on."""
    token = db.session.get(ApiToken, token_id) if 0 < token_id < 2**31 else None  # beyond an integer: unknown
    if token is None:
        abort(404)
    form = RevokeTokenForm()
    if form.validate_on_submit():
        try:
            tokens.revoke_token(token, by=current_user)
        except ReportError as exc:
            flash(str(exc), "error")
        else:
            flash(_("API-nyckeln är återkallad."), "success")
        return redirect(url_for("taxonomy.api_tokens"))
    return render_template("tokens/revoke.html", token=token, form=form,
                           scope_labels=SCOPE_LABELS), form_status(form)
