"""A dump of the whole database after `demo load` holds no participant's personal data in plain text."""

from __future__ import annotations

import pytest
from sqlalchemy import func, inspect, select, text

from app.cases.demo import DEMO_PARTICIPANTS
from app.cases.identity import normalise_personal_number
from app.cases.models import Participant
from app.demo import load_demo


@pytest.fixture()
def ctx(app, db):
    with app.app_context():
        yield


def _dump(db) -> str:
    """Every row of every table as text: iterdump on SQLite, row-to-text casts on PostgreSQL."""
    connection = db.connection()
    if connection.dialect.name == "sqlite":
        return "\n".join(connection.connection.driver_connection.iterdump())
    lines = []
    for table in inspect(connection).get_table_names():
        lines += db.execute(text(f'SELECT t::text FROM "{table}" t')).scalars()
    return "\n".join(lines)


def _secrets() -> list[str]:
    values = []
    for person in DEMO_PARTICIPANTS:
        number = normalise_personal_number(person["personal_number"])
        values += [
            person["first_name"], person["last_name"], f'{person["first_name"]} {person["last_name"]}',
            person["personal_number"], number, f"{number[2:8]}-{number[8:]}", person["phone"],
            person["phone"].replace(" ", "").replace("-", ""), person["email"], person["street_address"],
            f'{person["street_address"]}, {person["postal_code"]}',
        ]
    return values


def test_database_dump_after_demo_load_holds_no_participant_data_in_plain_text(ctx, db):
    load_demo(incidents=False)
    assert db.scalar(select(func.count()).select_from(Participant)) == len(DEMO_PARTICIPANTS)
    dump = _dump(db)
    assert "participant" in dump and len(dump) > 1000
    lowered = dump.lower()
    for secret in _secrets():
        assert secret.lower() not in lowered, "a demo participant's data is in the dump in plain text"
        assert secret.encode().hex() not in lowered, "a demo participant's data is in the dump, hex-encoded"


def test_demo_load_is_idempotent_and_its_participants_are_readable(ctx, db):
    load_demo(incidents=False)
    load_demo(incidents=False)
    people = db.scalars(select(Participant)).all()
    assert len(people) == len(DEMO_PARTICIPANTS)
    assert sorted(p.last_name for p in people) == sorted(p["last_name"] for p in DEMO_PARTICIPANTS)
