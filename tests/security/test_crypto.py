"""Field encryption: round trips, refused ciphertexts, refused SQL comparisons, blind index, erasure."""

from __future__ import annotations

import hashlib
import uuid
from datetime import date

import pytest
from sqlalchemy import LargeBinary, Uuid, bindparam, select, text
from sqlalchemy.exc import StatementError

from app.audit.models import AuditEvent
from app.cases import service
from app.cases.models import Participant, ProtectedIdentity
from app.security.crypto import (
    CryptoError,
    EncryptedQueryError,
    FieldDecryptionError,
    KeyDestroyedError,
    UnknownKeyError,
    current_keyring,
)
from app.security.crypto.fields import VERSION

FIELDS = {
    "first_name": "Vilmer",
    "last_name": "Hittepåsson",
    "personal_number": "19870412-9819",
    "date_of_birth": date(1987, 4, 12),
    "phone": "070-174 06 66",
    "email": "vilmer.hittepasson@example.org",
    "street_address": "Ovetandegatan 44",
    "postal_code": "199 87",
    "city": "Låtsasby",
    "protected_identity": ProtectedIdentity.ASSUMED_IDENTITY,
    "notes": "Hotbild mot familjen; flyttad två gånger.",
}
SECRETS = [v for v in FIELDS.values() if isinstance(v, str)] + ["198704129819", "870412", "1987-04-12"]


@pytest.fixture()
def ctx(app, db):
    with app.app_context():
        yield


def _raw_get(db, column: str, row_id):
    stmt = text(f"SELECT {column} FROM participant WHERE id = :id").bindparams(bindparam("id", type_=Uuid))
    value = db.execute(stmt, {"id": row_id}).scalar_one()
    return bytes(value) if value is not None else None


def _raw_set(db, column: str, row_id, value: bytes | None, table: str = "participant"):
    stmt = text(f"UPDATE {table} SET {column} = :value WHERE id = :id").bindparams(
        bindparam("id", type_=Uuid), bindparam("value", type_=LargeBinary)
    )
    db.execute(stmt, {"id": row_id, "value": value})
    db.expire_all()


def _assert_refused(excinfo, *plaintexts):
    message = str(excinfo.value)
    for plaintext in plaintexts + tuple(SECRETS):
        assert plaintext not in message


# ------------------------------------------------------------ round trip and storage


def test_every_field_round_trips_through_the_database(ctx, db, factory):
    participant = factory.participant(**FIELDS)
    participant_id = participant.id
    db.commit()
    db.expunge_all()

    loaded = db.get(Participant, participant_id)
    assert loaded.first_name == "Vilmer"
    assert loaded.personal_number == "198704129819"  # stored normalised
    assert loaded.date_of_birth == date(1987, 4, 12)
    assert loaded.protected_identity is ProtectedIdentity.ASSUMED_IDENTITY
    assert loaded.notes == FIELDS["notes"]
    assert {name: getattr(loaded, name) for name in FIELDS if name != "personal_number"} == {
        k: v for k, v in FIELDS.items() if k != "personal_number"
    }


def test_raw_rows_hold_no_plaintext(ctx, db, factory):
    participant = factory.participant(**FIELDS)
    row = db.execute(text("SELECT * FROM participant")).mappings().one()
    stored = b"".join(
        bytes(v) if isinstance(v, (bytes, memoryview)) else str(v).encode() for v in row.values() if v is not None
    )
    for secret in SECRETS:
        assert secret.encode() not in stored
        assert secret.encode().hex().encode() not in stored
    assert row["personal_number_bidx"] != hashlib.sha256(b"198704129819").hexdigest()
    assert bytes(row["first_name_ct"]).startswith(VERSION + participant.data_key_id.bytes)


def test_the_same_value_encrypts_differently_each_time(ctx, db, factory):
    a = factory.participant(first_name="Samma")
    b = factory.participant(first_name="Samma")
    first = a.first_name_ct
    a.first_name = "Samma"
    assert len({first, a.first_name_ct, b.first_name_ct}) == 3


def test_lengths_are_padded_to_blocks_of_16(ctx, db, factory):
    short = factory.participant(first_name="Al")
    longer = factory.participant(first_name="Maximilianna")
    assert len(short.first_name_ct) == len(longer.first_name_ct)


def test_data_key_table_holds_only_wrapped_keys(ctx, db, factory):
    participant = factory.participant()
    key = participant.data_key.aead()
    wrapped = participant.data_key.wrapped_key
    master_keys = current_keyring()._state.master.values()
    assert all(mk.key not in wrapped for mk in master_keys)
    assert len(wrapped) == 12 + 32 + 16
    assert key is participant.data_key.aead()  # unwrapped once per session, then cached in memory


