"""holder binding: documents reach a locker only through the number named for them

- ``documents.holder_mobile``: the number a document's own issuing request named; the
  locker and the requester API authorise by it (index ``ix_documents_holder_mobile_newest``
  replaces ``ix_documents_holder_newest`` on ``citizen_ref``).
- ``citizens.department_id``: citizen ids become per department, unique per
  (department, citizen id). A record that documents or applications of several
  departments shared is split: the department of its earliest document (else
  application) keeps it, each other department gets a record of its own.
- Intake's records (those applications refer to) leave the ``m-<mobile>`` names any
  department could write: they become ``sanad.<ref>``, a namespace departments are refused.
- ``holder_binding_mismatches``: what an auditor lists. Certificates issued on approved
  applications whose citizen record named another number than the application (they had
  been shown to that number's locker) are recorded here with source ``migration``.

Backfill of ``holder_mobile``: for a certificate issued on an application, the
application's number (what its issuing request named); for every other document, its
citizen record's number (the requests' own numbers were not kept before this revision).

Revision ID: 0007
Revises: 0006
"""

import secrets
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

RESERVED_PREFIX = 'sanad.'


def _citizen_id_unique_name(bind: sa.engine.Connection) -> str:
    """The name of the old unique constraint on ``citizens.citizen_id``: PostgreSQL named
    it; SQLite's is unnamed and gets one from the batch's naming convention."""
    for constraint in sa.inspect(bind).get_unique_constraints('citizens'):
        if constraint['column_names'] == ['citizen_id'] and constraint['name']:
            return str(constraint['name'])
    return 'uq_citizens_citizen_id'


