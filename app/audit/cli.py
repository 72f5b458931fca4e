"""`flask --app wsgi audit verify`: check the whole HMAC chain of the audit log."""

from __future__ import annotations

import sys
import time

import click
from flask.cli import AppGroup

from app.extensions import db

audit_cli = AppGroup("audit", help="The tamper-evident audit log.")


def _anchor(_ctx, _param, values):
    anchors = {}
    for value in values:
        event_id, sep, mac = value.partition(":")
        if not sep or not event_id.isdigit() or len(mac) != 64 or any(c not in "0123456789abcdefABCDEF" for c in mac):
            raise click.BadParameter(f"{value!r}: expected EVENT_ID:HMAC with the whole HMAC (64 hex digits)")
        anchors[int(event_id)] = mac.lower()
    return anchors


@audit_cli.command("verify")
@click.option(
    "--anchor",
    "anchors",
    multiple=True,
    callback=_anchor,
    metavar="ID:HMAC",
    help="An event id and HMAC printed by an earlier run and kept outside the database; "
    "catches a rewritten tail of the log. Repeatable.",
)
def audit_verify(anchors):
    """Check every event in id order; exit 1 naming the first altered, missing or moved event."""
    from app.security.audit import AuditError, audit_key, verify_chain

    try:
        key = audit_key()
    except AuditError as exc:
        raise click.ClickException(str(exc)) from exc
    started = time.perf_counter()
    result = verify_chain(db.session.connection(), key, anchors=anchors)
    elapsed = time.perf_counter() - started
    db.session.rollback()
    if not result.ok:
        click.echo(
            f"Audit log verification FAILED at event {result.first_bad_id}: {result.problem}. "
            f"{result.checked} events before it are intact.",
            err=True,
        )
        sys.exit(1)
    click.echo(f"Audit log OK: {result.checked} events verified in {elapsed:.1f} s.")
    if not anchors:
        click.echo("No --anchor given: events cut off at the end of the log cannot be detected this way (a shorter "
                   "log verifies too). Pass an anchor noted earlier to check that nothing was removed at the end.")
    if result.head_seq:
        click.echo(f"Chain head: event {result.head_seq}, HMAC {result.head_hmac}")
        click.echo(f"Keep this outside the database and pass it later as --anchor {result.head_seq}:{result.head_hmac}")
