"""case incident links: a coordinator links incident reports about a participant's safety to the case

One row per (case, incident report); deleting either deletes the link. Only
the case module reads this table, never the weekly overview.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 17:20:07.844422

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('case_incident',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('incident_id', sa.Uuid(), nullable=False),
    sa.Column('linked_by_id', sa.Integer(), nullable=True),
    sa.Column('linked_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['exit_case.id'], name=op.f('fk_case_incident_case_id_exit_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['incident_id'], ['incident_report.id'], name=op.f('fk_case_incident_incident_id_incident_report'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['linked_by_id'], ['app_user.id'], name=op.f('fk_case_incident_linked_by_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_incident')),
    sa.UniqueConstraint('case_id', 'incident_id', name=op.f('uq_case_incident_case_id'))
    )
    with op.batch_alter_table('case_incident', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_incident_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_incident_incident_id'), ['incident_id'], unique=False)


def downgrade():
    with op.batch_alter_table('case_incident', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_incident_incident_id'))
        batch_op.drop_index(batch_op.f('ix_case_incident_case_id'))

    op.drop_table('case_incident')
