"""The issuer's background work, for the job engine: bulk issuing (a batch's start and
its chunks of rows, and handing out again batches whose worker died) and the daily
renewal of archival timestamps."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from issuer.batches_submit import NAMESPACE
from sanad import jobs

if TYPE_CHECKING:
    from issuer.batches import BatchRuntime

log = logging.getLogger(__name__)

#: Every retry of a chunk waits this long; with 30 attempts an outage of up to five
#: minutes (a restarted database, a stopped object store) only delays the batch.
_RETRY_ATTEMPTS, _RETRY_WAIT_SECONDS = 30, 10


# The issuing machinery is imported when a task first runs: a command that only defers
# a job (``sanad batch submit``) reads this module for the tasks' queues and settings.


def _process_batch(runtime: BatchRuntime, batch_id: str) -> None:
    from issuer import batches

    batches.process_batch(runtime, batch_id)


def _issue_rows(runtime: BatchRuntime, batch_id: str, first: int, last: int) -> None:
    from issuer import batches

    batches.issue_rows(runtime, batch_id, first, last)


def _discard_objects(runtime: BatchRuntime, keys: list[str]) -> None:
    from issuer import batches_issuing

    batches_issuing.discard_objects(runtime.sessions, runtime.kit, keys)


def _resume_batches(runtime: BatchRuntime) -> None:
    from issuer import batches

    batches.resume_stalled(runtime)


def _archive_refresh(runtime: BatchRuntime) -> None:
    """What ``sanad archive refresh`` does, once a day."""
    from issuer.service import refresh_archives
    from sanad.db import session_scope

    with session_scope(runtime.sessions) as session:
        outcome = refresh_archives(
            session,
            runtime.kit,
            now=datetime.now(UTC),
            within=timedelta(days=runtime.settings.archive_refresh_days),
        )
    for document_id, error in outcome.failed.items():
        log.warning("archive refresh of %s failed: %s", document_id, error)


TASKS = (
    jobs.TaskSpec(
        "process_batch",
        _process_batch,
        queue="batches",
        retry_attempts=_RETRY_ATTEMPTS,
        retry_wait_seconds=_RETRY_WAIT_SECONDS,
    ),
    jobs.TaskSpec(
        "issue_rows",
        _issue_rows,
        queue="batches",
        cpu_bound=True,
        retry_attempts=_RETRY_ATTEMPTS,
        retry_wait_seconds=_RETRY_WAIT_SECONDS,
    ),
    jobs.TaskSpec(
        "discard_objects",
        _discard_objects,
        queue="batches",
        retry_attempts=_RETRY_ATTEMPTS,
        retry_wait_seconds=_RETRY_WAIT_SECONDS,
    ),
    jobs.TaskSpec("resume_batches", _resume_batches, queue="periodic", priority=10),
    jobs.TaskSpec("archive_refresh", _archive_refresh, queue="periodic", priority=10),
)
PERIODIC = (
    jobs.PeriodicSpec("resume_batches", cron="* * * * *", every=timedelta(minutes=1)),
    jobs.PeriodicSpec("archive_refresh", cron="40 2 * * *", every=timedelta(days=1)),
)


def resume_all(runtime: BatchRuntime) -> int:
    """Every unfinished batch, handed out again (the embedded runner, at start-up)."""
    from issuer import batches

    return batches.resume_all(runtime)


__all__ = ["NAMESPACE", "PERIODIC", "TASKS", "resume_all"]
