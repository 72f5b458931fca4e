"""Application-level encryption of personal data (AES-256-GCM, envelope encryption).

- ``keyring``: master keys in a key file outside the database.
- ``models``: ``DataKey``, one per participant, stored wrapped by a master key.
- ``fields``: ``EncryptedField`` descriptors, blind indexes, the ``EncryptedRecord`` mixin.
- ``service``: rotation, retirement, status and destruction of keys.
- ``cli``: ``flask --app wsgi keys ...``.
"""

from __future__ import annotations

from flask import current_app

from app.security.crypto.errors import (
    CryptoError,
    EncryptedQueryError,
    FieldDecryptionError,
    KeyDestroyedError,
    KeyFileError,
    KeyInUseError,
    UnknownKeyError,
)
from app.security.crypto.keyring import Keyring
from app.security.crypto.models import DataKey
from app.security.crypto.fields import EncryptedField, EncryptedRecord, blind_index, new_data_key

__all__ = [
    "CryptoError", "EncryptedQueryError", "FieldDecryptionError", "KeyDestroyedError", "KeyFileError",
    "KeyInUseError", "UnknownKeyError", "Keyring", "DataKey", "EncryptedField", "EncryptedRecord",
    "blind_index", "new_data_key", "current_keyring", "init_app",
]

EXTENSION = "lots_keyring"


def current_keyring() -> Keyring:
    """The keyring of the current application."""
    return current_app.extensions[EXTENSION]


def init_app(app) -> None:
    """Load the key file; production refuses to start without a valid, private one."""
    path = app.config.get("LOTS_KEY_FILE")
    if not path:
        raise KeyFileError("LOTS_KEY_FILE is not set: it must name the master key file.")
    app.extensions[EXTENSION] = Keyring.load(path, production=app.config["LOTS_ENV"] == "production")
