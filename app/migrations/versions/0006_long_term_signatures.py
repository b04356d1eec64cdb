"""long-term signatures: the signed revision's digest, the level, the archive clock

Revision ID: 0006
Revises: 0005
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('documents') as batch:
        batch.add_column(sa.Column('signed_sha256', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('signature_level', sa.String(length=8), nullable=True))
        batch.add_column(sa.Column('archive_expires_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('archive_refreshed_at', sa.DateTime(timezone=True), nullable=True))
    # Every earlier document is one signed revision: its digest is the file's.
    op.execute("UPDATE documents SET signed_sha256 = sha256, signature_level = 'B-B'")
    with op.batch_alter_table('documents') as batch:
        batch.alter_column('signed_sha256', existing_type=sa.String(length=64), nullable=False)
        batch.create_unique_constraint('uq_documents_signed_sha256', ['signed_sha256'])
    op.create_index(
        'ix_documents_archive_due', 'documents', ['archive_expires_at'],
        postgresql_where=sa.text('archive_expires_at IS NOT NULL'),
        sqlite_where=sa.text('archive_expires_at IS NOT NULL'),
    )


def downgrade() -> None:
    op.drop_index('ix_documents_archive_due', table_name='documents')
    with op.batch_alter_table('documents') as batch:
        batch.drop_constraint('uq_documents_signed_sha256', type_='unique')
        batch.drop_column('archive_refreshed_at')
        batch.drop_column('archive_expires_at')
        batch.drop_column('signature_level')
        batch.drop_column('signed_sha256')
