"""E-mail addresses whose readers proved they want mail there.

An address typed into a form proves nothing: anyone can type anyone's. So the only mail
an unproven address gets is a one-time link asking whether its reader wants the notices,
at most one a day; everything else waits until someone who reads that mailbox has opened
the link and confirmed. Until then notices go only to the mobile number, which is proven
(a one-time code, or an operator at a counter). The proof is for one mobile number and
one address: it says the mailbox's reader wants the notices of that number.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from accounts import limits, repository
from accounts.models import EmailAddress
from sanad.ids import sha256_hex

LINK_LIFETIME = timedelta(days=7)
"""A link confirms the address this long after it was sent."""
LINK_INTERVAL = timedelta(days=1)
"""At most one link a day to an address for one number: typing a stranger's address into
form after form cannot fill their mailbox."""
LINK = "email_link"
"""The key links to one address for one number take turns on (:mod:`accounts.limits`)."""


def normalized(email: str) -> str:
    """The address as typed, its domain in lower case (domains ignore case; local parts
    may not)."""
    local, _, domain = email.strip().rpartition("@")
    return f"{local}@{domain.lower()}"


def is_verified(session: Session, mobile: str, email: str) -> bool:
    """Whether notices of ``mobile`` may go to ``email``."""
    return repository.email_address(session, mobile, normalized(email), verified=True) is not None


def new_link(session: Session, mobile: str, email: str, now: datetime) -> str | None:
    """The secret of a new one-time link to send to ``email``, in the caller's transaction;
    None when none is to be sent: the address is verified for ``mobile``, or a link went to
    it within a day."""
    email = normalized(email)
    limits.take_turn(session, limits.key(LINK, name=f"{mobile}/{email}"), now=now)
    known = repository.email_address(session, mobile, email)
    if known is not None and (known.verified_at is not None or known.link_sent_at > now - LINK_INTERVAL):
        return None
    token = secrets.token_urlsafe(24)
    if known is None:
        session.add(EmailAddress(mobile=mobile, email=email, token_hash=sha256_hex(token), link_sent_at=now))
    else:  # the earlier link stops working
        known.token_hash, known.link_sent_at = sha256_hex(token), now
    session.flush()
    return token


def awaiting(session: Session, token: str, now: datetime) -> EmailAddress | None:
    """The unverified address a live link's ``token`` confirms, or None."""
    if len(token) > 64:
        return None
    return repository.email_awaiting_proof(session, sha256_hex(token), sent_after=now - LINK_LIFETIME)


def confirm(session: Session, token: str, now: datetime) -> EmailAddress | None:
    """Mark the address of a live link verified (the link then stops working); None when
    the link is unknown, used or expired."""
    address = awaiting(session, token, now)
    if address is None or not repository.verify_email_address(session, address.id, now):
        return None
    return address


def forget_unconfirmed(session: Session, now: datetime) -> int:
    """Delete addresses whose last link expired unconfirmed: typed in by someone, never
    wanted by their reader. How many."""
    return repository.delete_unconfirmed_email_addresses(session, sent_before=now - LINK_LIFETIME)
