"""exit-programme cases: case, team, transitions, consents, assessments, plan, notes, meetings, emergency access

Every *_ct column is ciphertext encrypted with the participant's data key
(see app/cases/models.py); plain columns hold only codes, phases, dates,
statuses and agencies.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 16:18:05.697856

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('exit_case',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('data_key_id', sa.Uuid(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('participant_id', sa.Uuid(), nullable=False),
    sa.Column('coordinator_id', sa.Integer(), nullable=False),
    sa.Column('phase', sa.Enum('referral', 'assessment', 'active', 'follow_up', 'closed', name='casephase', native_enum=False, length=32), nullable=False),
    sa.Column('phase_changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('referral_source', sa.Enum('police', 'probation', 'social_services', 'school', 'ngo', 'self', 'other', name='referralsource', native_enum=False, length=32), nullable=False),
    sa.Column('referred_on', sa.Date(), nullable=False),
    sa.Column('outcome', sa.Enum('completed', 'discontinued', 'transferred', 'moved', 'no_contact', 'other', name='caseoutcome', native_enum=False, length=32), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('referral_reason_ct', sa.LargeBinary(), nullable=True),
    sa.Column('closure_reason_ct', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['coordinator_id'], ['app_user.id'], name=op.f('fk_exit_case_coordinator_id_app_user')),
    sa.ForeignKeyConstraint(['data_key_id'], ['data_key.id'], name=op.f('fk_exit_case_data_key_id_data_key')),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_exit_case_participant_id_participant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exit_case')),
    sa.UniqueConstraint('code', name=op.f('uq_exit_case_code')),
    sa.UniqueConstraint('participant_id', name=op.f('uq_exit_case_participant_id'))
    )
    with op.batch_alter_table('exit_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exit_case_closed_at'), ['closed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_exit_case_coordinator_id'), ['coordinator_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_exit_case_phase'), ['phase'], unique=False)

    op.create_table('case_meeting',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('data_key_id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('agency_ids', sa.String(length=500), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('minutes_ct', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['exit_case.id'], name=op.f('fk_case_meeting_case_id_exit_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['data_key_id'], ['data_key.id'], name=op.f('fk_case_meeting_data_key_id_data_key')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['app_user.id'], name=op.f('fk_case_meeting_recorded_by_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_meeting'))
    )
    with op.batch_alter_table('case_meeting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_meeting_case_id'), ['case_id'], unique=False)

    op.create_table('case_note',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('data_key_id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('written_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('text_ct', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['app_user.id'], name=op.f('fk_case_note_author_id_app_user')),
    sa.ForeignKeyConstraint(['case_id'], ['exit_case.id'], name=op.f('fk_case_note_case_id_exit_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['data_key_id'], ['data_key.id'], name=op.f('fk_case_note_data_key_id_data_key')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_note'))
    )
    with op.batch_alter_table('case_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_note_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_note_written_at'), ['written_at'], unique=False)

    op.create_table('case_team_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=True),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('removed_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['added_by_id'], ['app_user.id'], name=op.f('fk_case_team_member_added_by_id_app_user')),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_case_team_member_agency_id_agency')),
    sa.ForeignKeyConstraint(['case_id'], ['exit_case.id'], name=op.f('fk_case_team_member_case_id_exit_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['officer_id'], ['app_user.id'], name=op.f('fk_case_team_member_officer_id_app_user')),
    sa.ForeignKeyConstraint(['removed_by_id'], ['app_user.id'], name=op.f('fk_case_team_member_removed_by_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_team_member'))
    )
    with op.batch_alter_table('case_team_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_team_member_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_team_member_case_id'), ['case_id'], unique=False)

    op.create_table('case_transition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('from_phase', sa.Enum('referral', 'assessment', 'active', 'follow_up', 'closed', name='casephase', native_enum=False, length=32), nullable=True),
    sa.Column('to_phase', sa.Enum('referral', 'assessment', 'active', 'follow_up', 'closed', name='casephase', native_enum=False, length=32), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['by_id'], ['app_user.id'], name=op.f('fk_case_transition_by_id_app_user')),
    sa.ForeignKeyConstraint(['case_id'], ['exit_case.id'], name=op.f('fk_case_transition_case_id_exit_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_transition'))
    )
    with op.batch_alter_table('case_transition', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_transition_case_id'), ['case_id'], unique=False)

    op.create_table('consent',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('data_key_id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('kinds', sa.String(length=200), nullable=False),
    sa.Column('given_on', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('method', sa.Enum('written', 'oral', 'digital', name='consentmethod', native_enum=False, length=32), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_by_id', sa.Integer(), nullable=True),
    sa.Column('documentation_ct', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_consent_agency_id_agency')),
    sa.ForeignKeyConstraint(['case_id'], ['exit_case.id'], name=op.f('fk_consent_case_id_exit_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['data_key_id'], ['data_key.id'], name=op.f('fk_consent_data_key_id_data_key')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['app_user.id'], name=op.f('fk_consent_recorded_by_id_app_user')),
    sa.ForeignKeyConstraint(['withdrawn_by_id'], ['app_user.id'], name=op.f('fk_consent_withdrawn_by_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent'))
    )
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_consent_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_consent_valid_until'), ['valid_until'], unique=False)

    op.create_table('emergency_access',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('data_key_id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reason_ct', sa.LargeBinary(), nullable=True),
    sa.Column('review_note_ct', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_emergency_access_agency_id_agency')),
    sa.ForeignKeyConstraint(['case_id'], ['exit_case.id'], name=op.f('fk_emergency_access_case_id_exit_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['data_key_id'], ['data_key.id'], name=op.f('fk_emergency_access_data_key_id_data_key')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['app_user.id'], name=op.f('fk_emergency_access_reviewed_by_id_app_user')),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_emergency_access_user_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_emergency_access'))
    )
    with op.batch_alter_table('emergency_access', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_emergency_access_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_emergency_access_reviewed_at'), ['reviewed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_emergency_access_user_id'), ['user_id'], unique=False)

    op.create_table('plan_version',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('data_key_id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('participant_agreed_on', sa.Date(), nullable=True),
    sa.Column('snapshot_ct', sa.LargeBinary(), nullable=True),
    sa.Column('changes_ct', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['approved_by_id'], ['app_user.id'], name=op.f('fk_plan_version_approved_by_id_app_user')),
    sa.ForeignKeyConstraint(['case_id'], ['exit_case.id'], name=op.f('fk_plan_version_case_id_exit_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['data_key_id'], ['data_key.id'], name=op.f('fk_plan_version_data_key_id_data_key')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_version')),
    sa.UniqueConstraint('case_id', 'number', name=op.f('uq_plan_version_case_id'))
    )
    with op.batch_alter_table('plan_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_version_case_id'), ['case_id'], unique=False)

    op.create_table('threat_assessment',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('data_key_id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('assessed_on', sa.Date(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('next_review_on', sa.Date(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('level_ct', sa.LargeBinary(), nullable=True),
    sa.Column('narrative_ct', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_threat_assessment_agency_id_agency')),
    sa.ForeignKeyConstraint(['case_id'], ['exit_case.id'], name=op.f('fk_threat_assessment_case_id_exit_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['data_key_id'], ['data_key.id'], name=op.f('fk_threat_assessment_data_key_id_data_key')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['app_user.id'], name=op.f('fk_threat_assessment_recorded_by_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_threat_assessment'))
    )
    with op.batch_alter_table('threat_assessment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_threat_assessment_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_threat_assessment_next_review_on'), ['next_review_on'], unique=False)

    op.create_table('plan_item',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('data_key_id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('part', sa.Enum('protection', 'support', name='planpart', native_enum=False, length=32), nullable=False),
    sa.Column('area', sa.Enum('housing', 'employment', 'education', 'health', 'addiction_treatment', 'therapy', 'economy_debt', 'family_network', 'leisure', 'legal', 'protected_personal_data', 'relocation', 'security_measure', 'tattoo_removal', 'mentor', 'other', name='planarea', native_enum=False, length=32), nullable=False),
    sa.Column('responsible_agency_id', sa.Integer(), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=True),
    sa.Column('start_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('planned', 'in_progress', 'done', 'cancelled', name='planitemstatus', native_enum=False, length=32), nullable=False),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('meeting_id', sa.Uuid(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('goal_ct', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['exit_case.id'], name=op.f('fk_plan_item_case_id_exit_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'], name=op.f('fk_plan_item_created_by_id_app_user')),
    sa.ForeignKeyConstraint(['data_key_id'], ['data_key.id'], name=op.f('fk_plan_item_data_key_id_data_key')),
    sa.ForeignKeyConstraint(['meeting_id'], ['case_meeting.id'], name=op.f('fk_plan_item_meeting_id_case_meeting'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['officer_id'], ['app_user.id'], name=op.f('fk_plan_item_officer_id_app_user')),
    sa.ForeignKeyConstraint(['responsible_agency_id'], ['agency.id'], name=op.f('fk_plan_item_responsible_agency_id_agency')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_item'))
    )
    with op.batch_alter_table('plan_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_item_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_item_due_on'), ['due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_item_responsible_agency_id'), ['responsible_agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_item_status'), ['status'], unique=False)

    op.create_table('plan_followup',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('data_key_id', sa.Uuid(), nullable=False),
    sa.Column('item_id', sa.Uuid(), nullable=False),
    sa.Column('written_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('author_agency_id', sa.Integer(), nullable=True),
    sa.Column('text_ct', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['author_agency_id'], ['agency.id'], name=op.f('fk_plan_followup_author_agency_id_agency')),
    sa.ForeignKeyConstraint(['author_id'], ['app_user.id'], name=op.f('fk_plan_followup_author_id_app_user')),
    sa.ForeignKeyConstraint(['data_key_id'], ['data_key.id'], name=op.f('fk_plan_followup_data_key_id_data_key')),
    sa.ForeignKeyConstraint(['item_id'], ['plan_item.id'], name=op.f('fk_plan_followup_item_id_plan_item'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_followup'))
    )
    with op.batch_alter_table('plan_followup', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_followup_item_id'), ['item_id'], unique=False)



def downgrade():
    with op.batch_alter_table('plan_followup', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_followup_item_id'))

    op.drop_table('plan_followup')
    with op.batch_alter_table('plan_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_item_status'))
        batch_op.drop_index(batch_op.f('ix_plan_item_responsible_agency_id'))
        batch_op.drop_index(batch_op.f('ix_plan_item_due_on'))
        batch_op.drop_index(batch_op.f('ix_plan_item_case_id'))

    op.drop_table('plan_item')
    with op.batch_alter_table('threat_assessment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_threat_assessment_next_review_on'))
        batch_op.drop_index(batch_op.f('ix_threat_assessment_case_id'))

    op.drop_table('threat_assessment')
    with op.batch_alter_table('plan_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_version_case_id'))

    op.drop_table('plan_version')
    with op.batch_alter_table('emergency_access', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_emergency_access_user_id'))
        batch_op.drop_index(batch_op.f('ix_emergency_access_reviewed_at'))
        batch_op.drop_index(batch_op.f('ix_emergency_access_case_id'))

    op.drop_table('emergency_access')
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_valid_until'))
        batch_op.drop_index(batch_op.f('ix_consent_case_id'))
        batch_op.drop_index(batch_op.f('ix_consent_agency_id'))

    op.drop_table('consent')
    with op.batch_alter_table('case_transition', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_transition_case_id'))

    op.drop_table('case_transition')
    with op.batch_alter_table('case_team_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_team_member_case_id'))
        batch_op.drop_index(batch_op.f('ix_case_team_member_agency_id'))

    op.drop_table('case_team_member')
    with op.batch_alter_table('case_note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_note_written_at'))
        batch_op.drop_index(batch_op.f('ix_case_note_case_id'))

    op.drop_table('case_note')
    with op.batch_alter_table('case_meeting', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_meeting_case_id'))

    op.drop_table('case_meeting')
    with op.batch_alter_table('exit_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exit_case_phase'))
        batch_op.drop_index(batch_op.f('ix_exit_case_coordinator_id'))
        batch_op.drop_index(batch_op.f('ix_exit_case_closed_at'))

    op.drop_table('exit_case')
