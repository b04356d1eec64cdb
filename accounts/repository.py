"""Every SQL query of the accounts package."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from accounts.models import (
    AuthEvent,
    EmailAddress,
    LimitKey,
    LockerAccount,
    MobileChange,
    OtpChallenge,
    StaffSignInFailure,
    StaffUser,
    TokenSession,
)
from sanad.db import Base
from sanad.ids import new_document_id

Owner = TypeVar("Owner")


def _insert(session: Session) -> Callable[[type[Base]], postgresql.Insert | sqlite.Insert]:
    """The backend's INSERT, which knows ON CONFLICT."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


# --- sessions, of either kind ------------------------------------------------------------------


def owner_of_session(
    session: Session,
    owner: type[Owner],
    table: type[TokenSession],
    joined_on: ColumnElement[bool],
    token_hash: str,
    now: datetime,
    *conditions: ColumnElement[bool],
) -> Owner | None:
    """Whose live session has ``token_hash``: neither ended nor expired."""
    return session.scalar(
        select(owner)
        .join(table, joined_on)
        .where(table.token_hash == token_hash, table.revoked_at.is_(None), table.expires_at > now, *conditions)
    )


def live_session_owner_query(
    owner: type[Owner],
    table: type[TokenSession],
    joined_on: ColumnElement[bool],
    columns: Sequence[ColumnElement[Any]],
    *conditions: ColumnElement[bool],
) -> Select[Any]:
    """``columns`` of the account whose live session has the parameter ``token_hash`` at
    the parameter ``now``: as :func:`owner_of_session`, to be joined into a larger query."""
    return (
        select(*columns)
        .select_from(table)
        .join(owner, joined_on)
        .where(
            table.token_hash == bindparam("token_hash"),
            table.revoked_at.is_(None),
            table.expires_at > bindparam("now", type_=table.expires_at.type),
            *conditions,
        )
    )


def end_session(session: Session, table: type[TokenSession], token_hash: str, now: datetime) -> None:
    session.execute(
        update(table).where(table.token_hash == token_hash, table.revoked_at.is_(None)).values(revoked_at=now)
    )


def delete_sessions(session: Session, table: type[TokenSession], *, expired_before: datetime) -> int:
    return _rows(session.execute(delete(table).where(table.expires_at < expired_before)))


def _rows(result: object) -> int:
    """How many rows a statement changed."""
    return int(getattr(result, "rowcount", 0) or 0)


# --- the events limits count ---------------------------------------------------------------------


def recent_events(
    session: Session, kind: str, *, mobile: str | None, ip: str | None, since: datetime, limit: int
) -> list[datetime]:
    """When the newest ``limit`` events of ``kind`` after ``since`` happened, newest first."""
    query = select(AuthEvent.at).where(AuthEvent.kind == kind, AuthEvent.at > since)
    if mobile is not None:
        query = query.where(AuthEvent.mobile == mobile)
    if ip is not None:
        query = query.where(AuthEvent.ip == ip)
    return list(session.scalars(query.order_by(AuthEvent.at.desc()).limit(limit)))


def add_event(session: Session, kind: str, mobile: str, ip: str, at: datetime) -> None:
    session.add(AuthEvent(kind=kind, mobile=mobile, ip=ip[:45], at=at))


def delete_events(session: Session, *, before: datetime) -> int:
    return _rows(session.execute(delete(AuthEvent).where(AuthEvent.at < before)))


def lock_limit_key(session: Session, key: str, now: datetime) -> None:
    """Lock ``key``'s row until the transaction ends, creating it if need be: a concurrent
    upsert of the same key waits for this transaction (and on SQLite, any write does)."""
    statement = _insert(session)(LimitKey).values(key=key, touched_at=now)
    session.execute(
        statement.on_conflict_do_update(index_elements=["key"], set_={"touched_at": statement.excluded.touched_at})
    )


def delete_limit_keys(session: Session, *, before: datetime) -> int:
    return _rows(session.execute(delete(LimitKey).where(LimitKey.touched_at < before)))


