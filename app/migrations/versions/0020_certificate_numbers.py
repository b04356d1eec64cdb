"""certificate numbers a person can read, English values, the issuing office

Revision ID: 0020
Revises: 0019
"""

from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa

from issuer.numbers import certificate_number, number_prefix
from sanad.clock import today_in_india


revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "certificate_number_counters",
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("prefix", "year"),
    )
    op.add_column("documents", sa.Column("number", sa.String(length=40), nullable=True))
    op.add_column("documents", sa.Column("issued_by", sa.JSON(), nullable=True))
    _number_issued_documents()
    op.create_index("uq_documents_number", "documents", ["number"], unique=True)


def _number_issued_documents() -> None:
    """Documents issued before numbers were printed get one too, in issue order, so they
    can be searched and said; their files keep printing the id (nothing is re-signed).
    The counters then carry on after them (PostgreSQL's sequences start from the rows)."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT documents.id, documents.type, documents.issued_at, departments.code "
            "FROM documents JOIN departments ON departments.id = documents.department_id "
            "ORDER BY documents.issued_at, documents.id"
        )
    )
    last: dict[tuple[str, int], int] = {}
    updates = []
    for document_id, document_type, issued_at, code in rows:
        if isinstance(issued_at, str):  # SQLite hands back its text
            issued_at = datetime.fromisoformat(issued_at)
        if issued_at.tzinfo is None:
            issued_at = issued_at.replace(tzinfo=UTC)
        key = (number_prefix(code, document_type), today_in_india(issued_at).year)
        last[key] = last.get(key, 0) + 1
        updates.append({"id": document_id, "number": certificate_number(*key, last[key])})
    if updates:
        bind.execute(sa.text("UPDATE documents SET number = :number WHERE id = :id"), updates)
    counters = [{"prefix": prefix, "year": year, "last": n} for (prefix, year), n in last.items()]
    if counters:
        bind.execute(
            sa.text("INSERT INTO certificate_number_counters (prefix, year, last) VALUES (:prefix, :year, :last)"),
            counters,
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # The sequences issuing made on first use (issuer.numbers.sequence_name).
        op.execute(
            "DO $$ DECLARE name text; BEGIN "
            "FOR name IN SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema() "
            "AND sequencename LIKE 'certificate\\_number\\_%' "
            "LOOP EXECUTE format('DROP SEQUENCE %I', name); END LOOP; END $$"
        )
    op.drop_index("uq_documents_number", table_name="documents")
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("issued_by")
        batch.drop_column("number")
    op.drop_table("certificate_number_counters")
