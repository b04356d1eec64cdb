"""the job engine's tables and bulk issuing batches

Revision ID: 0008
Revises: 0007

On PostgreSQL this also creates Procrastinate's schema (its tables, types and functions,
from the SQL the pinned Procrastinate ships). The embedded (SQLite) deployment has no job
engine: it gets the batch tables only. A later Procrastinate upgrade that changes its
schema brings its migration SQL in a revision of its own.
"""

from alembic import op
import sqlalchemy as sa

from sanad.db import UTCDateTime


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

PROCRASTINATE_OBJECTS = """
DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs,
    procrastinate_workers CASCADE;
DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type,
    procrastinate_job_status CASCADE;
"""


def _run_script(sql: str) -> None:
    """Run a script of many statements as written: on the driver's cursor with no
    parameters, so its ``%`` signs are not read as placeholders."""
    dbapi = op.get_bind().connection.dbapi_connection
    assert dbapi is not None
    cursor = dbapi.cursor()
    try:
        cursor.execute(sql)
    finally:
        cursor.close()


def upgrade() -> None:
    op.create_table(
        "batches",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("department_id", sa.Integer, sa.ForeignKey("departments.id"), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("dry_run", sa.Boolean, nullable=False),
        sa.Column("file_format", sa.String(8), nullable=False),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("rows_total", sa.Integer, nullable=False),
        sa.Column("rows_done", sa.Integer, nullable=False),
        sa.Column("rows_failed", sa.Integer, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("idempotency_key", sa.String(200), nullable=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("progress_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("department_id", "idempotency_key"),
    )
    op.create_index("ix_batches_department_created", "batches", ["department_id", "created_at"])
    op.create_index("ix_batches_status", "batches", ["status"])
    op.create_table(
        "batch_rows",
        sa.Column("batch_id", sa.String(32), sa.ForeignKey("batches.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("row", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("citizen_id", sa.String(64), nullable=False),
        sa.Column("request", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("document_id", sa.String(32), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("error", sa.Text, nullable=True),
    )
    op.create_index("ix_batch_rows_pending", "batch_rows", ["batch_id", "status", "row"])
    op.create_table(
        "batch_errors",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("batch_id", sa.String(32), sa.ForeignKey("batches.id", ondelete="CASCADE"), nullable=False),
        sa.Column("row", sa.Integer, nullable=False),
        sa.Column("field", sa.String(200), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
    )
    op.create_index("ix_batch_errors_batch_row", "batch_errors", ["batch_id", "row"])

    if op.get_bind().dialect.name == "postgresql":
        from procrastinate.schema import SchemaManager

        _run_script(SchemaManager.get_schema())


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        import re

        from procrastinate.schema import SchemaManager

        functions = re.findall(r"^CREATE FUNCTION (\w+)\(", SchemaManager.get_schema(), re.MULTILINE)
        _run_script(PROCRASTINATE_OBJECTS)
        _run_script("".join(f"DROP FUNCTION IF EXISTS {name} CASCADE;" for name in functions))
    op.drop_table("batch_errors")
    op.drop_table("batch_rows")
    op.drop_table("batches")
