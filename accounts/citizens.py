"""Citizens sign in with a mobile number and a one-time code; a session follows.

Every limit is counted in the database (:mod:`accounts.limits`), so it holds across worker
processes, and each is exact under concurrency: codes sent per number and per address, and
wrong codes per number and per address, are counted after taking a turn on their keys;
attempts at one code are claimed one by one in a single conditional update before the code
is compared.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from accounts import emails, limits, repository
from accounts.exceptions import CodeVoid, WrongCode
from accounts.limits import Limit
from accounts.models import LockerAccount, LockerSession, OtpChallenge
from accounts.sessions import SessionKind
from sanad.errors import TooManyRequests
from sanad.notify import Channel
from web.i18n import whole_minutes

SENT = "otp_sent"
FAILED = "otp_failed"

SESSIONS = SessionKind(
    table=LockerSession,
    owner=LockerAccount,
    owner_column="account_id",
    joined_on=LockerSession.account_id == LockerAccount.id,
)


@dataclass(frozen=True)
class OtpPolicy:
    """How one-time passwords behave. The defaults follow common banking practice."""

    digits: int = 6
    lifetime: timedelta = timedelta(minutes=5)
    """A code is accepted for this long after it is sent."""
    attempts_per_code: int = 5
    """Wrong entries before a code is void and a new one must be requested."""
    sends_per_mobile: int = 3
    send_window: timedelta = timedelta(minutes=15)
    """At most ``sends_per_mobile`` codes to one number within this window."""
    sends_per_ip: int = 20
    failures_per_mobile: int = 10
    failures_per_ip: int = 30
    abuse_window: timedelta = timedelta(hours=1)
    """Window for ``sends_per_ip`` and the failure limits."""


@dataclass(frozen=True)
class CodeSent:
    mobile: str
    expires_at: datetime
    resend_after: datetime
    """When another code may be requested without hitting the limit."""


@dataclass(frozen=True)
class SignedIn:
    account: LockerAccount
    token: str
    """Shown once: the session cookie's value or the API bearer token."""
    expires_at: datetime


def code_hash(secret: str, challenge_id: str, code: str) -> str:
    """The keyed hash a code is kept as, bound to the challenge it was sent for."""
    return hmac.new(secret.encode(), f"{challenge_id}:{code}".encode(), hashlib.sha256).hexdigest()


def new_code(policy: OtpPolicy) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(policy.digits))


def in_minutes(seconds: int) -> str:
    minutes = whole_minutes(seconds)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def refuse_if_blocked(session: Session, policy: OtpPolicy, mobile: str, ip: str, now: datetime) -> None:
    per_mobile = Limit(policy.failures_per_mobile, policy.abuse_window)
    per_ip = Limit(policy.failures_per_ip, policy.abuse_window)
    wait = limits.wait_for(session, FAILED, per_mobile, now, mobile=mobile)
    wait = wait or limits.wait_for(session, FAILED, per_ip, now, ip=ip)
    if wait:
        raise TooManyRequests(f"too many wrong codes; try again in {in_minutes(wait)}", wait)


def refuse_if_sending_too_often(
    session: Session, policy: OtpPolicy, mobiles: Sequence[str], ip: str, now: datetime
) -> None:
    """Refuse one more code to any of ``mobiles``, or from ``ip``, beyond the limits; call
    it after taking a turn on the keys (:func:`accounts.limits.take_turn`)."""
    per_mobile = Limit(policy.sends_per_mobile, policy.send_window)
    for mobile in mobiles:
        wait = limits.wait_for(session, SENT, per_mobile, now, mobile=mobile)
        if wait:
            raise TooManyRequests(f"too many codes sent to this number; try again in {in_minutes(wait)}", wait)
    wait = limits.wait_for(session, SENT, Limit(policy.sends_per_ip, policy.abuse_window), now, ip=ip)
    if wait:
        raise TooManyRequests(f"too many codes requested from this address; try again in {in_minutes(wait)}", wait)


CODE_WORDING = "{code} is your Sanad sign-in code. It expires in {minutes} minutes."
"""The sign-in message; a page passes its own language's, with the same placeholders."""


