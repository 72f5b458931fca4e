"""Encrypted model fields, blind indexes and the mixin that gives a record its data key.

A TypeDecorator sees only the value, not the row, so it cannot bind a
ciphertext to its row. Instead, models with personal data use
client-generated UUID primary keys (known before the INSERT) and declare
``EncryptedField`` descriptors: the value is encrypted when it is assigned
and decrypted when it is read, with the row's own data key.

Ciphertext format (stored in the ``<field>_ct`` column)::

    b"v1" | data key id (16 bytes) | nonce (12 bytes) | AES-256-GCM(padded plaintext) with tag (16 bytes)

The associated data is ``lots/v1/<table>/<field>/<row id as 32 hex digits>``, so a value
copied to another row or column fails to decrypt. The plaintext is padded
(ISO/IEC 7816-4) to a multiple of 16 bytes so stored lengths reveal little.
"""

from __future__ import annotations

import enum
import hmac
import os
import uuid
from datetime import date
from functools import cached_property
from hashlib import sha256
from typing import Any, Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import ForeignKey, LargeBinary, String, Uuid
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, object_session, relationship
from sqlalchemy.sql import operators
from sqlalchemy.sql.operators import ColumnOperators
from sqlalchemy.types import TypeDecorator

from app.security.crypto.errors import (
    CryptoError,
    EncryptedQueryError,
    FieldDecryptionError,
    UnknownKeyError,
)
from app.security.crypto.models import DataKey

VERSION = b"v1"
_KEY_ID_END = len(VERSION) + 16
_NONCE_END = _KEY_ID_END + 12
_BLOCK = 16
#: Shortest valid ciphertext: header, one padded block, tag.
MIN_LENGTH = _NONCE_END + _BLOCK + 16
_NULL_TESTS = (operators.is_, operators.is_not)


def _refuse(what: str, op) -> EncryptedQueryError:
    name = getattr(op, "__name__", str(op)).rstrip("_")
    return EncryptedQueryError(
        f"{what} is encrypted: SQL cannot compare it ({name}) and would silently match nothing. "
        "Use the field's blind index (.matches(value)) where it has one, or filter on other columns."
    )


class EncryptedBytes(TypeDecorator):
    """Column type of ciphertext columns: refuses comparisons and anything that is not a ciphertext."""

    impl = LargeBinary
    cache_ok = True

    class comparator_factory(TypeDecorator.Comparator):
        def operate(self, op, *other, **kwargs):
            if op in _NULL_TESTS:
                return super().operate(op, *other, **kwargs)
            raise _refuse(f"Column {self.expr}", op)

        def reverse_operate(self, op, other, **kwargs):
            raise _refuse(f"Column {self.expr}", op)

    def process_bind_param(self, value, dialect):
        if value is not None and bytes(value[: len(VERSION)]) != VERSION:
            raise CryptoError("Refusing to store a value in an encrypted column that is not a ciphertext.")
        return value

    def process_result_value(self, value, dialect):
        return bytes(value) if value is not None else None


def _pad(data: bytes) -> bytes:
    data += b"\x80"
    return data + b"\x00" * (-len(data) % _BLOCK)


class _Codec:
    """Converts a field's Python value to bytes and back."""

    def __init__(self, python_type: type):
        self.python_type = python_type
        if python_type is str:
            self.encode, self.decode = (lambda v: v.encode("utf-8")), (lambda b: b.decode("utf-8"))
        elif python_type is date:
            self.encode, self.decode = (lambda v: v.isoformat().encode()), (lambda b: date.fromisoformat(b.decode()))
        elif isinstance(python_type, type) and issubclass(python_type, enum.Enum):
            self.encode = lambda v: str(python_type(v).value).encode("utf-8")
            self.decode = lambda b: python_type(b.decode("utf-8"))
        else:
            raise TypeError(f"EncryptedField does not support {python_type!r}")

    def check(self, value, where: str) -> None:
        ok = isinstance(value, self.python_type)
        if self.python_type is date:
            ok = ok and type(value) is date
        elif issubclass(self.python_type, enum.Enum) and not ok:
            ok = value in {m.value for m in self.python_type}
        if not ok:
            raise TypeError(f"{where} takes a {self.python_type.__name__}, not {type(value).__name__}")


