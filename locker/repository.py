"""Every SQL query of the locker domain."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from locker.models import AccessEvent, AuthEvent, LockerAccount, LockerSession, OtpChallenge, Share, Upload
from sanad.ids import new_document_id

# --- sign-in ---------------------------------------------------------------------------


def recent_auth_events(
    session: Session, kind: str, *, mobile: str | None, ip: str | None, since: datetime, newest_first_limit: int
) -> tuple[int, datetime | None]:
    """How many of the newest ``newest_first_limit`` events fall after ``since``, and the
    oldest of those (when it leaves the window, one more event is allowed)."""
    query = select(AuthEvent.at).where(AuthEvent.kind == kind, AuthEvent.at > since)
    if mobile is not None:
        query = query.where(AuthEvent.mobile == mobile)
    if ip is not None:
        query = query.where(AuthEvent.ip == ip)
    moments = list(session.scalars(query.order_by(AuthEvent.at.desc()).limit(newest_first_limit)))
    return len(moments), (moments[-1] if moments else None)


def add_auth_event(session: Session, kind: str, mobile: str, ip: str, at: datetime) -> None:
    session.add(AuthEvent(kind=kind, mobile=mobile, ip=ip[:45], at=at))


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


def count_wrong_attempt(session: Session, challenge_id: str) -> int:
    """Add one wrong attempt atomically; returns the new count."""
    session.execute(
        update(OtpChallenge).where(OtpChallenge.id == challenge_id).values(attempts=OtpChallenge.attempts + 1)
    )
    return int(session.scalar(select(OtpChallenge.attempts).where(OtpChallenge.id == challenge_id)) or 0)


def consume_challenge(session: Session, challenge_id: str, now: datetime) -> bool:
    """Mark the code used; False when a concurrent request used it first."""
    result = session.execute(
        update(OtpChallenge)
        .where(OtpChallenge.id == challenge_id, OtpChallenge.consumed_at.is_(None))
        .values(consumed_at=now)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def ensure_account(session: Session, mobile: str, now: datetime) -> LockerAccount:
    values = {"id": new_document_id(), "mobile": mobile, "storage_ref": secrets.token_hex(16), "created_at": now}
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(LockerAccount).values(**values).on_conflict_do_nothing(index_elements=["mobile"]))
    account = session.scalar(select(LockerAccount).where(LockerAccount.mobile == mobile))
    assert account is not None
    return account


def account_for_session(session: Session, token_hash: str, now: datetime) -> LockerAccount | None:
    return session.scalar(
        select(LockerAccount)
        .join(LockerSession, LockerSession.account_id == LockerAccount.id)
        .where(
            LockerSession.token_hash == token_hash,
            LockerSession.revoked_at.is_(None),
            LockerSession.expires_at > now,
        )
    )


def end_session(session: Session, token_hash: str, now: datetime) -> None:
    session.execute(
        update(LockerSession)
        .where(LockerSession.token_hash == token_hash, LockerSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def account_by_id(session: Session, account_id: str) -> LockerAccount | None:
    return session.get(LockerAccount, account_id)


# --- uploads ---------------------------------------------------------------------------


def uploads_of(session: Session, account_id: str, limit: int) -> list[Upload]:
    return list(
        session.scalars(
            select(Upload)
            .where(Upload.account_id == account_id)
            .order_by(Upload.uploaded_at.desc(), Upload.id.desc())
            .limit(limit)
        )
    )


def upload_of(session: Session, account_id: str, upload_id: str) -> Upload | None:
    return session.scalar(select(Upload).where(Upload.id == upload_id, Upload.account_id == account_id))


def referenced_upload_keys(session: Session, keys: list[str]) -> set[str]:
    if not keys:
        return set()
    return set(session.scalars(select(Upload.storage_key).where(Upload.storage_key.in_(keys))))


# --- shares and the access log -----------------------------------------------------------


def share_by_token_hash(session: Session, token_hash: str) -> Share | None:
    return session.scalar(select(Share).where(Share.token_hash == token_hash))


def share_of(session: Session, account_id: str, share_id: str) -> Share | None:
    return session.scalar(select(Share).where(Share.id == share_id, Share.account_id == account_id))


def shares_of_document(session: Session, account_id: str, document_id: str) -> list[Share]:
    return list(
        session.scalars(
            select(Share)
            .where(Share.account_id == account_id, Share.document_id == document_id)
            .order_by(Share.created_at.desc())
        )
    )


def use_single_use_share(session: Session, share_id: str, now: datetime) -> bool:
    """Spend a single-use share; False when it was already spent (even concurrently)."""
    result = session.execute(update(Share).where(Share.id == share_id, Share.used_at.is_(None)).values(used_at=now))
    return bool(getattr(result, "rowcount", 0) == 1)


def access_events_of(
    session: Session, account_id: str, *, document_id: str | None, limit: int
) -> list[tuple[AccessEvent, str | None]]:
    """Newest first, each with the purpose of the share it came through."""
    query = (
        select(AccessEvent, Share.purpose)
        .outerjoin(Share, Share.id == AccessEvent.share_id)
        .where(AccessEvent.account_id == account_id)
    )
    if document_id is not None:
        query = query.where(AccessEvent.document_id == document_id)
    rows = session.execute(query.order_by(AccessEvent.at.desc(), AccessEvent.id.desc()).limit(limit))
    return [(row[0], row[1]) for row in rows]


def count_access_events(session: Session, account_id: str) -> int:
    return int(session.scalar(select(func.count()).where(AccessEvent.account_id == account_id)) or 0)


def purge_sign_in_records(session: Session, *, events_before: datetime, sessions_before: datetime) -> dict[str, int]:
    """Delete rate-limit events, codes and sessions that can no longer matter."""
    counts = {}
    for name, statement in (
        ("auth_events", delete(AuthEvent).where(AuthEvent.at < events_before)),
        ("otp_challenges", delete(OtpChallenge).where(OtpChallenge.expires_at < events_before)),
        ("locker_sessions", delete(LockerSession).where(LockerSession.expires_at < sessions_before)),
    ):
        counts[name] = int(getattr(session.execute(statement), "rowcount", 0) or 0)
    return counts
