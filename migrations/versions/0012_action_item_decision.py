"""action item decision: the decision of its meeting an action item was recorded as

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 15:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    # The decision's text stays in the meeting's encrypted decisions; the item holds only its number there.
    op.add_column('action_item', sa.Column('decision_no', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('action_item', schema=None) as batch_op:
        batch_op.drop_column('decision_no')
