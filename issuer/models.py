"""The document registry: one row per issued document, paired with one stored object."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column

from sanad.db import Base, UTCDateTime


class DocumentStatus(StrEnum):
    """Stored lifecycle state. "expired" is not stored: it follows from ``valid_until``."""

    ISSUED = "issued"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"
    SUSPENDED = "suspended"
    """Reversibly not in force (``issuer.lifecycle``): reinstating returns it to issued."""


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("department_id", "idempotency_key"),
        # A locker lists its number's documents newest first: one backward index range scan.
        Index("ix_documents_holder_mobile_newest", "holder_mobile", "issued_at", "id"),
        Index("uq_documents_status_index", "status_index", unique=True),
        # One document per printed number; also the index the number search reads.
        Index("uq_documents_number", "number", unique=True),
        Index(
            "ix_documents_archive_due",
            "archive_expires_at",
            postgresql_where=text("archive_expires_at IS NOT NULL"),
            sqlite_where=text("archive_expires_at IS NOT NULL"),
        ),
        # The sweep for long-term revisions still to add reads only the few pending rows.
        Index(
            "ix_documents_long_term_pending",
            "issued_at",
            postgresql_where=text("long_term_pending"),
            sqlite_where=text("long_term_pending"),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    """Random, unguessable (128 bits): what the QR code and the verification URL carry."""
    number: Mapped[str | None] = mapped_column(String(40), default=None)
    """The certificate number printed on it, read and said by people
    (``PB-REV-INC-C-2026-000123``, :mod:`issuer.numbers`); unique. Every issued document has
    one (revision 0020 numbered the earlier ones in issue order)."""
    type: Mapped[str] = mapped_column(String(64))
    citizen_ref: Mapped[str] = mapped_column(ForeignKey("citizens.ref"))
    holder_mobile: Mapped[str | None] = mapped_column(String(10), default=None)
    """The mobile number this document's own issuing request named: the only locker (and
    the only requester acting for that locker) that sees it. ``None``: no locker does."""
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_until: Mapped[date | None] = mapped_column(Date())
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    """Digest of the stored object: the file as the locker serves it today."""
    signed_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    """Digest of the file up to the end of the certified revision: what the department
    signed. Archival timestamps append revisions, so ``sha256`` moves and this does not;
    the verifier looks uploads up by it."""
    signature_level: Mapped[str | None] = mapped_column(String(8), default=None)
    """The PAdES level the document is issued at: the deployment's, even while its
    long-term revision is pending (``long_term_pending``; the file is then at B-T)."""
    long_term_pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """The file is at B-T and its long-term revision (B-LT/B-LTA) is still to be added
    (``issuer.long_term_tasks``)."""
    archive_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    """When the newest archival timestamp's TSA certificate expires (B-LTA): the archive
    job adds a new timestamp before then."""
    archive_refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    size: Mapped[int] = mapped_column(Integer)
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=DocumentStatus.ISSUED)
    version: Mapped[int] = mapped_column(Integer, default=1)
    holder_name: Mapped[str] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    issued_by: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    """The office and officer printed as issuing it (``IssuedBy.printed``); ``None``: the
    department, by its name."""
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    revocation_reason: Mapped[str | None] = mapped_column(Text, default=None)
    supersedes_id: Mapped[str | None] = mapped_column(ForeignKey("documents.id"), default=None)
    """The earlier version this one corrects or renews (``issuer.lifecycle``)."""
    superseded_by_id: Mapped[str | None] = mapped_column(ForeignKey("documents.id"), default=None)
    """The later version that replaced this one; set with status ``superseded``."""
    suspension_reason: Mapped[str | None] = mapped_column(String(32), default=None)
    """While suspended: one of ``issuer.lifecycle.SUSPENSION_REASONS``."""
    suspension_note: Mapped[str | None] = mapped_column(Text, default=None)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), default=None)
    request_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    """SHA-256 of the issuing request, to tell a retry from a reused key."""
    status_index: Mapped[int | None] = mapped_column(Integer, default=None)
    """The document's entry in the signed status list (printed in its seal); unique
    (``uq_documents_status_index``). Allocated from ``status_index_allocations`` before
    the document is rendered."""


class StatusIndexAllocation(Base):
    """One row per status-list index handed out: the autoincrement key is the index.
    Allocating is one short insert, safe under concurrency on SQLite and PostgreSQL;
    an index whose issuance then fails is simply never used."""

    __tablename__ = "status_index_allocations"
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012 (never reuse an index)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    allocated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CertificateNumberCounter(Base):
    """The last serial given per number prefix and year (``PB-REV-INC``, 2026). SQLite
    numbers from this row; PostgreSQL from a sequence per prefix and year, which starts
    after this row's ``last`` when the row exists (numbers given before the sequence)."""

    __tablename__ = "certificate_number_counters"

    prefix: Mapped[str] = mapped_column(String(32), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class HolderBindingMismatch(Base):
    """An issuing request named another mobile number than the department's previous
    request for the same citizen id. The issuer is told in the issuing response; the row is
    kept for auditors. Nothing moves: each document stays with the number named for it."""

    __tablename__ = "holder_binding_mismatches"
    __table_args__ = (Index("ix_holder_binding_mismatches_department", "department_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    citizen_ref: Mapped[str] = mapped_column(ForeignKey("citizens.ref"))
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), index=True)
    """The document whose request named ``requested_mobile``."""
    previous_mobile: Mapped[str] = mapped_column(String(10))
    """The number the department had named for the citizen before."""
    requested_mobile: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(16))
    """``issue`` (found while issuing) or ``migration`` (found in the data of revision 0007:
    an approved application's certificate had been shown to another number's locker)."""
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime())
