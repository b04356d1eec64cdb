"""certificate numbers a person can read, English values, the issuing office

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

from issuer.numbers import CERTIFICATE_MARK, number_prefix

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
    The counters then carry on after them (PostgreSQL's sequences start from the rows).

    One statement numbers them all, whatever their count: the database ranks the rows,
    Python only names the few (department, type) prefixes. India keeps +05:30 all year."""
    bind = op.get_bind()
    pairs = bind.execute(
        sa.text(
            "SELECT DISTINCT departments.code, documents.type "
            "FROM documents JOIN departments ON departments.id = documents.department_id"
        )
    ).all()
    if not pairs:
        return
    values = ", ".join(f"(:code{n}, :type{n}, :prefix{n})" for n in range(len(pairs)))
    parameters: dict[str, str] = {}
    for n, (code, document_type) in enumerate(pairs):
        parameters |= {f"code{n}": code, f"type{n}": document_type, f"prefix{n}": number_prefix(code, document_type)}
    postgres = bind.dialect.name == "postgresql"
    year = (
        "CAST(EXTRACT(YEAR FROM documents.issued_at AT TIME ZONE 'Asia/Kolkata') AS INTEGER)"
        if postgres
        else "CAST(strftime('%Y', documents.issued_at, '+330 minutes') AS INTEGER)"
    )
    serial = (
        "lpad(CAST(serial AS TEXT), greatest(6, length(CAST(serial AS TEXT))), '0')"
        if postgres
        else "printf('%06d', serial)"
    )
    bind.execute(
        sa.text(
            f"CREATE TEMPORARY TABLE numbered AS "
            f"WITH prefixes(code, type, prefix) AS (VALUES {values}) "
            f"SELECT documents.id AS id, prefixes.prefix AS prefix, {year} AS year, "
            f"row_number() OVER (PARTITION BY prefixes.prefix, {year} "
            f"ORDER BY documents.issued_at, documents.id) AS serial "
            f"FROM documents JOIN departments ON departments.id = documents.department_id "
            f"JOIN prefixes ON prefixes.code = departments.code AND prefixes.type = documents.type"
        ),
        parameters,
    )
    mark = f"'-{CERTIFICATE_MARK}-'"
    bind.execute(
        sa.text(
            f"UPDATE documents SET number = numbered.prefix || {mark} || CAST(numbered.year AS TEXT) "
            f"|| '-' || {serial} FROM numbered WHERE numbered.id = documents.id"
        )
    )
    bind.execute(
        sa.text(
            "INSERT INTO certificate_number_counters (prefix, year, last) "
            "SELECT prefix, year, MAX(serial) FROM numbered GROUP BY prefix, year"
        )
    )
    bind.execute(sa.text("DROP TABLE numbered"))


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
