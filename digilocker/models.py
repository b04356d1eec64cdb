"""DigiLocker's tables: each department's partner registration, the pull requests already
answered (replay guard), who pulled which document, the pushes waiting to go out, and
the consent manager's key API Setu's consents are verified with."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sanad.db import Base, UTCDateTime


class DigilockerIssuer(Base):
    """A department's registration on the DigiLocker partner portal."""

    __tablename__ = "digilocker_issuers"

    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), primary_key=True)
    issuer_id: Mapped[str] = mapped_column(String(100), unique=True)
    """The issuer id the portal assigned (``in.gov.punjab.revenue``): the first part of
    every URI and the ``orgId`` of every pull request."""
    api_key_sealed: Mapped[str] = mapped_column(Text)
    """The key DigiLocker signs pull requests with (HMAC), encrypted (``credentials.py``):
    it must be usable, so it cannot be kept as a hash."""
    client_id: Mapped[str | None] = mapped_column(String(100), default=None)
    """The partner API's client id, for pushing."""
    client_secret_sealed: Mapped[str | None] = mapped_column(Text, default=None)
    partner_url: Mapped[str] = mapped_column(String(200))
    """Where the partner API answers: DigiLocker's production or sandbox address."""
    doc_types: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    """Template type → DigiLocker doc type code, over the defaults (``doctypes.py``)."""
    search_fields: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    """Request element → what it holds (``certificate_number``, ``mobile``)."""
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DigilockerReplay(Base):
    """A pull request's transaction id, kept for the replay window."""

    __tablename__ = "digilocker_replays"
    __table_args__ = (UniqueConstraint("department_id", "txn"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    txn: Mapped[str] = mapped_column(String(100))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class DigilockerLink(Base):
    """A document a DigiLocker account pulled or was pushed: only that account may fetch it."""

    __tablename__ = "digilocker_links"
    __table_args__ = (UniqueConstraint("document_id", "digilocker_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[str] = mapped_column(String(32))
    digilocker_id: Mapped[str] = mapped_column(String(64))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PushStatus:
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"
    """The holder has no DigiLocker account: nothing to push to (not an error)."""


class DigilockerPush(Base):
    """One push to a citizen's DigiLocker account (an outbox row, written in the issuing
    or revoking transaction)."""

    __tablename__ = "digilocker_pushes"
    __table_args__ = (
        UniqueConstraint("document_id", "action"),
        Index("ix_digilocker_pushes_due", "status", "next_attempt_at"),
        Index("ix_digilocker_pushes_department_status", "department_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    document_id: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(1))
    """A (add), D (delete: revoked), U (update: superseded)."""
    status: Mapped[str] = mapped_column(String(16), default=PushStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    digilocker_id: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)


class ApisetuConsentKey(Base):
    """The public key of the consent manager that signs the consent artifacts API Setu
    forwards: one per deployment (``id`` 1), set with ``sanad digilocker consent-key``."""

    __tablename__ = "apisetu_consent_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_key_pem: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the key (DER), to compare with the consent manager's published one."""
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
