"""Data keys: one per participant, stored only wrapped by a master key from the key file."""

from __future__ import annotations

import uuid
from datetime import datetime

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import CheckConstraint, DateTime, LargeBinary, String, Uuid, event, func
from sqlalchemy.orm import Mapped, mapped_column

from app.db import db, utcnow
from app.security.crypto.errors import KeyDestroyedError


class DataKey(db.Model):
    """An AES-256 key that encrypts one participant's fields (envelope encryption)."""

    __tablename__ = "data_key"
    __table_args__ = (
        CheckConstraint("(wrapped_key IS NULL) = (destroyed_at IS NOT NULL)", name="live_or_destroyed"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    #: The kind of record the key protects (e.g. "participant"); for `keys status` only.
    owner_type: Mapped[str] = mapped_column(String(40))
    #: Id of the master key (in the key file) that wraps this key.
    master_key_id: Mapped[str] = mapped_column(String(40), index=True)
    #: nonce | AES-GCM(key), with associated data naming this key's id and the master key id.
    #: NULL once destroyed: the participant's ciphertexts can then never be decrypted.
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, server_default=func.now())
    #: When `keys rotate` last re-wrapped the key under a new master key.
    rewrapped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    destroyed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def __repr__(self) -> str:
        return f"<DataKey {self.id} under {self.master_key_id}{' destroyed' if self.destroyed_at else ''}>"

    def _live_wrapped_key(self) -> bytes:
        wrapped = self.wrapped_key
        if wrapped is None or self.destroyed_at is not None:
            raise KeyDestroyedError(
                f"Data key {self.id} was destroyed (the record was erased); its values can never be read again."
            )
        return wrapped

    def aead(self) -> AESGCM:
        """The unwrapped key: kept in memory on this instance until it is expired, never persisted."""
        wrapped = self._live_wrapped_key()
        cached = self.__dict__.get("_lots_aead")
        if cached is None:
            from app.security.crypto import current_keyring

            cached = AESGCM(current_keyring().unwrap(self.master_key_id, self.id, wrapped))
            self.__dict__["_lots_aead"] = cached
        return cached

    def derive_key(self, info: bytes, length: int = 32) -> bytes:
        """A subkey of this data key for another purpose (HKDF-SHA256 of the unwrapped key, named by ``info``).

        For keys that must die with the data key but are not AES-GCM keys (the documents' content MAC).
        The unwrapped key is unwrapped again for this and not kept; the subkey is not cached either.
        Refuses a destroyed key with KeyDestroyedError, as ``aead()`` does.
        """
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        from app.security.crypto import current_keyring

        if not info:
            raise ValueError("derive_key needs an info naming the purpose of the subkey")
        raw = current_keyring().unwrap(self.master_key_id, self.id, self._live_wrapped_key())
        return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(raw)

    def forget(self) -> None:
        """Drop the cached unwrapped key."""
        self.__dict__.pop("_lots_aead", None)


@event.listens_for(DataKey, "expire")
def _forget_on_expire(data_key: DataKey | None, _attrs) -> None:
    # Reloaded rows may have been destroyed meanwhile: unwrap again (and check) after every expiry.
    if data_key is not None:  # None when the instance was already garbage-collected
        data_key.forget()
