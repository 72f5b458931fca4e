"""The key file and `keys` operations: loading, rotation (interrupted and resumed), retirement."""

from __future__ import annotations

import json
import stat

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.cases.models import Participant
from app.security import crypto
from app.security.crypto import KeyFileError, KeyInUseError, Keyring
from app.security.crypto import service as key_service
from app.security.crypto.keyring import create_key_file
from app.security.crypto.models import DataKey


@pytest.fixture()
def keyring(app, db, tmp_path):
    """A key file of this test's own, installed as the app's keyring for the test."""
    original_ring, original_path = app.extensions[crypto.EXTENSION], app.config["LOTS_KEY_FILE"]
    path = tmp_path / "keys" / "master-keys.json"
    ring = Keyring.load(path, production=False)
    app.extensions[crypto.EXTENSION], app.config["LOTS_KEY_FILE"] = ring, str(path)
    try:
        with app.app_context():
            yield ring
    finally:
        app.extensions[crypto.EXTENSION], app.config["LOTS_KEY_FILE"] = original_ring, original_path


def _participants(factory, n):
    return [factory.participant(first_name=f"Person{i}") for i in range(n)]


def _under(db, key_id):
    return db.scalar(
        select(func.count()).select_from(DataKey).where(DataKey.master_key_id == key_id, DataKey.destroyed_at.is_(None))
    )


def _all_readable(db, participants):
    ids = {p.id: p.first_name for p in participants}
    db.expunge_all()
    return all(db.get(Participant, pid).first_name == name for pid, name in ids.items())


# ------------------------------------------------------------ the key file


def test_development_creates_a_private_key_file(tmp_path):
    path = tmp_path / "instance" / "master-keys.json"
    ring = Keyring.load(path, production=False)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text())
    assert data["active"] == ring.active_id and ring.created
    assert data["index_key"]["key"] not in {mk["key"] for mk in data["master_keys"].values()}


def _production_app(path):
    app = Flask(__name__)
    app.config.update(LOTS_ENV="production", LOTS_KEY_FILE=str(path))
    return app


def test_production_refuses_to_start_without_a_key_file(tmp_path):
    path = tmp_path / "missing.json"
    with pytest.raises(KeyFileError, match="does not exist") as excinfo:
        crypto.init_app(_production_app(path))
    assert "python -m app.security.crypto init" in str(excinfo.value)
    assert not path.exists()


@pytest.mark.parametrize(
    "content, message",
    [
        ("not json", "cannot be read as JSON"),
        ('{"format": "other"}', "format"),
        ('{"format": "lots-keyring-v1", "active": "a", "master_keys": {"a": {"key": "c2hvcnQ="}}}', "32 bytes"),
    ],
)
def test_production_refuses_an_invalid_key_file(tmp_path, content, message):
    path = tmp_path / "keys.json"
    path.write_text(content)
    path.chmod(0o600)
    with pytest.raises(KeyFileError, match=message):
        crypto.init_app(_production_app(path))