def test_unwrapped_data_keys_do_not_outlive_the_transaction(ctx, db, factory):
    participant = factory.participant(first_name="Vilmer")
    data_key = participant.data_key
    assert "_lots_aead" in data_key.__dict__
    db.commit()
    assert "_lots_aead" not in data_key.__dict__
    assert participant.first_name == "Vilmer"


def test_each_participant_has_its_own_data_key(ctx, db, factory):
    assert factory.participant().data_key_id != factory.participant().data_key_id


def test_plaintext_cannot_be_put_into_a_ciphertext_column(ctx, db, factory):
    participant = factory.participant()
    participant.first_name_ct = "Vilmer".encode()
    with pytest.raises(StatementError) as excinfo:
        db.flush()
    assert isinstance(excinfo.value.orig, CryptoError)
    assert "Vilmer" not in str(excinfo.value)
    db.rollback()


def test_wrong_python_type_is_refused_without_echoing_the_value(ctx, db, factory):
    participant = factory.participant()
    with pytest.raises(TypeError) as excinfo:
        participant.date_of_birth = "1987-04-12"
    assert "1987-04-12" not in str(excinfo.value)


# ------------------------------------------------------------ refused ciphertexts


def test_ciphertext_copied_to_another_row_is_refused(ctx, db, factory):
    victim, other = factory.participant(**FIELDS), factory.participant(first_name="Annan")
    _raw_set(db, "first_name_ct", other.id, _raw_get(db, "first_name_ct", victim.id))
    with pytest.raises(FieldDecryptionError) as excinfo:
        other.first_name
    assert "another row or column" in str(excinfo.value)
    assert str(other.id) in str(excinfo.value)
    _assert_refused(excinfo)


def test_ciphertext_copied_to_another_column_is_refused(ctx, db, factory):
    participant = factory.participant(**FIELDS)
    _raw_set(db, "last_name_ct", participant.id, _raw_get(db, "first_name_ct", participant.id))
    with pytest.raises(FieldDecryptionError) as excinfo:
        participant.last_name
    assert "participant.last_name" in str(excinfo.value)
    _assert_refused(excinfo)
    assert participant.first_name == "Vilmer"


@pytest.mark.parametrize("offset", [20, 30, 40, -1], ids=["nonce", "ciphertext-start", "ciphertext", "tag"])
def test_altered_ciphertext_is_refused(ctx, db, factory, offset):
    participant = factory.participant(**FIELDS)
    blob = bytearray(_raw_get(db, "notes_ct", participant.id))
    blob[offset] ^= 0x01
    _raw_set(db, "notes_ct", participant.id, bytes(blob))
    with pytest.raises(FieldDecryptionError, match="authentication failed") as excinfo:
        participant.notes
    _assert_refused(excinfo)


@pytest.mark.parametrize("keep", [0, 1, 17, 30, 45, -1, -16])
def test_truncated_ciphertext_is_refused(ctx, db, factory, keep):
    participant = factory.participant(**FIELDS)
    blob = _raw_get(db, "notes_ct", participant.id)
    _raw_set(db, "notes_ct", participant.id, blob[:keep])
    with pytest.raises(FieldDecryptionError) as excinfo:
        participant.notes
    _assert_refused(excinfo)


def test_unknown_format_version_is_refused(ctx, db, factory):
    participant = factory.participant(**FIELDS)
    blob = _raw_get(db, "city_ct", participant.id)
    _raw_set(db, "city_ct", participant.id, b"v9" + blob[2:])
    with pytest.raises(FieldDecryptionError, match="unknown ciphertext format"):
        participant.city


def test_unknown_data_key_id_is_refused(ctx, db, factory):
    participant = factory.participant(**FIELDS)
    blob = _raw_get(db, "phone_ct", participant.id)
    stranger = uuid.uuid4()
    _raw_set(db, "phone_ct", participant.id, blob[:2] + stranger.bytes + blob[18:])
    with pytest.raises(UnknownKeyError) as excinfo:
        participant.phone
    assert str(stranger) in str(excinfo.value)
    _assert_refused(excinfo)


def test_unknown_master_key_id_is_refused(ctx, db, factory):
    participant = factory.participant(**FIELDS)
    db.execute(
        text("UPDATE data_key SET master_key_id = 'mk-gone' WHERE id = :id").bindparams(bindparam("id", type_=Uuid)),
        {"id": participant.data_key_id},
    )
    db.expire_all()
    participant.data_key.forget()
    with pytest.raises(UnknownKeyError, match="mk-gone"):
        participant.first_name


