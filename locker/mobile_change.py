"""Moving a locker to another mobile number, once both numbers are proved
(:mod:`accounts.mobile_change`): in one transaction the account takes the new number,
its other sessions end, the documents issued to the old number and the citizen records
naming it follow (:mod:`issuer.holders`), so do the records of packages above the locker
(:mod:`accounts.number_moves`: applications), an audit entry is written, and each number
is told."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

import audit
from accounts import mobile_change, number_moves
from accounts.citizens import OtpPolicy
from accounts.models import LockerAccount
from issuer import holders
from sanad.mobile import masked_mobile
from sanad.notify import Channel


@dataclass(frozen=True)
class Notices:
    """What each number is told once the locker moved, each with ``{other}`` (the other
    number, masked): a page passes its own language's."""

    to_old: str = "Your Sanad locker has moved to the number {other}. If you did not do this, contact the helpline."
    to_new: str = "The Sanad locker of {other} has moved to this number. Sign in with this number from now on."


@dataclass(frozen=True)
class LockerMoved:
    old_mobile: str
    new_mobile: str
    documents: int
    moved: dict[str, int]
    """Records of other packages that moved, by kind (``applications``)."""
    sessions_ended: int


def move_locker(
    session: Session,
    channel: Channel,
    secret: str,
    policy: OtpPolicy,
    *,
    account: LockerAccount,
    keep_token: str,
    old_code: str,
    new_code: str,
    ip: str,
    now: datetime,
    notices: Notices = Notices(),
) -> LockerMoved:
    """Carry out the account's pending number change if both codes are right; everything
    joins the caller's transaction, which commits it all or nothing."""
    moved = mobile_change.confirm(
        session,
        secret,
        policy,
        account=account,
        keep_token=keep_token,
        old_code=old_code,
        new_code_entered=new_code,
        ip=ip,
        now=now,
    )
    old, new = moved.old_mobile, moved.new_mobile
    documents = holders.move_documents(session, old, new)
    others = number_moves.publish(session, old, new)
    audit.record(
        session,
        action="locker.mobile_change",
        subject=f"locker:{account.id}",
        actor="citizen",
        # Masked: the log is kept for ever and cannot be edited, so it holds no whole number.
        details={
            "from": masked_mobile(old),
            "to": masked_mobile(new),
            "documents": documents,
            **others,
            "sessions_ended": moved.sessions_ended,
        },
        at=now,
    )
    channel.send(session, old, notices.to_old.format(other=masked_mobile(new)), "notice")
    channel.send(session, new, notices.to_new.format(other=masked_mobile(old)), "notice")
    return LockerMoved(old, new, documents, others, moved.sessions_ended)
