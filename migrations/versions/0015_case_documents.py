"""case documents: files attached to a case, its consents, assessments, plan, notes and meetings, encrypted in
chunks with the participant's data key (the bytes in document_blob_chunk)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 16:16:02.575800

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('document_blob_chunk',
    sa.Column('blob_id', sa.Uuid(), nullable=False),
    sa.Column('idx', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('blob_id', 'idx', name=op.f('pk_document_blob_chunk'))
    )
    op.create_table('case_document',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('data_key_id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.Enum('consent', 'threat', 'protection_plan', 'support_plan', 'notes', 'identity', name='documentkind', native_enum=False, length=32), nullable=False),
    sa.Column('attached_to', sa.Enum('case', 'consent', 'threat', 'plan_version', 'plan_item', 'note', 'meeting', name='attachedto', native_enum=False, length=32), nullable=False),
    sa.Column('attached_id', sa.String(length=40), nullable=True),
    sa.Column('responsible_agency_id', sa.Integer(), nullable=True),
    sa.Column('document_date', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('removed_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('title_ct', sa.LargeBinary(), nullable=True),
    sa.Column('removed_reason_ct', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['exit_case.id'], name=op.f('fk_case_document_case_id_exit_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'], name=op.f('fk_case_document_created_by_id_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['data_key_id'], ['data_key.id'], name=op.f('fk_case_document_data_key_id_data_key')),
    sa.ForeignKeyConstraint(['removed_by_id'], ['app_user.id'], name=op.f('fk_case_document_removed_by_id_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['responsible_agency_id'], ['agency.id'], name=op.f('fk_case_document_responsible_agency_id_agency')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_document'))
    )
    with op.batch_alter_table('case_document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_document_attached_id'), ['attached_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_document_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_document_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_document_data_key_id'), ['data_key_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_document_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_document_removed_by_id'), ['removed_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_document_responsible_agency_id'), ['responsible_agency_id'], unique=False)

    op.create_table('case_document_version',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('data_key_id', sa.Uuid(), nullable=False),
    sa.Column('document_id', sa.Uuid(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('chunk_size', sa.Integer(), nullable=False),
    sa.Column('chunk_count', sa.Integer(), nullable=False),
    sa.Column('content_mac', sa.String(length=64), nullable=False),
    sa.Column('blob_id', sa.Uuid(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('metadata_stripped', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('filename_ct', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['data_key_id'], ['data_key.id'], name=op.f('fk_case_document_version_data_key_id_data_key')),
    sa.ForeignKeyConstraint(['document_id'], ['case_document.id'], name=op.f('fk_case_document_version_document_id_case_document'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['app_user.id'], name=op.f('fk_case_document_version_uploaded_by_id_app_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_document_version')),
    sa.UniqueConstraint('blob_id', name=op.f('uq_case_document_version_blob_id')),
    sa.UniqueConstraint('document_id', 'number', name='uq_case_document_version_number')
    )
    with op.batch_alter_table('case_document_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_document_version_content_mac'), ['content_mac'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_document_version_data_key_id'), ['data_key_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_document_version_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_document_version_uploaded_by_id'), ['uploaded_by_id'], unique=False)



def downgrade():
    with op.batch_alter_table('case_document_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_document_version_uploaded_by_id'))
        batch_op.drop_index(batch_op.f('ix_case_document_version_document_id'))
        batch_op.drop_index(batch_op.f('ix_case_document_version_data_key_id'))
        batch_op.drop_index(batch_op.f('ix_case_document_version_content_mac'))

    op.drop_table('case_document_version')
    with op.batch_alter_table('case_document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_document_responsible_agency_id'))
        batch_op.drop_index(batch_op.f('ix_case_document_removed_by_id'))
        batch_op.drop_index(batch_op.f('ix_case_document_kind'))
        batch_op.drop_index(batch_op.f('ix_case_document_data_key_id'))
        batch_op.drop_index(batch_op.f('ix_case_document_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_case_document_case_id'))
        batch_op.drop_index(batch_op.f('ix_case_document_attached_id'))

    op.drop_table('case_document')
    op.drop_table('document_blob_chunk')
