"""Announce changes of a document's public record (PostgreSQL NOTIFY)

Revision ID: 0023
Revises: 0022

Every server process keeps the QR target's answers (verifier/lookup_cache.py) and drops
one when it hears ``sanad_public_record`` with the document's id. The triggers send it
from the very transaction that adds a document (an id answered "unknown" until then),
changes what ``issuer.service.public_record`` shows or deletes the row, so no code path
can forget to, and PostgreSQL delivers it only if that transaction commits.
SQLite has no NOTIFY (and no such cache): nothing to do there.
"""

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

#: The document columns the public record shows (issuer.repository._PUBLIC_COLUMNS).
_SHOWN = (
    "number",
    "type",
    "status",
    "issued_at",
    "valid_until",
    "holder_name",
    "revocation_reason",
    "signature_level",
    "long_term_pending",
    "version",
    "superseded_by_id",
    "suspension_reason",
    "department_id",
)
_DEPARTMENT_SHOWN = ("code", "name_en", "name_pa", "name_hi")


def _changed(columns: tuple[str, ...]) -> str:
    old = ", ".join(f"OLD.{c}" for c in columns)
    new = ", ".join(f"NEW.{c}" for c in columns)
    return f"(ROW({old}) IS DISTINCT FROM ROW({new}))"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE FUNCTION notify_public_record_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('sanad_public_record', CASE TG_OP WHEN 'INSERT' THEN NEW.id ELSE OLD.id END);
            RETURN NULL;
        END $$
        """
    )
    # An empty payload: every record may show the department's code or names.
    op.execute(
        """
        CREATE FUNCTION notify_public_records_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('sanad_public_record', '');
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER documents_public_record_changed AFTER UPDATE ON documents FOR EACH ROW "
        f"WHEN {_changed(_SHOWN)} EXECUTE FUNCTION notify_public_record_changed()"
    )
    op.execute(
        "CREATE TRIGGER documents_public_record_removed AFTER DELETE ON documents FOR EACH ROW "
        "EXECUTE FUNCTION notify_public_record_changed()"
    )
    op.execute(
        "CREATE TRIGGER documents_public_record_added AFTER INSERT ON documents FOR EACH ROW "
        "EXECUTE FUNCTION notify_public_record_changed()"
    )
    op.execute(
        "CREATE TRIGGER departments_public_records_changed AFTER UPDATE ON departments FOR EACH ROW "
        f"WHEN {_changed(_DEPARTMENT_SHOWN)} EXECUTE FUNCTION notify_public_records_changed()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER departments_public_records_changed ON departments")
    op.execute("DROP TRIGGER documents_public_record_added ON documents")
    op.execute("DROP TRIGGER documents_public_record_removed ON documents")
    op.execute("DROP TRIGGER documents_public_record_changed ON documents")
    op.execute("DROP FUNCTION notify_public_records_changed()")
    op.execute("DROP FUNCTION notify_public_record_changed()")
