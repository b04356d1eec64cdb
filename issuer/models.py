"""The document registry: one row per issued document, paired with one stored object."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sanad.db import Base, UTCDateTime


class DocumentStatus(StrEnum):
    """Stored lifecycle state. "expired" is not stored: it follows from ``valid_until``."""

    ISSUED = "issued"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("department_id", "idempotency_key"),
        # A holder's locker lists newest first: one index range scan per holder.
        Index("ix_documents_holder_newest", "citizen_ref", "issued_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    """Random, unguessable (128 bits); also the certificate number printed on it."""
    type: Mapped[str] = mapped_column(String(64))
    citizen_ref: Mapped[str] = mapped_column(ForeignKey("citizens.ref"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_until: Mapped[date | None] = mapped_column(Date())
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    """Digest of the exact signed bytes; the verifier looks uploads up by it."""
    size: Mapped[int] = mapped_column(Integer)
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=DocumentStatus.ISSUED)
    version: Mapped[int] = mapped_column(Integer, default=1)
    holder_name: Mapped[str] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    revocation_reason: Mapped[str | None] = mapped_column(Text, default=None)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), default=None)
    request_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    """SHA-256 of the issuing request, to tell a retry from a reused key."""
