"""locker: accounts, sign-in, uploads, shares, access log

Revision ID: 0002
Revises: 0001
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('auth_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('mobile', sa.String(length=10), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('auth_events', schema=None) as batch_op:
        batch_op.create_index('ix_auth_events_ip', ['kind', 'ip', 'at'], unique=False)
        batch_op.create_index('ix_auth_events_mobile', ['kind', 'mobile', 'at'], unique=False)

    op.create_table('dev_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipient', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('body', sa.String(length=1000), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('dev_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dev_messages_recipient'), ['recipient'], unique=False)

    op.create_table('locker_accounts',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('mobile', sa.String(length=10), nullable=False),
    sa.Column('storage_ref', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('mobile'),
    sa.UniqueConstraint('storage_ref')
    )
    op.create_table('otp_challenges',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('mobile', sa.String(length=10), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('consumed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('otp_challenges', schema=None) as batch_op:
        batch_op.create_index('ix_otp_challenges_mobile_created', ['mobile', 'created_at'], unique=False)

    op.create_table('locker_access_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.String(length=32), nullable=False),
    sa.Column('document_id', sa.String(length=32), nullable=False),
    sa.Column('via', sa.String(length=16), nullable=False),
    sa.Column('share_id', sa.String(length=32), nullable=True),
    sa.Column('requester', sa.String(length=64), nullable=True),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=False),
    sa.Column('user_agent', sa.String(length=300), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['locker_accounts.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('locker_access_events', schema=None) as batch_op:
        batch_op.create_index('ix_locker_access_events_account_newest', ['account_id', 'at'], unique=False)

    op.create_table('locker_sessions',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['locker_accounts.id'], ),
    sa.PrimaryKeyConstraint('token_hash')
    )
    with op.batch_alter_table('locker_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_locker_sessions_account_id'), ['account_id'], unique=False)

    op.create_table('locker_uploads',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('account_id', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['locker_accounts.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('storage_key')
    )
    with op.batch_alter_table('locker_uploads', schema=None) as batch_op:
        batch_op.create_index('ix_locker_uploads_account_newest', ['account_id', 'uploaded_at'], unique=False)

    op.create_table('locker_shares',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('document_id', sa.String(length=32), nullable=False),
    sa.Column('account_id', sa.String(length=32), nullable=False),
    sa.Column('purpose', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('single_use', sa.Boolean(), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['locker_accounts.id'], ),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('locker_shares', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_locker_shares_account_id'), ['account_id'], unique=False)
        batch_op.create_index('ix_locker_shares_document', ['document_id', 'created_at'], unique=False)

    with op.batch_alter_table('citizens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mobile', sa.String(length=10), nullable=True))
        batch_op.create_index(batch_op.f('ix_citizens_mobile'), ['mobile'], unique=False)

    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_documents_citizen_ref'))
        batch_op.create_index('ix_documents_holder_newest', ['citizen_ref', 'issued_at', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index('ix_documents_holder_newest')
        batch_op.create_index(batch_op.f('ix_documents_citizen_ref'), ['citizen_ref'], unique=False)

    with op.batch_alter_table('citizens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_citizens_mobile'))
        batch_op.drop_column('mobile')

    with op.batch_alter_table('locker_shares', schema=None) as batch_op:
        batch_op.drop_index('ix_locker_shares_document')
        batch_op.drop_index(batch_op.f('ix_locker_shares_account_id'))

    op.drop_table('locker_shares')
    with op.batch_alter_table('locker_uploads', schema=None) as batch_op:
        batch_op.drop_index('ix_locker_uploads_account_newest')

    op.drop_table('locker_uploads')
    with op.batch_alter_table('locker_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_locker_sessions_account_id'))

    op.drop_table('locker_sessions')
    with op.batch_alter_table('locker_access_events', schema=None) as batch_op:
        batch_op.drop_index('ix_locker_access_events_account_newest')

    op.drop_table('locker_access_events')
    with op.batch_alter_table('otp_challenges', schema=None) as batch_op:
        batch_op.drop_index('ix_otp_challenges_mobile_created')

    op.drop_table('otp_challenges')
    op.drop_table('locker_accounts')
    with op.batch_alter_table('dev_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dev_messages_recipient'))

    op.drop_table('dev_messages')
    with op.batch_alter_table('auth_events', schema=None) as batch_op:
        batch_op.drop_index('ix_auth_events_mobile')
        batch_op.drop_index('ix_auth_events_ip')

    op.drop_table('auth_events')
