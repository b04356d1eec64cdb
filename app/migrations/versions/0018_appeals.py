"""appeals under the Right to Service Act

Revision ID: 0018
Revises: 0017
"""

from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'appeals',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('application_id', sa.String(length=32), nullable=False),
        sa.Column('level', sa.Integer(), nullable=False),
        sa.Column('department_id', sa.Integer(), nullable=False),
        sa.Column('office_code', sa.String(length=32), nullable=False),
        sa.Column('service_code', sa.String(length=64), nullable=False),
        sa.Column('authority', sa.String(length=64), nullable=False),
        sa.Column('grounds', sa.Text(), nullable=False),
        sa.Column('filed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decided_by', sa.Integer(), nullable=True),
        sa.Column('reasons', sa.Text(), nullable=True),
        sa.Column('penalty_inr', sa.Integer(), nullable=True),
        sa.Column('penalty_reason', sa.Text(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['application_id'], ['applications.id']),
        sa.ForeignKeyConstraint(['department_id'], ['departments.id']),
        sa.ForeignKeyConstraint(['decided_by'], ['staff_users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('application_id', 'level', name='uq_appeals_application_level'),
    )
    op.create_index('ix_appeals_application_id', 'appeals', ['application_id'], unique=False)
    op.create_index(
        'ix_appeals_pending',
        'appeals',
        ['department_id', 'office_code', 'service_code', 'level', 'due_on'],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
        sqlite_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index('ix_appeals_pending', table_name='appeals')
    op.drop_index('ix_appeals_application_id', table_name='appeals')
    op.drop_table('appeals')
