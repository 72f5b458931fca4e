"""The embedded SQLite database and its -wal/-shm files are readable by their owner only (pentest finding 7)."""

import os
import stat

import pytest
from sqlalchemy import text


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.engine_independent
def test_the_sqlite_file_and_its_wal_and_shm_files_are_0600(tmp_path):
    from app import create_app
    from app.extensions import db

    path = tmp_path / "lots.db"
    old_umask = os.umask(0o022)  # what a shell usually has: new files 0644
    try:
        app = create_app({"ENV": "test", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
                          "LOTS_KEY_FILE": str(tmp_path / "keys.json")})
        with app.app_context():
            with db.engine.begin() as conn:
                conn.execute(text("CREATE TABLE t (x INTEGER)"))
                conn.execute(text("INSERT INTO t VALUES (1)"))
            files = [p for p in (path, tmp_path / "lots.db-wal", tmp_path / "lots.db-shm") if p.exists()]
            assert len(files) == 3, files  # WAL mode: both side files exist while connected
            assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
            db.engine.dispose()
    finally:
        os.umask(old_umask)


@pytest.mark.engine_independent
def test_an_existing_world_readable_database_is_narrowed(tmp_path):
    from app.db import private_sqlite_file

    path = tmp_path / "old.db"
    path.write_bytes(b"")
    os.chmod(path, 0o644)
    private_sqlite_file(str(path))
    assert _mode(path) == 0o600
