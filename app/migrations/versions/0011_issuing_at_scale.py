"""issuing at scale: what chunked batches and the fast render path keep

Revision ID: 0011
Revises: 0010
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # long-term augmentation
    with op.batch_alter_table('documents') as batch:
        batch.add_column(
            sa.Column('long_term_pending', sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_index(
        'ix_documents_long_term_pending',
        'documents',
        ['issued_at'],
        postgresql_where=sa.text('long_term_pending'),
        sqlite_where=sa.text('long_term_pending'),
    )


def downgrade() -> None:
    # long-term augmentation
    op.drop_index('ix_documents_long_term_pending', table_name='documents')
    with op.batch_alter_table('documents') as batch:
        batch.drop_column('long_term_pending')
