"""Pushing issued certificates into citizens' DigiLocker accounts.

An issued document of a registered department (with push credentials) and a holder's
mobile number gets an outbox row (``digilocker_pushes``, action A) in its issuing
transaction; a revocation gets one with action D; a supersession, a suspension and a
reinstatement one with U. The Authorized Partner API's actions are A (add a new URI), U
(update an already added URI's details) and D (delete the URI from the account). A
suspension is reversible, so it must not delete the URI: it pushes U, DigiLocker refreshes
the URI, and Pull Doc answers Status 0 ("the certificate is suspended") until the
reinstatement's U, after which the same URI serves the document again. The job engine runs
:func:`deliver_due` every few seconds: each due row is tried in its own transaction,
with doubling waits (1 minute up to an hour) over about a day before it is marked
failed, where ``sanad digilocker pushes --status failed`` (and ``retry``) and the desk's
page (:mod:`digilocker.desk`) show it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

import audit
from digilocker import repository
from digilocker.configuration import PartnerRegistration, registration
from digilocker.doctypes import doc_types_for
from digilocker.models import DigilockerPush, PushStatus
from digilocker.partner_client import PartnerClient, PartnerRefused, PartnerUnavailable, PushedUri
from digilocker.pull import uri_of
from issuer import events
from issuer import service as issuer
from issuer.models import Document
from sanad.clock import today_in_india
from sanad.db import session_scope
from sanad.errors import Conflict, NotFound
from sanad.models import Department

log = logging.getLogger(__name__)

ACTIONS = {
    events.ISSUED: "A",
    events.REVOKED: "D",
    events.SUPERSEDED: "U",
    events.SUSPENDED: "U",
    events.REINSTATED: "U",
}
EVENTS = frozenset(ACTIONS)
"""The document events a push is queued for (kept in the push's ``details``)."""
MAX_ATTEMPTS = 30
FIRST_WAIT = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=1)
#: Pushes tried per run of the task.
BATCH = 20

ClientFactory = Callable[[PartnerRegistration], PartnerClient]


def default_client(registration: PartnerRegistration) -> PartnerClient:
    assert registration.client_id is not None
    assert registration.client_secret is not None
    return PartnerClient(registration.partner_url, registration.client_id, registration.client_secret)


def on_document_event(session: Session, document: Document, event: str) -> None:
    """The issuer's listener: queue a push for a registered department's document that
    names a holder's mobile number (the account is found by it)."""
    action = ACTIONS.get(event)
    if action is None or document.holder_mobile is None:
        return
    row = repository.issuer_for_department(session, document.department_id)
    if row is None or not row.client_id or not row.client_secret_sealed:
        return
    if document.type not in doc_types_for(row.doc_types):
        return  # a template with no DigiLocker doc type is not pushed
    now = datetime.now(UTC)
    repository.add_push(
        session,
        DigilockerPush(
            department_id=document.department_id,
            document_id=document.id,
            action=action,
            status=PushStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            details={"event": event},
        ),
    )


def _wait(attempts: int) -> timedelta:
    doubled: timedelta = FIRST_WAIT * (2 ** max(attempts - 1, 0))
    return min(doubled, LONGEST_WAIT)


def _push_one(session: Session, secret_key: str, push: DigilockerPush, client_for: ClientFactory) -> None:
    found = registration(session, secret_key, push.department_id)
    department = session.get(Department, push.department_id)
    if found is None or department is None or not found.client_id or not found.client_secret:
        raise PartnerRefused("the department's DigiLocker push credentials were removed")
    try:
        document = issuer.get_for_department(session, department, push.document_id)
    except NotFound:
        raise PartnerRefused("the document is no longer in the registry") from None
    client = client_for(found)
    if push.digilocker_id is None:
        push.digilocker_id = client.account_for_mobile(document.holder_mobile or "")
        if push.digilocker_id is None:
            push.status = PushStatus.SKIPPED
            push.last_error = "no DigiLocker account has this mobile number"
            return
    issued_on = today_in_india(document.issued_at)
    client.push_uri(
        push.digilocker_id,
        PushedUri(
            uri=uri_of(found, document),
            docid=document.id,
            action=push.action,
            issue_date=issued_on,
            valid_from=issued_on,
            valid_to=document.valid_until,
        ),
    )
    push.status = PushStatus.SENT
    push.sent_at = datetime.now(UTC)
    push.last_error = None
    if push.action == "A":
        # The account it was pushed to may now fetch it (Pull Doc).
        repository.link(session, document.id, push.digilocker_id, push.sent_at)


def deliver_due(
    sessions: sessionmaker[Session], secret_key: str, now: datetime, client_for: ClientFactory = default_client
) -> tuple[int, int]:
    """Try the pushes that are due; returns (sent or settled, failed attempts)."""
    with session_scope(sessions) as session:
        ids = [push.id for push in repository.due_pushes(session, now, BATCH)]
    settled = failed = 0
    for push_id in ids:
        with session_scope(sessions) as session:
            push = session.get(DigilockerPush, push_id, with_for_update={"skip_locked": True})
            if push is None or push.status != PushStatus.PENDING or push.next_attempt_at > now:
                continue  # another worker took it
            push.attempts += 1
            try:
                _push_one(session, secret_key, push, client_for)
                settled += 1
            except (PartnerUnavailable, PartnerRefused) as e:
                failed += 1
                push.last_error = str(e)[:500]
                if push.attempts >= MAX_ATTEMPTS:
                    push.status = PushStatus.FAILED
                    log.error("digilocker push %s of %s failed for good: %s", push.id, push.document_id, e)
                else:
                    push.next_attempt_at = now + _wait(push.attempts)
                    log.warning(
                        "digilocker push %s of %s failed (attempt %s): %s", push.id, push.document_id, push.attempts, e
                    )
    return settled, failed


def list_pushes(
    session: Session, status: str | None, limit: int, department_id: int | None = None
) -> list[DigilockerPush]:
    """Newest first; one department's when ``department_id`` is given."""
    return repository.pushes(session, status, limit, department_id)


def retry_push(session: Session, push_id: int, now: datetime) -> bool:
    return repository.retry_push(session, push_id, now)


def troubled_pushes(session: Session, department_id: int | None, limit: int) -> list[DigilockerPush]:
    """Pushes that need a person's eye: failed, or pending after a failed attempt; one
    department's, or every department's when ``department_id`` is None (head office)."""
    return repository.troubled_pushes(session, department_id, limit)


def retry_of_department(
    session: Session, push_id: int, department_id: int | None, actor: str, now: datetime
) -> DigilockerPush:
    """Try a failed push again from the start, as ``actor`` asked (noted in the audit log).
    Another department's push is :class:`NotFound`, like a missing one; a push that is not
    failed (any more) is :class:`Conflict`."""
    push = repository.push_of_department(session, push_id, department_id)
    if push is None:
        raise NotFound(f"no DigiLocker push {push_id}")
    if not repository.retry_push(session, push.id, now):
        raise Conflict(f"push {push_id} is {push.status}, not failed: it is not retried")
    audit.record(
        session,
        action="digilocker.push_retry",
        subject=f"document:{push.document_id}",
        actor=actor,
        details={"push": push.id, "action": push.action},
        at=now,
    )
    return push
