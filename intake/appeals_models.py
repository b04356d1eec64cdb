"""The appeals table: a citizen's first and second appeals under the Right to Service Act,
and what the appellate authority decided (with any penalty on the designated officer)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from sanad.db import Base, UTCDateTime


class AppealStatus(StrEnum):
    PENDING = "pending"
    DISMISSED = "dismissed"
    ALLOWED = "allowed"
    """Decided for the citizen: the authority ordered the document issued."""
    ESCALATED = "escalated"
    """Left undecided past its time limit and taken to the second appellate authority."""


_PENDING_SQL = "status = 'pending'"


class Appeal(Base):
    __tablename__ = "appeals"
    __table_args__ = (
        # One appeal per level per application: a second try at the same level is refused.
        UniqueConstraint("application_id", "level", name="uq_appeals_application_level"),
        # The desks and pendency read pending appeals only, by office and due date.
        Index(
            "ix_appeals_pending",
            "department_id",
            "office_code",
            "service_code",
            "level",
            "due_on",
            postgresql_where=text(_PENDING_SQL),
            sqlite_where=text(_PENDING_SQL),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    """1: to the first appellate authority; 2: to the second (the commission)."""
    # The application's place, copied so that the desks and pendency need no join.
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    office_code: Mapped[str] = mapped_column(String(32))
    service_code: Mapped[str] = mapped_column(String(64))
    authority: Mapped[str] = mapped_column(String(64))
    """The catalogue's role that hears it, e.g. ``sub-divisional-magistrate``."""
    grounds: Mapped[str] = mapped_column(Text)
    """The citizen's words."""
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_on: Mapped[date] = mapped_column(Date())
    """Last working day for the authority to decide."""
    status: Mapped[str] = mapped_column(String(16), default=AppealStatus.PENDING)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), default=None)
    reasons: Mapped[str | None] = mapped_column(Text, default=None)
    penalty_inr: Mapped[int | None] = mapped_column(Integer, default=None)
    """A penalty on the designated officer, in whole rupees."""
    penalty_reason: Mapped[str | None] = mapped_column(Text, default=None)
    version: Mapped[int] = mapped_column(Integer, default=1)
    """Two authorities deciding at once: one wins, the other gets 409."""

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy's declarative API)
