"""DigiLocker push failures on the desk and consent

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

from sanad.db import UTCDateTime

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The consent manager's key API Setu's consent artifacts are verified with (one per deployment).
    op.create_table(
        "apisetu_consent_keys",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("public_key_pem", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    # The desk lists a department's failed and retrying pushes, newest first.
    op.create_index("ix_digilocker_pushes_department_status", "digilocker_pushes", ["department_id", "status", "id"])


def downgrade() -> None:
    op.drop_index("ix_digilocker_pushes_department_status", table_name="digilocker_pushes")
    op.drop_table("apisetu_consent_keys")
