"""Models shared by every domain: departments, their API keys, and citizens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
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
    """A document holder. ``ref`` is a random pseudonym used in storage keys,
    so object names never carry the citizen's identifier."""

    __tablename__ = "citizens"

    ref: Mapped[str] = mapped_column(String(32), primary_key=True)
    citizen_id: Mapped[str] = mapped_column(String(64), unique=True)
    mobile: Mapped[str | None] = mapped_column(String(10), index=True, default=None)
    """The mobile number the issuer has on record; its owner signs in to the locker with it."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DevMessage(Base):
    """A message the development notification channel "sent": read it here or in the log."""

    __tablename__ = "dev_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(64), index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(String(1000))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
