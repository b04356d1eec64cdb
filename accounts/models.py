"""The tables of who signs in: citizens' accounts and one-time codes, staff members, the
sessions of both, the sign-in events the limits count and the keys they take turns on,
and the e-mail addresses citizens' notices may go to."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sanad.db import Base, UTCDateTime

# --- sessions ------------------------------------------------------------------------------------


class TokenSession(Base):
    """What every session is, whoever signed in: a random token given once (the page
    cookie's value or the API bearer token), of which only the hash is kept, an expiry, and
    the moment it was ended. Each kind of account keeps its sessions in a table of its own."""

    __abstract__ = True

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


# --- citizens ------------------------------------------------------------------------------------


class LockerAccount(Base):
    """A person who signs in with a mobile number. Their locker holds every document
    issued to a citizen record with that number, and what they upload themselves."""

    __tablename__ = "locker_accounts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    mobile: Mapped[str] = mapped_column(String(10), unique=True)
    storage_ref: Mapped[str] = mapped_column(String(32), unique=True)
    """Pseudonym naming the account's objects, so object names never carry the number."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OtpChallenge(Base):
    """One one-time password sent to a number. Only a keyed hash of the code is kept."""

    __tablename__ = "otp_challenges"
    __table_args__ = (Index("ix_otp_challenges_mobile_created", "mobile", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    mobile: Mapped[str] = mapped_column(String(10))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class MobileChange(Base):
    """A citizen's request to move their locker to another number: one code sent to the
    number the locker has and one to the new number, both entered together. Only keyed
    hashes of the codes are kept; the attempts are counted for the pair."""

    __tablename__ = "mobile_changes"
    __table_args__ = (Index("ix_mobile_changes_account_created", "account_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("locker_accounts.id"))
    old_mobile: Mapped[str] = mapped_column(String(10))
    new_mobile: Mapped[str] = mapped_column(String(10))
    old_code_hash: Mapped[str] = mapped_column(String(64))
    new_code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    """When it was carried out, or replaced by a newer request; it accepts no code after."""
    completed: Mapped[bool] = mapped_column(Boolean, default=False)
    """Carried out (the locker moved), as opposed to replaced."""


class AuthEvent(Base):
    """An event that a limit counts: a code sent, a wrong code entered, a tracking lookup
    that matched nothing."""

    __tablename__ = "auth_events"
    __table_args__ = (
        Index("ix_auth_events_mobile", "kind", "mobile", "at"),
        Index("ix_auth_events_ip", "kind", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    mobile: Mapped[str] = mapped_column(String(10))
    """Empty for events counted per address only."""
    ip: Mapped[str] = mapped_column(String(45))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class LockerSession(TokenSession):
    """A citizen's session."""

    __tablename__ = "locker_sessions"

    account_id: Mapped[str] = mapped_column(ForeignKey("locker_accounts.id"), index=True)


# --- staff ---------------------------------------------------------------------------------------


class StaffRole(StrEnum):
    OPERATOR = "operator"
    """Sewa Kendra counter staff: applies on a citizen's behalf."""
    OFFICER = "officer"
    """Reviews and decides applications of their department and office."""
    APPROVER = "approver"
    """Decides, and is an appellate authority for escalations."""
    DEPARTMENT_ADMIN = "department_admin"
    HEAD_OFFICE = "head_office"
    """Sees pendency across every department."""


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    """argon2id, with its parameters, as argon2-cffi writes it."""
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(24))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), default=None)
    """None only for head office."""
    office_code: Mapped[str | None] = mapped_column(String(32), default=None)
    """None: every office of the department."""
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StaffSession(TokenSession):
    """A staff member's session."""

    __tablename__ = "staff_sessions"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)


class StaffSignInFailure(Base):
    """A failed staff sign-in, counted for the lockout."""

    __tablename__ = "staff_sign_in_failures"
    __table_args__ = (Index("ix_staff_sign_in_failures_recent", "username", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(45))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


# --- limits ----------------------------------------------------------------------------------------


class LimitKey(Base):
    """One row per thing a limit is counted for (a number, an address, a username, a
    document's share links). A request that counts and then adds locks its key's row first
    and keeps it until its transaction ends, so concurrent requests for the same key take
    turns and each counts what the one before it added (:func:`accounts.limits.take_turn`)."""

    __tablename__ = "limit_keys"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    touched_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    """When a request last locked it; keys untouched for longer than every window are purged."""


# --- e-mail addresses ------------------------------------------------------------------------------


class EmailAddress(Base):
    """An e-mail address someone typed in with a mobile number (on an application form),
    and whether the mailbox's reader has proved they want mail there: notices go to it
    only once ``verified_at`` is set. Only the hash of the one-time link's secret is kept."""

    __tablename__ = "email_addresses"
    __table_args__ = (UniqueConstraint("mobile", "email", name="uq_email_addresses_mobile_email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mobile: Mapped[str] = mapped_column(String(10))
    email: Mapped[str] = mapped_column(String(254))
    """As typed, with its domain in lower case."""
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    """SHA-256 of the secret in the newest link sent; None once the address is verified."""
    link_sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
