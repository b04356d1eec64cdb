"""A citizen moves their locker to another mobile number, proving both numbers: one code
goes to the number the locker has and another to the new one, and both are entered
together.

The codes follow the sign-in's rules (:mod:`accounts.citizens`) and share its limits:
only keyed hashes are kept, a pair lives as long as a sign-in code, the attempts at a
pair are claimed one by one before the codes are compared, and sends and wrong entries
count per number and per address. A number that already has a locker is refused:
lockers are never merged. What moves besides the account (documents, applications) is
the caller's (:mod:`locker.mobile_change`).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accounts import limits, repository
from accounts.citizens import (
    FAILED,
    SENT,
    SESSIONS,
    OtpPolicy,
    code_hash,
    new_code,
    refuse_if_blocked,
    refuse_if_sending_too_often,
)
from accounts.exceptions import CodeExpired, CodeVoid, NumberTaken, SameNumber, WrongCode
from accounts.models import LockerAccount, MobileChange
from sanad.notify import Channel

OLD, NEW = "old", "new"
"""Which number a code went to; each code's hash is bound to it, so the two cannot be swapped."""


@dataclass(frozen=True)
class Wording:
    """The two messages, each with ``{code}``, ``{minutes}`` and ``{other}`` (the other
    number, masked): a page passes its own language's."""

    to_old: str = (
        "{code} is your Sanad code to move your locker to the number {other}. It expires in {minutes} minutes."
    )
    to_new: str = (
        "{code} is your Sanad code to move the locker of {other} to this number. It expires in {minutes} minutes."
    )


@dataclass(frozen=True)
class Moved:
    """A change carried out: the account has the new number."""

    account: LockerAccount
    old_mobile: str
    new_mobile: str
    sessions_ended: int
    """The account's other sessions, signed out by the change."""


def start(
    session: Session,
    channel: Channel,
    secret: str,
    policy: OtpPolicy,
    *,
    account: LockerAccount,
    new_mobile: str,
    ip: str,
    now: datetime,
    wording: Wording = Wording(),
    masked: tuple[str, str] = ("", ""),
) -> MobileChange:
    """Send a code to the account's number and another to ``new_mobile``; an earlier
    change waiting for its codes stops working. ``masked`` is how each message names the
    other number (old, new)."""
    old_mobile = account.mobile
    if new_mobile == old_mobile:
        raise SameNumber
    if repository.account_by_mobile(session, new_mobile) is not None:
        raise NumberTaken
    # Held until this request's transaction ends, both codes sent and counted.
    limits.take_turn(
        session,
        limits.key(SENT, mobile=old_mobile),
        limits.key(SENT, mobile=new_mobile),
        limits.key(SENT, ip=ip),
        now=now,
    )
    refuse_if_blocked(session, policy, old_mobile, ip, now)
    refuse_if_sending_too_often(session, policy, (old_mobile, new_mobile), ip, now)

    codes = {OLD: new_code(policy), NEW: new_code(policy)}
    change = MobileChange(
        id=secrets.token_hex(16),
        account_id=account.id,
        old_mobile=old_mobile,
        new_mobile=new_mobile,
        created_at=now,
        expires_at=now + policy.lifetime,
        attempts=0,
        completed=False,
    )
    change.old_code_hash = code_hash(secret, f"{change.id}:{OLD}", codes[OLD])
    change.new_code_hash = code_hash(secret, f"{change.id}:{NEW}", codes[NEW])
    repository.close_open_changes(session, account.id, now)
    session.add(change)
    for mobile in (old_mobile, new_mobile):
        limits.record(session, SENT, mobile=mobile, ip=ip, at=now)
    minutes = int(policy.lifetime.total_seconds() // 60)
    old_masked, new_masked = masked
    channel.send(session, old_mobile, wording.to_old.format(code=codes[OLD], minutes=minutes, other=new_masked), "otp")
    channel.send(session, new_mobile, wording.to_new.format(code=codes[NEW], minutes=minutes, other=old_masked), "otp")
    return change


def pending(session: Session, account: LockerAccount, now: datetime) -> MobileChange | None:
    """The change waiting for its codes, if it can still be confirmed."""
    change = repository.open_change(session, account.id)
    return change if change is not None and change.expires_at > now else None


def confirm(
    session: Session,
    secret: str,
    policy: OtpPolicy,
    *,
    account: LockerAccount,
    keep_token: str,
    old_code: str,
    new_code_entered: str,
    ip: str,
    now: datetime,
) -> Moved:
    """Give the account the new number when both codes are right, and sign out every
    other session of it (``keep_token``'s stays). A wrong pair counts against the
    attempts and the sign-in's failure limits, like a wrong sign-in code. Joins the
    caller's transaction, which moves the rest and commits."""
    limits.take_turn(session, limits.key(FAILED, mobile=account.mobile), limits.key(FAILED, ip=ip), now=now)
    refuse_if_blocked(session, policy, account.mobile, ip, now)
    change = repository.open_change(session, account.id)
    if change is None:
        raise CodeVoid("no number change is waiting for its codes: start again")
    if change.expires_at <= now:
        raise CodeExpired("the codes have expired: start again to get new ones")
    attempts = repository.claim_change_attempt(session, change.id, policy.attempts_per_code)
    if attempts is None:
        raise CodeVoid("the codes were entered wrongly too many times: start again")
    right_old = hmac.compare_digest(code_hash(secret, f"{change.id}:{OLD}", old_code.strip()), change.old_code_hash)
    right_new = hmac.compare_digest(
        code_hash(secret, f"{change.id}:{NEW}", new_code_entered.strip()), change.new_code_hash
    )
    if not (right_old and right_new):
        limits.record(session, FAILED, mobile=account.mobile, ip=ip, at=now)
        # The refusal rolls the request back; the wrong guess must count regardless.
        session.commit()
        left = policy.attempts_per_code - attempts
        if left <= 0:
            raise CodeVoid("wrong codes, and no attempts left: start again")
        raise WrongCode(left)
    if repository.account_by_mobile(session, change.new_mobile) is not None:
        raise NumberTaken  # someone signed in with the new number since the codes were sent
    if not repository.complete_change(session, change.id, now):
        raise CodeVoid("these codes were already used")
    old_mobile = account.mobile
    account.mobile = change.new_mobile
    try:
        session.flush()
    except IntegrityError as e:  # the new number's first sign-in, at this very moment
        raise NumberTaken from e
    repository.move_email_addresses(session, old_mobile, change.new_mobile)
    ended = SESSIONS.end_others(session, account.id, keep_token, now)
    return Moved(account=account, old_mobile=old_mobile, new_mobile=change.new_mobile, sessions_ended=ended)
