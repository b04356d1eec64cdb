"""One session mechanism for citizens and staff: the token opens its own account's session
until it expires or is ended, and only its hash is stored."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts import citizens, repository, staff
from accounts.models import StaffRole, StaffUser
from accounts.sessions import SessionKind
from sanad.ids import sha256_hex
from tests.locker.conftest import new_mobile

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def a_citizen(session: Session) -> str:
    return repository.ensure_account(session, new_mobile(), START).id


def a_staff_member(session: Session) -> int:
    user = staff.add_staff(
        session,
        username=f"head-{secrets.token_hex(4)}",
        password="correct horse battery staple",
        full_name="Head Office",
        role=StaffRole.HEAD_OFFICE,
        department_id=None,
        office_code=None,
        now=START,
    )
    return user.id


KINDS = [(citizens.SESSIONS, a_citizen), (staff.SESSIONS, a_staff_member)]


@pytest.mark.parametrize(("kind", "make_owner"), KINDS, ids=["citizen", "staff"])
def test_a_session_lasts_its_lifetime_and_ends_when_asked(
    session: Session, kind: SessionKind[Any], make_owner: Callable[[Session], object]
) -> None:
    owner_id = make_owner(session)
    started = kind.start(session, owner_id, START, HOUR)
    kind.start(session, owner_id, START, HOUR)  # a second session of the same account

    assert started.expires_at == START + HOUR
    found = kind.owner_of(session, started.token, START + HOUR - timedelta(seconds=1))
    assert found is not None
    assert found.id == owner_id
    assert kind.owner_of(session, started.token, START + HOUR) is None  # expired
    assert kind.owner_of(session, "not-" + started.token, START) is None
    stored = session.scalars(select(kind.table.token_hash)).all()
    assert sha256_hex(started.token) in stored
    assert started.token not in stored

    kind.end(session, started.token, START)
    assert kind.owner_of(session, started.token, START) is None
    assert kind.forget(session, expired_before=START + 2 * HOUR) >= 2


def test_sessions_of_one_kind_do_not_open_the_other(session: Session) -> None:
    citizen = citizens.SESSIONS.start(session, a_citizen(session), START, HOUR)
    member = staff.SESSIONS.start(session, a_staff_member(session), START, HOUR)

    assert staff.member_for_token(session, citizen.token, START) is None
    assert citizens.account_for_token(session, member.token, START) is None


def test_a_deactivated_staff_members_sessions_stop_at_once(session: Session) -> None:
    staff_id = a_staff_member(session)
    started = staff.SESSIONS.start(session, staff_id, START, HOUR)
    assert staff.member_for_token(session, started.token, START) is not None

    user = session.get(StaffUser, staff_id)
    assert user is not None
    user.active = False

    assert staff.member_for_token(session, started.token, START) is None
