"""`flask --app wsgi digest send [--date YYYY-MM-DD] [--dry-run]`: the daily digest mails."""

from __future__ import annotations

import sys
from datetime import date

import click
from flask.cli import AppGroup

digest_cli = AppGroup("digest", help="Daily digests of what is newly due or late (e-mail).")


def _parse_day(value: str | None) -> date:
    from app.processes.dates import local_today

    if value is None:
        return local_today()
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD, e.g. 2026-11-25.",
                                 param_hint="--date") from None


@digest_cli.command("send")
@click.option("--date", "day", default=None, metavar="YYYY-MM-DD",
              help="The day to send for (default: today in Europe/Stockholm).")
@click.option("--dry-run", is_flag=True, help="Count what would be sent; write and send nothing.")
def digest_send(day: str | None, dry_run: bool):
    """Send each active user what is newly due or late in their work; at most one mail per user and day."""
    from app.processes.digest import send_digests
    from app.processes.mail import MailError

    today = _parse_day(day)
    try:
        summary = send_digests(today, dry_run=dry_run)
    except MailError as exc:
        raise click.ClickException(str(exc)) from None
    verb = "would be sent" if dry_run else ("written to the outbox" if summary.transport == "outbox" else "sent by SMTP")
    click.echo(f"Digests for {today.isoformat()}: {summary.sent} mail(s) {verb} "
               f"({summary.new_items} new item(s)); {summary.users} active user(s) checked, "
               f"{summary.already_sent} already had today's digest, {summary.nothing_new} had nothing new.")
    if summary.outbox:
        click.echo(f"Outbox: {summary.outbox}")
    if summary.failed:
        click.echo(f"{summary.failed} mail(s) could not be sent; they are sent by the next run.", err=True)
        sys.exit(1)
