"""Where the encrypted chunks of a document version are kept: one small interface, ``BlobStore``.

The store only ever sees ciphertext (app/documents/crypto.py encrypts in the application); it
knows nothing of documents, cases or keys. A blob is named by ``DocumentVersion.blob_id`` and is a
sequence of chunks ``0 .. count-1``; the version records the count.

``DatabaseBlobStore`` (the default, ``LOTS_DOCUMENT_STORE = "database"``) keeps each chunk in a
``document_blob_chunk`` row (bytea on PostgreSQL, BLOB on SQLite) in the current session's
transaction, so an upload that fails leaves nothing behind, backups hold the files with the rest of
the case, and erasing a case deletes its chunks in the same commit that destroys its data key.
Chunks are inserted as they come (a few at a time) and read a few at a time, so memory stays flat
whatever the size of the file.

What would change for S3-compatible object storage (an ``ObjectBlobStore`` behind the same interface):

- ``put``: a multipart upload of the encrypted chunks, either one object per version (each part a
  few chunks; parts must be at least 5 MiB except the last) or one object per chunk
  (``<blob_id>/<idx>``). The encryption stays in the application: the object store, its operators
  and its backups only ever see ciphertext, and the keys stay in Lots' database and key file.
- ``get``: ranged GETs (a chunk's offset follows from the chunk size: every ciphertext chunk but
  the last is ``chunk_size + 28`` bytes) or one GET per chunk object, streamed.
- ``delete`` / ``delete_many``: object deletion (DeleteObjects takes up to 1,000 keys a call).
- Transactions no longer cover the files. An upload writes objects before the version row is
  committed, and a rollback leaves them behind; erasure must delete the objects only *after* the
  commit that destroys the data key and deletes the rows (deleting first and then rolling back
  would lose files of a case that still exists). A sweeper must therefore remove orphans: objects
  whose blob id no version row names, older than the longest upload.
- Backups and retention: the database backup no longer contains the files, the bucket needs its
  own backup and versioning policy, and the erasure guarantee rests on crypto-shredding (the data
  key is gone, so old object versions and backups are unreadable) until those copies age out.
  Object versioning / object lock must not keep deleted objects longer than the retention allows.
- Configuration: endpoint, bucket and credentials (LOTS_DOCUMENT_S3_*), with a production check
  that they are set, and the bucket private with server-side encryption as a second layer.
"""

from __future__ import annotations

import uuid
from typing import Iterable, Iterator, Protocol, runtime_checkable

from flask import current_app
from sqlalchemy import and_, delete, insert, select

from app.config import ConfigError
from app.db import db
from app.documents.crypto import DocumentIntegrityError
from app.documents.models import DocumentBlobChunk

#: Stored chunks are inserted, at the latest, once this many bytes are waiting (flat memory).
INSERT_BATCH_BYTES = 1024 * 1024
#: Chunks read by one query when streaming a blob back.
READ_BATCH = 4
#: Blob ids per DELETE statement (bound-parameter limits).
DELETE_BATCH = 500

_table = DocumentBlobChunk.__table__


class BlobMissingError(DocumentIntegrityError, LookupError):
    """A stored blob lacks a chunk it should have (names the blob id and position, nothing else).

    A DocumentIntegrityError: to the reader, a missing chunk is a truncated file.
    """


@runtime_checkable
class BlobStore(Protocol):
    """Stores the encrypted chunks of document versions."""

    def put(self, blob_id: uuid.UUID, chunks: Iterable[bytes]) -> int:
        """Store the chunks of a new blob in order; returns how many there were."""

    def get(self, blob_id: uuid.UUID, count: int) -> Iterator[bytes]:
        """Stream the ``count`` chunks of a blob in order, never the whole blob in memory."""

    def delete(self, blob_id: uuid.UUID) -> None:
        """Delete a blob (nothing happens if it does not exist)."""

    def delete_many(self, blob_ids: Iterable[uuid.UUID]) -> None:
        """Delete several blobs."""


class DatabaseBlobStore:
    """Chunks as ``document_blob_chunk`` rows in the current session's transaction (``db.session``).

    Nothing is committed here: the caller commits (or rolls back) with the version row. ``get``
    runs its queries lazily, in the session current when the iterator advances: a streamed
    download must keep the app context (``flask.stream_with_context``).
    """

    def __init__(self, *, insert_batch_bytes: int = INSERT_BATCH_BYTES, read_batch: int = READ_BATCH):
        if insert_batch_bytes < 1 or read_batch < 1:
            raise ValueError("batch sizes must be positive")
        self.insert_batch_bytes = insert_batch_bytes
        self.read_batch = read_batch

    def put(self, blob_id: uuid.UUID, chunks: Iterable[bytes]) -> int:
        session = db.session
        statement = insert(_table)
        pending: list[dict] = []
        pending_bytes = 0
        count = 0
        for chunk in chunks:
            pending.append({"blob_id": blob_id, "idx": count, "data": chunk})
            pending_bytes += len(chunk)
            count += 1
            if pending_bytes >= self.insert_batch_bytes:
                session.execute(statement, pending)
                pending, pending_bytes = [], 0
        if pending:
            session.execute(statement, pending)
        return count

    def get(self, blob_id: uuid.UUID, count: int) -> Iterator[bytes]:
        if count < 0:
            raise ValueError("a chunk count cannot be negative")
        return self._get(blob_id, count)

    def _get(self, blob_id: uuid.UUID, count: int) -> Iterator[bytes]:
        batch = self.read_batch
        for start in range(0, count, batch):
            end = min(start + batch, count)
            rows = db.session.execute(
                select(_table.c.idx, _table.c.data)
                .where(and_(_table.c.blob_id == blob_id, _table.c.idx >= start, _table.c.idx < end))
                .order_by(_table.c.idx)
            ).all()
            expected = start
            for idx, data in rows:
                if idx != expected:
                    break
                expected += 1
            if expected != end:
                raise BlobMissingError(f"blob {blob_id} has no chunk {expected} (of {count})")
            for row in rows:
                yield bytes(row[1])
            del rows

    def delete(self, blob_id: uuid.UUID) -> None:
        db.session.execute(delete(_table).where(_table.c.blob_id == blob_id))

    def delete_many(self, blob_ids: Iterable[uuid.UUID]) -> None:
        batch: list[uuid.UUID] = []
        for blob_id in blob_ids:
            batch.append(blob_id)
            if len(batch) >= DELETE_BATCH:
                db.session.execute(delete(_table).where(_table.c.blob_id.in_(batch)))
                batch = []
        if batch:
            db.session.execute(delete(_table).where(_table.c.blob_id.in_(batch)))


_STORES = {"database": DatabaseBlobStore}
_instances: dict[str, BlobStore] = {}


def blob_store() -> BlobStore:
    """The blob store the configuration names (``LOTS_DOCUMENT_STORE``, default "database")."""
    name = current_app.config.get("LOTS_DOCUMENT_STORE") or "database"
    store = _instances.get(name)
    if store is None:
        factory = _STORES.get(name)
        if factory is None:
            raise ConfigError(
                f"LOTS_DOCUMENT_STORE must be one of {', '.join(sorted(_STORES))}, got {name!r}")
        store = _instances[name] = factory()
    return store
