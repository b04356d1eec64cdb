"""Intake's background work, for the job engine: escalating late applications (daily),
finishing certificates whose approval was interrupted, and delivering notices (every few
seconds, with retries)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from intake import applications, outbox
from intake.dependencies import IntakeContext
from sanad import jobs
from sanad.db import session_scope
from sanad.notify import Channel

NAMESPACE = "intake"


class IntakeWorkContext(IntakeContext, Protocol):
    channels: dict[str, Channel]
    """Every notice channel the deployment has, by name."""


def escalate(context: IntakeWorkContext) -> int:
    """Escalate applications past their due date to the next appellate authority."""
    with session_scope(context.sessions) as session:
        return applications.escalate_overdue(session, context.intake, datetime.now(UTC))


def finish_approvals(context: IntakeWorkContext) -> int:
    """Issue the certificates of approvals that were interrupted (an outage, a crash)."""
    with session_scope(context.sessions) as session:
        return applications.resume_issuing(session, context.intake, datetime.now(UTC))


def deliver_notices(context: IntakeWorkContext) -> tuple[int, int]:
    """Deliver due notices; returns (sent, failed attempts)."""
    return outbox.dispatch(context.sessions, context.channels, datetime.now(UTC))


TASKS = (
    jobs.TaskSpec("escalate", escalate, queue="periodic", priority=10),
    jobs.TaskSpec("finish_approvals", finish_approvals, queue="periodic", priority=10),
    jobs.TaskSpec("deliver_notices", deliver_notices, queue="periodic", priority=10),
)
PERIODIC = (
    # Shortly after midnight India time (18:45 UTC): escalation happens on the day after the due date.
    jobs.PeriodicSpec("escalate", cron="45 18 * * *", every=timedelta(days=1)),
    jobs.PeriodicSpec("finish_approvals", cron="* * * * *", every=timedelta(minutes=1)),
    jobs.PeriodicSpec("deliver_notices", cron="* * * * * */5", every=timedelta(seconds=5)),
)
