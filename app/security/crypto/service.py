"""Key operations: rotate master keys, retire old ones, report status, destroy data keys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sqlalchemy import bindparam, func, select, update

from app.db import db, utcnow
from app.security import audit
from app.security.crypto.errors import CryptoError, KeyInUseError
from app.security.crypto.keyring import Keyring
from app.security.crypto.models import DataKey

_live = DataKey.destroyed_at.is_(None)


def count_live_data_keys(master_key_id: str | None = None) -> int:
    """Data keys not destroyed, optionally only those wrapped by one master key."""
    stmt = select(func.count()).select_from(DataKey).where(_live)
    if master_key_id is not None:
        stmt = stmt.where(DataKey.master_key_id == master_key_id)
    return db.session.scalar(stmt)


def _count_not_under(master_key_id: str) -> int:
    return db.session.scalar(
        select(func.count()).select_from(DataKey).where(_live, DataKey.master_key_id != master_key_id)
    )


_REWRAP = (
    update(DataKey.__table__)
    .where(
        DataKey.__table__.c.id == bindparam("b_id"),
        DataKey.__table__.c.master_key_id == bindparam("b_old"),
        DataKey.__table__.c.destroyed_at.is_(None),
    )
    .values(master_key_id=bindparam("b_new"), wrapped_key=bindparam("b_wrapped"), rewrapped_at=bindparam("b_at"))
)


def rewrap_data_keys(keyring: Keyring, *, batch_size: int = 500, max_batches: int | None = None,
                     progress: Callable[[int, int], None] | None = None) -> int:
    """Re-wrap every live data key not yet under the active master key, one committed batch at a time.

    Safe to interrupt: a batch is one transaction, and the next run carries
    on with whatever is left. A row destroyed meanwhile is never brought back
    (the UPDATE requires it to be live and still under its old key).
    Returns the number of data keys still to do.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    target = keyring.active_id
    total = _count_not_under(target)
    done = batches = 0
    last_id = None
    while max_batches is None or batches < max_batches:
        stmt = (
            select(DataKey.id, DataKey.master_key_id, DataKey.wrapped_key)
            .where(_live, DataKey.master_key_id != target)
            .order_by(DataKey.id)
            .limit(batch_size)
        )
        if last_id is not None:
            stmt = stmt.where(DataKey.id > last_id)
        rows = db.session.execute(stmt).all()
        if not rows:
            break
        now = utcnow()
        params = []
        for key_id, old, wrapped in rows:
            # Record the id wrap() actually used, even if the key file changed under us meanwhile.
            new, rewrapped = keyring.wrap(key_id, keyring.unwrap(old, key_id, wrapped))
            params.append({"b_id": key_id, "b_old": old, "b_new": new, "b_wrapped": rewrapped, "b_at": now})
        db.session.execute(_REWRAP, params)
        db.session.commit()
        last_id = rows[-1][0]
        done += len(rows)
        batches += 1
        if progress is not None:
            progress(done, total)
    remaining = _count_not_under(target)
    audit.record("keys.rewrap", object_type="master_key", object_id=target,
                 detail={"rewrapped": done, "remaining": remaining})
    db.session.commit()
    if remaining == 0 and keyring.rotation_target == target:
        keyring.finish_rotation()
    return remaining


def begin_rotation(keyring: Keyring) -> tuple[str, bool]:
    """Add a new active master key to the key file, or pick up an unfinished rotation; returns (id, resumed).

    The key file is written before any data key is re-wrapped, so no data
    key is ever under a key the file does not hold.
    """
    target, resumed = keyring.begin_rotation()
    audit.record("keys.rotate", object_type="master_key", object_id=target,
                 detail={"resumed": "yes" if resumed else "no"})
    db.session.commit()
    return target, resumed


def rotate_master_key(keyring: Keyring, **kwargs) -> tuple[str, bool, int]:
    """Begin (or resume) a rotation and re-wrap every data key; returns (new key id, resumed, still to do)."""
    target, resumed = begin_rotation(keyring)
    return target, resumed, rewrap_data_keys(keyring, **kwargs)


def retire_master_key(keyring: Keyring, key_id: str) -> None:
    """Remove a master key from the key file, only if it is not active and wraps no live data key."""
    keyring.refresh()
    if key_id not in keyring.master_key_ids:
        raise CryptoError(f"There is no master key {key_id!r} in the key file.")
    if key_id == keyring.active_id:
        raise KeyInUseError(f"{key_id} is the active master key; run `keys rotate` first.")
    in_use = count_live_data_keys(key_id)
    if in_use:
        raise KeyInUseError(
            f"{in_use} data key(s) are still wrapped by {key_id}; run `keys rotate` to finish re-wrapping first."
        )
    removed = keyring.remove_master_key(key_id)
    try:
        # A worker with an old copy of the key file may have wrapped a new key meanwhile: check again.
        in_use = count_live_data_keys(key_id)
        if in_use:
            raise KeyInUseError(f"{in_use} data key(s) were just wrapped by {key_id}; it was kept.")
        audit.record("keys.retire", object_type="master_key", object_id=key_id)
        db.session.commit()
    except BaseException:
        keyring.restore_master_key(removed)
        raise


def destroy_data_key(data_key: DataKey) -> None:
    """Crypto-shredding: wipe the wrapped key so every value under it is unreadable for good."""
    data_key.forget()
    data_key.wrapped_key = None
    data_key.destroyed_at = utcnow()
    db.session.flush()


@dataclass(frozen=True)
class MasterKeyStatus:
    id: str
    created_at: str
    active: bool
    data_keys: int


@dataclass(frozen=True)
class KeyStatus:
    path: str
    master_keys: list[MasterKeyStatus]
    missing: dict[str, int]
    destroyed: int
    index_key_id: str
    rotation_target: str | None
    retired: dict[str, str]


def key_status(keyring: Keyring) -> KeyStatus:
    """Counts of live data keys per master key; ``missing`` lists master keys used but not in the file."""
    keyring.refresh()
    counts = {
        key_id: count
        for key_id, count in db.session.execute(
            select(DataKey.master_key_id, func.count()).where(_live).group_by(DataKey.master_key_id)
        )
    }
    destroyed = db.session.scalar(select(func.count()).select_from(DataKey).where(DataKey.destroyed_at.is_not(None)))
    ids = keyring.master_key_ids
    return KeyStatus(
        path=str(keyring.path),
        master_keys=[
            MasterKeyStatus(k, keyring.created_at(k), k == keyring.active_id, counts.get(k, 0)) for k in ids
        ],
        missing={k: n for k, n in counts.items() if k not in ids},
        destroyed=destroyed,
        index_key_id=keyring.index_key_id,
        rotation_target=keyring.rotation_target,
        retired=keyring.retired,
    )
