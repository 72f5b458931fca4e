"""incident place encrypted: incident_report.place (plain text) becomes place_ct (AES-256-GCM)

The place is free text written beside the description, so it is encrypted as the description is: with the
report's own (monthly) data key, bound to the row and column. Existing places are encrypted row by row with
the application's key ring (the migration runs inside `flask db upgrade`, which has the app and its
LOTS_KEY_FILE); then the plain column is dropped. The downgrade decrypts them back.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 02:16:59.800301

"""
import uuid
from types import SimpleNamespace

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

BATCH = 1000


def _field():
    from app.overview.models import IncidentReport

    return IncidentReport.__encrypted_fields__["place"]


def _uuid(value):
    """SQLite hands raw UUID columns back as 32 hex digits; PostgreSQL as UUID objects."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _data_key(session, key_id, cache):
    from app.security.crypto.models import DataKey

    if key_id not in cache:
        cache[key_id] = session.get(DataKey, key_id)
    return cache[key_id]


def upgrade():
    with op.batch_alter_table('incident_report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('place_ct', sa.LargeBinary(), nullable=True))

    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, data_key_id, place FROM incident_report WHERE place IS NOT NULL")).all()
    if rows:
        from sqlalchemy.orm import Session

        field, cache = _field(), {}
        table = sa.table("incident_report", sa.column("id", sa.Uuid()), sa.column("place_ct", sa.LargeBinary()))
        with Session(bind=bind) as session:
            for start in range(0, len(rows), BATCH):
                updates = []
                for row_id, key_id, place in rows[start:start + BATCH]:
                    row_id, key_id = _uuid(row_id), _uuid(key_id)
                    owner = SimpleNamespace(id=row_id, data_key=_data_key(session, key_id, cache))
                    updates.append({"rid": row_id, "ct": field.encrypt(owner, place.encode("utf-8"))})
                bind.execute(table.update().where(table.c.id == sa.bindparam("rid"))
                             .values(place_ct=sa.bindparam("ct")), updates)

    # Corrections kept the old and new place in the report's history: keep only that the place changed.
    import json

    revisions = sa.table("incident_report_revision", sa.column("id", sa.Integer()), sa.column("changes", sa.Text()))
    for rev_id, changes in bind.execute(sa.select(revisions.c.id, revisions.c.changes)
                                        .where(revisions.c.changes.like('%"place"%'))).all():
        data = json.loads(changes)
        if "place" in data:
            data["place"] = [None, None]
            bind.execute(revisions.update().where(revisions.c.id == rev_id)
                         .values(changes=json.dumps(data, ensure_ascii=False)))

    with op.batch_alter_table('incident_report', schema=None) as batch_op:
        batch_op.drop_column('place')


def downgrade():
    with op.batch_alter_table('incident_report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('place', sa.VARCHAR(length=200), nullable=True))

    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT id, data_key_id, place_ct FROM incident_report WHERE place_ct IS NOT NULL")).all()
    if rows:
        from sqlalchemy.orm import Session

        field, cache = _field(), {}
        table = sa.table("incident_report", sa.column("id", sa.Uuid()), sa.column("place", sa.String()))
        with Session(bind=bind) as session:
            updates = []
            for row_id, key_id, blob in rows:
                row_id, key_id = _uuid(row_id), _uuid(key_id)
                owner = SimpleNamespace(id=row_id, data_key=_data_key(session, key_id, cache))
                updates.append({"rid": row_id, "pl": field.decrypt(owner, bytes(blob)).decode("utf-8")})
            bind.execute(table.update().where(table.c.id == sa.bindparam("rid")).values(place=sa.bindparam("pl")),
                         updates)

    with op.batch_alter_table('incident_report', schema=None) as batch_op:
        batch_op.drop_column('place_ct')
