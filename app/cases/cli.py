"""`flask --app wsgi retention run [--yes] [--days N]`: erase closed cases past the retention period."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from app.extensions import db

retention_cli = AppGroup("retention", help="Retention (gallring) of closed exit-programme cases.")


@retention_cli.command("run")
@click.option("--yes", is_flag=True, help="Erase the cases listed. Without it, nothing is changed.")
@click.option("--days", type=click.IntRange(min=1), default=None,
              help="Retention period in days (default: LOTS_RETENTION_DAYS).")
def retention_run(yes: bool, days: int | None):
    """List the closed cases past retention; with --yes, erase each in a transaction of its own."""
    from app.cases.models import Case, today_local
    from app.cases.retention import closed_on, erase_case, retention_candidates, retention_days

    days = retention_days() if days is None else days
    # Plain values: a failed case's rollback must not expire what the loop still needs.
    candidates = [(case.id, case.code, closed_on(case)) for case in retention_candidates(today_local(), days)]
    db.session.rollback()
    if not candidates:
        click.echo(f"No closed case is past the retention period ({days} days).")
        return
    click.echo(f"Closed cases past the retention period ({days} days):")
    for _id, code, closed in candidates:
        click.echo(f"  {code:20} closed {closed.isoformat()}")
    if not yes:
        click.echo(f"{len(candidates)} case(s) would be erased. Nothing was changed; "
                   "run again with --yes to erase them.")
        return

    erased, failed = 0, []
    for case_id, code, _closed in candidates:
        case = db.session.get(Case, case_id)
        if case is None:
            click.echo(f"  {code} was erased meanwhile")
            continue
        try:
            erase_case(case)
            db.session.commit()
        except Exception as exc:  # noqa: BLE001 - one case's failure must not stop the others
            db.session.rollback()
            # The exception's type only: a message could quote a value.
            failed.append(code)
            click.echo(f"  FAILED {code}: {type(exc).__name__}; the case was left unchanged.", err=True)
        else:
            erased += 1
            click.echo(f"  erased {code}")
    click.echo(f"Erased {erased} of {len(candidates)} case(s).")
    if failed:
        click.echo("Not erased: " + ", ".join(failed), err=True)
        sys.exit(1)
