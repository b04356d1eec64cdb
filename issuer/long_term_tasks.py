"""The long-term revision of documents issued at B-T, on the job engine.

Issuing signs at B-T and answers at once; the revision that makes the file B-LT or B-LTA
(revocation data produced after the signature's timestamp, and the document timestamp)
needs data that exists only from the next whole second on, so a job adds it shortly
after. One job carries a chunk of documents (a batch's chunk, or a single issue), since
the fetched answers serve every document signed in the same second.

A job lost with its process (the embedded runner keeps jobs in memory) is made up for by
the sweep, which takes documents left pending for longer than ``SWEEP_AFTER``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sanad import jobs
from sanad.db import session_scope

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

NAMESPACE = "issuer"
AUGMENT = f"{NAMESPACE}:augment_long_term"
#: Longer than any job waits in its queue on a working deployment: a document older than
#: this and still pending lost its job (or its evidence could not be had yet).
SWEEP_AFTER = timedelta(minutes=2)
#: A retry after a responder or the TSA failed: the sweep would take the document anyway.
_RETRY_ATTEMPTS, _RETRY_WAIT_SECONDS = 3, 20


class EvidenceStillUnavailable(Exception):
    """Some documents of the job are still at B-T: the job runs again later."""


def defer_augmentation(session: Session, queue: jobs.JobQueue, document_ids: Sequence[str]) -> None:
    """Hand the long-term revision of ``document_ids`` (issued with ``defer_long_term``
    and recorded ``long_term_pending``) to the job engine, in the caller's transaction:
    one job for them all. For bulk issuing, call it once per chunk."""
    if document_ids:
        queue.defer(session, AUGMENT, {"document_ids": list(document_ids)})


def _augment(context: Any, document_ids: list[str]) -> None:
    from issuer.service import add_long_term_revisions

    with session_scope(context.sessions) as session:
        outcome = add_long_term_revisions(session, context.kit, document_ids=document_ids)
    for document_id, error in outcome.failed.items():
        log.warning("the long-term revision of %s failed: %s", document_id, error)
    if outcome.waiting:
        raise EvidenceStillUnavailable(", ".join(f"{k}: {v}" for k, v in outcome.waiting.items()))


def _sweep(context: Any) -> None:
    from issuer.service import add_long_term_revisions

    with session_scope(context.sessions) as session:
        outcome = add_long_term_revisions(
            session, context.kit, issued_before=datetime.now(UTC) - SWEEP_AFTER, limit=500
        )
    if outcome.raised or outcome.waiting or outcome.failed:
        log.info(
            "long-term sweep: %d added, %d waiting, %d failed",
            len(outcome.raised),
            len(outcome.waiting),
            len(outcome.failed),
        )


TASKS = (
    jobs.TaskSpec(
        "augment_long_term",
        _augment,
        queue="long_term",
        retry_attempts=_RETRY_ATTEMPTS,
        retry_wait_seconds=_RETRY_WAIT_SECONDS,
    ),
    jobs.TaskSpec("sweep_long_term", _sweep, queue="periodic", priority=10),
)
PERIODIC = (jobs.PeriodicSpec("sweep_long_term", cron="* * * * *", every=timedelta(minutes=1)),)

__all__ = ["AUGMENT", "NAMESPACE", "PERIODIC", "TASKS", "defer_augmentation"]
