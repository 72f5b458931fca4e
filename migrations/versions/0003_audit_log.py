"""audit log: chained events, chain head, append-only triggers

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 16:00:00

Hand-written. The events table has no update or delete path in the code; the
triggers below make the database refuse both as well (on PostgreSQL and on
SQLite), and refuse deleting the chain head or moving it backwards. The HMAC
chain, not the triggers, is what detects tampering by someone who can bypass
them (a superuser, a restored backup).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

GENESIS_HMAC = "0" * 64

PG_FUNCTIONS = [
    """
    CREATE FUNCTION lots_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
    END;
    $$
    """,
    """
    CREATE FUNCTION lots_audit_head_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'audit_head cannot be deleted';
        END IF;
        IF NEW.id <> OLD.id OR NEW.seq < OLD.seq THEN
            RAISE EXCEPTION 'audit_head can only move forward';
        END IF;
        RETURN NEW;
    END;
    $$
    """,
]
PG_TRIGGERS = [
    "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
    "FOR EACH ROW EXECUTE FUNCTION lots_audit_append_only()",
    "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
    "FOR EACH STATEMENT EXECUTE FUNCTION lots_audit_append_only()",
    "CREATE TRIGGER audit_head_forward_only BEFORE UPDATE OR DELETE ON audit_head "
    "FOR EACH ROW EXECUTE FUNCTION lots_audit_head_forward_only()",
    "CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head "
    "FOR EACH STATEMENT EXECUTE FUNCTION lots_audit_append_only()",
]
SQLITE_TRIGGERS = [
    "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: UPDATE refused'); END",
    "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: DELETE refused'); END",
    "CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head "
    "BEGIN SELECT RAISE(ABORT, 'audit_head cannot be deleted'); END",
    "CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head "
    "WHEN NEW.id <> OLD.id OR NEW.seq < OLD.seq "
    "BEGIN SELECT RAISE(ABORT, 'audit_head can only move forward'); END",
]


def upgrade():
    op.create_table('audit_event',
    sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('actor_agency_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('object_type', sa.String(length=32), nullable=True),
    sa.Column('object_id', sa.String(length=64), nullable=True),
    sa.Column('field_sets', sa.String(length=500), server_default='', nullable=False),
    sa.Column('permission', sa.String(length=64), nullable=True),
    sa.Column('purpose', sa.Text(), nullable=True),
    sa.Column('rule', sa.String(length=200), nullable=True),
    sa.Column('outcome', sa.Enum('allowed', 'denied', 'failed', name='audit_outcome', native_enum=False, length=16), server_default='allowed', nullable=False),
    sa.Column('detail', sa.String(length=300), nullable=True),
    sa.Column('prev_hmac', sa.String(length=64), nullable=False),
    sa.Column('hmac', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    op.create_index('ix_audit_event_action', 'audit_event', ['action'], unique=False)
    op.create_index('ix_audit_event_actor_agency_id', 'audit_event', ['actor_agency_id'], unique=False)
    op.create_index('ix_audit_event_actor_user_id', 'audit_event', ['actor_user_id'], unique=False)
    op.create_index('ix_audit_event_object', 'audit_event', ['object_id', 'object_type'], unique=False)
    op.create_index('ix_audit_event_occurred_at', 'audit_event', ['occurred_at'], unique=False)

    op.create_table('audit_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('last_hmac', sa.String(length=64), server_default=GENESIS_HMAC, nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_audit_head_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head'))
    )
    # The one chain-head row every writer locks; the chain starts empty.
    op.execute(sa.text("INSERT INTO audit_head (id, seq, last_hmac) VALUES (1, 0, :genesis)").bindparams(genesis=GENESIS_HMAC))

    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        for statement in PG_FUNCTIONS + PG_TRIGGERS:
            op.execute(statement)
    elif dialect == 'sqlite':
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        op.execute("DROP TRIGGER IF EXISTS audit_head_no_truncate ON audit_head")
        op.execute("DROP TRIGGER IF EXISTS audit_head_forward_only ON audit_head")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event")
        op.execute("DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS lots_audit_head_forward_only()")
        op.execute("DROP FUNCTION IF EXISTS lots_audit_append_only()")
    # Dropping a table drops its indexes and (on SQLite) its triggers.
    op.drop_table('audit_head')
    op.drop_table('audit_event')
