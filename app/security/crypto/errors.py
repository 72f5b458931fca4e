"""Errors of the encryption layer. No message ever contains a plaintext or key material."""

from __future__ import annotations

from app.config import ConfigError


class CryptoError(Exception):
    """Base class: something about keys or ciphertexts is wrong."""


class KeyFileError(CryptoError, ConfigError):
    """The master key file is missing, unreadable or invalid; the message says what to do."""


class UnknownKeyError(CryptoError):
    """A ciphertext or wrapped key names a key that is not available."""


class KeyDestroyedError(CryptoError):
    """The data key was destroyed (crypto-shredding): the value can never be read again."""


class FieldDecryptionError(CryptoError):
    """A stored value is malformed, altered, truncated, or belongs to another row or column."""

    def __init__(self, table: str, column: str, row_id, reason: str):
        self.table, self.column, self.row_id = table, column, row_id
        super().__init__(f"{table}.{column} of row {row_id} cannot be decrypted: {reason}")


class EncryptedQueryError(CryptoError, TypeError):
    """An encrypted column was used in a comparison, which could only ever match nothing."""


class KeyInUseError(CryptoError):
    """A master key cannot be retired while data keys are still wrapped by it."""
