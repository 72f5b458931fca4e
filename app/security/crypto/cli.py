"""`flask --app wsgi keys ...`: the master key file and the data keys it wraps."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app.security.crypto import current_keyring, service
from app.security.crypto.errors import CryptoError

keys_cli = AppGroup("keys", help="Master keys (key file) and data keys (field encryption).")

_batch_size = click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 100_000),
                           help="Data keys re-wrapped per transaction.")
_max_batches = click.option("--max-batches", type=click.IntRange(1), default=None,
                            help="Stop after this many batches; running the command again resumes.")


def _progress(done: int, total: int) -> None:
    click.echo(f"  re-wrapped {done}/{total} data keys")


def _rewrap(keyring, target: str, batch_size: int, max_batches: int | None) -> None:
    remaining = service.rewrap_data_keys(keyring, batch_size=batch_size, max_batches=max_batches,
                                         progress=_progress)
    if remaining:
        click.echo(f"Stopped: {remaining} data keys are not yet under {target}. Run the command again to resume.")
        return
    click.echo(f"Every data key is wrapped by {target}. Back up the key file now.")
    old = [k for k in keyring.master_key_ids if k != target]
    if old:
        click.echo("Retire an older key once no database backup you keep still needs it: "
                   + ", ".join(f"`keys retire {k}`" for k in old))


@keys_cli.command("init")
def keys_init():
    """Create the development key file in instance/ (refused in production)."""
    keyring = current_keyring()
    if current_app.config["LOTS_ENV"] == "production":
        raise click.ClickException(
            "Production keys are created once with `python -m app.security.crypto init PATH`; see `keys status`."
        )
    if keyring.created:
        click.echo(f"Created the development key file {keyring.path} (mode 0600).")
    else:
        click.echo(f"The key file {keyring.path} already exists; nothing was changed.")


@keys_cli.command("status")
def keys_status():
    """Show the master keys, how many data keys each wraps, and any unfinished rotation."""
    status = service.key_status(current_keyring())
    click.echo(f"Key file: {status.path}")
    for mk in status.master_keys:
        role = "active (encrypts)" if mk.active else "decrypt only"
        hint = "  -> can be retired" if not mk.active and mk.data_keys == 0 else ""
        click.echo(f"  {mk.id:24} {role:18} created {mk.created_at:25} {mk.data_keys:7} data keys{hint}")
    click.echo(f"Destroyed data keys (erased records): {status.destroyed}")
    click.echo(f"Blind-index key: {status.index_key_id}")
    for key_id, when in sorted(status.retired.items()):
        click.echo(f"Retired: {key_id} ({when})")
    if status.rotation_target:
        click.echo(f"Unfinished rotation to {status.rotation_target}: run `keys rotate` to finish it.")
    if status.missing:
        for key_id, count in sorted(status.missing.items()):
            click.echo(f"ERROR: {count} data keys are wrapped by {key_id}, which is not in the key file.", err=True)
        raise SystemExit(1)


@keys_cli.command("rotate")
@_batch_size
@_max_batches
def keys_rotate(batch_size: int, max_batches: int | None):
    """Add a new active master key and re-wrap every data key under it (resumes an unfinished rotation)."""
    keyring = current_keyring()
    target, resumed = service.begin_rotation(keyring)
    if resumed:
        click.echo(f"Resuming the unfinished rotation to {target}.")
    else:
        click.echo(f"Added master key {target} to {keyring.path} and made it active.")
    _rewrap(keyring, target, batch_size, max_batches)


@keys_cli.command("rewrap")
@_batch_size
@_max_batches
def keys_rewrap(batch_size: int, max_batches: int | None):
    """Re-wrap data keys still under older master keys, without adding a key."""
    keyring = current_keyring()
    keyring.refresh()
    _rewrap(keyring, keyring.active_id, batch_size, max_batches)


@keys_cli.command("retire")
@click.argument("key_id")
def keys_retire(key_id: str):
    """Remove a master key from the key file; refused while any data key is wrapped by it."""
    try:
        service.retire_master_key(current_keyring(), key_id)
    except CryptoError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Retired {key_id}: it is no longer in {current_keyring().path}. "
               "Backups of the key file still hold it; destroy those when no database backup needs it.")
