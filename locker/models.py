"""The locker's tables: uploads, shares, the access log and the requesters citizens let in.

Accounts and their sessions are :mod:`accounts.models`; the ``locker_accounts.id`` keys
here refer to that table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from sanad.db import Base, UTCDateTime


class Upload(Base):
    """A file the citizen put in their locker: kept, never vouched for."""

    __tablename__ = "locker_uploads"
    __table_args__ = (Index("ix_locker_uploads_account_newest", "account_id", "uploaded_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("locker_accounts.id"))
    title: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Share(Base):
    """A link that lets anyone holding it see one document until it expires or is revoked."""

    __tablename__ = "locker_shares"
    __table_args__ = (Index("ix_locker_shares_document", "document_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    """Public handle the owner manages the share by; not the secret."""
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"))
    account_id: Mapped[str] = mapped_column(ForeignKey("locker_accounts.id"), index=True)
    purpose: Mapped[str | None] = mapped_column(String(200), default=None)
    """What the citizen said it is for ("home loan, ABC Bank"), shown in their access log."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    single_use: Mapped[bool] = mapped_column(Boolean, default=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class AccessEvent(Base):
    """Someone other than the owner looked at or downloaded a document."""

    __tablename__ = "locker_access_events"
    __table_args__ = (Index("ix_locker_access_events_account_newest", "account_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("locker_accounts.id"))
    document_id: Mapped[str] = mapped_column(String(32))
    via: Mapped[str] = mapped_column(String(16))
    """``share`` or ``requester``."""
    share_id: Mapped[str | None] = mapped_column(String(32), default=None)
    requester: Mapped[str | None] = mapped_column(String(64), default=None)
    """The OAuth client id of a requester."""
    action: Mapped[str] = mapped_column(String(16))
    """``view`` (the page or the record) or ``download`` (the PDF)."""
    ip: Mapped[str] = mapped_column(String(45))
    user_agent: Mapped[str] = mapped_column(String(300))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class Requester(Base):
    """A third party (a bank, a university, an employer) registered by an operator to ask
    citizens for documents: an OAuth 2.0 confidential client. Only a hash of its secret is kept."""

    __tablename__ = "oauth_requesters"

    client_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    """Shown to the citizen on the consent page and in their list of connected services."""
    secret_hash: Mapped[str] = mapped_column(String(64))
    redirect_uris: Mapped[str] = mapped_column(String(2000))
    """The registered redirect URIs, space-separated; a request must name one exactly."""
    document_types: Mapped[str] = mapped_column(String(500))
    """The document types it may ask for, space-separated; each is the scope ``doc:<type>``."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RequesterGrant(Base):
    """A citizen's consent to one requester for some document types. Every code and token
    issued on it hangs off it, so withdrawing the grant ends them all at once."""

    __tablename__ = "oauth_grants"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("oauth_requesters.client_id"))
    account_id: Mapped[str] = mapped_column(ForeignKey("locker_accounts.id"), index=True)
    scope: Mapped[str] = mapped_column(String(500))
    """The consented scopes, space-separated (``doc:income-certificate ...``)."""
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class AuthorizationCode(Base):
    """A one-time authorization code (only its hash is kept), bound through its grant to the
    client, the account and the scope, and to the redirect URI and PKCE challenge here."""

    __tablename__ = "oauth_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    grant_id: Mapped[str] = mapped_column(ForeignKey("oauth_grants.id"), index=True)
    redirect_uri: Mapped[str | None] = mapped_column(String(500), default=None)
    """As sent in the authorization request (``None`` if omitted); the token request must repeat it."""
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    """Set when exchanged; a second exchange is refused and withdraws the grant."""


class AccessToken(Base):
    """An opaque bearer token a requester reads documents with; only its hash is kept."""

    __tablename__ = "oauth_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    grant_id: Mapped[str] = mapped_column(ForeignKey("oauth_grants.id"), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
