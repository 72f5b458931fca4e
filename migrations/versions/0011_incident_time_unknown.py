"""incident time unknown: an imported date without a time is flagged, never read as midnight

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 13:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN (SQLite supports it with a default): a batch copy of incident_report would rebuild
    # the table and, with its self-referencing foreign key, take minutes on a filled database.
    op.add_column('incident_report', sa.Column('time_unknown', sa.Boolean(), server_default=sa.false(),
                                               nullable=False))


def downgrade():
    with op.batch_alter_table('incident_report', schema=None) as batch_op:
        batch_op.drop_column('time_unknown')