# --- citizens: one-time codes and accounts -------------------------------------------------------


def void_open_challenges(session: Session, mobile: str, now: datetime) -> None:
    session.execute(
        update(OtpChallenge)
        .where(OtpChallenge.mobile == mobile, OtpChallenge.consumed_at.is_(None), OtpChallenge.expires_at > now)
        .values(consumed_at=now)
    )


def open_challenge(session: Session, mobile: str, now: datetime) -> OtpChallenge | None:
    return session.scalar(
        select(OtpChallenge)
        .where(OtpChallenge.mobile == mobile, OtpChallenge.consumed_at.is_(None), OtpChallenge.expires_at > now)
        .order_by(OtpChallenge.created_at.desc())
        .limit(1)
    )


def claim_attempt(session: Session, challenge_id: str, attempts_allowed: int) -> int | None:
    """Count one attempt at the code, in one statement, only while fewer than
    ``attempts_allowed`` were made: the attempt's number, or None when none is left (even
    when concurrent attempts took the last ones)."""
    claimed = session.execute(
        update(OtpChallenge)
        .where(OtpChallenge.id == challenge_id, OtpChallenge.attempts < attempts_allowed)
        .values(attempts=OtpChallenge.attempts + 1)
        .returning(OtpChallenge.attempts)
    ).scalar_one_or_none()
    return None if claimed is None else int(claimed)


def consume_challenge(session: Session, challenge_id: str, now: datetime) -> bool:
    """Mark the code used; False when a concurrent request used it first."""
    result = session.execute(
        update(OtpChallenge)
        .where(OtpChallenge.id == challenge_id, OtpChallenge.consumed_at.is_(None))
        .values(consumed_at=now)
    )
    return _rows(result) == 1


def delete_challenges(session: Session, *, expired_before: datetime) -> int:
    return _rows(session.execute(delete(OtpChallenge).where(OtpChallenge.expires_at < expired_before)))


def ensure_account(session: Session, mobile: str, now: datetime) -> LockerAccount:
    values = {"id": new_document_id(), "mobile": mobile, "storage_ref": secrets.token_hex(16), "created_at": now}
    session.execute(_insert(session)(LockerAccount).values(**values).on_conflict_do_nothing(index_elements=["mobile"]))
    account = session.scalar(select(LockerAccount).where(LockerAccount.mobile == mobile))
    assert account is not None
    return account


def account_by_mobile(session: Session, mobile: str) -> LockerAccount | None:
    return session.scalar(select(LockerAccount).where(LockerAccount.mobile == mobile))


# --- citizens: moving to another number ------------------------------------------------------------


def close_open_changes(session: Session, account_id: str, now: datetime) -> None:
    session.execute(
        update(MobileChange)
        .where(MobileChange.account_id == account_id, MobileChange.closed_at.is_(None))
        .values(closed_at=now)
    )


def open_change(session: Session, account_id: str) -> MobileChange | None:
    """The account's newest change not yet carried out or replaced, expired or not."""
    return session.scalar(
        select(MobileChange)
        .where(MobileChange.account_id == account_id, MobileChange.closed_at.is_(None))
        .order_by(MobileChange.created_at.desc())
        .limit(1)
    )


def claim_change_attempt(session: Session, change_id: str, attempts_allowed: int) -> int | None:
    """As :func:`claim_attempt`, for the pair of codes of a number change."""
    claimed = session.execute(
        update(MobileChange)
        .where(MobileChange.id == change_id, MobileChange.attempts < attempts_allowed)
        .values(attempts=MobileChange.attempts + 1)
        .returning(MobileChange.attempts)
    ).scalar_one_or_none()
    return None if claimed is None else int(claimed)


def complete_change(session: Session, change_id: str, now: datetime) -> bool:
    """Mark the change carried out; False when a concurrent request did first."""
    result = session.execute(
        update(MobileChange)
        .where(MobileChange.id == change_id, MobileChange.closed_at.is_(None))
        .values(closed_at=now, completed=True)
    )
    return _rows(result) == 1


