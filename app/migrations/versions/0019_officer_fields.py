"""officer-filled fields and mobile number changes

Revision ID: 0019
Revises: 0018
"""

from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('officer_values', sa.JSON(), nullable=True))
    op.create_table(
        'mobile_changes',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('account_id', sa.String(length=32), nullable=False),
        sa.Column('old_mobile', sa.String(length=10), nullable=False),
        sa.Column('new_mobile', sa.String(length=10), nullable=False),
        sa.Column('old_code_hash', sa.String(length=64), nullable=False),
        sa.Column('new_code_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('completed', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['locker_accounts.id'], name=op.f('fk_mobile_changes_account_id_locker_accounts')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mobile_changes')),
    )
    op.create_index('ix_mobile_changes_account_created', 'mobile_changes', ['account_id', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_mobile_changes_account_created', table_name='mobile_changes')
    op.drop_table('mobile_changes')
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_column('officer_values')
