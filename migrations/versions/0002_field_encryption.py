"""field encryption: data keys and the participant

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 16:30:00

Hand-written and checked against the models with `flask db check`.
data_key holds one AES-256 key per participant, only ever wrapped by a
master key from the key file (which is never in the database). Every
personal field of participant is a *_ct column of ciphertext; the only
searchable value is the HMAC blind index personal_number_bidx.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

#: The participant's encrypted fields, each stored as <name>_ct (see app/cases/models.py).
ENCRYPTED_FIELDS = (
    'first_name', 'last_name', 'personal_number', 'date_of_birth', 'phone', 'email',
    'street_address', 'postal_code', 'city', 'protected_identity', 'notes',
)


def upgrade():
    op.create_table('data_key',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('owner_type', sa.String(length=40), nullable=False),
    sa.Column('master_key_id', sa.String(length=40), nullable=False),
    sa.Column('wrapped_key', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('rewrapped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('destroyed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('(wrapped_key IS NULL) = (destroyed_at IS NOT NULL)',
                       name=op.f('ck_data_key_live_or_destroyed')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_key'))
    )
    with op.batch_alter_table('data_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_data_key_master_key_id'), ['master_key_id'], unique=False)

    op.create_table('participant',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('data_key_id', sa.Uuid(), nullable=False),
    *[sa.Column(f'{name}_ct', sa.LargeBinary(), nullable=True) for name in ENCRYPTED_FIELDS],
    sa.Column('personal_number_bidx', sa.String(length=64), nullable=True),
    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['data_key_id'], ['data_key.id'], name=op.f('fk_participant_data_key_id_data_key')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participant')),
    sa.UniqueConstraint('data_key_id', name=op.f('uq_participant_data_key_id'))
    )
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_participant_personal_number_bidx'), ['personal_number_bidx'], unique=False)


def downgrade():
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_participant_personal_number_bidx'))
    op.drop_table('participant')
    with op.batch_alter_table('data_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_data_key_master_key_id'))
    op.drop_table('data_key')
