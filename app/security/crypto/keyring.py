"""Master keys, kept in a key file outside the database and the repository.

The key file is JSON::

    {
      "format": "lots-keyring-v1",
      "active": "mk-20261125-3f9a1c",
      "master_keys": {"mk-20261125-3f9a1c": {"key": "<base64, 32 bytes>", "created_at": "..."}},
      "index_key": {"id": "ix-20261125-77b2e0", "key": "<base64, 32 bytes>", "created_at": "..."},
      "rotation": null,
      "retired": {"mk-20250101-000000": "<when>"}
    }

Every master key listed can unwrap data keys; only ``active`` wraps new ones.
``rotation`` names the target of an unfinished ``keys rotate``. ``retired``
keeps the ids (never the material) of keys removed by ``keys retire``.
The blind-index key is separate on purpose: see ``Keyring.index_key``.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import logging
import os
import re
import secrets
import tempfile
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.security.crypto.errors import FieldDecryptionError, KeyFileError, UnknownKeyError

FORMAT = "lots-keyring-v1"
KEY_BYTES = 32
NONCE_BYTES = 12
KEY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
_BOOTSTRAP = "python -m app.security.crypto init {path}"
log = logging.getLogger(__name__)


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def new_key_id(prefix: str) -> str:
    """A short, sortable, non-secret key id such as ``mk-20261125-3f9a1c``."""
    return f"{prefix}-{datetime.now(timezone.utc):%Y%m%d}-{secrets.token_hex(3)}"


def _b64key(raw, what: str) -> bytes:
    try:
        key = base64.b64decode(raw, validate=True) if isinstance(raw, str) else None
    except (binascii.Error, ValueError):
        key = None
    if key is None or len(key) != KEY_BYTES:
        raise ValueError(f"{what} must be {KEY_BYTES} bytes of base64")
    return key


@dataclass(frozen=True)
class MasterKey:
    id: str
    key: bytes = field(repr=False)
    created_at: str


@dataclass(frozen=True)
class _State:
    """One immutable snapshot of the key file; swapped whole on reload."""

    active: str
    master: dict[str, MasterKey]
    index_id: str
    index_key: bytes = field(repr=False)
    index_created_at: str
    rotation: dict | None
    retired: dict[str, str]
    stamp: tuple
    aeads: dict[str, AESGCM] = field(default_factory=dict, repr=False)
    derived: dict[str, bytes] = field(default_factory=dict, repr=False)

    @classmethod
    def parse(cls, data, stamp: tuple = ()) -> "_State":
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f'"format" must be "{FORMAT}"')
        raw_keys = data.get("master_keys")
        if not isinstance(raw_keys, dict) or not raw_keys:
            raise ValueError('"master_keys" must name at least one key')
        master = {}
        for key_id, entry in raw_keys.items():
            if not KEY_ID.match(key_id) or not isinstance(entry, dict):
                raise ValueError(f"master key id {key_id!r} is not valid")
            master[key_id] = MasterKey(key_id, _b64key(entry.get("key"), f"master key {key_id}"),
                                       str(entry.get("created_at", "")))
        active = data.get("active")
        if active not in master:
            raise ValueError('"active" must name one of "master_keys"')
        index = data.get("index_key")
        if not isinstance(index, dict) or not KEY_ID.match(str(index.get("id", ""))):
            raise ValueError('"index_key" must have an "id" and a "key"')
        index_key = _b64key(index.get("key"), "the index key")
        if any(index_key == mk.key for mk in master.values()):
            raise ValueError("the index key must differ from every master key")
        rotation = data.get("rotation")
        if rotation is not None and (not isinstance(rotation, dict) or rotation.get("to") != active):
            raise ValueError('an unfinished "rotation" must target the active key')
        retired = data.get("retired") or {}
        if not isinstance(retired, dict) or set(retired) & set(master):
            raise ValueError('"retired" must be a mapping of ids no longer in "master_keys"')
        return cls(active, master, index["id"], index_key, str(index.get("created_at", "")), rotation,
                   dict(retired), stamp, {k: AESGCM(mk.key) for k, mk in master.items()})

    def to_json(self) -> dict:
        enc = lambda raw: base64.b64encode(raw).decode("ascii")  # noqa: E731
        return {
            "format": FORMAT,
            "active": self.active,
            "master_keys": {k: {"key": enc(mk.key), "created_at": mk.created_at} for k, mk in self.master.items()},
            "index_key": {"id": self.index_id, "key": enc(self.index_key), "created_at": self.index_created_at},
            "rotation": self.rotation,
            "retired": self.retired,
        }


def _fresh_state() -> dict:
    master_id = new_key_id("mk")
    return {
        "format": FORMAT,
        "active": master_id,
        "master_keys": {master_id: {"key": base64.b64encode(AESGCM.generate_key(256)).decode(), "created_at": _now()}},
        "index_key": {"id": new_key_id("ix"), "key": base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode(),
                      "created_at": _now()},
        "rotation": None,
        "retired": {},
    }


def _stamp(path: Path) -> tuple:
    st = path.stat()
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def write_atomic(path: Path, text: str, *, replace: bool = True) -> None:
    """Write a 0600 temporary file next to ``path``, fsync it, then move it into place in one step.

    With ``replace=False`` the move is a hard link, which fails if ``path``
    exists, so two processes creating a key file at once cannot overwrite
    each other's keys.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def create_key_file(path: str | Path) -> Path:
    """Create a new key file with one master key and an index key; never overwrites."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        write_atomic(path, json.dumps(_fresh_state(), indent=2) + "\n", replace=False)
    except FileExistsError:
        raise KeyFileError(f"The key file {path} already exists; it is never overwritten.") from None
    return path


def _read(path: Path, *, strict: bool) -> _State:
    if not path.is_file():
        raise KeyFileError(
            f"The master key file {path} does not exist. Lots never generates production keys by itself: "
            f"create the file once with `{_BOOTSTRAP.format(path=path)}` on the server, back it up offline, "
            "and set LOTS_KEY_FILE to its path."
        )
    if strict and path.stat().st_mode & 0o077:
        raise KeyFileError(f"The master key file {path} is readable by other users; run `chmod 600 {path}`.")
    try:
        stamp = _stamp(path)
        return _State.parse(json.loads(path.read_text(encoding="utf-8")), stamp)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise KeyFileError(f"The master key file {path} cannot be read as JSON ({type(exc).__name__}).") from None
    except ValueError as exc:
        raise KeyFileError(f"The master key file {path} is invalid: {exc}.") from None


class Keyring:
    """The master keys of one key file: wraps and unwraps data keys, derives blind-index keys."""

    def __init__(self, path: str | Path, *, strict: bool = False, created: bool = False):
        self.path = Path(path)
        self.strict = strict
        #: True when this process created the key file (development/test).
        self.created = created
        self._lock = threading.RLock()
        self._state = _read(self.path, strict=strict)

    @classmethod
    def load(cls, path: str | Path, *, production: bool) -> "Keyring":
        """Load the key file; development and test create it (mode 0600) when missing."""
        path = Path(path)
        created = False
        if not production and not path.exists():
            try:
                create_key_file(path)
                created = True
            except KeyFileError:
                pass  # another process created it first; use that one
        return cls(path, strict=production, created=created)

    # ------------------------------------------------------------ reading

    @property
    def active_id(self) -> str:
        return self._state.active

    @property
    def master_key_ids(self) -> list[str]:
        return sorted(self._state.master)

    @property
    def index_key_id(self) -> str:
        return self._state.index_id

    @property
    def rotation_target(self) -> str | None:
        rotation = self._state.rotation
        return rotation["to"] if rotation else None

    @property
    def retired(self) -> dict[str, str]:
        return dict(self._state.retired)

    def created_at(self, key_id: str) -> str:
        return self._state.master[key_id].created_at

    def refresh(self) -> None:
        """Reload the file if another process replaced it (for example ``keys rotate``)."""
        try:
            if _stamp(self.path) == self._state.stamp:
                return
        except OSError:
            return
        with self._lock:
            try:
                self._state = _read(self.path, strict=self.strict)
            except KeyFileError as exc:
                # A broken file on disk must not take down running workers: keep the keys we have.
                log.error("Keeping the master keys already loaded: %s", exc)

    # ------------------------------------------------------------ wrapping

    @staticmethod
    def _aad(data_key_id: uuid.UUID, master_key_id: str) -> bytes:
        return f"lots/data-key/v1/{data_key_id}/{master_key_id}".encode()

    def wrap(self, data_key_id: uuid.UUID, data_key: bytes) -> tuple[str, bytes]:
        """Wrap a data key under the active master key; returns (master key id, nonce | ciphertext)."""
        state = self._state
        nonce = os.urandom(NONCE_BYTES)
        aead = state.aeads[state.active]
        return state.active, nonce + aead.encrypt(nonce, data_key, self._aad(data_key_id, state.active))

    def unwrap(self, master_key_id: str, data_key_id: uuid.UUID, wrapped: bytes) -> bytes:
        """Unwrap a data key; refuses unknown master keys and altered or swapped wrapped keys."""
        aead = self._state.aeads.get(master_key_id)
        if aead is None:
            self.refresh()
            aead = self._state.aeads.get(master_key_id)
        if aead is None:
            raise UnknownKeyError(
                f"Data key {data_key_id} is wrapped by master key {master_key_id!r}, which is not in the key file."
            )
        wrapped = bytes(wrapped)
        if len(wrapped) != NONCE_BYTES + KEY_BYTES + 16:
            raise FieldDecryptionError("data_key", "wrapped_key", data_key_id, "the wrapped key has the wrong length")
        try:
            return aead.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], self._aad(data_key_id, master_key_id))
        except InvalidTag:
            raise FieldDecryptionError(
                "data_key", "wrapped_key", data_key_id,
                "authentication failed (the wrapped key was altered or belongs to another data key or master key)",
            ) from None

    # ------------------------------------------------------------ blind index

    def index_key(self, scope: str) -> bytes:
        """The HMAC key for one blind index (e.g. ``participant.personal_number``).

        Derived with HKDF from the file's own index key, not from a master key:
        master keys rotate and are retired, and an index tied to them would have
        to be recomputed from every plaintext at each rotation. Each scope gets
        its own key, so equal values in two indexed fields do not correlate.
        """
        state = self._state
        key = state.derived.get(scope)
        if key is None:
            key = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None,
                       info=b"lots/blind-index/v1/" + scope.encode()).derive(state.index_key)
            state.derived[scope] = key
        return key

    # ------------------------------------------------------------ changing the file

    @contextmanager
    def _update(self):
        """Read-modify-write under an exclusive lock; yields the file's current JSON."""
        with self._lock, open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                data = _read(self.path, strict=self.strict).to_json()
                before = json.dumps(data, sort_keys=True)
                yield data
                if json.dumps(data, sort_keys=True) != before:
                    write_atomic(self.path, json.dumps(_State.parse(data).to_json(), indent=2) + "\n")
                self._state = _read(self.path, strict=self.strict)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def begin_rotation(self) -> tuple[str, bool]:
        """Add a new master key, make it active and mark the rotation unfinished.

        If a rotation is already unfinished, resume it instead of adding
        another key. Returns (target key id, resumed).
        """
        with self._update() as data:
            if data["rotation"]:
                return data["rotation"]["to"], True
            key_id = new_key_id("mk")
            while key_id in data["master_keys"] or key_id in data["retired"]:
                key_id = new_key_id("mk")
            data["master_keys"][key_id] = {
                "key": base64.b64encode(AESGCM.generate_key(256)).decode(), "created_at": _now()
            }
            data["active"] = key_id
            data["rotation"] = {"to": key_id, "started_at": _now()}
        return key_id, False

    def finish_rotation(self) -> None:
        with self._update() as data:
            data["rotation"] = None

    def remove_master_key(self, key_id: str) -> MasterKey:
        """Remove a non-active master key from the file; returns it so a caller can put it back."""
        removed = self._state.master[key_id]
        with self._update() as data:
            if data["active"] == key_id:
                raise KeyFileError(f"{key_id} is the active master key and cannot be removed.")
            data["master_keys"].pop(key_id)
            data["retired"][key_id] = _now()
        return removed

    def restore_master_key(self, key: MasterKey) -> None:
        with self._update() as data:
            data["master_keys"][key.id] = {"key": base64.b64encode(key.key).decode(), "created_at": key.created_at}
            data["retired"].pop(key.id, None)
