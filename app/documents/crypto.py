"""Streaming, chunked AES-256-GCM encryption of a document's bytes with the participant's data key.

A file is cut into chunks of ``chunk_size`` bytes (``CHUNK_SIZE``, 256 KiB, unless the caller says
otherwise; the last chunk may be shorter, never empty). Each chunk is stored as::

    nonce (12 random bytes) | AES-256-GCM(chunk) | tag (16 bytes)

and its associated data binds it to its place::

    b"lots-document-v1" | 0x00 | document id (16 bytes) | version id (16 bytes)
    | chunk index (8 bytes, big-endian) | 0x01 if it is the last chunk else 0x00

so a chunk altered, moved within a file, swapped with one of another document or version, dropped
from the end (truncation) or added after the last one fails to authenticate. The total count is
not known while streaming: ``encrypt_stream`` reads one chunk ahead to know which one is last.

``decrypt_stream`` authenticates every chunk before it yields its plaintext, and reads one
ciphertext ahead, so a stream with fewer or more chunks than ``chunk_count`` is refused before the
plaintext of the chunk it concerns is yielded. Plaintext of earlier, authentic chunks may already
have been yielded when a later chunk fails: a caller that must not act on a partial file (a
preview renderer, say) runs ``verify_stream`` first or buffers to a temporary file.

A destroyed data key (crypto-shredding) raises the crypto layer's ``KeyDestroyedError`` when the
stream is created, before anything is read; there is no other key to fall back on. Errors never
carry plaintext, key material or ciphertext.

``content_mac`` is an HMAC-SHA256 of the plaintext under a key derived from the data key
(``DataKey.derive_key(b"lots-document-mac-v1")``, HKDF-SHA256 of the unwrapped data key): equal
files in one case have equal MACs, the same file in two cases (two data keys) does not, and the MAC
dies with the data key. ``encrypt_stream`` computes it on the way too (``EncryptedStream.content_mac``).
"""

from __future__ import annotations

import hmac
import os
import uuid
from hashlib import sha256
from typing import BinaryIO, Iterable, Iterator

from app.security.crypto.errors import CryptoError
from app.security.crypto.models import DataKey

#: Plaintext bytes per chunk (the last chunk of a file may be shorter).
CHUNK_SIZE = 256 * 1024
DOMAIN = b"lots-document-v1"
MAC_INFO = b"lots-document-mac-v1"
NONCE_SIZE = 12
TAG_SIZE = 16
#: Bytes a chunk grows by when encrypted.
OVERHEAD = NONCE_SIZE + TAG_SIZE


class DocumentIntegrityError(CryptoError, ValueError):
    """A stored document is altered, truncated, extended, reordered or belongs to another document,
    version or data key. The message names only the chunk's position, never its content."""


def chunk_aad(document_id: uuid.UUID, version_id: uuid.UUID, index: int, last: bool) -> bytes:
    """The associated data of one chunk (see the module docstring)."""
    return b"".join((DOMAIN, b"\x00", document_id.bytes, version_id.bytes, index.to_bytes(8, "big"),
                     b"\x01" if last else b"\x00"))


