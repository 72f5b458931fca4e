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
