"""operator journeys: a citizen's recent applications for a service, found by mobile number

The counter looks for an identical application filed in the last days before filing a
new one; the same index serves a citizen's list of applications.

Revision ID: 0021
Revises: 0020
"""

from alembic import op


revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_applications_mobile', 'applications', ['mobile', 'service_code', 'submitted_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_applications_mobile', table_name='applications')
