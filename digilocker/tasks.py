"""DigiLocker's background work, for the job engine: delivering pushes (every few
seconds, retried with doubling waits) and forgetting pull transaction ids once the
replay window has passed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from digilocker import pushing, repository
from digilocker.authentication import TS_WINDOW
from sanad import jobs
from sanad.db import session_scope
from sanad.dependencies import Runtime

NAMESPACE = "digilocker"


def deliver_pushes(context: Runtime) -> tuple[int, int]:
    return pushing.deliver_due(context.sessions, context.settings.secret_key, datetime.now(UTC))


def forget_transactions(context: Runtime) -> int:
    """A transaction id older than twice the window can no longer be replayed (its ts is stale)."""
    with session_scope(context.sessions) as session:
        return repository.forget_txns_before(session, datetime.now(UTC) - 2 * TS_WINDOW)


TASKS = (
    jobs.TaskSpec("deliver_pushes", deliver_pushes, queue="periodic", priority=10),
    jobs.TaskSpec("forget_transactions", forget_transactions, queue="periodic", priority=10),
)
PERIODIC = (
    jobs.PeriodicSpec("deliver_pushes", cron="* * * * * */10", every=timedelta(seconds=10)),
    jobs.PeriodicSpec("forget_transactions", cron="23 * * * *", every=timedelta(hours=1)),
)
