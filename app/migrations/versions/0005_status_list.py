"""status list: each document's index in the signed status list, and the allocator

Revision ID: 0005
Revises: 0004
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('status_index_allocations',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('allocated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sqlite_autoincrement=True,
    )
    op.add_column('documents', sa.Column('status_index', sa.Integer(), nullable=True))
    # Documents issued before the status list get indexes too, in issue order, so they
    # can be revoked in it; their QR codes carry no seal, so nothing else changes.
    numbered = "SELECT id, ROW_NUMBER() OVER (ORDER BY issued_at, id) AS n FROM documents"
    op.execute(
        "INSERT INTO status_index_allocations (id, allocated_at) "
        f"SELECT n, CURRENT_TIMESTAMP FROM ({numbered}) AS numbered"
    )
    op.execute(
        f"UPDATE documents SET status_index = numbered.n FROM ({numbered}) AS numbered "
        "WHERE numbered.id = documents.id"
    )
    if op.get_bind().dialect.name == 'postgresql':
        # Explicit ids do not advance the sequence: start it after the last one.
        op.execute(
            "SELECT setval(pg_get_serial_sequence('status_index_allocations', 'id'), "
            "COALESCE((SELECT MAX(id) FROM status_index_allocations), 0) + 1, false)"
        )
    op.create_index('uq_documents_status_index', 'documents', ['status_index'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_documents_status_index', table_name='documents')
    with op.batch_alter_table('documents') as batch:
        batch.drop_column('status_index')
    op.drop_table('status_index_allocations')