def _split_shared_citizens(bind: sa.engine.Connection) -> None:
    """Give every (citizen, department) pair that is not the record's own department a
    record of its own, and move that department's documents and applications to it."""
    pairs = bind.execute(sa.text(
        "SELECT DISTINCT d.citizen_ref, d.department_id FROM documents d "
        "JOIN citizens c ON c.ref = d.citizen_ref WHERE d.department_id <> c.department_id "
        "UNION "
        "SELECT DISTINCT a.citizen_ref, a.department_id FROM applications a "
        "JOIN citizens c ON c.ref = a.citizen_ref WHERE a.department_id <> c.department_id"
    )).all()
    for old_ref, department_id in pairs:
        new_ref = secrets.token_hex(16)
        bind.execute(
            sa.text(
                "INSERT INTO citizens (ref, department_id, citizen_id, mobile, created_at) "
                "SELECT :new, :department, citizen_id, mobile, created_at FROM citizens WHERE ref = :old"
            ),
            {"new": new_ref, "department": department_id, "old": old_ref},
        )
        for table in ('documents', 'applications'):
            bind.execute(
                sa.text(f"UPDATE {table} SET citizen_ref = :new WHERE citizen_ref = :old AND department_id = :department"),
                {"new": new_ref, "old": old_ref, "department": department_id},
            )


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table('citizens') as batch:
        batch.add_column(sa.Column('department_id', sa.Integer(), nullable=True))

    # Each record's own department: its earliest document's, else its earliest application's.
    op.execute(
        "UPDATE citizens SET department_id = (SELECT d.department_id FROM documents d "
        "WHERE d.citizen_ref = citizens.ref ORDER BY d.issued_at, d.id LIMIT 1)"
    )
    op.execute(
        "UPDATE citizens SET department_id = (SELECT a.department_id FROM applications a "
        "WHERE a.citizen_ref = citizens.ref ORDER BY a.submitted_at, a.id LIMIT 1) "
        "WHERE department_id IS NULL"
    )
    # A record nothing refers to carries no document: it would belong to no department.
    op.execute("DELETE FROM citizens WHERE department_id IS NULL")
    with op.batch_alter_table(
        'citizens', naming_convention={'uq': 'uq_%(table_name)s_%(column_0_name)s'}
    ) as batch:
        batch.drop_constraint(_citizen_id_unique_name(bind), type_='unique')
    _split_shared_citizens(bind)

    # Intake's records: out of the names a department could write.
    op.execute(
        f"UPDATE citizens SET citizen_id = '{RESERVED_PREFIX}' || ref "
        "WHERE ref IN (SELECT citizen_ref FROM applications)"
    )

    with op.batch_alter_table('citizens') as batch:
        batch.alter_column('department_id', existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key('fk_citizens_department_id', 'departments', ['department_id'], ['id'])
        batch.create_unique_constraint('uq_citizens_department_citizen_id', ['department_id', 'citizen_id'])

    with op.batch_alter_table('documents') as batch:
        batch.add_column(sa.Column('holder_mobile', sa.String(length=10), nullable=True))
    op.execute("UPDATE documents SET holder_mobile = (SELECT c.mobile FROM citizens c WHERE c.ref = documents.citizen_ref)")
    # An approved application's certificate: the number its request named is the application's.
    op.execute(
        "UPDATE documents SET holder_mobile = a.mobile FROM applications a "
        "WHERE a.document_id = documents.id AND a.mobile <> coalesce(documents.holder_mobile, '')"
    )

    op.create_table(
        'holder_binding_mismatches',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('department_id', sa.Integer(), nullable=False),
        sa.Column('citizen_ref', sa.String(length=32), nullable=False),
        sa.Column('document_id', sa.String(length=32), nullable=False),
        sa.Column('previous_mobile', sa.String(length=10), nullable=False),
        sa.Column('requested_mobile', sa.String(length=10), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('detected_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['citizen_ref'], ['citizens.ref']),
        sa.ForeignKeyConstraint(['department_id'], ['departments.id']),
        sa.ForeignKeyConstraint(['document_id'], ['documents.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_holder_binding_mismatches_department', 'holder_binding_mismatches', ['department_id', 'id'])
    op.create_index('ix_holder_binding_mismatches_document_id', 'holder_binding_mismatches', ['document_id'])
    bind.execute(
        sa.text(
            "INSERT INTO holder_binding_mismatches "
            "(department_id, citizen_ref, document_id, previous_mobile, requested_mobile, source, detected_at) "
            "SELECT d.department_id, d.citizen_ref, d.id, c.mobile, d.holder_mobile, 'migration', :now "
            "FROM documents d JOIN citizens c ON c.ref = d.citizen_ref "
            "JOIN applications a ON a.document_id = d.id "
            "WHERE c.mobile IS NOT NULL AND c.mobile <> d.holder_mobile ORDER BY d.issued_at, d.id"
        ),
        {"now": datetime.now(UTC)},
    )

    # Intake's records name the number of their latest application: what the next one is compared with.
    op.execute(
        "UPDATE citizens SET mobile = (SELECT a.mobile FROM applications a WHERE a.citizen_ref = citizens.ref "
        f"ORDER BY a.submitted_at DESC, a.id DESC LIMIT 1) WHERE citizen_id LIKE '{RESERVED_PREFIX}%'"
    )

    with op.batch_alter_table('documents') as batch:
        batch.drop_index('ix_documents_holder_newest')
        batch.create_index('ix_documents_holder_mobile_newest', ['holder_mobile', 'issued_at', 'id'])


def downgrade() -> None:
    """Back to one global namespace. Records of one citizen id in several departments merge
    into the oldest; intake's records take back ``m-<mobile>`` (merging with a record of
    that name). Documents go back to being found through their record's number."""
    bind = op.get_bind()
    with op.batch_alter_table('documents') as batch:
        batch.drop_index('ix_documents_holder_mobile_newest')
        batch.create_index('ix_documents_holder_newest', ['citizen_ref', 'issued_at', 'id'])
        batch.drop_column('holder_mobile')
    op.drop_index('ix_holder_binding_mismatches_document_id', table_name='holder_binding_mismatches')
    op.drop_index('ix_holder_binding_mismatches_department', table_name='holder_binding_mismatches')
    op.drop_table('holder_binding_mismatches')

    with op.batch_alter_table('citizens') as batch:
        batch.drop_constraint('uq_citizens_department_citizen_id', type_='unique')
        batch.drop_constraint('fk_citizens_department_id', type_='foreignkey')
        batch.drop_column('department_id')
    op.execute(
        f"UPDATE citizens SET citizen_id = 'm-' || mobile "
        f"WHERE citizen_id LIKE '{RESERVED_PREFIX}%' AND mobile IS NOT NULL"
    )
    rows = bind.execute(sa.text("SELECT ref, citizen_id FROM citizens ORDER BY citizen_id, created_at, ref")).all()
    keeper: dict[str, str] = {}
    for ref, citizen_id in rows:
        kept = keeper.setdefault(citizen_id, ref)
        if kept == ref:
            continue
        for table in ('documents', 'applications'):
            bind.execute(sa.text(f"UPDATE {table} SET citizen_ref = :kept WHERE citizen_ref = :ref"), {"kept": kept, "ref": ref})
        bind.execute(sa.text("DELETE FROM citizens WHERE ref = :ref"), {"ref": ref})

    with op.batch_alter_table('citizens') as batch:
        batch.create_unique_constraint('uq_citizens_citizen_id', ['citizen_id'])
