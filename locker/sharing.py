"""Share links: one document, an expiry, optionally one use; every access is logged.

Nothing here commits: each change joins the caller's transaction, which the request
commits before answering, so a link or a logged access exists exactly when the answer
that depends on it is given."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

import audit
from accounts import limits
from locker import repository
from locker.documents import HeldDocument, get_document
from locker.exceptions import ShareGone
from locker.holder import Holder, holder_of
from locker.models import AccessEvent, Share
from sanad.errors import Conflict, FieldError, InvalidInput, NotFound
from sanad.ids import new_document_id, sha256_hex

MAX_SHARE_LIFETIME = timedelta(days=30)
SHARES = "shares"
"""The key a document's new share links take turns on (:mod:`accounts.limits`)."""


@dataclass(frozen=True)
class Visitor:
    """Where an access came from, as the owner will see it in their access log."""

    ip: str
    user_agent: str


@dataclass(frozen=True)
class NewShare:
    share: Share
    token: str
    """The secret in the link; shown once, only its hash is stored."""


def share_state(share: Share, now: datetime) -> str:
    """active, expired, revoked or used."""
    if share.revoked_at is not None:
        return "revoked"
    if share.single_use and share.used_at is not None:
        return "used"
    if share.expires_at <= now:
        return "expired"
    return "active"


def create_share(
    session: Session,
    holder: Holder,
    document_id: str,
    *,
    expires_at: datetime,
    single_use: bool,
    purpose: str | None,
    now: datetime,
    max_live: int,
) -> NewShare:
    """A new link to the document, unless ``max_live`` of its links are live already
    (409): every link is one more way in, so their number is bounded."""
    get_document(session, holder.mobile, document_id)  # the holder's, or 404
    if expires_at <= now:
        raise InvalidInput([FieldError("expires_at", "must be in the future")])
    if expires_at > now + MAX_SHARE_LIFETIME:
        raise InvalidInput([FieldError("expires_at", "must be at most 30 days from now")])
    # Counted and added in one turn: links made at once cannot all see room for one more.
    limits.take_turn(session, limits.key(SHARES, name=document_id), now=now)
    if repository.count_live_shares(session, document_id, now) >= max_live:
        raise Conflict(f"this document already has {max_live} live share links: revoke one to make another")
    token = secrets.token_urlsafe(24)
    share = Share(
        id=new_document_id(),
        token_hash=sha256_hex(token),
        document_id=document_id,
        account_id=holder.account_id,
        purpose=purpose,
        created_at=now,
        expires_at=expires_at,
        single_use=single_use,
    )
    session.add(share)
    session.flush()
    audit.record(
        session,
        action="share.create",
        subject=f"document:{document_id}",
        actor="citizen",
        details={"share": share.id, "single_use": single_use, "expires_at": expires_at.isoformat()},
    )
    return NewShare(share=share, token=token)


def shares_of(session: Session, holder: Holder, document_id: str) -> list[Share]:
    get_document(session, holder.mobile, document_id)
    return repository.shares_of_document(session, holder.account_id, document_id)


def revoke_share(session: Session, holder: Holder, share_id: str, now: datetime) -> Share:
    share = repository.share_of(session, holder.account_id, share_id) if len(share_id) <= 32 else None
    if share is None:
        raise NotFound("no such share")
    if share.revoked_at is not None:
        raise Conflict("the share is already revoked")
    share.revoked_at = now
    session.flush()
    audit.record(
        session,
        action="share.revoke",
        subject=f"document:{share.document_id}",
        actor="citizen",
        details={"share": share.id},
    )
    return share


def _live_share(session: Session, token: str, now: datetime) -> tuple[Share, HeldDocument]:
    share = repository.share_by_token_hash(session, sha256_hex(token)) if len(token) <= 64 else None
    if share is None:
        raise NotFound("no such share link")
    state = share_state(share, now)
    if state != "active":
        raise ShareGone(state)
    account = repository.account_by_id(session, share.account_id)
    if account is None:  # pragma: no cover - a foreign key guarantees it
        raise NotFound("no such share link")
    # Checked again at every access: the document must still be the sharer's.
    held = get_document(session, holder_of(account).mobile, share.document_id)
    return share, held


def _log(session: Session, share: Share, action: str, visitor: Visitor, now: datetime) -> None:
    audit.record(
        session, action=f"share.{action}", subject=f"document:{share.document_id}", actor=f"share:{share.id}", at=now
    )
    session.add(
        AccessEvent(
            account_id=share.account_id,
            document_id=share.document_id,
            via="share",
            share_id=share.id,
            action=action,
            ip=visitor.ip[:45],
            user_agent=visitor.user_agent[:300],
            at=now,
        )
    )


def view_share(session: Session, token: str, visitor: Visitor, now: datetime) -> tuple[Share, HeldDocument]:
    """The shared document's record; logged as a view."""
    share, held = _live_share(session, token, now)
    _log(session, share, "view", visitor, now)
    return share, held


def download_share(session: Session, token: str, visitor: Visitor, now: datetime) -> tuple[Share, HeldDocument]:
    """Authorise one download through the share; spends a single-use share. A concurrent
    download of the same single-use link waits for this transaction and finds it spent."""
    share, held = _live_share(session, token, now)
    if share.single_use and not repository.use_single_use_share(session, share.id, now):
        raise ShareGone("used")
    _log(session, share, "download", visitor, now)
    return share, held


def log_requester_access(
    session: Session, account_id: str, document_id: str, requester: str, action: str, visitor: Visitor, now: datetime
) -> None:
    """Record a third party's read through its OAuth grant (the caller commits)."""
    audit.record(
        session, action=f"requester.{action}", subject=f"document:{document_id}", actor=f"requester:{requester}", at=now
    )
    session.add(
        AccessEvent(
            account_id=account_id,
            document_id=document_id,
            via="requester",
            requester=requester,
            action=action,
            ip=visitor.ip[:45],
            user_agent=visitor.user_agent[:300],
            at=now,
        )
    )


def access_log(
    session: Session, holder: Holder, *, document_id: str | None = None, limit: int = 200
) -> list[tuple[AccessEvent, str | None]]:
    if document_id is not None:
        get_document(session, holder.mobile, document_id)
    return repository.access_events_of(session, holder.account_id, document_id=document_id, limit=limit)