def test_production_refuses_a_key_file_others_can_read(tmp_path):
    path = create_key_file(tmp_path / "keys.json")
    path.chmod(0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        crypto.init_app(_production_app(path))
    path.chmod(0o600)
    crypto.init_app(app := _production_app(path))
    assert app.extensions[crypto.EXTENSION].active_id


def test_an_existing_key_file_is_never_overwritten(tmp_path):
    path = create_key_file(tmp_path / "keys.json")
    before = path.read_text()
    with pytest.raises(KeyFileError, match="already exists"):
        create_key_file(path)
    assert path.read_text() == before


# ------------------------------------------------------------ rotation


def test_rotation_interrupted_halfway_and_resumed_ends_with_every_key_under_the_new_one(keyring, db, factory):
    people = _participants(factory, 5)
    db.commit()
    old = keyring.active_id

    new, resumed, remaining = key_service.rotate_master_key(keyring, batch_size=2, max_batches=1)
    assert not resumed and new != old and keyring.active_id == new
    assert remaining == 3 and _under(db, new) == 2 and _under(db, old) == 3
    assert keyring.rotation_target == new
    assert _all_readable(db, people)  # mixed state: both keys still unwrap

    again, resumed, remaining = key_service.rotate_master_key(keyring, batch_size=2)
    assert (again, resumed, remaining) == (new, True, 0)
    assert keyring.master_key_ids == sorted([old, new])  # resuming added no third key
    assert _under(db, new) == 5 and _under(db, old) == 0
    assert keyring.rotation_target is None
    assert _all_readable(db, people)


def test_rotation_crashing_mid_batch_loses_nothing_and_resumes(keyring, db, factory, monkeypatch):
    people = _participants(factory, 6)
    db.commit()
    real_wrap, calls = keyring.wrap, []

    def failing_wrap(*args):
        calls.append(1)
        if len(calls) == 4:
            raise RuntimeError("power cut")
        return real_wrap(*args)

    monkeypatch.setattr(keyring, "wrap", failing_wrap)
    with pytest.raises(RuntimeError):
        key_service.rotate_master_key(keyring, batch_size=3)
    db.rollback()
    new = keyring.active_id
    assert _under(db, new) == 3  # the first batch was committed, the second rolled back

    monkeypatch.setattr(keyring, "wrap", real_wrap)
    assert key_service.rotate_master_key(keyring, batch_size=3) == (new, True, 0)
    assert _under(db, new) == 6
    assert _all_readable(db, people)


def test_rotation_never_revives_a_destroyed_data_key(keyring, db, factory):
    from app.cases.service import erase_participant

    erased, kept = _participants(factory, 2)
    erase_participant(erased)
    db.commit()
    key_service.rotate_master_key(keyring)
    db.expire_all()
    assert erased.data_key.wrapped_key is None and erased.data_key.destroyed_at is not None
    assert kept.data_key.master_key_id == keyring.active_id


def test_another_worker_picks_up_a_rotated_key_file(keyring, db, factory):
    stale = Keyring(keyring.path)  # loaded before the rotation, as a running worker would be
    people = _participants(factory, 2)
    db.commit()
    new, _, _ = key_service.rotate_master_key(keyring)
    data_key = db.get(DataKey, people[0].data_key_id)
    assert stale.unwrap(data_key.master_key_id, data_key.id, data_key.wrapped_key)
    assert stale.active_id == new  # so its new data keys are wrapped by the new key too


def test_keys_rotate_command_reports_progress_and_resumes(app, keyring, db, factory):
    _participants(factory, 5)
    db.commit()
    runner = app.test_cli_runner()

    first = runner.invoke(args=["keys", "rotate", "--batch-size", "2", "--max-batches", "2"])
    assert first.exit_code == 0, first.output
    assert "re-wrapped 2/5" in first.output and "re-wrapped 4/5" in first.output
    assert "run the command again to resume" in first.output.lower()

    second = runner.invoke(args=["keys", "rotate", "--batch-size", "2"])
    assert second.exit_code == 0, second.output
    assert "Resuming the unfinished rotation" in second.output and "re-wrapped 1/1" in second.output
    assert _under(db, keyring.active_id) == 5
    assert stat.S_IMODE(keyring.path.stat().st_mode) == 0o600
    assert not list(keyring.path.parent.glob("*.tmp"))


def test_keys_status_shows_counts_per_master_key_without_key_material(app, keyring, db, factory):
    _participants(factory, 3)
    db.commit()
    result = app.test_cli_runner().invoke(args=["keys", "status"])
    assert result.exit_code == 0, result.output
    assert keyring.active_id in result.output and "3 data keys" in result.output
    for entry in json.loads(keyring.path.read_text())["master_keys"].values():
        assert entry["key"] not in result.output


# ------------------------------------------------------------ retirement


def test_retire_refuses_while_data_keys_use_the_key_and_succeeds_after_rotation(app, keyring, db, factory):
    people = _participants(factory, 3)
    db.commit()
    old = keyring.active_id
    new, _, _ = key_service.rotate_master_key(keyring, batch_size=1, max_batches=1)

    with pytest.raises(KeyInUseError, match="2 data key"):
        key_service.retire_master_key(keyring, old)
    result = app.test_cli_runner().invoke(args=["keys", "retire", old])
    assert result.exit_code != 0 and "2 data key(s) are still wrapped" in result.output
    assert old in keyring.master_key_ids

    key_service.rotate_master_key(keyring)
    result = app.test_cli_runner().invoke(args=["keys", "retire", old])
    assert result.exit_code == 0, result.output
    assert keyring.master_key_ids == [new]
    assert old in json.loads(keyring.path.read_text())["retired"]
    assert _all_readable(db, people)
    events = db.execute(select(AuditEvent.action, AuditEvent.object_id).order_by(AuditEvent.id)).all()
    assert [tuple(e) for e in events if e.action.startswith("keys.")] == [
        ("keys.rotate", new), ("keys.rewrap", new), ("keys.rotate", new), ("keys.rewrap", new), ("keys.retire", old),
    ]


def test_the_active_key_cannot_be_retired(keyring, db):
    with pytest.raises(KeyInUseError, match="active"):
        key_service.retire_master_key(keyring, keyring.active_id)
