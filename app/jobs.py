"""Wiring the job engine: every domain's tasks in one registry, the queue handlers defer
into, and the workers that run them (Procrastinate on PostgreSQL, the in-process runner
on the embedded deployment)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import make_url

from audit import tasks as audit_tasks
from digilocker import tasks as digilocker_tasks
from intake import tasks as intake_tasks
from issuer import long_term_tasks
from issuer import tasks as issuer_tasks
from sanad.jobs import CONTEXT_KEY, JobQueue, ProcrastinateQueue, Registry, uses_job_engine, worker_app
from sanad.local_jobs import LocalQueue
from sanad.settings import Settings

if TYPE_CHECKING:
    from app.context import AppContext

log = logging.getLogger(__name__)

#: Pause before a worker that stopped by itself starts again.
RESTART_PAUSE_SECONDS = 5


def registry() -> Registry:
    """Every domain's tasks and schedules."""
    tasks = Registry()
    tasks.add(issuer_tasks.NAMESPACE, issuer_tasks.TASKS, issuer_tasks.PERIODIC)
    tasks.add(long_term_tasks.NAMESPACE, long_term_tasks.TASKS, long_term_tasks.PERIODIC)
    tasks.add(intake_tasks.NAMESPACE, intake_tasks.TASKS, intake_tasks.PERIODIC)
    tasks.add(digilocker_tasks.NAMESPACE, digilocker_tasks.TASKS, digilocker_tasks.PERIODIC)
    tasks.add(audit_tasks.NAMESPACE, audit_tasks.TASKS, audit_tasks.PERIODIC)
    return tasks


def job_queue(settings: Settings, tasks: Registry) -> JobQueue:
    if uses_job_engine(settings):
        return ProcrastinateQueue(tasks)
    return LocalQueue(tasks, processes=settings.batch_processes or os.cpu_count() or 1, child_factory=pool_context)


def pool_context(settings: Settings) -> tuple[AppContext, Registry]:
    """The context of one embedded pool process (built once per process)."""
    from app.context import AppContext

    context = AppContext.build(settings)
    return context, context.registry


def _lock_path(settings: Settings) -> Path | None:
    database = make_url(settings.database_url).database
    return Path(f"{database}.worker.lock") if database and database != ":memory:" else None


def start_in_process(context: AppContext) -> None:
    """The embedded deployment's background work, inside this (server) process."""
    queue = context.jobs
    assert isinstance(queue, LocalQueue), "the in-process worker is for the embedded deployment"
    queue.start(
        context,
        settings=context.settings,
        lock_path=_lock_path(context.settings),
        on_lead=lambda: log.info("resumed %d unfinished batches", issuer_tasks.resume_all(context)),
    )


def procrastinate_app(context: AppContext, *, concurrency: int) -> Any:
    """A Procrastinate app running every domain's tasks."""
    return worker_app(context.settings, context.registry.blueprints(), pool_size=concurrency + 3)


def run_worker(context: AppContext, *, concurrency: int, queues: list[str] | None = None) -> None:
    """Run a Procrastinate worker until SIGINT or SIGTERM (then it finishes the jobs it
    holds). When it stops for any other reason (the database restarted under it) it
    starts again after a pause; jobs it held are handed out again by the engine."""
    stopping = False

    async def work() -> None:
        nonlocal stopping
        app = procrastinate_app(context, concurrency=concurrency)
        async with app.open_async():
            running = asyncio.ensure_future(
                app.run_worker_async(
                    queues=queues,
                    concurrency=concurrency,
                    install_signal_handlers=False,
                    delete_jobs="successful",
                    additional_context={CONTEXT_KEY: context},
                    name=f"sanad-{os.getpid()}",
                )
            )

            def stop() -> None:
                nonlocal stopping
                stopping = True
                running.cancel()

            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop)
            with contextlib.suppress(asyncio.CancelledError):
                await running

    # What start-up built (modules, templates, keys) lives as long as the process. Frozen,
    # a full garbage collection walks only what jobs left, not all of it (~0.25 ms of CPU
    # a batch document went to collections that walked it).
    gc.collect()
    gc.freeze()
    while not stopping:
        try:
            asyncio.run(work())
        except Exception:
            log.exception("the worker stopped")
        if not stopping:
            log.warning("restarting the worker in %d seconds", RESTART_PAUSE_SECONDS)
            time.sleep(RESTART_PAUSE_SECONDS)


def drain(context: AppContext, *, queues: list[str] | None = None) -> None:
    """Run every job waiting in ``queues`` here, then return (tests, and one-off runs)."""
    if isinstance(context.jobs, LocalQueue):
        context.jobs.run_pending(context)
        return
    app = procrastinate_app(context, concurrency=1)
    app.run_worker(
        queues=queues,
        wait=False,
        install_signal_handlers=False,
        listen_notify=False,
        delete_jobs="successful",
        additional_context={CONTEXT_KEY: context},
    )
