"""Models shared by every domain: departments, their API keys, and citizens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sanad.db import Base, UTCDateTime


class Department(Base):
    """An issuing authority. Its code names its signing key in the PKI."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_en: Mapped[str] = mapped_column(String(200))
    name_pa: Mapped[str] = mapped_column(String(200))
    name_hi: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApiKey(Base):
    """A department's credential for the API. Only a SHA-256 of the key is stored."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    """The key's public first characters, to tell keys apart in listings."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class Citizen(Base):
    """A document holder as one department knows them. ``ref`` is a random pseudonym used in
    storage keys, so object names never carry the citizen's identifier.

    Citizen ids are the department's own: department A's ``X`` and department B's ``X``
    are two records, and neither department can read or change the other's. A record
    grants nothing: each document carries the number its own issuing request named
    (``documents.holder_mobile``), and only that number's locker sees it."""

    __tablename__ = "citizens"
    __table_args__ = (UniqueConstraint("department_id", "citizen_id", name="uq_citizens_department_citizen_id"),)

    ref: Mapped[str] = mapped_column(String(32), primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    """The department whose namespace ``citizen_id`` is in."""
    citizen_id: Mapped[str] = mapped_column(String(64))
    mobile: Mapped[str | None] = mapped_column(String(10), index=True, default=None)
    """The number the department's latest issuing request for this citizen named: a later
    request naming another one is reported to the issuer and recorded. It opens no locker."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DevMessage(Base):
    """A message the development notification channel "sent": read it here or in the log."""

    __tablename__ = "dev_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(64), index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(String(1000))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
