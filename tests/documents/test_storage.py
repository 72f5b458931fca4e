"""The blob store: chunks in document_blob_chunk rows, streamed both ways, deleted; the whole pipeline
with encryption, tampering in the stored rows, crypto-shredding and flat memory for a 20 MB file."""

from __future__ import annotations

import hashlib
import os
import tracemalloc
import uuid

import pytest
from sqlalchemy import func, select, update

from app.config import ConfigError
from app.documents import storage
from app.documents.crypto import CHUNK_SIZE, DocumentIntegrityError, decrypt_stream, encrypt_stream, rechunk
from app.documents.models import DocumentBlobChunk
from app.documents.storage import BlobMissingError, BlobStore, DatabaseBlobStore, blob_store
from app.security.crypto import KeyDestroyedError, new_data_key
from app.security.crypto.service import destroy_data_key

SECRET = "SAMTYCKE Vilmer Hittepassón 19870412-9819 hotbild ".encode()
T = DocumentBlobChunk.__table__


@pytest.fixture()
def ctx(app, db):
    with app.app_context():
        yield


@pytest.fixture()
def key(ctx, db):
    data_key = new_data_key("participant")
    db.add(data_key)
    db.flush()
    return data_key


def _rows(db, blob_id):
    return [(idx, bytes(data)) for idx, data in db.execute(
        select(T.c.idx, T.c.data).where(T.c.blob_id == blob_id).order_by(T.c.idx))]


def _count(db, blob_id=None):
    stmt = select(func.count()).select_from(T)
    if blob_id is not None:
        stmt = stmt.where(T.c.blob_id == blob_id)
    return db.scalar(stmt)


# ------------------------------------------------------------ the store

def test_put_get_round_trip(ctx, db):
    store = DatabaseBlobStore(insert_batch_bytes=10, read_batch=2)
    chunks = [os.urandom(7) for _ in range(5)]
    blob_id = uuid.uuid4()
    assert store.put(blob_id, iter(chunks)) == 5
    assert _rows(db, blob_id) == list(enumerate(chunks))
    assert list(store.get(blob_id, 5)) == chunks
    assert list(store.get(blob_id, 0)) == []
    assert list(store.get(blob_id, 4)) == chunks[:4]  # reads only what the version records


@pytest.mark.parametrize("count", [1, 3, 4, 5, 9])
def test_reading_in_batches_of_any_size(ctx, db, count):
    store = DatabaseBlobStore(read_batch=4)
    chunks = [bytes([i]) * 3 for i in range(count)]
    blob_id = uuid.uuid4()
    store.put(blob_id, chunks)
    assert list(store.get(blob_id, count)) == chunks


def test_a_missing_chunk_is_an_error(ctx, db):
    store = DatabaseBlobStore(read_batch=2)
    blob_id = uuid.uuid4()
    store.put(blob_id, [b"a", b"b", b"c", b"d"])
    db.execute(T.delete().where(T.c.blob_id == blob_id, T.c.idx == 2))
    stream = store.get(blob_id, 4)
    assert next(stream) == b"a" and next(stream) == b"b"
    with pytest.raises(BlobMissingError, match="chunk 2"):
        next(stream)
    db.execute(T.insert().values(blob_id=blob_id, idx=2, data=b"c"))
    with pytest.raises(BlobMissingError, match="chunk 4"):  # the version records more than is stored
        list(store.get(blob_id, 5))
    with pytest.raises(BlobMissingError, match="chunk 0"):  # an unknown blob
        list(store.get(uuid.uuid4(), 1))
    with pytest.raises(ValueError):
        store.get(blob_id, -1)
    # Readers that refuse a damaged file (DocumentIntegrityError) refuse a missing chunk too.
    assert issubclass(BlobMissingError, DocumentIntegrityError) and issubclass(BlobMissingError, LookupError)


def test_get_is_lazy(ctx, db):
    """Nothing is read until the stream is advanced (a download streams as it is sent)."""
    store = DatabaseBlobStore()
    blob_id = uuid.uuid4()
    stream = store.get(blob_id, 1)  # the blob does not exist yet
    store.put(blob_id, [b"late"])
    assert list(stream) == [b"late"]


