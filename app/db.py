"""Declarative base, naming convention and shared mixins."""

from __future__ import annotations

import enum
from typing import Callable
from datetime import datetime, timezone

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, Enum, MetaData, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


def utcnow() -> datetime:
    """Timezone-aware current time in UTC; stored as UTC everywhere."""
    return datetime.now(timezone.utc)


def as_utc(value: datetime) -> datetime:
    """A stored time as an aware UTC datetime (SQLite hands timestamps back naive, in UTC)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow, server_default=func.now()
    )


def enum_values(enum_cls: type[enum.Enum]) -> list[str]:
    """Store enums by value, not by name."""
    return [member.value for member in enum_cls]


def enum_column(enum_cls: type[enum.Enum], length: int = 32) -> Enum:
    """An enum column stored by value as a plain string (no native type, no CHECK constraint)."""
    return Enum(enum_cls, values_callable=enum_values, native_enum=False, length=length,
                validate_strings=True, create_constraint=False)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Let SQLAlchemy, not pysqlite, issue BEGIN so savepoints and locking behave.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    # WAL: readers do not wait for the writer (several workers on one file).
    if _is_file_database(dbapi_connection):
        cursor.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL never corrupts the file; a power cut may lose the last commits.
        # SQLite is the embedded default for trying Lots out; production runs on PostgreSQL.
        cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _is_file_database(dbapi_connection) -> bool:
    row = dbapi_connection.execute("PRAGMA database_list").fetchone()
    return bool(row and row[2])


def _sqlite_begin(conn) -> None:
    # IMMEDIATE: take the write lock at the start. Almost every request writes (at least its
    # audit event) after reading; two deferred transactions upgrading at once would make
    # SQLite fail one of them at once ("database is locked") instead of waiting.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def configure_engine(engine) -> None:
    """Engine-level settings that depend on the database dialect."""
    from sqlalchemy import event

    if engine.dialect.name == "sqlite":
        private_sqlite_file(engine.url.database)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)


def private_sqlite_file(path: str | None) -> None:
    """Create the SQLite file readable by its owner only (0600), or narrow an existing one.

    SQLite gives its -wal and -shm files the mode of the database file, so they are 0600 too; the personal
    data in them is encrypted, but the audit log, the case codes and the user accounts are not.
    """
    import os
    import stat

    if not path or path == ":memory:" or path.startswith("file:"):
        return
    if not os.path.exists(path) and os.path.isdir(os.path.dirname(os.path.abspath(path))):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for name in (path, path + "-wal", path + "-shm", path + "-journal"):
        if os.path.exists(name) and stat.S_IMODE(os.stat(name).st_mode) & 0o077:
            os.chmod(name, 0o600)


def flush_in_savepoint(apply: Callable[[], object], conflict: Callable[[], Exception],
                       errors: tuple[type[Exception], ...] = ()) -> None:
    """Make changes (``apply``) and flush them inside a savepoint (optimistic locking).

    A concurrent writer's newer version (StaleDataError, plus ``errors``) undoes the
    changes and raises ``conflict()`` instead: a 409 for the user, never a 500. The
    changes must be made inside the savepoint, because begin_nested() first flushes
    what is pending, outside it, where a StaleDataError would spoil the session.
    """
    from sqlalchemy.orm.exc import StaleDataError

    savepoint = db.session.begin_nested()
    try:
        apply()
        db.session.flush()
    except (StaleDataError, *errors):
        savepoint.rollback()
        raise conflict() from None
    savepoint.commit()
