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
    with op.batch_alter_table('incident_report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('time_unknown', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('incident_report', schema=None) as batch_op:
        batch_op.drop_column('time_unknown')