class EncryptedField:
    """A personal field stored encrypted in a ``<name>_ct`` column of its own.

    With ``blind_index=True`` the field also maintains ``<name>_bidx``: an
    HMAC-SHA256 of the (normalised) value for exact-match lookups with
    ``Model.field.matches(value)``. ``normalise`` runs before both.
    """

    def __init__(self, python_type: type = str, *, normalise: Callable[[Any], Any] | None = None,
                 blind_index: bool = False):
        self.codec = _Codec(python_type)
        self.normalise = normalise
        self.blind_index = blind_index

    def __set_name__(self, owner, name: str) -> None:
        self.name = name
        self.owner = owner
        self.ct_attr = f"{name}_ct"
        self.bidx_attr = f"{name}_bidx" if self.blind_index else None
        setattr(owner, self.ct_attr, mapped_column(self.ct_attr, EncryptedBytes, nullable=True,
                                                   doc=f"Ciphertext of {name}."))
        if self.bidx_attr:
            setattr(owner, self.bidx_attr, mapped_column(self.bidx_attr, String(64), index=True, nullable=True,
                                                         doc=f"Blind index (HMAC-SHA256) of {name}."))
        if "__encrypted_fields__" not in owner.__dict__:
            owner.__encrypted_fields__ = dict(getattr(owner, "__encrypted_fields__", {}))
        owner.__encrypted_fields__[name] = self

    @property
    def table(self) -> str:
        return self.owner.__tablename__

    @property
    def scope(self) -> str:
        return f"{self.table}.{self.name}"

    @cached_property
    def aad_prefix(self) -> bytes:
        return f"lots/v1/{self.table}/{self.name}/".encode()

    def aad(self, row_id: uuid.UUID) -> bytes:
        return self.aad_prefix + row_id.hex.encode()

    # ------------------------------------------------------------ descriptor

    def __get__(self, obj, owner=None):
        if obj is None:
            return EncryptedAttribute(self, owner)
        state = obj.__dict__
        blob = state[self.ct_attr] if self.ct_attr in state else getattr(obj, self.ct_attr)
        if blob is None:
            return None
        cache = state.get("_lots_plain")
        if cache is not None:
            hit = cache.get(self.name)
            if hit is not None and hit[0] is blob:
                return hit[1]
        else:
            cache = state["_lots_plain"] = {}
        value = self.codec.decode(self.decrypt(obj, blob))
        cache[self.name] = (blob, value)
        return value

    def __set__(self, obj, value) -> None:
        cache = obj.__dict__.setdefault("_lots_plain", {})
        if value is None:
            setattr(obj, self.ct_attr, None)
            if self.bidx_attr:
                setattr(obj, self.bidx_attr, None)
            cache.pop(self.name, None)
            return
        if self.normalise is not None:
            value = self.normalise(value)
        self.codec.check(value, self.scope)
        if isinstance(self.codec.python_type, type) and issubclass(self.codec.python_type, enum.Enum):
            value = self.codec.python_type(value)
        blob = self.encrypt(obj, self.codec.encode(value))
        setattr(obj, self.ct_attr, blob)
        if self.bidx_attr:
            setattr(obj, self.bidx_attr, blind_index(self.scope, self.codec.encode(value)))
        cache[self.name] = (blob, value)

    # ------------------------------------------------------------ ciphertexts

    def encrypt(self, obj, plaintext: bytes) -> bytes:
        key_id, row, aead = _context(obj, self)
        nonce = os.urandom(12)
        return VERSION + key_id + nonce + aead.encrypt(nonce, _pad(plaintext), self.aad_prefix + row)

    def decrypt(self, obj, blob: bytes) -> bytes:
        size = len(blob)
        if size < MIN_LENGTH or (size - _NONCE_END - 16) % _BLOCK:
            raise FieldDecryptionError(self.table, self.name, obj.id, "the value is truncated")
        if blob[: len(VERSION)] != VERSION:
            raise FieldDecryptionError(self.table, self.name, obj.id, "unknown ciphertext format version")
        key_id, row, aead = _context(obj, self)
        if blob[len(VERSION):_KEY_ID_END] != key_id:
            aead = self._other_data_key(obj, uuid.UUID(bytes=blob[len(VERSION):_KEY_ID_END])).aead()
        try:
            padded = aead.decrypt(blob[_KEY_ID_END:_NONCE_END], blob[_NONCE_END:], self.aad_prefix + row)
        except InvalidTag:
            raise FieldDecryptionError(
                self.table, self.name, obj.id,
                "authentication failed (the value was altered, or copied from another row or column)",
            ) from None
        end = padded.rstrip(b"\x00")
        if not end.endswith(b"\x80"):
            raise FieldDecryptionError(self.table, self.name, obj.id, "invalid padding")
        return end[:-1]

    def _other_data_key(self, obj, key_id: uuid.UUID) -> DataKey:
        session = object_session(obj)
        found = session.get(DataKey, key_id) if session is not None else None
        if found is None:
            raise UnknownKeyError(f"{self.scope} of row {obj.id} names data key {key_id}, which does not exist.")
        return found


