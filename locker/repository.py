"""Every SQL query of the locker domain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, not_, select, update
from sqlalchemy.orm import Session

from accounts.models import LockerAccount
from locker.models import AccessEvent, Share, Upload

# --- accounts ------------------------------------------------------------------------


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


def count_live_shares(session: Session, document_id: str, now: datetime) -> int:
    """Links to the document that still open it: not revoked, not expired, not spent."""
    spent = and_(Share.single_use.is_(True), Share.used_at.is_not(None))
    live = select(func.count()).where(
        Share.document_id == document_id, Share.revoked_at.is_(None), Share.expires_at > now, not_(spent)
    )
    return int(session.scalar(live) or 0)


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
