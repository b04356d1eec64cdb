"""DigiLocker: departments' partner credentials, pushes and replay guard

Revision ID: 0015
Revises: 0014
"""

from alembic import op
import sqlalchemy as sa

from sanad.db import UTCDateTime


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "digilocker_issuers",
        sa.Column("department_id", sa.Integer(), sa.ForeignKey("departments.id"), primary_key=True),
        sa.Column("issuer_id", sa.String(100), nullable=False, unique=True),
        sa.Column("api_key_sealed", sa.Text(), nullable=False),
        sa.Column("client_id", sa.String(100), nullable=True),
        sa.Column("client_secret_sealed", sa.Text(), nullable=True),
        sa.Column("partner_url", sa.String(200), nullable=False),
        sa.Column("doc_types", sa.JSON(), nullable=False),
        sa.Column("search_fields", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "digilocker_replays",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("department_id", sa.Integer(), sa.ForeignKey("departments.id"), nullable=False),
        sa.Column("txn", sa.String(100), nullable=False),
        sa.Column("seen_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("department_id", "txn"),
    )
    op.create_index("ix_digilocker_replays_seen_at", "digilocker_replays", ["seen_at"])
    op.create_table(
        "digilocker_links",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("document_id", sa.String(32), nullable=False),
        sa.Column("digilocker_id", sa.String(64), nullable=False),
        sa.Column("linked_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("document_id", "digilocker_id"),
    )
    op.create_table(
        "digilocker_pushes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("department_id", sa.Integer(), sa.ForeignKey("departments.id"), nullable=False),
        sa.Column("document_id", sa.String(32), nullable=False),
        sa.Column("action", sa.String(1), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("digilocker_id", sa.String(64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.UniqueConstraint("document_id", "action"),
    )
    op.create_index("ix_digilocker_pushes_due", "digilocker_pushes", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_digilocker_pushes_due", table_name="digilocker_pushes")
    op.drop_table("digilocker_pushes")
    op.drop_table("digilocker_links")
    op.drop_index("ix_digilocker_replays_seen_at", table_name="digilocker_replays")
    op.drop_table("digilocker_replays")
    op.drop_table("digilocker_issuers")