def _context(obj, field: EncryptedField) -> tuple[bytes, bytes, AESGCM]:
    """(data key id, row id as hex, unwrapped data key) of a record, cached on the instance.

    The cache is only reused while the record has the same id and data key
    object and that key still holds the same unwrapped key (DataKey.forget,
    called on destruction and on every expiry, invalidates it).
    """
    state = obj.__dict__
    data_key = state["data_key"] if "data_key" in state else obj.data_key
    row_id = state["id"] if "id" in state else obj.id
    ctx = state.get("_lots_ctx")
    if ctx is not None and ctx[0] is data_key and ctx[1] is row_id and data_key.__dict__.get("_lots_aead") is ctx[4]:
        return ctx[2:]
    if data_key is None or row_id is None:
        raise CryptoError(f"{field.scope} needs a row id and a data key")
    aead = data_key.aead()
    ctx = state["_lots_ctx"] = (data_key, row_id, data_key.id.bytes, row_id.hex.encode(), aead)
    return ctx[2:]


class EncryptedAttribute(ColumnOperators):
    """What ``Model.field`` is at class level: every SQL comparison raises EncryptedQueryError."""

    def __init__(self, field: EncryptedField, owner):
        self.field = field
        self.owner = owner

    def operate(self, op, *other, **kwargs):
        if op in _NULL_TESTS and other == (None,):
            return op(getattr(self.owner, self.field.ct_attr), None)
        raise _refuse(self.field.scope, op)

    def reverse_operate(self, op, other, **kwargs):
        raise _refuse(self.field.scope, op)

    def __clause_element__(self):
        raise EncryptedQueryError(
            f"{self.field.scope} is encrypted and cannot be used in SQL; load the record and read the attribute."
        )

    def matches(self, value):
        """SQL criterion: the field's blind index equals that of ``value`` (normalised first)."""
        field = self.field
        if not field.bidx_attr:
            raise EncryptedQueryError(f"{field.scope} has no blind index; it cannot be looked up.")
        if field.normalise is not None:
            value = field.normalise(value)
        field.codec.check(value, field.scope)
        return getattr(self.owner, field.bidx_attr) == blind_index(field.scope, field.codec.encode(value))

    __hash__ = object.__hash__


def blind_index(scope: str, value: bytes) -> str:
    """HMAC-SHA256 of a normalised value under the scope's own derived key, as hex."""
    from app.security.crypto import current_keyring

    return hmac.new(current_keyring().index_key(scope), value, sha256).hexdigest()


def new_data_key(owner_type: str) -> DataKey:
    """Generate a data key, wrapped under the active master key; the unwrapped key stays in memory only."""
    from app.security.crypto import current_keyring

    keyring = current_keyring()
    keyring.refresh()
    key_id = uuid.uuid4()
    key = AESGCM.generate_key(256)
    master_key_id, wrapped = keyring.wrap(key_id, key)
    data_key = DataKey(id=key_id, owner_type=owner_type, master_key_id=master_key_id, wrapped_key=wrapped)
    data_key.__dict__["_lots_aead"] = AESGCM(key)
    return data_key


class EncryptedRecord:
    """Mixin for models with EncryptedFields: a UUID id known before INSERT, and a data key.

    A record gets a new data key unless one is passed: records that belong to
    a participant (notes, plans) pass the participant's ``data_key`` so that
    erasing the participant shreds them too.
    """

    __encrypted_fields__: dict[str, EncryptedField] = {}
    #: False where a unique constraint in ``__table_args__`` already indexes ``data_key_id``.
    __data_key_index__ = True

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4, sort_order=-20)

    @declared_attr
    def data_key_id(cls) -> Mapped[uuid.UUID]:
        # Indexed like every foreign key: removing a data key must not scan each table that uses keys.
        return mapped_column(ForeignKey("data_key.id"), index=cls.__data_key_index__, sort_order=-10)

    @declared_attr
    def data_key(cls) -> Mapped[DataKey]:
        return relationship(DataKey, lazy="joined", innerjoin=True)

    def __init__(self, *, id: uuid.UUID | None = None, data_key: DataKey | None = None, **kwargs):
        self.id = id or uuid.uuid4()
        self.data_key = data_key if data_key is not None else new_data_key(self.__tablename__)
        super().__init__(**kwargs)

    def forget_plaintext(self) -> None:
        """Drop the decrypted values and the key context cached on this instance."""
        self.__dict__.pop("_lots_plain", None)
        self.__dict__.pop("_lots_ctx", None)