def test_delete_and_delete_many(ctx, db, monkeypatch):
    store = DatabaseBlobStore()
    ids = [uuid.uuid4() for _ in range(7)]
    for n, blob_id in enumerate(ids):
        store.put(blob_id, [b"x" * (n + 1)] * 3)
    store.delete(ids[0])
    store.delete(uuid.uuid4())  # an unknown blob: nothing happens
    assert _count(db, ids[0]) == 0 and _count(db, ids[1]) == 3
    monkeypatch.setattr(storage, "DELETE_BATCH", 2)
    store.delete_many(iter(ids[1:6]))
    assert [_count(db, b) for b in ids] == [0, 0, 0, 0, 0, 0, 3]
    store.delete_many([])
    assert _count(db, ids[6]) == 3


def test_an_interrupted_upload_leaves_nothing(ctx, db):
    store = DatabaseBlobStore(insert_batch_bytes=1)
    blob_id = uuid.uuid4()

    def failing():
        yield b"first"
        yield b"second"
        raise OSError("the client went away")

    savepoint = db.begin_nested()
    with pytest.raises(OSError):
        store.put(blob_id, failing())
    assert _count(db, blob_id) == 2  # inserted as they came, in the transaction
    savepoint.rollback()
    assert _count(db, blob_id) == 0


def test_blob_store_follows_the_configuration(app, db):
    with app.app_context():
        store = blob_store()
        assert isinstance(store, DatabaseBlobStore) and isinstance(store, BlobStore)
        assert blob_store() is store
        previous = app.config.get("LOTS_DOCUMENT_STORE")
        try:
            app.config["LOTS_DOCUMENT_STORE"] = "database"
            assert blob_store() is store
            app.config["LOTS_DOCUMENT_STORE"] = "s3"
            with pytest.raises(ConfigError, match="LOTS_DOCUMENT_STORE must be one of database, got 's3'"):
                blob_store()
        finally:
            if previous is None:
                app.config.pop("LOTS_DOCUMENT_STORE", None)
            else:
                app.config["LOTS_DOCUMENT_STORE"] = previous


# ------------------------------------------------------------ encryption and store together

def _upload(key, payload: bytes, chunk_size: int = 64, store=None):
    store = store or blob_store()
    document_id, version_id, blob_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    stream = encrypt_stream(key, document_id=document_id, version_id=version_id,
                            chunks=rechunk([payload], chunk_size), chunk_size=chunk_size)
    count = store.put(blob_id, stream)
    assert count == stream.chunk_count
    return document_id, version_id, blob_id, count


def _download(key, document_id, version_id, blob_id, count, store=None):
    store = store or blob_store()
    return b"".join(decrypt_stream(key, document_id=document_id, version_id=version_id, chunk_count=count,
                                   ciphertexts=store.get(blob_id, count)))


def _flip(db, blob_id, idx, position=20):
    data = bytearray(db.scalar(select(T.c.data).where(T.c.blob_id == blob_id, T.c.idx == idx)))
    data[position] ^= 0x80
    db.execute(update(T).where(T.c.blob_id == blob_id, T.c.idx == idx).values(data=bytes(data)))


def test_encrypted_round_trip_and_no_plaintext_in_the_rows(key, db):
    payload = SECRET * 40
    ids = _upload(key, payload)
    assert _download(key, *ids) == payload
    for _, data in _rows(db, ids[2]):
        assert SECRET[:12] not in data and b"19870412" not in data and b"Hittepass" not in data


