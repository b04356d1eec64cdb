"""The log's background work: a signed checkpoint every ten minutes when entries were
appended since the last one (``sanad audit checkpoint`` makes one at once)."""

from __future__ import annotations

import logging
from datetime import timedelta

from audit.checkpoints import checkpoint_if_grown, origin_of
from audit.dependencies import AuditContext
from sanad import jobs
from sanad.db import session_scope

NAMESPACE = "audit"
log = logging.getLogger(__name__)


def checkpoint(context: AuditContext) -> int | None:
    """Sign the tree if it grew; the new checkpoint's tree size, or None."""
    with session_scope(context.sessions) as session:
        made = checkpoint_if_grown(session, context.audit_notary, origin=origin_of(context.settings.public_base_url))
        size = None if made is None else made.tree_size
    if size is not None:
        log.info("audit checkpoint of %d entries signed", size)
    return size


TASKS = (
    jobs.TaskSpec("checkpoint", checkpoint, queue="periodic", priority=10, retry_attempts=3, retry_wait_seconds=60),
)
PERIODIC = (jobs.PeriodicSpec("checkpoint", cron="*/10 * * * *", every=timedelta(minutes=10)),)
