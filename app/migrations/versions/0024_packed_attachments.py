"""A submission's files in one object: attachments share a storage key, each at its offset

Revision ID: 0024
Revises: 0023

``intake.packs`` stores the files of a submission (or of an answer to a return) as one tar
object; each attachment row keeps where its bytes start (``storage_offset``; none: the
object is that file alone, as every attachment stored before this revision is). The key is
no longer unique, so its unique constraint becomes an index (fsck still looks keys up).
"""

from alembic import op
import sqlalchemy as sa


revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

_TABLE = 'application_attachments'
_INDEX = 'ix_application_attachments_storage_key'
# SQLite's copy of the table is made from a reflection, where the constraint has no name:
# the convention gives it one to drop. PostgreSQL named it when revision 0004 made it.
_CONVENTION = {'uq': 'uq_%(table_name)s_%(column_0_name)s'}


def _unique_name() -> str:
    if op.get_bind().dialect.name == 'postgresql':
        return 'application_attachments_storage_key_key'
    return 'uq_application_attachments_storage_key'


def upgrade() -> None:
    with op.batch_alter_table(_TABLE, naming_convention=_CONVENTION) as batch:
        batch.add_column(sa.Column('storage_offset', sa.Integer(), nullable=True))
        batch.drop_constraint(_unique_name(), type_='unique')
        batch.create_index(_INDEX, ['storage_key'], unique=False)


def downgrade() -> None:
    packed = op.get_bind().execute(sa.text(f'SELECT count(*) FROM {_TABLE} WHERE storage_offset IS NOT NULL'))
    if packed.scalar_one():
        raise RuntimeError(
            'some attachments are stored packed, several to an object, which revision 0023 cannot represent'
        )
    with op.batch_alter_table(_TABLE, naming_convention=_CONVENTION) as batch:
        batch.drop_index(_INDEX)
        batch.create_unique_constraint(_unique_name(), ['storage_key'])
        batch.drop_column('storage_offset')
