"""Staff accounts (operators, officers, approvers, department admins, head office):
passwords hashed with argon2id, sessions as hashed random tokens, and a lockout."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from intake.models import StaffRole, StaffSession, StaffSignInFailure, StaffUser
from sanad.errors import Conflict, FieldError, InvalidInput, TooManyRequests, Unauthorized
from sanad.ids import sha256_hex

_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile (64 MiB, 3 passes)
# Verifying against this when the user does not exist keeps both answers equally slow.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

SESSION_LIFETIME = timedelta(hours=10)
"""One working day."""
FAILURES_BEFORE_LOCKOUT = 5
LOCKOUT_WINDOW = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 12


@dataclass(frozen=True)
class StaffMember:
    """The signed-in staff member, as every desk endpoint sees them."""

    id: int
    username: str
    full_name: str
    role: StaffRole
    department_id: int | None
    office_code: str | None

    @property
    def is_head_office(self) -> bool:
        return self.role == StaffRole.HEAD_OFFICE

    @property
    def label(self) -> str:
        """How the timeline names them."""
        return f"{self.full_name} ({self.role.replace('_', ' ')})"


def _member(user: StaffUser) -> StaffMember:
    return StaffMember(
        id=user.id,
        username=user.username,
        full_name=user.full_name,
        role=StaffRole(user.role),
        department_id=user.department_id,
        office_code=user.office_code,
    )


def add_staff(
    session: Session,
    *,
    username: str,
    password: str,
    full_name: str,
    role: StaffRole,
    department_id: int | None,
    office_code: str | None,
    now: datetime,
) -> StaffUser:
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(FieldError("password", f"must be at least {MIN_PASSWORD_LENGTH} characters"))
    if role != StaffRole.HEAD_OFFICE and department_id is None:
        problems.append(FieldError("department", "is required for every role but head office"))
    if problems:
        raise InvalidInput(problems)
    if session.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None:
        raise Conflict(f"a staff member {username!r} already exists")
    user = StaffUser(
        username=username,
        password_hash=_hasher.hash(password),
        full_name=full_name,
        role=role,
        department_id=department_id,
        office_code=office_code,
        active=True,
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user


def sign_in(session: Session, username: str, password: str, ip: str, now: datetime) -> tuple[StaffMember, str]:
    """A session token for correct credentials; five failures lock the name for 15 minutes."""
    failures = list(
        session.scalars(
            select(StaffSignInFailure.at)
            .where(StaffSignInFailure.username == username[:64], StaffSignInFailure.at > now - LOCKOUT_WINDOW)
            .order_by(StaffSignInFailure.at.desc())
            .limit(FAILURES_BEFORE_LOCKOUT)
        )
    )
    if len(failures) >= FAILURES_BEFORE_LOCKOUT:
        wait = int((failures[-1] + LOCKOUT_WINDOW - now).total_seconds()) + 1
        raise TooManyRequests(f"too many failed sign-ins; try again in {max(1, wait // 60)} minutes", wait)
    user = session.scalar(select(StaffUser).where(StaffUser.username == username, StaffUser.active.is_(True)))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
        ok = user is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None:
        session.add(StaffSignInFailure(username=username[:64], ip=ip[:45], at=now))
        session.commit()
        raise Unauthorized("wrong username or password")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    token = secrets.token_urlsafe(32)
    session.add(
        StaffSession(token_hash=sha256_hex(token), staff_id=user.id, created_at=now, expires_at=now + SESSION_LIFETIME)
    )
    session.commit()
    return _member(user), token


def member_for_token(session: Session, token: str, now: datetime) -> StaffMember | None:
    user = session.scalar(
        select(StaffUser)
        .join(StaffSession, StaffSession.staff_id == StaffUser.id)
        .where(
            StaffSession.token_hash == sha256_hex(token),
            StaffSession.revoked_at.is_(None),
            StaffSession.expires_at > now,
            StaffUser.active.is_(True),
        )
    )
    return None if user is None else _member(user)


def sign_out(session: Session, token: str, now: datetime) -> None:
    session.execute(
        update(StaffSession)
        .where(StaffSession.token_hash == sha256_hex(token), StaffSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    session.commit()


def count_staff(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(StaffUser)) or 0)
