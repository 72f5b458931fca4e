"""Documents: uploading and downloading a 20 MB file encrypted in chunks, next to the same bytes unencrypted.

    .venv/bin/python -m bench.documents [--megabytes 20] [--rounds 5] [--database-url URL]

Runs against a throw-away SQLite database and key file in a temporary directory, or an EMPTY scratch
PostgreSQL database given by --database-url (or LOTS_BENCH_DATABASE_URL), which is wiped afterwards.

- upload: the file's chunks (256 KiB) through ``encrypt_stream`` (AES-256-GCM per chunk and the content
  MAC) into ``DatabaseBlobStore.put``, then a commit; the baseline puts the same plaintext chunks into
  the same table through the same store, also committed;
- download: ``DatabaseBlobStore.get`` through ``decrypt_stream``; the baseline reads the plaintext rows.

Prints MB/s of each (median of --rounds, alternating encrypted and plain), the ratio (target >= 50 %),
and the peak of Python memory (tracemalloc) over one encrypted upload and download, which must stay
flat: a few chunks, far below the file.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path

from bench import bench_app, claim_database, release_database

RATIO_TARGET = 0.50
#: The peak of Python memory over an upload and a download must stay below this share of the file.
FLAT_SHARE = 0.15


def _chunks(payload: bytes, size: int):
    for start in range(0, len(payload), size):
        yield payload[start:start + size]


def _mbps(size: int, seconds: float) -> float:
    return size / seconds / 1e6


def run(db, megabytes: int, rounds: int) -> bool:
    from app.documents.crypto import CHUNK_SIZE, decrypt_stream, encrypt_stream
    from app.documents.storage import DatabaseBlobStore
    from app.security.crypto import new_data_key

    store = DatabaseBlobStore()
    size = megabytes * 1024 * 1024
    payload = os.urandom(size)  # a PDF-sized payload; random bytes compress as little as a PDF's streams
    digest = hashlib.sha256(payload).digest()
    key = new_data_key("participant")
    db.session.add(key)
    db.session.commit()

    def upload_encrypted():
        document_id, version_id, blob_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        stream = encrypt_stream(key, document_id=document_id, version_id=version_id,
                                chunks=_chunks(payload, CHUNK_SIZE))
        count = store.put(blob_id, stream)
        db.session.commit()
        assert stream.size == size and len(stream.content_mac) == 64
        return document_id, version_id, blob_id, count

    def download_encrypted(document_id, version_id, blob_id, count, check=False):
        got = hashlib.sha256() if check else None
        received = 0
        for chunk in decrypt_stream(key, document_id=document_id, version_id=version_id, chunk_count=count,
                                    ciphertexts=store.get(blob_id, count)):
            received += len(chunk)
            if got is not None:
                got.update(chunk)
        db.session.commit()
        assert received == size and (got is None or got.digest() == digest)

    def upload_plain():
        blob_id = uuid.uuid4()
        count = store.put(blob_id, _chunks(payload, CHUNK_SIZE))
        db.session.commit()
        return blob_id, count

    def download_plain(blob_id, count):
        received = sum(len(chunk) for chunk in store.get(blob_id, count))
        db.session.commit()
        assert received == size

    def timed(fn, *args):
        t0 = time.perf_counter()
        result = fn(*args)
        return time.perf_counter() - t0, result

    # Warm-up (statements compiled, the key unwrapped, the file system's cache primed), and a checked read.
    ids = upload_encrypted()
    download_encrypted(*ids, check=True)
    plain = upload_plain()
    download_plain(*plain)
    store.delete_many([ids[2], plain[0]])
    db.session.commit()

    up_enc, down_enc, up_plain, down_plain = [], [], [], []
    for _ in range(rounds):
        seconds, ids = timed(upload_encrypted)
        up_enc.append(seconds)
        down_enc.append(timed(download_encrypted, *ids)[0])
        seconds, plain = timed(upload_plain)
        up_plain.append(seconds)
        down_plain.append(timed(download_plain, *plain)[0])
        store.delete_many([ids[2], plain[0]])
        db.session.commit()

    tracemalloc.start()
    try:
        ids = upload_encrypted()
        _, upload_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        download_encrypted(*ids)
        _, download_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    store.delete(ids[2])
    db.session.commit()

    print(f"A {megabytes} MB file in {CHUNK_SIZE // 1024} KiB chunks ({-(-size // CHUNK_SIZE)} rows), "
          f"median of {rounds} rounds")
    ok = True
    for label, enc, base in (("upload", up_enc, up_plain), ("download", down_enc, down_plain)):
        enc_rate, base_rate = _mbps(size, statistics.median(enc)), _mbps(size, statistics.median(base))
        ratio = enc_rate / base_rate
        met = ratio >= RATIO_TARGET
        ok = ok and met
        print(f"  {label:8}  encrypted {enc_rate:7.1f} MB/s   unencrypted baseline {base_rate:7.1f} MB/s   "
              f"ratio {ratio:6.1%}   target >= {RATIO_TARGET:.0%}: {'met' if met else 'MISSED'}")
    limit = size * FLAT_SHARE
    flat = upload_peak < limit and download_peak < limit
    ok = ok and flat
    print(f"  peak Python memory (tracemalloc): upload {upload_peak / 2**20:.1f} MiB, "
          f"download {download_peak / 2**20:.1f} MiB, for a {size / 2**20:.0f} MiB file   "
          f"target flat (< {FLAT_SHARE:.0%} of the file): {'met' if flat else 'MISSED'}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.documents", description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=20, help="size of the file (MiB)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", default=os.environ.get("LOTS_BENCH_DATABASE_URL"),
                        help="an EMPTY scratch PostgreSQL database, wiped afterwards; default: temporary SQLite")
    args = parser.parse_args(argv)

    from app.db import db

    with tempfile.TemporaryDirectory(prefix="lots-bench-") as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        app = bench_app(url, Path(tmp))
        with app.app_context():
            if not claim_database(db):
                return 2
            try:
                print(f"Database: {db.engine.dialect.name}")
                ok = run(db, args.megabytes, args.rounds)
            finally:
                release_database(db)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
