"""The outbox: a message to a citizen is a row written in the same transaction as the
change it reports, then delivered by ``dispatch`` with retries. A channel outage delays
messages; it never loses them and never fails the change.

Messages go to the mobile number an application was made with, and to an e-mail address
given on its form only once the address's reader has proved they want them
(:func:`email_if_verified`)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from accounts import emails
from intake.models import Notification
from intake.notices import notice
from sanad.db import PreparedInsert
from sanad.mobile import masked_mobile
from sanad.notify import Channel

log = logging.getLogger(__name__)

EMAIL_CONFIRMATION_PATH = "/email/confirm"
"""Where the one-time link to prove an e-mail address opens (``/email/confirm/<secret>``)."""
MAX_ATTEMPTS = 12
"""With doubling waits from one minute (capped at an hour) this keeps trying ~8 hours."""


_table = Notification.__table__
assert isinstance(_table, Table)
_NOTIFICATION_ROWS = PreparedInsert(_table)


def retry_delay(attempts: int) -> timedelta:
    """Wait after the ``attempts``-th failure: 1, 2, 4 … minutes, at most an hour."""
    return min(timedelta(minutes=2 ** (attempts - 1)), timedelta(hours=1))


def enqueue(
    session: Session,
    *,
    recipients: Mapping[str, str],
    purpose: str,
    body: str,
    application_id: str | None,
    now: datetime,
) -> None:
    """Add the message for each ``channel: address`` to the caller's transaction; they
    exist only if the change commits."""
    _insert(
        session,
        [_row(channel, recipient, purpose, body, application_id, now) for channel, recipient in recipients.items()],
    )


def email_if_verified(
    session: Session,
    *,
    mobile: str,
    email: object,
    language: str,
    public_base_url: str,
    application_id: str | None,
    now: datetime,
) -> dict[str, str]:
    """``{"email": email}`` when the address's reader has proved they want the notices of
    ``mobile`` (:mod:`accounts.emails`). Otherwise nothing: the only message the address
    gets is the one-time link asking for that proof, enqueued here at most once a day."""
    if not isinstance(email, str) or not email:
        return {}
    if emails.is_verified(session, mobile, email):
        return {"email": email}
    token = emails.new_link(session, mobile, email, now)
    if token is not None:
        link = f"{public_base_url}{EMAIL_CONFIRMATION_PATH}/{token}"
        body = notice("email_link", language, mobile=masked_mobile(mobile), link=link)
        _insert(session, [_row("email", email, "email_link", body, application_id, now)])
    return {}


def _row(
    channel: str, recipient: str, purpose: str, body: str, application_id: str | None, now: datetime
) -> dict[str, object]:
    return {
        "channel": channel,
        "recipient": recipient,
        "purpose": purpose,
        "body": body,
        "application_id": application_id,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def _insert(session: Session, rows: list[dict[str, object]]) -> None:
    """The rows as one prepared INSERT in the session's transaction (sent with the
    statements around it inside :func:`sanad.db.pipelined`). Nothing reads them back
    before the commit, and the unit of work's bookkeeping for them (a flush that reads
    each new id back) cost more CPU than the statement itself. Objects still pending in
    the session go first, as an ORM insert would flush them."""
    _NOTIFICATION_ROWS.run(session, rows)


def dispatch(
    sessions: Callable[[], Session], channels: Mapping[str, Channel], now: datetime, *, limit: int = 100
) -> tuple[int, int]:
    """Deliver due messages; returns (sent, failed attempts). Safe to run in several
    processes at once on PostgreSQL (rows are claimed with SKIP LOCKED)."""
    sent = failed = 0
    with sessions() as session:
        query = (
            select(Notification)
            .where(Notification.status == "pending", Notification.next_attempt_at <= now)
            .order_by(Notification.next_attempt_at)
            .limit(limit)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        for notification in session.scalars(query).all():
            try:
                channel = channels.get(notification.channel)
                if channel is None:
                    raise LookupError(f"no {notification.channel} channel is configured")
                channel.send(session, notification.recipient, notification.body, notification.purpose)
            except Exception as e:  # any channel failure is retried, never lost
                notification.attempts += 1
                notification.last_error = str(e)[:500]
                if notification.attempts >= MAX_ATTEMPTS:
                    notification.status = "failed"
                    log.error("gave up delivering notification %s: %s", notification.id, e)
                else:
                    notification.next_attempt_at = now + retry_delay(notification.attempts)
                failed += 1
            else:
                notification.status = "sent"
                notification.sent_at = now
                notification.attempts += 1
                sent += 1
        # A job: the round is its own transaction, committed here with every attempt's
        # outcome (which also releases the rows claimed above).
        session.commit()
    return sent, failed
