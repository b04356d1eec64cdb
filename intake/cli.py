"""Intake's command: ``sanad intake work``, the background work of the legal clock
(escalations, interrupted issuing, notices)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from sanad.cli import app_context, load_settings

if TYPE_CHECKING:
    from typing import Protocol

    from intake.dependencies import IntakeContext
    from sanad.notify import Channel

    class WorkerContext(IntakeContext, Protocol):
        channels: dict[str, Channel]
        """Every notice channel the deployment has, by name."""


app = typer.Typer(name="intake", help="Applications: the background work of the legal clock.", no_args_is_help=True)
"""``sanad intake``; the root command adds it."""


@app.command("work")
def intake_work(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="One round, then exit (for cron)")] = False,
    interval: Annotated[int, typer.Option(help="Seconds between rounds")] = 30,
) -> None:
    """Escalate late applications, finish interrupted issuing, and deliver notices (with
    retries). Run one of these next to the server; several are safe on PostgreSQL."""
    import time as clock

    from intake import applications, outbox
    from sanad.db import session_scope

    context: WorkerContext
    with app_context(ctx, load_settings()) as context:
        while True:
            now = datetime.now(UTC)
            with session_scope(context.sessions) as session:
                escalated = applications.escalate_overdue(session, context.intake, now)
                issued = applications.resume_issuing(session, context.intake, now)
            sent, failed = outbox.dispatch(context.sessions, context.channels, now)
            if escalated or issued or sent or failed:
                typer.echo(f"escalated {escalated}, issued {issued}, notices sent {sent}, failed {failed}")
            if once:
                return
            clock.sleep(interval)