def delete_changes(session: Session, *, expired_before: datetime) -> int:
    return _rows(session.execute(delete(MobileChange).where(MobileChange.expires_at < expired_before)))


def end_sessions_except(
    session: Session, table: type[TokenSession], owner: ColumnElement[bool], keep_hash: str, now: datetime
) -> int:
    """End every live session ``owner`` selects but the one whose token hash is ``keep_hash``."""
    result = session.execute(
        update(table)
        .where(owner, table.token_hash != keep_hash, table.revoked_at.is_(None), table.expires_at > now)
        .values(revoked_at=now)
    )
    return _rows(result)


def move_email_addresses(session: Session, old_mobile: str, new_mobile: str) -> int:
    """The addresses given with ``old_mobile`` now go with ``new_mobile``; one the new
    number already has stays as the new number has it."""
    held = select(EmailAddress.email).where(EmailAddress.mobile == new_mobile).scalar_subquery()
    session.execute(delete(EmailAddress).where(EmailAddress.mobile == old_mobile, EmailAddress.email.in_(held)))
    return _rows(
        session.execute(update(EmailAddress).where(EmailAddress.mobile == old_mobile).values(mobile=new_mobile))
    )


# --- staff -----------------------------------------------------------------------------------------


def recent_staff_failures(session: Session, username: str, *, since: datetime, limit: int) -> list[datetime]:
    """When the newest ``limit`` failed sign-ins as ``username`` after ``since`` happened, newest first."""
    return list(
        session.scalars(
            select(StaffSignInFailure.at)
            .where(StaffSignInFailure.username == username, StaffSignInFailure.at > since)
            .order_by(StaffSignInFailure.at.desc())
            .limit(limit)
        )
    )


def add_staff_failure(session: Session, username: str, ip: str, at: datetime) -> StaffSignInFailure:
    failure = StaffSignInFailure(username=username, ip=ip[:45], at=at)
    session.add(failure)
    session.flush()
    return failure


def forgive_staff_failure(session: Session, failure: StaffSignInFailure) -> None:
    session.delete(failure)


def active_staff_user(session: Session, username: str) -> StaffUser | None:
    return session.scalar(select(StaffUser).where(StaffUser.username == username, StaffUser.active.is_(True)))


def staff_username_taken(session: Session, username: str) -> bool:
    return session.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None


def count_staff(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(StaffUser)) or 0)


# --- e-mail addresses --------------------------------------------------------------------------------


def email_address(session: Session, mobile: str, email: str, *, verified: bool = False) -> EmailAddress | None:
    query = select(EmailAddress).where(EmailAddress.mobile == mobile, EmailAddress.email == email)
    if verified:
        query = query.where(EmailAddress.verified_at.is_not(None))
    return session.scalar(query)


def email_awaiting_proof(session: Session, token_hash: str, *, sent_after: datetime) -> EmailAddress | None:
    return session.scalar(
        select(EmailAddress).where(
            EmailAddress.token_hash == token_hash,
            EmailAddress.verified_at.is_(None),
            EmailAddress.link_sent_at > sent_after,
        )
    )


def verify_email_address(session: Session, address_id: int, now: datetime) -> bool:
    """Verified, and its link spent, in one conditional update: False when a concurrent
    request did it first."""
    result = session.execute(
        update(EmailAddress)
        .where(EmailAddress.id == address_id, EmailAddress.verified_at.is_(None))
        .values(verified_at=now, token_hash=None)
        .execution_options(synchronize_session="fetch")
    )
    return _rows(result) == 1


def delete_unconfirmed_email_addresses(session: Session, *, sent_before: datetime) -> int:
    unconfirmed = (EmailAddress.verified_at.is_(None), EmailAddress.link_sent_at < sent_before)
    return _rows(session.execute(delete(EmailAddress).where(*unconfirmed)))
