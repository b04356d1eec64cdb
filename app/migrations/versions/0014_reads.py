"""reads at wire speed (no schema change: submission numbers' PostgreSQL sequences
are created on first use; a placeholder revision, kept so the chain stays linear)

Revision ID: 0014
Revises: 0013
"""

from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
