"""Background work as named tasks, run by one job engine: Procrastinate on PostgreSQL.

Each domain declares its tasks in its own ``tasks.py`` as :class:`TaskSpec` and
:class:`PeriodicSpec`; the composition root collects them in a :class:`Registry`, which
makes each domain's declarations a Procrastinate ``Blueprint``, adds them all to one
:func:`worker_app` and runs workers (``sanad worker``), as many as wanted, on as many
machines, against the same database. The embedded (SQLite) deployment has no
PostgreSQL, so there the same specs run in-process (:mod:`sanad.local_jobs`).

Work is handed out with a :class:`JobQueue` inside the caller's transaction: on
PostgreSQL the job row is written on the session's own connection, so it exists exactly
when the change that asks for it commits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import make_url

if TYPE_CHECKING:
    import procrastinate
    from sqlalchemy.orm import Session

    from sanad.settings import Settings

log = logging.getLogger(__name__)

JsonValue = str | int | float | bool | None | list[Any] | dict[str, Any]
#: The key under which a worker hands its application context to every task.
CONTEXT_KEY = "context"
#: How long a worker may go without a heartbeat before its running jobs are handed out again.
STALLED_WORKER_SECONDS = 30


@dataclass(frozen=True)
class TaskSpec:
    """One kind of background work."""

    name: str
    """Name inside its domain's namespace (the full name is ``<namespace>:<name>``)."""
    run: Callable[..., object]
    """``run(context, **arguments)``; the context is the application context."""
    queue: str = "default"
    priority: int = 0
    """Higher runs first: periodic upkeep is never stuck behind a million-row batch."""
    cpu_bound: bool = False
    """Embedded deployment: run it in the process pool rather than a thread."""
    retry_attempts: int = 0
    """Runs after a failure (an outage), each ``retry_wait_seconds`` later."""
    retry_wait_seconds: int = 10


@dataclass(frozen=True)
class PeriodicSpec:
    """A task run on a schedule with no arguments."""

    task: str
    """The task's name inside its namespace."""
    cron: str
    """When, for Procrastinate (a 6th column is seconds)."""
    every: timedelta
    """The same schedule as an interval, for the embedded runner."""


@dataclass(frozen=True)
class Registry:
    """Every domain's tasks, by full name, and their schedules."""

    tasks: dict[str, TaskSpec] = field(default_factory=dict)
    periodic: list[tuple[str, PeriodicSpec]] = field(default_factory=list)
    """(full task name, schedule)."""
    namespaces: dict[str, tuple[list[TaskSpec], list[PeriodicSpec]]] = field(default_factory=dict)

    def add(self, namespace: str, tasks: Iterable[TaskSpec], periodic: Iterable[PeriodicSpec] = ()) -> None:
        declared = self.namespaces.setdefault(namespace, ([], []))
        for spec in tasks:
            self.tasks[f"{namespace}:{spec.name}"] = spec
            declared[0].append(spec)
        for schedule in periodic:
            self.periodic.append((f"{namespace}:{schedule.task}", schedule))
            declared[1].append(schedule)

    def blueprints(self) -> dict[str, procrastinate.Blueprint]:
        """One Procrastinate blueprint per domain, fresh (a blueprint's tasks belong to
        the one app they are added to)."""
        return {namespace: blueprint(*declared) for namespace, declared in self.namespaces.items()}


class JobQueue(Protocol):
    """Hands work to the job engine as part of the caller's transaction."""

    def defer(
        self,
        session: Session,
        task: str,
        arguments: Mapping[str, JsonValue],
        *,
        lock: str | None = None,
        queueing_lock: str | None = None,
    ) -> None:
        """Run ``task`` once ``session`` commits (never if it rolls back).

        Jobs with the same ``lock`` run one after another; a job whose ``queueing_lock``
        is already waiting is not added again."""

    def work_here(self, context: Any) -> bool:
        """Run the jobs deferred from now on in this process, if no worker would (the
        embedded deployment); whether it does."""

    def close(self) -> None: ...


def uses_job_engine(settings: Settings) -> bool:
    """Whether this deployment runs its background work on Procrastinate (PostgreSQL)."""
    return make_url(settings.database_url).get_backend_name() == "postgresql"


def for_a_command(settings: Settings) -> Settings:
    """``settings`` for a command that issues documents and exits (``sanad issue``,
    ``sanad demo-seed``). On the embedded deployment its job queue lives in its own memory
    and ends with it, so it adds long-term revisions in line rather than leave them to a
    job nobody would run; the job engine's queue outlives the command."""
    if uses_job_engine(settings):
        return settings
    return settings.model_copy(update={"long_term_deferred": False})