def send_code(
    session: Session,
    channel: Channel,
    secret: str,
    policy: OtpPolicy,
    *,
    mobile: str,
    ip: str,
    now: datetime,
    wording: str = CODE_WORDING,
) -> CodeSent:
    """Send a fresh code to ``mobile``, worded by ``wording`` (``{code}``, ``{minutes}``);
    earlier codes stop working."""
    # Held until this request's transaction ends, the code sent and counted.
    limits.take_turn(session, limits.key(SENT, mobile=mobile), limits.key(SENT, ip=ip), now=now)
    refuse_if_blocked(session, policy, mobile, ip, now)
    refuse_if_sending_too_often(session, policy, (mobile,), ip, now)

    code = new_code(policy)
    challenge = OtpChallenge(
        id=secrets.token_hex(16), mobile=mobile, created_at=now, expires_at=now + policy.lifetime, attempts=0
    )
    challenge.code_hash = code_hash(secret, challenge.id, code)
    repository.void_open_challenges(session, mobile, now)
    session.add(challenge)
    limits.record(session, SENT, mobile=mobile, ip=ip, at=now)
    minutes = int(policy.lifetime.total_seconds() // 60)
    channel.send(session, mobile, wording.format(code=code, minutes=minutes), "otp")
    per_mobile = Limit(policy.sends_per_mobile, policy.send_window)
    resend_after = now + timedelta(seconds=limits.wait_for(session, SENT, per_mobile, now, mobile=mobile))
    return CodeSent(mobile=mobile, expires_at=challenge.expires_at, resend_after=resend_after)


def sign_in(
    session: Session,
    secret: str,
    policy: OtpPolicy,
    *,
    mobile: str,
    code: str,
    ip: str,
    now: datetime,
    session_lifetime: timedelta,
) -> SignedIn:
    """Exchange a correct code for a session; a wrong one counts against every limit."""
    # Held until the wrong code is counted (or the session started).
    limits.take_turn(session, limits.key(FAILED, mobile=mobile), limits.key(FAILED, ip=ip), now=now)
    refuse_if_blocked(session, policy, mobile, ip, now)
    challenge = repository.open_challenge(session, mobile, now)
    if challenge is None:
        raise CodeVoid("no valid code for this number: request a new one")
    # The attempt is claimed before the code is compared, so however many guesses arrive
    # at once, no more than attempts_per_code of them are ever compared.
    attempts = repository.claim_attempt(session, challenge.id, policy.attempts_per_code)
    if attempts is None:
        raise CodeVoid("this code was entered wrongly too many times: request a new one")
    expected = code_hash(secret, challenge.id, code.strip())
    if not hmac.compare_digest(expected, challenge.code_hash):
        limits.record(session, FAILED, mobile=mobile, ip=ip, at=now)
        # The refusal below rolls the request back; the wrong guess must count regardless,
        # or guessing would be free.
        session.commit()
        left = policy.attempts_per_code - attempts
        if left <= 0:
            raise CodeVoid("wrong code, and no attempts left: request a new one")
        raise WrongCode(left)
    if not repository.consume_challenge(session, challenge.id, now):
        raise CodeVoid("this code was already used: request a new one")
    account = repository.ensure_account(session, mobile, now)
    started = SESSIONS.start(session, account.id, now, session_lifetime)
    return SignedIn(account=account, token=started.token, expires_at=started.expires_at)


def account_for_token(session: Session, token: str, now: datetime) -> LockerAccount | None:
    """The citizen whose session ``token`` opens, or None."""
    return SESSIONS.owner_of(session, token, now)


SIGNED_IN_COLUMNS = (
    LockerAccount.id.label("account_id"),
    LockerAccount.mobile.label("account_mobile"),
    LockerAccount.storage_ref.label("account_storage_ref"),
)
"""What :func:`signed_in_query` reads of the account, by these names."""


def signed_in_query() -> Select[Any]:
    """``SIGNED_IN_COLUMNS`` of the citizen whose session the parameters
    (:func:`signed_in_parameters`) open, exactly as :func:`account_for_token` finds them,
    to be joined into a query that reads more in the same round trip."""
    return SESSIONS.live_owner_query(*SIGNED_IN_COLUMNS)


SIGNED_IN_MOBILE = SESSIONS.live_owner_query(LockerAccount.mobile.label("mobile")).scalar_subquery()
"""The number of the citizen whose session the parameters (:func:`signed_in_parameters`)
open, as a scalar subquery (null when none), for a query that reads their documents in
the same round trip."""


def signed_in_parameters(token: str, now: datetime) -> dict[str, object]:
    return SESSIONS.parameters(token, now)


def sign_out(session: Session, token: str, now: datetime) -> None:
    SESSIONS.end(session, token, now)


def purge(session: Session, policy: OtpPolicy, now: datetime) -> dict[str, int]:
    """Forget sign-in records no limit or session can use any more, and e-mail addresses
    whose reader never confirmed them (run daily); the caller commits."""
    oldest_window = max(policy.abuse_window, policy.send_window, policy.lifetime)
    return {
        **limits.forget(session, before=now - oldest_window),
        "otp_challenges": repository.delete_challenges(session, expired_before=now - oldest_window),
        # The audit log keeps that a locker moved (numbers masked); the request's numbers go.
        "mobile_changes": repository.delete_changes(session, expired_before=now - oldest_window),
        "locker_sessions": SESSIONS.forget(session, expired_before=now - timedelta(days=1)),
        "unconfirmed_emails": emails.forget_unconfirmed(session, now),
    }