def test_wrapped_key_swapped_between_data_keys_is_refused(ctx, db, factory):
    a, b = factory.participant(**FIELDS), factory.participant()
    wrapped_b = b.data_key.wrapped_key
    stmt = text("UPDATE data_key SET wrapped_key = :w WHERE id = :id").bindparams(
        bindparam("id", type_=Uuid), bindparam("w", type_=LargeBinary)
    )
    db.execute(stmt, {"id": a.data_key_id, "w": wrapped_b})
    db.expire_all()
    a.data_key.forget()
    with pytest.raises(FieldDecryptionError, match="wrapped key"):
        a.first_name


# ------------------------------------------------------------ SQL on encrypted columns


COMPARISONS = {
    "eq": lambda c: c == "Vilmer",
    "ne": lambda c: c != "Vilmer",
    "reverse-eq": lambda c: "Vilmer" == c,
    "lt": lambda c: c < "M",
    "like": lambda c: c.like("Vil%"),
    "ilike": lambda c: c.ilike("vil%"),
    "in": lambda c: c.in_(["Vilmer"]),
    "not-in": lambda c: c.not_in(["Vilmer"]),
    "startswith": lambda c: c.startswith("Vil"),
    "contains": lambda c: c.contains("ilm"),
    "between": lambda c: c.between("A", "Z"),
    "is-not-distinct": lambda c: c.is_not_distinct_from("Vilmer"),
}


@pytest.mark.parametrize("compare", COMPARISONS.values(), ids=COMPARISONS.keys())
@pytest.mark.parametrize("attribute", ["first_name", "first_name_ct", "personal_number"])
def test_comparing_an_encrypted_column_raises(ctx, attribute, compare):
    with pytest.raises(EncryptedQueryError, match="encrypted"):
        select(Participant).where(compare(getattr(Participant, attribute)))


def test_selecting_or_ordering_by_an_encrypted_field_raises(ctx):
    with pytest.raises(EncryptedQueryError):
        select(Participant.first_name)
    with pytest.raises(EncryptedQueryError):
        select(Participant).order_by(Participant.last_name)


def test_null_tests_on_encrypted_fields_are_allowed(ctx, db, factory):
    with_phone, without_phone = factory.participant(), factory.participant(phone=None)
    ids = set(db.scalars(select(Participant.id).where(Participant.phone.is_(None))))
    assert without_phone.id in ids and with_phone.id not in ids


# ------------------------------------------------------------ blind index


@pytest.mark.parametrize("form", ["19870412-9819", "198704129819", "870412-9819", "8704129819", " 870412 - 9819 "])
def test_blind_index_finds_a_participant_by_any_form_of_the_number(ctx, db, factory, form):
    wanted = factory.participant(**FIELDS)
    factory.participant()
    assert service.find_participants_by_personal_number(form) == [wanted]


def test_blind_index_lookup_of_an_unknown_number_finds_nothing(ctx, db, factory):
    factory.participant(**FIELDS)
    assert service.find_participants_by_personal_number("19870412-9827") == []


def test_blind_index_is_a_keyed_hmac_per_field(ctx, db, factory):
    participant = factory.participant(**FIELDS)
    assert participant.personal_number_bidx != hashlib.sha256(b"198704129819").hexdigest()
    keyring = current_keyring()
    assert keyring.index_key("participant.personal_number") != keyring.index_key("participant.other")
    with pytest.raises(EncryptedQueryError, match="no blind index"):
        Participant.first_name.matches("Vilmer")


# ------------------------------------------------------------ erasure


def test_erasure_makes_every_value_unreadable_for_good(ctx, db, factory):
    erased, kept = factory.participant(**FIELDS), factory.participant(first_name="Kvar")
    service.erase_participant(erased)
    db.commit()
    erased_id, kept_id = erased.id, kept.id
    db.expunge_all()

    loaded = db.get(Participant, erased_id)
    for name in FIELDS:
        with pytest.raises(KeyDestroyedError) as excinfo:
            getattr(loaded, name)
        _assert_refused(excinfo)
    with pytest.raises(KeyDestroyedError):
        loaded.first_name = "Ny"
    row = db.execute(
        text("SELECT wrapped_key, destroyed_at FROM data_key WHERE id = :id").bindparams(bindparam("id", type_=Uuid)),
        {"id": loaded.data_key_id},
    ).one()
    assert row.wrapped_key is None and row.destroyed_at is not None
    assert _raw_get(db, "personal_number_bidx", erased_id) is None
    assert service.find_participants_by_personal_number(FIELDS["personal_number"]) == []
    assert db.get(Participant, kept_id).first_name == "Kvar"
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "participant.erase")).one()
    assert event.object_id == str(erased_id)