def conninfo(database_url: str) -> str:
    """The libpq connection string of a SQLAlchemy database URL (same server, schema and
    credentials)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def _retry(spec: TaskSpec) -> Any:
    import procrastinate

    if not spec.retry_attempts:
        return False
    return procrastinate.RetryStrategy(max_attempts=spec.retry_attempts, wait=spec.retry_wait_seconds)


def blueprint(tasks: Iterable[TaskSpec], periodic: Iterable[PeriodicSpec] = ()) -> procrastinate.Blueprint:
    """A Procrastinate blueprint running these specs (one domain's)."""
    import procrastinate

    bp = procrastinate.Blueprint()
    by_name = {}
    for spec in tasks:

        def run(job_context: procrastinate.JobContext, /, *, _spec: TaskSpec = spec, **arguments: Any) -> None:
            arguments.pop("timestamp", None)  # what Procrastinate passes a periodic task
            _spec.run(job_context.additional_context[CONTEXT_KEY], **arguments)

        as_task: Any = bp.task(
            name=spec.name, queue=spec.queue, priority=spec.priority, pass_context=True, retry=_retry(spec)
        )
        by_name[spec.name] = as_task(run)
    for schedule in periodic:
        on_schedule: Any = bp.periodic(cron=schedule.cron, periodic_id=schedule.task)
        on_schedule(by_name[schedule.task])
    return bp


def _engine_blueprint() -> procrastinate.Blueprint:
    """The engine's own upkeep: jobs of a worker that died (``kill -9``, a lost machine)
    are handed out again, and finished jobs are removed after a few days."""
    import procrastinate

    bp = procrastinate.Blueprint()

    @bp.periodic(cron="* * * * * */15", periodic_id="retry-stalled")
    @bp.task(name="retry_stalled", queue="upkeep", priority=10, queueing_lock="jobs:retry-stalled", pass_context=True)
    async def retry_stalled(job_context: procrastinate.JobContext, timestamp: int) -> None:
        manager = job_context.app.job_manager
        for job in await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_WORKER_SECONDS):
            log.warning("job %s (%s) was left by a stopped worker; handing it out again", job.id, job.task_name)
            await manager.retry_job(job)

    @bp.periodic(cron="17 3 * * *", periodic_id="remove-old-jobs")
    @bp.task(name="remove_old_jobs", queue="upkeep", priority=10, queueing_lock="jobs:remove-old", pass_context=True)
    async def remove_old_jobs(job_context: procrastinate.JobContext, timestamp: int) -> None:
        await job_context.app.job_manager.delete_old_jobs(nb_hours=72, include_failed=False)

    return bp


def worker_app(settings: Settings, blueprints: Mapping[str, procrastinate.Blueprint], *, pool_size: int) -> Any:
    """A Procrastinate app that runs every domain's tasks (``blueprints`` by namespace)."""
    import procrastinate

    connector = procrastinate.PsycopgConnector(
        conninfo=conninfo(settings.database_url), min_size=1, max_size=pool_size, kwargs={"connect_timeout": 5}
    )
    app = procrastinate.App(
        connector=connector,
        worker_defaults={
            "update_heartbeat_interval": STALLED_WORKER_SECONDS / 3,
            "stalled_worker_timeout": STALLED_WORKER_SECONDS,
        },
    )
    app.add_tasks_from(_engine_blueprint(), namespace="jobs")
    for namespace, bp in blueprints.items():
        app.add_tasks_from(bp, namespace=namespace)
    return app


class ProcrastinateQueue:
    """Defers jobs on the caller's own PostgreSQL connection, inside its transaction."""

    def __init__(self, registry: Registry) -> None:
        import procrastinate

        self._registry = registry
        # Never opened: every job is written through the caller's connection.
        self._app = procrastinate.App(connector=procrastinate.SyncPsycopgConnector())

    def defer(
        self,
        session: Session,
        task: str,
        arguments: Mapping[str, JsonValue],
        *,
        lock: str | None = None,
        queueing_lock: str | None = None,
    ) -> None:
        import procrastinate.exceptions

        spec = self._registry.tasks[task]
        connection = session.connection().connection.driver_connection
        assert connection is not None
        deferrer = self._app.configure_task(
            task,
            queue=spec.queue,
            priority=spec.priority,
            lock=lock,
            queueing_lock=queueing_lock,
            connection=connection,
        )
        try:
            # A savepoint on the driver's connection (the session would only emit one for
            # a statement of its own): a refused duplicate must not abort the caller's
            # transaction.
            with connection.transaction():
                deferrer.defer(**dict(arguments))
        except procrastinate.exceptions.AlreadyEnqueued:
            log.debug("%s is already waiting (%s)", task, queueing_lock)

    def work_here(self, context: Any) -> bool:
        return False  # workers (`sanad worker`) take the jobs from the database

    def close(self) -> None:
        pass
