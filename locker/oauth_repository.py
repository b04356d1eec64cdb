"""Every SQL query of the requester API: requesters, grants, authorization codes, tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from locker.models import AccessToken, AuthorizationCode, Requester, RequesterGrant

# --- requesters ------------------------------------------------------------------------------


def requester(session: Session, client_id: str) -> Requester | None:
    return session.get(Requester, client_id) if len(client_id) <= 32 else None


# --- authorization codes -----------------------------------------------------------------------


def code_for_client(
    session: Session, code_hash: str, client_id: str
) -> tuple[AuthorizationCode, RequesterGrant] | None:
    """The code and its grant, only if the code was issued to ``client_id``."""
    row = session.execute(
        select(AuthorizationCode, RequesterGrant)
        .join(RequesterGrant, RequesterGrant.id == AuthorizationCode.grant_id)
        .where(AuthorizationCode.code_hash == code_hash, RequesterGrant.client_id == client_id)
    ).first()
    return (row[0], row[1]) if row else None


def spend_code(session: Session, code_hash: str, now: datetime) -> bool:
    """Mark the code used; False when another request used it first (even concurrently)."""
    result = session.execute(
        update(AuthorizationCode)
        .where(AuthorizationCode.code_hash == code_hash, AuthorizationCode.used_at.is_(None))
        .values(used_at=now)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


# --- tokens ------------------------------------------------------------------------------------


def token_with_grant(session: Session, token_hash: str) -> tuple[AccessToken, RequesterGrant, Requester] | None:
    row = session.execute(
        select(AccessToken, RequesterGrant, Requester)
        .join(RequesterGrant, RequesterGrant.id == AccessToken.grant_id)
        .join(Requester, Requester.client_id == RequesterGrant.client_id)
        .where(AccessToken.token_hash == token_hash)
    ).first()
    return (row[0], row[1], row[2]) if row else None


def revoke_token(session: Session, token_hash: str, now: datetime) -> None:
    session.execute(
        update(AccessToken)
        .where(AccessToken.token_hash == token_hash, AccessToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


# --- grants --------------------------------------------------------------------------------------


def grant_of(session: Session, account_id: str, grant_id: str) -> RequesterGrant | None:
    if len(grant_id) > 32:
        return None
    return session.scalar(
        select(RequesterGrant).where(RequesterGrant.id == grant_id, RequesterGrant.account_id == account_id)
    )


def grant_ids_of(session: Session, account_id: str) -> list[str]:
    """Every grant the account ever gave, withdrawn ones too (for its audit record)."""
    return list(session.scalars(select(RequesterGrant.id).where(RequesterGrant.account_id == account_id)))


def revoke_grant(session: Session, grant_id: str, now: datetime) -> None:
    """Withdraw the grant and every token issued on it, in the caller's transaction."""
    session.execute(
        update(RequesterGrant)
        .where(RequesterGrant.id == grant_id, RequesterGrant.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    session.execute(
        update(AccessToken)
        .where(AccessToken.grant_id == grant_id, AccessToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def open_grants_of(
    session: Session, account_id: str, now: datetime
) -> list[tuple[RequesterGrant, Requester, datetime | None, datetime | None]]:
    """Grants not withdrawn that still open something: a usable token, or a code not yet
    exchanged (a pending grant). Each with its requester, when its last usable token
    expires and when its open code expires (``None`` where there is none); newest first."""
    live_tokens = (
        select(AccessToken.grant_id, func.max(AccessToken.expires_at).label("expires_at"))
        .where(AccessToken.revoked_at.is_(None), AccessToken.expires_at > now)
        .group_by(AccessToken.grant_id)
        .subquery()
    )
    open_codes = (
        select(AuthorizationCode.grant_id, func.max(AuthorizationCode.expires_at).label("expires_at"))
        .where(AuthorizationCode.used_at.is_(None), AuthorizationCode.expires_at > now)
        .group_by(AuthorizationCode.grant_id)
        .subquery()
    )
    rows = session.execute(
        select(RequesterGrant, Requester, live_tokens.c.expires_at, open_codes.c.expires_at)
        .outerjoin(live_tokens, live_tokens.c.grant_id == RequesterGrant.id)
        .outerjoin(open_codes, open_codes.c.grant_id == RequesterGrant.id)
        .join(Requester, Requester.client_id == RequesterGrant.client_id)
        .where(
            RequesterGrant.account_id == account_id,
            RequesterGrant.revoked_at.is_(None),
            or_(live_tokens.c.expires_at.is_not(None), open_codes.c.expires_at.is_not(None)),
        )
        .order_by(RequesterGrant.granted_at.desc(), RequesterGrant.id.desc())
    )
    return [(row[0], row[1], row[2], row[3]) for row in rows]
