"""Staff accounts (operators, officers, approvers, department admins, head office): their
passwords (:mod:`accounts.passwords`), their sessions, and a lockout after repeated
failures to sign in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, Select
from sqlalchemy.orm import Session

import audit
from accounts import limits, repository
from accounts.limits import Limit
from accounts.models import StaffRole, StaffSession, StaffUser
from accounts.passwords import MIN_LENGTH, hash_password, needs_rehash, password_matches
from accounts.sessions import SessionKind
from sanad.db import ReadRow
from sanad.errors import Conflict, FieldError, InvalidInput, TooManyRequests, Unauthorized

SESSION_LIFETIME = timedelta(hours=10)
"""One working day."""
LOCKOUT = Limit(count=5, window=timedelta(minutes=15))
"""Failed sign-ins as one username before it is locked, and for how long."""
STAFF_FAILED = "staff_failed"
"""The key a username's attempts take turns on (the failures are in their own table)."""

SESSIONS = SessionKind(
    table=StaffSession,
    owner=StaffUser,
    owner_column="staff_id",
    joined_on=StaffSession.staff_id == StaffUser.id,
    # A deactivated member's sessions stop working at once.
    owner_must=(StaffUser.active.is_(True),),
)


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


SIGNED_IN_COLUMNS = (
    StaffUser.id.label("id"),
    StaffUser.username.label("username"),
    StaffUser.full_name.label("full_name"),
    StaffUser.role.label("role"),
    StaffUser.department_id.label("department_id"),
    StaffUser.office_code.label("office_code"),
)
"""What :func:`signed_in_query` reads of the member: a row of them makes a member as a
``StaffUser`` does (:func:`member_of`)."""


def signed_in_query() -> Select[Any]:
    """``SIGNED_IN_COLUMNS`` of the member whose session the parameters
    (``SESSIONS.parameters``) open, exactly as :func:`member_for_token` finds them, to be
    combined into a query that reads more in the same round trip. Build it once."""
    return SESSIONS.live_owner_query(*SIGNED_IN_COLUMNS)


def member_of(user: StaffUser | Row[Any] | ReadRow) -> StaffMember:
    """The member a ``StaffUser``, or a row of :func:`signed_in_query`, describes."""
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
    if len(password) < MIN_LENGTH:
        problems.append(FieldError("password", f"must be at least {MIN_LENGTH} characters"))
    if role != StaffRole.HEAD_OFFICE and department_id is None:
        problems.append(FieldError("department", "is required for every role but head office"))
    if problems:
        raise InvalidInput(problems)
    if repository.staff_username_taken(session, username):
        raise Conflict(f"a staff member {username!r} already exists")
    user = StaffUser(
        username=username,
        password_hash=hash_password(password),
        full_name=full_name,
        role=role,
        department_id=department_id,
        office_code=office_code,
        active=True,
        created_at=now,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        action="staff.add",
        subject=f"staff:{username}",
        actor="cli",
        details={"role": role.value, "department_id": department_id, "office": office_code},
    )
    return user


def sign_in(session: Session, username: str, password: str, ip: str, now: datetime) -> tuple[StaffMember, str]:
    """A session token for correct credentials; five failures lock the name for 15 minutes.

    Every attempt counts as a failure before the password is checked, and is forgiven
    when it matches: however many attempts arrive at once, at most five are checked, and no
    lock is held during the (deliberately slow) check."""
    counted_as = username[:64]
    limits.take_turn(session, limits.key(STAFF_FAILED, name=counted_as), now=now)
    failures = repository.recent_staff_failures(session, counted_as, since=now - LOCKOUT.window, limit=LOCKOUT.count)
    wait = LOCKOUT.wait(failures, now)
    if wait:
        raise TooManyRequests(f"too many failed sign-ins; try again in {max(1, wait // 60)} minutes", wait)
    attempt = repository.add_staff_failure(session, counted_as, ip, now)
    # Durable now, which also ends the turn: the refusal below rolls the request back and
    # the failure must count regardless, and concurrent attempts must count it meanwhile.
    session.commit()
    user = repository.active_staff_user(session, username)
    matches = password_matches(None if user is None else user.password_hash, password)  # as slow without a user
    if user is None or not matches:
        raise Unauthorized("wrong username or password")
    repository.forgive_staff_failure(session, attempt)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    started = SESSIONS.start(session, user.id, now, SESSION_LIFETIME)
    return member_of(user), started.token


def member_for_token(session: Session, token: str, now: datetime) -> StaffMember | None:
    """The active staff member whose session ``token`` opens, or None."""
    user = SESSIONS.owner_of(session, token, now)
    return None if user is None else member_of(user)


def sign_out(session: Session, token: str, now: datetime) -> None:
    SESSIONS.end(session, token, now)


def count_staff(session: Session) -> int:
    return repository.count_staff(session)


def full_name_of(session: Session, staff_id: int) -> str | None:
    """The name a staff member signs with (printed on what they approve), or ``None``."""
    user = session.get(StaffUser, staff_id)
    return None if user is None else user.full_name
