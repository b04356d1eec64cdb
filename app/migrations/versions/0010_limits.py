"""limits that hold under concurrency: the keys requests take turns on; e-mail addresses
proven by their readers before notices go to them

Revision ID: 0010
Revises: 0009
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('limit_keys',
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('touched_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('limit_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_limit_keys_touched_at'), ['touched_at'], unique=False)

    op.create_table('email_addresses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mobile', sa.String(length=10), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('link_sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('mobile', 'email', name='uq_email_addresses_mobile_email'),
    sa.UniqueConstraint('token_hash')
    )


def downgrade() -> None:
    op.drop_table('email_addresses')
    with op.batch_alter_table('limit_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_limit_keys_touched_at'))
    op.drop_table('limit_keys')
