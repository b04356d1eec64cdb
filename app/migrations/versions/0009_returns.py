"""answering a return: the fields and attachments an officer asked for

Revision ID: 0009
Revises: 0008
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # What a return asked for, and what the answer changed.
    with op.batch_alter_table('application_events') as batch:
        batch.add_column(sa.Column('details', sa.JSON(), nullable=True))
    # A replaced attachment stays, marked, so the officer sees what changed.
    with op.batch_alter_table('application_attachments') as batch:
        batch.add_column(sa.Column('replaced_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('replaced_by', sa.String(length=32), nullable=True))
    # Valid files of a refused form, kept so the citizen need not choose them again.
    op.create_table('pending_uploads',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('owner', sa.String(length=40), nullable=False),
    sa.Column('service_code', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('token_hash'),
    sa.UniqueConstraint('storage_key')
    )
    op.create_index(op.f('ix_pending_uploads_expires_at'), 'pending_uploads', ['expires_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_pending_uploads_expires_at'), table_name='pending_uploads')
    op.drop_table('pending_uploads')
    with op.batch_alter_table('application_attachments') as batch:
        batch.drop_column('replaced_by')
        batch.drop_column('replaced_at')
    with op.batch_alter_table('application_events') as batch:
        batch.drop_column('details')
