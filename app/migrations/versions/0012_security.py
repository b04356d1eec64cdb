"""security: the issuing API's bounds and the header timeout (no schema change: a
placeholder revision, kept so the chain stays linear)

Revision ID: 0012
Revises: 0011
"""

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
