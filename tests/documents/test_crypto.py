"""Chunked document encryption: round trips, every kind of tampering refused, crypto-shredding, content MAC."""

from __future__ import annotations

import io
import uuid

import pytest

from app.documents.crypto import (
    CHUNK_SIZE,
    OVERHEAD,
    DocumentIntegrityError,
    EncryptedStream,
    chunk_aad,
    content_mac,
    decrypt_stream,
    encrypt_stream,
    read_chunks,
    rechunk,
    verify_stream,
)
from app.security.crypto import CryptoError, KeyDestroyedError, new_data_key
from app.security.crypto.service import destroy_data_key

SMALL = 16  # a small chunk size keeps the tests fast; the code is the same for 256 KiB
SECRET = "SAMTYCKE Vilmer Hittepassón 19870412-9819 ".encode()


@pytest.fixture()
def ctx(app):
    with app.app_context():
        yield


@pytest.fixture()
def key(ctx):
    return new_data_key("participant")


@pytest.fixture()
def other_key(ctx):
    return new_data_key("participant")


def _payload(size: int) -> bytes:
    return (SECRET * (size // len(SECRET) + 1))[:size]


def _seal(key, payload: bytes, *, document_id=None, version_id=None, chunk_size=SMALL):
    document_id = document_id or uuid.uuid4()
    version_id = version_id or uuid.uuid4()
    stream = encrypt_stream(key, document_id=document_id, version_id=version_id,
                            chunks=rechunk([payload], chunk_size), chunk_size=chunk_size)
    sealed = list(stream)
    return document_id, version_id, sealed, stream


def _open(key, document_id, version_id, sealed, chunk_count=None):
    """(plaintext chunks yielded before any error, the error or None)."""
    yielded = []
    try:
        for chunk in decrypt_stream(key, document_id=document_id, version_id=version_id,
                                    chunk_count=len(sealed) if chunk_count is None else chunk_count,
                                    ciphertexts=iter(sealed)):
            yielded.append(chunk)
    except DocumentIntegrityError as exc:
        assert SECRET.decode("utf-8", "replace")[:8] not in str(exc)
        return yielded, exc
    return yielded, None


def _chunks(payload: bytes, size=SMALL):
    return [payload[i:i + size] for i in range(0, len(payload), size)]


# ------------------------------------------------------------ round trips

@pytest.mark.engine_independent
@pytest.mark.parametrize("size", [1, SMALL - 1, SMALL, SMALL + 1, 2 * SMALL, 5 * SMALL + 3])
def test_round_trip(key, size):
    payload = _payload(size)
    document_id, version_id, sealed, stream = _seal(key, payload)
    assert stream.chunk_count == len(sealed) == -(-size // SMALL)
    assert stream.size == size
    assert [len(c) for c in sealed] == [len(c) + OVERHEAD for c in _chunks(payload)]
    yielded, error = _open(key, document_id, version_id, sealed)
    assert error is None
    assert yielded == _chunks(payload)
    assert verify_stream(key, document_id=document_id, version_id=version_id, chunk_count=len(sealed),
                         ciphertexts=sealed) == size


@pytest.mark.engine_independent
@pytest.mark.parametrize("size", [1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE])
def test_round_trip_with_the_default_chunk_size(key, size):
    payload = _payload(size)
    document_id, version_id = uuid.uuid4(), uuid.uuid4()
    sealed = list(encrypt_stream(key, document_id=document_id, version_id=version_id,
                                 chunks=read_chunks(io.BytesIO(payload))))
    assert len(sealed) == -(-size // CHUNK_SIZE)
    plain = b"".join(decrypt_stream(key, document_id=document_id, version_id=version_id,
                                    chunk_count=len(sealed), ciphertexts=sealed))
    assert plain == payload


@pytest.mark.engine_independent
def test_pieces_of_any_size_are_rechunked(key):
    payload = _payload(7 * SMALL + 5)
    pieces = [payload[:3], payload[3:40], payload[40:41], payload[41:]]
    document_id, version_id = uuid.uuid4(), uuid.uuid4()
    sealed = list(encrypt_stream(key, document_id=document_id, version_id=version_id, chunks=pieces,
                                 chunk_size=SMALL))
    yielded, error = _open(key, document_id, version_id, sealed)
    assert error is None and yielded == _chunks(payload)


@pytest.mark.engine_independent
def test_every_chunk_has_a_fresh_nonce_and_the_same_file_encrypts_differently(key):
    payload = _payload(4 * SMALL)
    document_id, version_id = uuid.uuid4(), uuid.uuid4()
    first = _seal(key, payload, document_id=document_id, version_id=version_id)[2]
    second = _seal(key, payload, document_id=document_id, version_id=version_id)[2]
    nonces = {c[:12] for c in first + second}
    assert len(nonces) == len(first) + len(second)
    assert not set(first) & set(second)
    assert all(SECRET[:10] not in c for c in first)


@pytest.mark.engine_independent
def test_an_empty_file_is_refused(key):
    stream = encrypt_stream(key, document_id=uuid.uuid4(), version_id=uuid.uuid4(), chunks=[b""])
    with pytest.raises(ValueError, match="empty"):
        list(stream)


@pytest.mark.engine_independent
def test_a_stream_is_read_once_and_its_mac_is_known_at_the_end(key):
    stream = encrypt_stream(key, document_id=uuid.uuid4(), version_id=uuid.uuid4(), chunks=[b"abc"])
    assert isinstance(stream, EncryptedStream)
    with pytest.raises(RuntimeError):
        stream.content_mac
    list(stream)
    with pytest.raises(RuntimeError):
        iter(stream)
    assert stream.content_mac == content_mac(key, [b"a", b"bc"])


@pytest.mark.engine_independent
def test_read_chunks_fills_short_reads():
    class Trickle(io.RawIOBase):
        def __init__(self, data):
            self.data = data

        def readable(self):
            return True

        def read(self, n=-1):
            piece, self.data = self.data[:min(n, 5)], self.data[min(n, 5):]
            return piece

    payload = _payload(3 * SMALL + 2)
    assert list(read_chunks(Trickle(payload), SMALL)) == _chunks(payload)
    assert list(read_chunks(io.BytesIO(b""), SMALL)) == []
    with pytest.raises(ValueError):
        list(read_chunks(io.BytesIO(b"x"), 0))


@pytest.mark.engine_independent
def test_associated_data_names_domain_document_version_position_and_end():
    d, v = uuid.uuid4(), uuid.uuid4()
    aad = chunk_aad(d, v, 3, True)
    assert aad.startswith(b"lots-document-v1\x00") and d.bytes in aad and v.bytes in aad
    assert len({chunk_aad(d, v, 3, True), chunk_aad(d, v, 3, False), chunk_aad(d, v, 2, True),
                chunk_aad(v, d, 3, True)}) == 4
    assert len(aad) == len(chunk_aad(d, v, 2 ** 40, False))  # fixed layout: no ambiguity


# ------------------------------------------------------------ tampering

@pytest.mark.engine_independent
@pytest.mark.parametrize("where", [0, 11, 12, 20, -17, -1])  # nonce, ciphertext, tag
@pytest.mark.parametrize("chunk", [0, 2, 4])
def test_a_flipped_byte_is_refused(key, where, chunk):
    document_id, version_id, sealed, _ = _seal(key, _payload(4 * SMALL + 3))
    altered = bytearray(sealed[chunk])
    altered[where] ^= 0x01
    sealed[chunk] = bytes(altered)
    yielded, error = _open(key, document_id, version_id, sealed)
    assert isinstance(error, DocumentIntegrityError) and f"chunk {chunk} " in str(error)
    assert yielded == _chunks(_payload(4 * SMALL + 3))[:chunk]


@pytest.mark.engine_independent
def test_a_chunk_moved_within_the_document_is_refused(key):
    document_id, version_id, sealed, _ = _seal(key, _payload(4 * SMALL))
    swapped = [sealed[1], sealed[0]] + sealed[2:]
    yielded, error = _open(key, document_id, version_id, swapped)
    assert isinstance(error, DocumentIntegrityError) and yielded == []
    moved = sealed[:1] + sealed[2:3] + sealed[1:2] + sealed[3:]
    yielded, error = _open(key, document_id, version_id, moved)
    assert isinstance(error, DocumentIntegrityError) and yielded == _chunks(_payload(4 * SMALL))[:1]


@pytest.mark.engine_independent
def test_the_last_chunk_cannot_stand_in_the_middle_nor_a_middle_one_at_the_end(key):
    payload = _payload(3 * SMALL)
    document_id, version_id, sealed, _ = _seal(key, payload)
    # Dropping the middle chunk and claiming two chunks: the last chunk sits at index 1 (wrong index).
    yielded, error = _open(key, document_id, version_id, [sealed[0], sealed[2]])
    assert isinstance(error, DocumentIntegrityError) and yielded == _chunks(payload)[:1]


@pytest.mark.engine_independent
def test_chunks_swapped_between_two_documents_are_refused(key):
    payload_a, payload_b = _payload(3 * SMALL), _payload(3 * SMALL)[::-1]
    version_id = uuid.uuid4()  # even with the same version id, the document id differs
    doc_a, _, sealed_a, _ = _seal(key, payload_a, version_id=version_id)
    doc_b, _, sealed_b, _ = _seal(key, payload_b, version_id=version_id)
    mixed = [sealed_a[0], sealed_b[1], sealed_a[2]]
    yielded, error = _open(key, doc_a, version_id, mixed)
    assert isinstance(error, DocumentIntegrityError) and yielded == _chunks(payload_a)[:1]
    yielded, error = _open(key, doc_b, version_id, sealed_a)
    assert isinstance(error, DocumentIntegrityError) and yielded == []


@pytest.mark.engine_independent
def test_chunks_swapped_between_two_versions_are_refused(key):
    document_id = uuid.uuid4()
    payload = _payload(3 * SMALL)
    _, v1, sealed_1, _ = _seal(key, payload, document_id=document_id)
    _, v2, sealed_2, _ = _seal(key, payload, document_id=document_id)  # same content, same document
    yielded, error = _open(key, document_id, v2, sealed_2[:2] + sealed_1[2:])
    assert isinstance(error, DocumentIntegrityError) and yielded == _chunks(payload)[:2]
    yielded, error = _open(key, document_id, v1, sealed_2)
    assert isinstance(error, DocumentIntegrityError) and yielded == []


@pytest.mark.engine_independent
def test_a_truncated_stream_is_refused(key):
    payload = _payload(4 * SMALL)
    document_id, version_id, sealed, _ = _seal(key, payload)
    # The store gives fewer chunks than the version records.
    yielded, error = _open(key, document_id, version_id, sealed[:-1], chunk_count=len(sealed))
    assert isinstance(error, DocumentIntegrityError) and "truncated" in str(error)
    assert yielded == _chunks(payload)[:2]  # the chunk before the gap is held back too
    # The recorded count is lowered to match: the new last chunk was not sealed as the last.
    yielded, error = _open(key, document_id, version_id, sealed[:-1])
    assert isinstance(error, DocumentIntegrityError) and yielded == _chunks(payload)[:2]
    yielded, error = _open(key, document_id, version_id, [], chunk_count=len(sealed))
    assert isinstance(error, DocumentIntegrityError) and yielded == []


@pytest.mark.engine_independent
def test_an_extra_chunk_is_refused(key):
    payload = _payload(3 * SMALL)
    document_id, version_id, sealed, _ = _seal(key, payload)
    for extra in (sealed[-1], sealed[0], b"\x00" * 40):
        # More chunks than recorded: refused before the last plaintext is yielded.
        yielded, error = _open(key, document_id, version_id, sealed + [extra], chunk_count=len(sealed))
        assert isinstance(error, DocumentIntegrityError) and "more than" in str(error)
        assert yielded == _chunks(payload)[:-1]
        # The recorded count raised to match: the real last chunk was sealed as the last.
        yielded, error = _open(key, document_id, version_id, sealed + [extra])
        assert isinstance(error, DocumentIntegrityError) and yielded == _chunks(payload)[:-1]


@pytest.mark.engine_independent
def test_a_chunk_from_another_data_key_is_refused(key, other_key):
    payload = _payload(3 * SMALL)
    document_id, version_id, sealed, _ = _seal(key, payload)
    _, _, foreign, _ = _seal(other_key, payload, document_id=document_id, version_id=version_id)
    yielded, error = _open(key, document_id, version_id, sealed[:1] + foreign[1:2] + sealed[2:])
    assert isinstance(error, DocumentIntegrityError) and yielded == _chunks(payload)[:1]
    yielded, error = _open(other_key, document_id, version_id, sealed)
    assert isinstance(error, DocumentIntegrityError) and yielded == []


@pytest.mark.engine_independent
@pytest.mark.parametrize("garbage", [b"", b"\x00" * 12, b"\x00" * OVERHEAD])
def test_short_chunks_are_refused(key, garbage):
    document_id, version_id, sealed, _ = _seal(key, _payload(SMALL + 1))
    yielded, error = _open(key, document_id, version_id, [sealed[0], garbage])
    assert isinstance(error, DocumentIntegrityError) and "chunk 1 " in str(error)
    assert yielded == _chunks(_payload(SMALL + 1))[:1]


@pytest.mark.engine_independent
@pytest.mark.parametrize("count", [0, -1, None])
def test_a_nonsense_chunk_count_is_refused(key, count):
    with pytest.raises(DocumentIntegrityError):
        decrypt_stream(key, document_id=uuid.uuid4(), version_id=uuid.uuid4(), chunk_count=count,
                       ciphertexts=[])


@pytest.mark.engine_independent
def test_the_integrity_error_is_a_value_error_and_a_crypto_error():
    assert issubclass(DocumentIntegrityError, ValueError) and issubclass(DocumentIntegrityError, CryptoError)
    assert not issubclass(KeyDestroyedError, DocumentIntegrityError)


# ------------------------------------------------------------ content MAC

@pytest.mark.engine_independent
def test_content_mac(key, other_key):
    payload = _payload(5 * SMALL + 1)
    mac = content_mac(key, _chunks(payload))
    assert len(mac) == 64 and int(mac, 16) >= 0
    assert content_mac(key, [payload]) == mac  # the chunking does not matter
    assert content_mac(key, _chunks(payload, 7)) == mac
    assert content_mac(other_key, [payload]) != mac
    assert content_mac(key, [payload + b"x"]) != mac
    assert content_mac(key, [payload[:-1]]) != mac
    import hashlib

    assert mac != hashlib.sha256(payload).hexdigest()
    assert _seal(key, payload)[3].content_mac == mac


@pytest.mark.engine_independent
def test_derived_keys_are_per_purpose_and_per_data_key(key, other_key):
    assert key.derive_key(b"lots-document-mac-v1") == key.derive_key(b"lots-document-mac-v1")
    assert key.derive_key(b"lots-document-mac-v1") != key.derive_key(b"something-else")
    assert key.derive_key(b"lots-document-mac-v1") != other_key.derive_key(b"lots-document-mac-v1")
    assert len(key.derive_key(b"x", 64)) == 64
    assert "_lots_derived" not in key.__dict__
    with pytest.raises(ValueError):
        key.derive_key(b"")


# ------------------------------------------------------------ crypto-shredding (needs the database)

def test_a_destroyed_data_key_reads_nothing(app, db):
    with app.app_context():
        key = new_data_key("participant")
        db.add(key)
        db.flush()
        payload = _payload(3 * SMALL)
        document_id, version_id, sealed, stream = _seal(key, payload)
        mac = stream.content_mac
        destroy_data_key(key)
        with pytest.raises(KeyDestroyedError) as excinfo:
            decrypt_stream(key, document_id=document_id, version_id=version_id, chunk_count=len(sealed),
                           ciphertexts=sealed)  # refused at once, before any chunk is read
        assert not isinstance(excinfo.value, DocumentIntegrityError)
        with pytest.raises(KeyDestroyedError):
            encrypt_stream(key, document_id=document_id, version_id=version_id, chunks=[payload])
        with pytest.raises(KeyDestroyedError):
            content_mac(key, [payload])
        with pytest.raises(KeyDestroyedError):
            key.derive_key(b"lots-document-mac-v1")
        # Reloaded from the database, the key is still destroyed: nothing falls back to a cached key.
        db.expire_all()
        reloaded = db.get(type(key), key.id)
        with pytest.raises(KeyDestroyedError):
            list(decrypt_stream(reloaded, document_id=document_id, version_id=version_id,
                                chunk_count=len(sealed), ciphertexts=sealed))
        assert mac not in str(excinfo.value)


def test_the_derived_key_survives_a_reload(app, db):
    with app.app_context():
        key = new_data_key("participant")
        db.add(key)
        db.flush()
        mac = content_mac(key, [b"the same bytes"])
        db.expunge(key)
        reloaded = db.get(type(key), key.id)
        assert reloaded is not key
        assert content_mac(reloaded, [b"the same bytes"]) == mac
