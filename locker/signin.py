"""Signing in with a mobile number and a one-time password, and the sessions that follow.

Every limit is counted in the database, so it holds across worker processes: codes sent
per number and per address, wrong codes per code, per number and per address.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from locker import repository
from locker.exceptions import CodeVoid, WrongCode
from locker.models import LockerAccount, LockerSession, OtpChallenge
from sanad.errors import TooManyRequests
from sanad.ids import sha256_hex
from sanad.notify import Channel

SENT = "otp_sent"
FAILED = "otp_failed"


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


def _code_hash(secret: str, challenge_id: str, code: str) -> str:
    return hmac.new(secret.encode(), f"{challenge_id}:{code}".encode(), hashlib.sha256).hexdigest()


def _wait_seconds(oldest: datetime | None, window: timedelta, now: datetime) -> int:
    if oldest is None:
        return 1
    return max(1, math.ceil((oldest + window - now).total_seconds()))


def _minutes(seconds: int) -> str:
    minutes = max(1, -(-seconds // 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _check_limit(
    session: Session, kind: str, *, mobile: str | None, ip: str | None, limit: int, window: timedelta, now: datetime
) -> int:
    """Seconds to wait if ``limit`` events of ``kind`` happened within ``window``, else 0."""
    count, oldest = repository.recent_auth_events(
        session, kind, mobile=mobile, ip=ip, since=now - window, newest_first_limit=limit
    )
    return _wait_seconds(oldest, window, now) if count >= limit else 0


def _refuse_if_blocked(session: Session, policy: OtpPolicy, mobile: str, ip: str, now: datetime) -> None:
    for mobile_key, ip_key, limit in ((mobile, None, policy.failures_per_mobile), (None, ip, policy.failures_per_ip)):
        wait = _check_limit(
            session, FAILED, mobile=mobile_key, ip=ip_key, limit=limit, window=policy.abuse_window, now=now
        )
        if wait:
            raise TooManyRequests(f"too many wrong codes; try again in {_minutes(wait)}", wait)


def send_code(
    session: Session, channel: Channel, secret: str, policy: OtpPolicy, *, mobile: str, ip: str, now: datetime
) -> CodeSent:
    """Send a fresh code to ``mobile``; earlier codes stop working."""
    _refuse_if_blocked(session, policy, mobile, ip, now)
    wait = _check_limit(
        session, SENT, mobile=mobile, ip=None, limit=policy.sends_per_mobile, window=policy.send_window, now=now
    )
    if wait:
        raise TooManyRequests(f"too many codes sent to this number; try again in {_minutes(wait)}", wait)
    wait = _check_limit(
        session, SENT, mobile=None, ip=ip, limit=policy.sends_per_ip, window=policy.abuse_window, now=now
    )
    if wait:
        raise TooManyRequests(f"too many codes requested from this address; try again in {_minutes(wait)}", wait)

    code = "".join(secrets.choice("0123456789") for _ in range(policy.digits))
    challenge = OtpChallenge(
        id=secrets.token_hex(16), mobile=mobile, created_at=now, expires_at=now + policy.lifetime, attempts=0
    )
    challenge.code_hash = _code_hash(secret, challenge.id, code)
    repository.void_open_challenges(session, mobile, now)
    session.add(challenge)
    repository.add_auth_event(session, SENT, mobile, ip, now)
    minutes = int(policy.lifetime.total_seconds() // 60)
    channel.send(session, mobile, f"{code} is your Sanad sign-in code. It expires in {minutes} minutes.", "otp")
    session.commit()
    wait = _check_limit(
        session, SENT, mobile=mobile, ip=None, limit=policy.sends_per_mobile, window=policy.send_window, now=now
    )
    resend_after = now + timedelta(seconds=wait)
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
    _refuse_if_blocked(session, policy, mobile, ip, now)
    challenge = repository.open_challenge(session, mobile, now)
    if challenge is None:
        raise CodeVoid("no valid code for this number: request a new one")
    if challenge.attempts >= policy.attempts_per_code:
        raise CodeVoid("this code was entered wrongly too many times: request a new one")
    expected = _code_hash(secret, challenge.id, code.strip())
    if not hmac.compare_digest(expected, challenge.code_hash):
        attempts = repository.count_wrong_attempt(session, challenge.id)
        repository.add_auth_event(session, FAILED, mobile, ip, now)
        session.commit()
        left = policy.attempts_per_code - attempts
        if left <= 0:
            raise CodeVoid("wrong code, and no attempts left: request a new one")
        raise WrongCode(left)
    if not repository.consume_challenge(session, challenge.id, now):
        session.rollback()
        raise CodeVoid("this code was already used: request a new one")
    account = repository.ensure_account(session, mobile, now)
    token = secrets.token_urlsafe(32)
    expires_at = now + session_lifetime
    session.add(
        LockerSession(token_hash=sha256_hex(token), account_id=account.id, created_at=now, expires_at=expires_at)
    )
    session.commit()
    return SignedIn(account=account, token=token, expires_at=expires_at)


def account_for_token(session: Session, token: str, now: datetime) -> LockerAccount | None:
    return repository.account_for_session(session, sha256_hex(token), now)


def sign_out(session: Session, token: str, now: datetime) -> None:
    repository.end_session(session, sha256_hex(token), now)
    session.commit()


def purge(session: Session, policy: OtpPolicy, now: datetime) -> dict[str, int]:
    """Forget sign-in records no limit or session can use any more (run daily)."""
    oldest_window = max(policy.abuse_window, policy.send_window, policy.lifetime)
    counts = repository.purge_sign_in_records(
        session, events_before=now - oldest_window, sessions_before=now - timedelta(days=1)
    )
    session.commit()
    return counts
