"""Bulk issuing: a batch (one uploaded file), its rows, and the problems found in it.

A row's ``status`` is the batch's memory across crashes: a row is ``pending`` until the
chunk that issued it records the outcome. Its document is issued with the idempotency key
``batch:<batch id>:<row>``, so a chunk that runs again after a crash finds the document
it issued before instead of issuing a second one.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sanad.db import Base, UTCDateTime


class BatchStatus(StrEnum):
    VALIDATING = "validating"
    """Being read and checked (the submission is still in progress)."""
    INVALID = "invalid"
    """Some rows are invalid (see its errors); nothing was issued."""
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    """Every row issued (a dry run: every row valid, nothing issued)."""
    COMPLETED_WITH_ERRORS = "completed_with_errors"
    """Every row done; some could not be issued (see their ``error`` in the results)."""
    CANCELLED = "cancelled"
    FAILED = "failed"
    """The batch could not run at all (see ``error``)."""


UNFINISHED = (BatchStatus.VALIDATING, BatchStatus.QUEUED, BatchStatus.RUNNING)


class RowStatus(StrEnum):
    PENDING = "pending"
    ISSUED = "issued"
    FAILED = "failed"


class Batch(Base):
    __tablename__ = "batches"
    __table_args__ = (
        UniqueConstraint("department_id", "idempotency_key"),
        Index("ix_batches_department_created", "department_id", "created_at"),
        Index("ix_batches_status", "status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    """Random and unguessable, like a document id."""
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    type: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(24))
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    file_format: Mapped[str] = mapped_column(String(8))
    """``csv`` or ``jsonl``."""
    file_sha256: Mapped[str] = mapped_column(String(64))
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    """Rows issued."""
    rows_failed: Mapped[int] = mapped_column(Integer, default=0)
    """Rows that could not be issued."""
    error: Mapped[str | None] = mapped_column(Text, default=None)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), default=None)
    request_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    progress_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    """When a worker last recorded progress: an unfinished batch whose progress stops is
    handed out again."""


class BatchRow(Base):
    __tablename__ = "batch_rows"
    __table_args__ = (Index("ix_batch_rows_pending", "batch_id", "status", "row"),)

    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"), primary_key=True)
    row: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    """1-based: the first row after a CSV header, or the first line of JSON Lines."""
    citizen_id: Mapped[str] = mapped_column(String(64))
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The issuing request without its type (citizen, mobile, validity, data), checked."""
    status: Mapped[str] = mapped_column(String(16), default=RowStatus.PENDING)
    document_id: Mapped[str | None] = mapped_column(String(32), default=None)
    sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)


class BatchError(Base):
    """One problem in one row of an invalid batch (row 0: the file as a whole)."""

    __tablename__ = "batch_errors"
    __table_args__ = (Index("ix_batch_errors_batch_row", "batch_id", "row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"))
    row: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
