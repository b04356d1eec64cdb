"""the document lifecycle: supersede, renew, suspend and reinstate

Revision ID: 0017
Revises: 0016
"""

from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('supersedes_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('superseded_by_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('suspension_reason', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('suspension_note', sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_documents_supersedes_id_documents'), 'documents', ['supersedes_id'], ['id']
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_documents_superseded_by_id_documents'), 'documents', ['superseded_by_id'], ['id']
        )


def downgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_documents_superseded_by_id_documents'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_documents_supersedes_id_documents'), type_='foreignkey')
        batch_op.drop_column('suspension_note')
        batch_op.drop_column('suspension_reason')
        batch_op.drop_column('superseded_by_id')
        batch_op.drop_column('supersedes_id')
