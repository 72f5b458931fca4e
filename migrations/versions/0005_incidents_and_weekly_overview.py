"""incidents and the weekly overview: areas, categories, reports, history, published weeks, API tokens, imports

Descriptions (*_ct) are encrypted with one data key per calendar month
(incident_key_period). The overview groups by plain columns only.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 16:34:33.417772

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('area',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('polygon', sa.Text(), nullable=True),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_area')),
    sa.UniqueConstraint('code', name=op.f('uq_area_code')),
    sa.UniqueConstraint('name', name=op.f('uq_area_name'))
    )
    op.create_table('incident_category',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name_sv', sa.String(length=120), nullable=False),
    sa.Column('name_en', sa.String(length=120), nullable=False),
    sa.Column('sort_order', sa.Integer(), server_default='0', nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_category')),
    sa.UniqueConstraint('code', name=op.f('uq_incident_category_code'))
    )
    op.create_table('incident_key_period',
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('data_key_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['data_key_id'], ['data_key.id'], name=op.f('fk_incident_key_period_data_key_id_data_key')),
    sa.PrimaryKeyConstraint('period', name=op.f('pk_incident_key_period')),
    sa.UniqueConstraint('data_key_id', name=op.f('uq_incident_key_period_data_key_id'))
    )
    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('scopes', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'], name=op.f('fk_api_token_created_by_id_app_user')),
    sa.ForeignKeyConstraint(['organisation_id'], ['agency.id'], name=op.f('fk_api_token_organisation_id_agency')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
    sa.UniqueConstraint('prefix', name=op.f('uq_api_token_prefix'))
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_token_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('import_job',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('data_key_id', sa.Uuid(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Enum('preview', 'queued', 'running', 'done', 'failed', 'cancelled', name='importstatus', native_enum=False, length=32), nullable=False),
    sa.Column('file_hash', sa.String(length=64), nullable=False),
    sa.Column('mapping', sa.Text(), nullable=True),
    sa.Column('total_rows', sa.Integer(), server_default='0', nullable=False),
    sa.Column('processed_rows', sa.Integer(), server_default='0', nullable=False),
    sa.Column('imported', sa.Integer(), server_default='0', nullable=False),
    sa.Column('duplicates', sa.Integer(), server_default='0', nullable=False),
    sa.Column('invalid', sa.Integer(), server_default='0', nullable=False),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('filename', sa.String(length=200), nullable=True),
    sa.Column('accept', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('content_ct', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['data_key_id'], ['data_key.id'], name=op.f('fk_import_job_data_key_id_data_key')),
    sa.ForeignKeyConstraint(['organisation_id'], ['agency.id'], name=op.f('fk_import_job_organisation_id_agency')),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_import_job_user_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_job'))
    )
    op.create_table('published_week',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('iso_year', sa.Integer(), nullable=False),
    sa.Column('iso_week', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.Column('snapshot', sa.Text(), nullable=False),
    sa.Column('report_versions', sa.Text(), nullable=False),
    sa.Column('change_summary', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['published_by_id'], ['app_user.id'], name=op.f('fk_published_week_published_by_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_published_week')),
    sa.UniqueConstraint('iso_year', 'iso_week', 'number', name=op.f('uq_published_week_iso_year'))
    )
    op.create_table('week_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('iso_year', sa.Integer(), nullable=False),
    sa.Column('iso_week', sa.Integer(), nullable=False),
    sa.Column('analysis', sa.Text(), nullable=True),
    sa.Column('focus', sa.Text(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['updated_by_id'], ['app_user.id'], name=op.f('fk_week_note_updated_by_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_week_note')),
    sa.UniqueConstraint('iso_year', 'iso_week', name=op.f('uq_week_note_iso_year'))
    )
    op.create_table('incident_report',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('data_key_id', sa.Uuid(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('occurred_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('iso_year', sa.Integer(), nullable=False),
    sa.Column('iso_week', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('setting', sa.Enum('public', 'semi_public', name='setting', native_enum=False, length=32), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('status', sa.Enum('new', 'accepted', 'rejected', 'duplicate', name='reportstatus', native_enum=False, length=32), nullable=False),
    sa.Column('reject_reason', sa.String(length=500), nullable=True),
    sa.Column('duplicate_of_id', sa.Uuid(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reporter_id', sa.Integer(), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Enum('form', 'import', 'api', name='reportsource', native_enum=False, length=32), nullable=False),
    sa.Column('external_id', sa.String(length=100), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=True),
    sa.Column('submission_id', sa.Uuid(), nullable=True),
    sa.Column('import_job_id', sa.Uuid(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('description_ct', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['area.id'], name=op.f('fk_incident_report_area_id_area')),
    sa.ForeignKeyConstraint(['category_id'], ['incident_category.id'], name=op.f('fk_incident_report_category_id_incident_category')),
    sa.ForeignKeyConstraint(['data_key_id'], ['data_key.id'], name=op.f('fk_incident_report_data_key_id_data_key')),
    sa.ForeignKeyConstraint(['duplicate_of_id'], ['incident_report.id'], name=op.f('fk_incident_report_duplicate_of_id_incident_report')),
    sa.ForeignKeyConstraint(['import_job_id'], ['import_job.id'], name=op.f('fk_incident_report_import_job_id_import_job'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['agency.id'], name=op.f('fk_incident_report_organisation_id_agency')),
    sa.ForeignKeyConstraint(['reporter_id'], ['app_user.id'], name=op.f('fk_incident_report_reporter_id_app_user')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['app_user.id'], name=op.f('fk_incident_report_reviewed_by_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_report')),
    sa.UniqueConstraint('organisation_id', 'external_id', name='uq_incident_report_external')
    )
    with op.batch_alter_table('incident_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_report_area_id'), ['area_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_report_category_id'), ['category_id'], unique=False)
        batch_op.create_index('ix_incident_report_day', ['status', 'local_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_report_fingerprint'), ['fingerprint'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_report_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_report_reporter_id'), ['reporter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_report_submission_id'), ['submission_id'], unique=False)
        batch_op.create_index('ix_incident_report_week', ['status', 'iso_year', 'iso_week', 'category_id', 'area_id'], unique=False)

    op.create_table('incident_report_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Uuid(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('changes', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['by_id'], ['app_user.id'], name=op.f('fk_incident_report_revision_by_id_app_user')),
    sa.ForeignKeyConstraint(['report_id'], ['incident_report.id'], name=op.f('fk_incident_report_revision_report_id_incident_report'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_report_revision'))
    )
    with op.batch_alter_table('incident_report_revision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_report_revision_report_id'), ['report_id'], unique=False)



def downgrade():
    with op.batch_alter_table('incident_report_revision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_report_revision_report_id'))

    op.drop_table('incident_report_revision')
    with op.batch_alter_table('incident_report', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_report_week')
        batch_op.drop_index(batch_op.f('ix_incident_report_submission_id'))
        batch_op.drop_index(batch_op.f('ix_incident_report_reporter_id'))
        batch_op.drop_index(batch_op.f('ix_incident_report_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_incident_report_fingerprint'))
        batch_op.drop_index('ix_incident_report_day')
        batch_op.drop_index(batch_op.f('ix_incident_report_category_id'))
        batch_op.drop_index(batch_op.f('ix_incident_report_area_id'))

    op.drop_table('incident_report')
    op.drop_table('week_note')
    op.drop_table('published_week')
    op.drop_table('import_job')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_token_organisation_id'))

    op.drop_table('api_token')
    op.drop_table('incident_key_period')
    op.drop_table('incident_category')
    op.drop_table('area')