def test_tampered_rows_are_refused(key, db):
    payload = SECRET * 20
    document_id, version_id, blob_id, count = _upload(key, payload)
    other = _upload(key, payload[::-1])
    assert count >= 3

    _flip(db, blob_id, 1)
    with pytest.raises(DocumentIntegrityError):
        _download(key, document_id, version_id, blob_id, count)
    _flip(db, blob_id, 1)  # flipped back
    assert _download(key, document_id, version_id, blob_id, count) == payload

    # A chunk moved within the document: swap rows 0 and 1.
    db.execute(update(T).where(T.c.blob_id == blob_id, T.c.idx == 0).values(idx=-1))
    db.execute(update(T).where(T.c.blob_id == blob_id, T.c.idx == 1).values(idx=0))
    db.execute(update(T).where(T.c.blob_id == blob_id, T.c.idx == -1).values(idx=1))
    with pytest.raises(DocumentIntegrityError):
        _download(key, document_id, version_id, blob_id, count)

    # A chunk of another document (same data key) put in its place.
    foreign = db.scalar(select(T.c.data).where(T.c.blob_id == other[2], T.c.idx == 0))
    db.execute(update(T).where(T.c.blob_id == blob_id).values(data=foreign))
    with pytest.raises(DocumentIntegrityError):
        _download(key, document_id, version_id, blob_id, count)

    # The other document's rows relabelled as this blob: right data key, wrong document and version.
    with pytest.raises(DocumentIntegrityError):
        _download(key, document_id, version_id, other[2], other[3])


def test_truncated_or_extended_in_the_store_is_refused(key, db):
    payload = SECRET * 20
    document_id, version_id, blob_id, count = _upload(key, payload)
    last = db.scalar(select(T.c.data).where(T.c.blob_id == blob_id, T.c.idx == count - 1))
    db.execute(T.delete().where(T.c.blob_id == blob_id, T.c.idx == count - 1))
    with pytest.raises(BlobMissingError):
        _download(key, document_id, version_id, blob_id, count)
    with pytest.raises(DocumentIntegrityError):  # the recorded count lowered to match the rows
        _download(key, document_id, version_id, blob_id, count - 1)
    db.execute(T.insert().values(blob_id=blob_id, idx=count - 1, data=last))
    db.execute(T.insert().values(blob_id=blob_id, idx=count, data=last))
    with pytest.raises(DocumentIntegrityError):  # the recorded count raised to take in an extra row
        _download(key, document_id, version_id, blob_id, count + 1)
    assert _download(key, document_id, version_id, blob_id, count) == payload


def test_crypto_shredding(key, db):
    payload = SECRET * 30
    document_id, version_id, blob_id, count = _upload(key, payload)
    assert _download(key, document_id, version_id, blob_id, count) == payload
    destroy_data_key(key)
    db.expire_all()
    with pytest.raises(KeyDestroyedError):
        _download(key, document_id, version_id, blob_id, count)
    # What is left in the rows is ciphertext only (the document service deletes the rows with the case).
    rows = _rows(db, blob_id)
    assert len(rows) == count
    assert not any(SECRET[:10] in data or b"9819" in data for _, data in rows)
    blob_store().delete(blob_id)
    assert _count(db, blob_id) == 0


def test_a_20_mb_file_streams_in_flat_memory(key, db):
    """20 MB up and down through encrypt_stream, the database store and decrypt_stream: the peak of
    Python memory stays at a few chunks, far below the file."""
    size = 20 * 1024 * 1024 + 12_345
    store = blob_store()

    def source():
        produced = 0
        block = hashlib.sha256(b"seed").digest() * (CHUNK_SIZE // 32)
        while produced < size:
            n = min(CHUNK_SIZE, size - produced)
            yield block[:n] if n < CHUNK_SIZE else block
            produced += n

    expected = hashlib.sha256()
    for chunk in source():
        expected.update(chunk)
    document_id, version_id, blob_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    store.put(uuid.uuid4(), [b"warm-up"])  # compile the statements outside the measurement

    tracemalloc.start()
    try:
        stream = encrypt_stream(key, document_id=document_id, version_id=version_id, chunks=source())
        count = store.put(blob_id, stream)
        _, upload_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        got = hashlib.sha256()
        received = 0
        for chunk in decrypt_stream(key, document_id=document_id, version_id=version_id, chunk_count=count,
                                    ciphertexts=store.get(blob_id, count)):
            got.update(chunk)
            received += len(chunk)
        _, download_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == -(-size // CHUNK_SIZE) and received == size and got.digest() == expected.digest()
    assert stream.size == size
    limit = 6 * 1024 * 1024
    assert upload_peak < limit, f"upload peak {upload_peak / 2**20:.1f} MiB"
    assert download_peak < limit, f"download peak {download_peak / 2**20:.1f} MiB"
