"""processes, milestones, meetings (incl. EST), action items, interventions, yearly documents, digest log

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 18:58:07.474740

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('digest_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('sent_on', sa.Date(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('item_keys', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_digest_log_user_id_app_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_digest_log')),
    sa.UniqueConstraint('user_id', 'sent_on', name='uq_digest_log_user_day')
    )
    with op.batch_alter_table('digest_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_digest_log_user_id'), ['user_id'], unique=False)

    op.create_table('process',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('type', sa.Enum('est_area', 'sspf', 'exit_development', 'other', name='processtype', native_enum=False, length=32), nullable=False),
    sa.Column('status', sa.Enum('planned', 'active', 'paused', 'completed', 'cancelled', name='processstatus', native_enum=False, length=32), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('owner_agency_id', sa.Integer(), nullable=True),
    sa.Column('goal', sa.Text(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['owner_agency_id'], ['agency.id'], name=op.f('fk_process_owner_agency_id_agency')),
    sa.ForeignKeyConstraint(['owner_id'], ['app_user.id'], name=op.f('fk_process_owner_id_app_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_process'))
    )
    with op.batch_alter_table('process', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_process_owner_id'), ['owner_id'], unique=False)

    op.create_table('yearly_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('situation', 'action_plan', name='yearlydocumentkind', native_enum=False, length=32), nullable=False),
    sa.Column('sections', sa.Text(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['updated_by_id'], ['app_user.id'], name=op.f('fk_yearly_document_updated_by_id_app_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_yearly_document')),
    sa.UniqueConstraint('year', 'kind', name='uq_yearly_document_year')
    )
    op.create_table('intervention',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('extra_patrols', 'lighting', 'field_workers', 'youth_activities', 'camera', 'cleaning', 'other', name='interventionkind', native_enum=False, length=32), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('process_id', sa.Integer(), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_intervention_agency_id_agency')),
    sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'], name=op.f('fk_intervention_created_by_id_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['process_id'], ['process.id'], name=op.f('fk_intervention_process_id_process'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intervention'))
    )
    with op.batch_alter_table('intervention', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intervention_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_intervention_process_id'), ['process_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_intervention_start_date'), ['start_date'], unique=False)

    op.create_table('meeting',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('data_key_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.Enum('process', 'est', name='meetingkind', native_enum=False, length=32), nullable=False),
    sa.Column('process_id', sa.Integer(), nullable=True),
    sa.Column('iso_year', sa.Integer(), nullable=True),
    sa.Column('iso_week', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('agenda', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('minutes_ct', sa.LargeBinary(), nullable=True),
    sa.Column('decisions_ct', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'], name=op.f('fk_meeting_created_by_id_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['data_key_id'], ['data_key.id'], name=op.f('fk_meeting_data_key_id_data_key')),
    sa.ForeignKeyConstraint(['process_id'], ['process.id'], name=op.f('fk_meeting_process_id_process'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting')),
    sa.UniqueConstraint('kind', 'iso_year', 'iso_week', name='uq_meeting_est_week')
    )
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_held_on'), ['held_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_meeting_process_id'), ['process_id'], unique=False)

    op.create_table('milestone',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('process_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('responsible_id', sa.Integer(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('planned', 'in_progress', 'done', 'cancelled', name='workstatus', native_enum=False, length=32), nullable=False),
    sa.Column('completion_note', sa.Text(), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_milestone_agency_id_agency')),
    sa.ForeignKeyConstraint(['completed_by_id'], ['app_user.id'], name=op.f('fk_milestone_completed_by_id_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['process_id'], ['process.id'], name=op.f('fk_milestone_process_id_process'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['responsible_id'], ['app_user.id'], name=op.f('fk_milestone_responsible_id_app_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_milestone'))
    )
    with op.batch_alter_table('milestone', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_milestone_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_milestone_due_date'), ['due_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_milestone_process_id'), ['process_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_milestone_status'), ['status'], unique=False)

    op.create_table('process_agency',
    sa.Column('process_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_process_agency_agency_id_agency'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['process_id'], ['process.id'], name=op.f('fk_process_agency_process_id_process'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('process_id', 'agency_id', name=op.f('pk_process_agency'))
    )
    op.create_table('process_area',
    sa.Column('process_id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['area.id'], name=op.f('fk_process_area_area_id_area'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['process_id'], ['process.id'], name=op.f('fk_process_area_process_id_process'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('process_id', 'area_id', name=op.f('pk_process_area'))
    )
    op.create_table('process_category',
    sa.Column('process_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['incident_category.id'], name=op.f('fk_process_category_category_id_incident_category'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['process_id'], ['process.id'], name=op.f('fk_process_category_process_id_process'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('process_id', 'category_id', name=op.f('pk_process_category'))
    )
    op.create_table('action_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Uuid(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('responsible_id', sa.Integer(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('planned', 'in_progress', 'done', 'cancelled', name='workstatus', native_enum=False, length=32), nullable=False),
    sa.Column('completion_note', sa.Text(), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_action_item_agency_id_agency')),
    sa.ForeignKeyConstraint(['completed_by_id'], ['app_user.id'], name=op.f('fk_action_item_completed_by_id_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_action_item_meeting_id_meeting'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['responsible_id'], ['app_user.id'], name=op.f('fk_action_item_responsible_id_app_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_item'))
    )
    with op.batch_alter_table('action_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_item_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_action_item_due_date'), ['due_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_action_item_meeting_id'), ['meeting_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_action_item_status'), ['status'], unique=False)

    op.create_table('intervention_area',
    sa.Column('intervention_id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['area.id'], name=op.f('fk_intervention_area_area_id_area'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['intervention_id'], ['intervention.id'], name=op.f('fk_intervention_area_intervention_id_intervention'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('intervention_id', 'area_id', name=op.f('pk_intervention_area'))
    )
    op.create_table('intervention_category',
    sa.Column('intervention_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['incident_category.id'], name=op.f('fk_intervention_category_category_id_incident_category'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['intervention_id'], ['intervention.id'], name=op.f('fk_intervention_category_intervention_id_intervention'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('intervention_id', 'category_id', name=op.f('pk_intervention_category'))
    )
    op.create_table('meeting_agency',
    sa.Column('meeting_id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_meeting_agency_agency_id_agency'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_meeting_agency_meeting_id_meeting'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('meeting_id', 'agency_id', name=op.f('pk_meeting_agency'))
    )
    op.create_table('milestone_dependency',
    sa.Column('milestone_id', sa.Integer(), nullable=False),
    sa.Column('depends_on_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['depends_on_id'], ['milestone.id'], name=op.f('fk_milestone_dependency_depends_on_id_milestone'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['milestone_id'], ['milestone.id'], name=op.f('fk_milestone_dependency_milestone_id_milestone'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('milestone_id', 'depends_on_id', name=op.f('pk_milestone_dependency'))
    )


def downgrade():
    op.drop_table('milestone_dependency')
    op.drop_table('meeting_agency')
    op.drop_table('intervention_category')
    op.drop_table('intervention_area')
    with op.batch_alter_table('action_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_action_item_status'))
        batch_op.drop_index(batch_op.f('ix_action_item_meeting_id'))
        batch_op.drop_index(batch_op.f('ix_action_item_due_date'))
        batch_op.drop_index(batch_op.f('ix_action_item_agency_id'))

    op.drop_table('action_item')
    op.drop_table('process_category')
    op.drop_table('process_area')
    op.drop_table('process_agency')
    with op.batch_alter_table('milestone', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_milestone_status'))
        batch_op.drop_index(batch_op.f('ix_milestone_process_id'))
        batch_op.drop_index(batch_op.f('ix_milestone_due_date'))
        batch_op.drop_index(batch_op.f('ix_milestone_agency_id'))

    op.drop_table('milestone')
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_process_id'))
        batch_op.drop_index(batch_op.f('ix_meeting_held_on'))

    op.drop_table('meeting')
    with op.batch_alter_table('intervention', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intervention_start_date'))
        batch_op.drop_index(batch_op.f('ix_intervention_process_id'))
        batch_op.drop_index(batch_op.f('ix_intervention_agency_id'))

    op.drop_table('intervention')
    op.drop_table('yearly_document')
    with op.batch_alter_table('process', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_process_owner_id'))

    op.drop_table('process')
    with op.batch_alter_table('digest_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_digest_log_user_id'))

    op.drop_table('digest_log')
