"""Command-line operations: `flask --app wsgi <group> <command>`."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from app.extensions import db

demo_cli = AppGroup("demo", help="Fictitious demo data.")
users_cli = AppGroup("users", help="User accounts.")
policies_cli = AppGroup("policies", help="Access policy files in policies/.")
categories_cli = AppGroup("categories", help="Incident categories.")


@demo_cli.command("load")
def demo_load():
    """Load demo agencies and users (idempotent; refused in production)."""
    if current_app.config["LOTS_ENV"] == "production":
        raise click.ClickException("Demo data is refused on a production configuration.")
    from app.demo import DEMO_PASSWORD, load_demo

    rows = load_demo()
    click.echo("Demo users (every name is fictitious). Password for all: " + DEMO_PASSWORD)
    if current_app.config["LOTS_ENV"] != "development":
        for email, roles in rows:
            click.echo(f"  {email:32} {roles}")
        click.echo("At first login each user enrols an authenticator app (TOTP).")
        return
    from app.demo import enrol_demo_totp

    secrets = enrol_demo_totp()
    db.session.commit()
    click.echo("Development: two-factor login is set up for every demo user, no phone needed.")
    click.echo(f"  {'e-mail':32} {'roles':20} TOTP key (oathtool --totp -b KEY)")
    for email, roles in rows:
        click.echo(f"  {email:32} {roles:20} {secrets.get(email, '')}")
    click.echo("The current code of a user: flask --app wsgi demo code EMAIL")


@demo_cli.command("code")
@click.argument("email")
def demo_code(email):
    """Print a demo user's current TOTP code (development only)."""
    if current_app.config["LOTS_ENV"] != "development":
        raise click.ClickException("Demo codes are printed in development only.")
    from app.demo import demo_totp_code

    code = demo_totp_code(email)
    if code is None:
        raise click.ClickException(f"{email} is not a demo user with two-factor login set up (run demo load).")
    click.echo(code)


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", "full_name", required=True)
@click.option("--agency", "agency_name", required=True, help="Exact agency name.")
@click.option("--role", "roles", multiple=True, required=True)
def users_create(email, full_name, agency_name, roles):
    """Create a user; the password is prompted for, never taken as an argument."""
    from app.admin import service
    from app.admin.models import Agency

    agency = db.session.scalar(select(Agency).where(Agency.name == agency_name))
    if agency is None:
        raise click.ClickException(f"No agency named {agency_name!r}.")
    password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 12:
        raise click.ClickException("The password must be at least 12 characters.")
    try:
        user = service.create_user(email, full_name, agency, list(roles), password)
    except service.AdminError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"Created user {user.id}.")


@users_cli.command("deactivate")
@click.option("--email", required=True)
def users_deactivate(email):
    """Deactivate a user and end all their sessions."""
    from app.admin import service
    from app.security.models import User

    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException("No such user.")
    service.deactivate_user(user)
    db.session.commit()
    click.echo(f"Deactivated user {user.id}; all sessions ended.")


@policies_cli.command("check")
def policies_check():
    """Validate the policy files and print the access matrix."""
    from app.security.authz import Gate, PolicyError

    try:
        gate = Gate()
    except PolicyError as exc:
        raise click.ClickException(str(exc)) from exc
    gate.write_matrix(sys.stdout)


@categories_cli.command("defaults")
def categories_defaults():
    """Create the default incident categories (Swedish and English names) that are missing."""
    from app.overview.taxonomy import DEFAULT_CATEGORIES, ensure_default_categories

    before = {code for code, *_rest in DEFAULT_CATEGORIES}
    existing = set(ensure_default_categories())
    db.session.commit()
    click.echo(f"{len(before & existing)} default categories present; edit them at /admin/categories.")


def init_app(app) -> None:
    from app.audit.cli import audit_cli
    from app.cases.cli import retention_cli
    from app.processes.cli import digest_cli
    from app.security.crypto.cli import keys_cli

    for group in (demo_cli, users_cli, policies_cli, categories_cli, audit_cli, keys_cli, retention_cli,
                  digest_cli):
        app.cli.add_command(group)