def read_chunks(fileobj: BinaryIO, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """Read a file object in chunks of exactly ``chunk_size`` bytes (the last may be shorter)."""
    _check_chunk_size(chunk_size)
    while True:
        chunk = fileobj.read(chunk_size)
        if not chunk:
            return
        while len(chunk) < chunk_size:  # a pipe or socket may return less than asked before the end
            more = fileobj.read(chunk_size - len(chunk))
            if not more:
                break
            chunk += more
        yield chunk
        if len(chunk) < chunk_size:
            return


def rechunk(pieces: Iterable[bytes], chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """Pieces of any sizes as chunks of exactly ``chunk_size`` bytes (the last may be shorter).

    Pieces that already have the right size pass through without a copy.
    """
    _check_chunk_size(chunk_size)
    buffer = bytearray()
    for piece in pieces:
        if not buffer and len(piece) == chunk_size:
            yield bytes(piece)
            continue
        buffer += piece
        while len(buffer) >= chunk_size:
            yield bytes(buffer[:chunk_size])
            del buffer[:chunk_size]
    if buffer:
        yield bytes(buffer)


def _check_chunk_size(chunk_size: int) -> None:
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError("chunk_size must be a positive number of bytes")


class EncryptedStream:
    """The ciphertext chunks of one file, one per plaintext chunk, made as they are read.

    Iterate it once (e.g. ``blob_store().put(blob_id, stream)``); afterwards ``chunk_count``,
    ``size`` (plaintext bytes) and ``content_mac`` describe what was encrypted. An empty input
    raises ValueError (an empty file is refused before it gets here).
    """

    def __init__(self, data_key: DataKey, *, document_id: uuid.UUID, version_id: uuid.UUID,
                 chunks: Iterable[bytes], chunk_size: int = CHUNK_SIZE):
        _check_chunk_size(chunk_size)
        self._aead = data_key.aead()  # KeyDestroyedError now, before anything is read
        self._mac = hmac.new(data_key.derive_key(MAC_INFO), digestmod=sha256)
        self.document_id = document_id
        self.version_id = version_id
        self.chunk_size = chunk_size
        self._chunks = rechunk(chunks, chunk_size)
        self._started = False
        self._done = False
        self.chunk_count = 0
        self.size = 0

    def __iter__(self) -> Iterator[bytes]:
        if self._started:
            raise RuntimeError("an EncryptedStream can be iterated only once")
        self._started = True
        return self._generate()

    def _generate(self) -> Iterator[bytes]:
        aead, mac, document_id, version_id = self._aead, self._mac, self.document_id, self.version_id
        chunks = self._chunks
        current = next(chunks, None)
        if current is None:
            raise ValueError("an empty file cannot be stored")
        index = 0
        while current is not None:
            following = next(chunks, None)  # one ahead: is this the last chunk?
            mac.update(current)
            nonce = os.urandom(NONCE_SIZE)
            sealed = nonce + aead.encrypt(nonce, current, chunk_aad(document_id, version_id, index,
                                                                    following is None))
            self.size += len(current)
            index += 1
            self.chunk_count = index
            current = following
            yield sealed
        self._done = True

    @property
    def content_mac(self) -> str:
        """The content MAC of the whole file (hex); only once every chunk was encrypted."""
        if not self._done:
            raise RuntimeError("the content MAC is known only after the whole stream was read")
        return self._mac.hexdigest()


def encrypt_stream(data_key: DataKey, *, document_id: uuid.UUID, version_id: uuid.UUID,
                   chunks: Iterable[bytes], chunk_size: int = CHUNK_SIZE) -> EncryptedStream:
    """Encrypt plaintext chunks into one ciphertext per chunk (an iterator; see EncryptedStream)."""
    return EncryptedStream(data_key, document_id=document_id, version_id=version_id, chunks=chunks,
                           chunk_size=chunk_size)


def decrypt_stream(data_key: DataKey, *, document_id: uuid.UUID, version_id: uuid.UUID, chunk_count: int,
                   ciphertexts: Iterable[bytes]) -> Iterator[bytes]:
    """The plaintext chunks of a stored file, each authenticated before it is yielded.

    Raises KeyDestroyedError at once if the data key was destroyed, and DocumentIntegrityError
    (while iterating) for any chunk that fails, and for a stream with fewer or more chunks than
    ``chunk_count``.
    """
    if not isinstance(chunk_count, int) or chunk_count < 1:
        raise DocumentIntegrityError("the stored chunk count is not a positive number")
    aead = data_key.aead()  # KeyDestroyedError now; no fallback to any other key
    return _decrypt(aead, document_id, version_id, chunk_count, iter(ciphertexts))


def _decrypt(aead, document_id, version_id, chunk_count, ciphertexts) -> Iterator[bytes]:
    from cryptography.exceptions import InvalidTag

    current = next(ciphertexts, None)
    if current is None:
        raise DocumentIntegrityError(f"the file has no stored chunk (expected {chunk_count})")
    last_index = chunk_count - 1
    for index in range(chunk_count):
        following = next(ciphertexts, None)
        if index < last_index and following is None:
            raise DocumentIntegrityError(f"the file is truncated: {index + 1} of {chunk_count} chunks are stored")
        if index == last_index and following is not None:
            raise DocumentIntegrityError(f"the file has more than its {chunk_count} chunks")
        view = memoryview(current)
        if len(view) <= OVERHEAD:
            raise DocumentIntegrityError(f"chunk {index} of the file is too short")
        try:
            plain = aead.decrypt(view[:NONCE_SIZE], view[NONCE_SIZE:],
                                 chunk_aad(document_id, version_id, index, index == last_index))
        except InvalidTag:
            raise DocumentIntegrityError(
                f"chunk {index} of {chunk_count} failed authentication (altered, moved, or from another "
                "document, version or data key)") from None
        current = following
        yield plain


def verify_stream(data_key: DataKey, *, document_id: uuid.UUID, version_id: uuid.UUID, chunk_count: int,
                  ciphertexts: Iterable[bytes]) -> int:
    """Authenticate a whole stored file without keeping its plaintext; returns its size in bytes."""
    return sum(len(chunk) for chunk in decrypt_stream(
        data_key, document_id=document_id, version_id=version_id, chunk_count=chunk_count,
        ciphertexts=ciphertexts))


def content_mac(data_key: DataKey, chunks: Iterable[bytes]) -> str:
    """HMAC-SHA256 (hex) of a file's plaintext under the data key's document MAC key.

    For finding a duplicate upload in the same case without a plain content hash, which would
    identify the same file anywhere. The chunking does not matter, only the bytes.
    """
    mac = hmac.new(data_key.derive_key(MAC_INFO), digestmod=sha256)
    for chunk in chunks:
        mac.update(chunk)
    return mac.hexdigest()
