"""The intake tables: applications and their timeline, attachments, disposal tallies, the
outbox. Staff members are :mod:`accounts.models`; the ``staff_users.id`` keys here refer
to that table."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from sanad.db import Base, UTCDateTime


class ApplicationStatus(StrEnum):
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    RETURNED = "returned"
    """Sent back to the citizen for information; the legal clock is paused."""
    APPROVED = "approved"
    """Decided; its document is being issued (a restart resumes issuing)."""
    REJECTED = "rejected"
    ISSUED = "issued"


PENDING = (ApplicationStatus.SUBMITTED, ApplicationStatus.UNDER_REVIEW, ApplicationStatus.RETURNED)
"""Waiting for a decision: what the clock, the queue and pendency count."""


_OPEN_SQL = "status IN ('submitted', 'under_review', 'returned', 'approved')"


class IntakeChannel(StrEnum):
    ONLINE = "online"
    SEWA_KENDRA = "sewa_kendra"
    DOORSTEP = "doorstep"


class Application(Base):
    __tablename__ = "applications"
    __table_args__ = (
        # The officer's queue: one department's (and office's) pending work by due date.
        Index("ix_applications_queue", "department_id", "office_code", "status", "due_on"),
        # Pendency and escalation read only open applications: a small share of the table,
        # all of it in this index (an index-only scan for the pendency counts).
        Index(
            "ix_applications_open",
            "department_id",
            "office_code",
            "service_code",
            "status",
            "due_on",
            postgresql_where=text(_OPEN_SQL),
            sqlite_where=text(_OPEN_SQL),
        ),
        Index("ix_applications_citizen", "citizen_ref", "submitted_at"),
        # A citizen's list, and the duplicate check at the counter (same number, same service).
        Index("ix_applications_mobile", "mobile", "service_code", "submitted_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    """Readable and printed on receipts, e.g. ``PB-REV-INC-2026-000123``."""
    service_code: Mapped[str] = mapped_column(String(64))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    office_code: Mapped[str] = mapped_column(String(32))
    citizen_ref: Mapped[str] = mapped_column(ForeignKey("citizens.ref"))
    applicant_name: Mapped[str] = mapped_column(String(200))
    mobile: Mapped[str] = mapped_column(String(10))
    language: Mapped[str] = mapped_column(String(2))
    """The language the citizen applied in; notices to them use it."""
    channel: Mapped[str] = mapped_column(String(16))
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), default=None)
    form: Mapped[dict[str, Any]] = mapped_column(JSON)
    officer_values: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    """What the deciding officer filled in the service's officer fields on approval."""
    status: Mapped[str] = mapped_column(String(16))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_on: Mapped[date] = mapped_column(Date())
    """Last working day to decide, by the service's time limit; moves out while paused."""
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    pauses: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    """Finished pauses as ``[[from_iso, to_iso], ...]``: the clock's history."""
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    """0 none; 1 first appellate authority; 2 second appellate authority."""
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), default=None)
    decision_reason: Mapped[str | None] = mapped_column(Text, default=None)
    document_id: Mapped[str | None] = mapped_column(String(32), default=None)
    version: Mapped[int] = mapped_column(Integer, default=1)
    """Bumped by every change; a decision names the version it saw (two officers: one wins)."""
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy's declarative API)


class ApplicationEvent(Base):
    """One line of an application's timeline: who, when, what, and their remarks."""

    __tablename__ = "application_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(24))
    """submitted, under_review, returned, resubmitted, approved, rejected, issued, escalated."""
    actor: Mapped[str] = mapped_column(String(200))
    """Who, as people read it: "citizen", "operator Ravi Kumar", "Tehsildar, Ludhiana", "system"."""
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), default=None)
    remarks: Mapped[str | None] = mapped_column(Text, default=None)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    """What a return asked for (``{"fields": [...], "attachments": [...]}``) and what the
    answer to it changed (``{"fields", "previous", "current", "attachments"}``);
    see :mod:`intake.returns`."""


class Attachment(Base):
    __tablename__ = "application_attachments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200), index=True)
    """The object holding the file: the file alone, or (``storage_offset`` set) a tar of
    the files uploaded with it (:mod:`intake.packs`)."""
    storage_offset: Mapped[int | None] = mapped_column(Integer, default=None)
    """Where the file's ``size`` bytes start in a packed object; none: the whole object."""
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    replaced_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    """When the citizen answered a return with a new file of this kind; the replaced file
    stays, so the officer can see what changed."""
    replaced_by: Mapped[str | None] = mapped_column(String(32), default=None)
    """The attachment that replaced this one."""


class PendingUpload(Base):
    """A valid file from a form that was refused for another reason, kept so the citizen
    need not choose it again: the page carries a token for it (only its hash is stored),
    good for its owner, the service and the kind only, until it expires. Its object is
    written first and this row second; a submission that uses it copies it into an
    attachment and deletes this row in the same commit."""

    __tablename__ = "pending_uploads"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(40))
    """``citizen:<mobile>`` or ``staff:<id>``: who posted the form."""
    service_code: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class ApplicationCounter(Base):
    """The next serial number per service prefix and year (``PB-REV-INC-2026-``)."""

    __tablename__ = "application_counters"

    prefix: Mapped[str] = mapped_column(String(32), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class DisposalTally(Base):
    """Disposal times kept as a histogram per department, office, service and month, so
    average and 90th-percentile disposal time never scan the applications table."""

    __tablename__ = "disposal_tallies"

    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), primary_key=True)
    office_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    service_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    """``YYYY-MM`` of disposal, India time."""
    histogram: Mapped[list[int]] = mapped_column(JSON)
    """``histogram[d]``: applications disposed in ``d`` working days (the last bucket: or more)."""


class Notification(Base):
    """The outbox: every message to a citizen is a row first, delivered (with retries) after."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index(
            "ix_notifications_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    """sms, whatsapp or email."""
    recipient: Mapped[str] = mapped_column(String(254))
    """A mobile number, or an e-mail address."""
    purpose: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    application_id: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    """pending, sent, or failed (gave up after the last retry)."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
