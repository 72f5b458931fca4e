"""import category aliases: a source's category names mapped once to ours, and the preview's encrypted review

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 16:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'import_category_alias',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('source_name', sa.String(length=120), nullable=False),
        sa.Column('source_key', sa.String(length=120), nullable=False),
        sa.Column('category_id', sa.Integer(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.ForeignKeyConstraint(['category_id'], ['incident_category.id'],
                                name=op.f('fk_import_category_alias_category_id_incident_category'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'],
                                name=op.f('fk_import_category_alias_created_by_id_app_user'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['organisation_id'], ['agency.id'],
                                name=op.f('fk_import_category_alias_organisation_id_agency'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_import_category_alias')),
        sa.UniqueConstraint('organisation_id', 'source_key', name='uq_import_category_alias_source'),
    )
    with op.batch_alter_table('import_category_alias', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_category_alias_category_id'), ['category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_category_alias_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_category_alias_organisation_id'), ['organisation_id'],
                              unique=False)
    op.add_column('import_job', sa.Column('review_ct', sa.LargeBinary(), nullable=True))


def downgrade():
    with op.batch_alter_table('import_job', schema=None) as batch_op:
        batch_op.drop_column('review_ct')
    op.drop_table('import_category_alias')
