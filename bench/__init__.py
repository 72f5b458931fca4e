"""Benchmarks (not timed tests). `python -m bench` runs every module here; `python -m bench.<name>` runs one."""


def release_database(db) -> None:
    """End a benchmark run: roll back, close, wipe a PostgreSQL scratch database (it must be empty next time)."""
    from sqlalchemy import text

    db.session.rollback()
    db.session.close()
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    db.engine.dispose()


def bench_app(url: str, tmp):
    """The application a benchmark measures: test configuration, rate limits off, keys in ``tmp``."""
    from app import create_app

    return create_app({"ENV": "test", "SQLALCHEMY_DATABASE_URI": url, "LOTS_KEY_FILE": str(tmp / "master-keys.json"),
                       "RATELIMIT_STORAGE_URI": "memory://", "RATELIMIT_ENABLED": False})


def claim_database(db) -> bool:
    """Migrate the scratch database, refusing one that is not empty (it is wiped afterwards)."""
    import sys

    from flask_migrate import upgrade
    from sqlalchemy import inspect

    if inspect(db.engine).get_table_names():
        print("The benchmark database must be empty: it is wiped afterwards.", file=sys.stderr)
        return False
    upgrade()
    return True
