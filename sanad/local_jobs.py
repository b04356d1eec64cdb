"""The embedded deployment's job runner: the same task specs as the job engine, run inside
one process, since Procrastinate needs PostgreSQL and the embedded default has none.

Jobs live in memory only. What must survive a crash is kept by the tasks themselves in
their own tables (a batch's rows), and a periodic sweeper hands unfinished work out
again, at start-up first. CPU-bound tasks (rendering and signing) run in a process pool
whose processes each build the application context once; the rest run on one thread.
Without :meth:`LocalQueue.start` nothing runs by itself: :meth:`LocalQueue.run_pending`
runs what is waiting, in the calling thread (tests, and commands that wait).
"""

from __future__ import annotations

import fcntl
import functools
import logging
import multiprocessing
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from sanad.jobs import JsonValue, Registry

log = logging.getLogger(__name__)

ChildFactory = Callable[[Any], tuple[Any, Registry]]
"""Builds, in a pool process, the application context and the registry from the settings."""

_PENDING = "sanad.local_jobs.pending"


@dataclass
class _Job:
    task: str
    arguments: dict[str, JsonValue]
    queueing_lock: str | None
    attempts: int = 0
    queued_at: float = field(default_factory=time.time)


class LocalQueue:
    """Runs deferred jobs in this process once the deferring transaction commits."""

    def __init__(self, registry: Registry, *, processes: int, child_factory: ChildFactory | None = None) -> None:
        self.registry = registry
        self.processes = processes
        self.child_factory = child_factory
        self._waiting: deque[_Job] = deque()
        self._queued_locks: set[str] = set()
        self._mutex = threading.Lock()
        self._inbox: queue.Queue[_Job | None] | None = None
        self._threads: list[threading.Thread] = []
        self._pool: ProcessPoolExecutor | None = None
        self._stop = threading.Event()
        self._lock_file: IO[str] | None = None

    # --- deferring -----------------------------------------------------------------

    def defer(
        self,
        session: Session,
        task: str,
        arguments: Mapping[str, JsonValue],
        *,
        lock: str | None = None,
        queueing_lock: str | None = None,
    ) -> None:
        if task not in self.registry.tasks:
            raise LookupError(f"no task named {task!r}")
        if not event.contains(session, "after_commit", self._committed):
            event.listen(session, "after_commit", self._committed)
            event.listen(session, "after_soft_rollback", self._rolled_back)
        session.info.setdefault(_PENDING, []).append(_Job(task, dict(arguments), queueing_lock))

    def _committed(self, session: Session) -> None:
        for job in session.info.pop(_PENDING, []):
            self._submit(job)

    def _rolled_back(self, session: Session, previous_transaction: Any) -> None:
        if previous_transaction.parent is None:  # the outermost transaction: its jobs go with it
            session.info.pop(_PENDING, None)

    def _submit(self, job: _Job) -> None:
        with self._mutex:
            if job.queueing_lock is not None:
                if job.queueing_lock in self._queued_locks:
                    return
                self._queued_locks.add(job.queueing_lock)
            if self._inbox is not None:
                self._inbox.put(job)
            else:
                self._waiting.append(job)

    def _started(self, job: _Job) -> None:
        with self._mutex:
            if job.queueing_lock is not None:
                self._queued_locks.discard(job.queueing_lock)

    def backlog(self) -> tuple[int, float | None]:
        """How many jobs wait to run in this process, and the oldest one's queueing time
        (Unix seconds; None when none waits): the queue depth and age metrics."""
        with self._mutex:
            waiting = list(self._waiting)
            if self._inbox is not None:
                with self._inbox.mutex:
                    waiting += [job for job in self._inbox.queue if job is not None]
        return len(waiting), min((job.queued_at for job in waiting), default=None)

    # --- running in the calling thread ------------------------------------------------

    def run_pending(self, context: Any) -> int:
        """Run every waiting job (and what they defer) here and now; returns how many ran.
        A job that fails is retried as its spec says, then dropped (and logged)."""
        ran = 0
        while True:
            with self._mutex:
                if not self._waiting:
                    return ran
                job = self._waiting.popleft()
            self._started(job)
            ran += 1
            try:
                self.registry.tasks[job.task].run(context, **job.arguments)
            except Exception:
                self._failed(job)

    def _failed(self, job: _Job) -> bool:
        """Log a failure; requeue the job if its spec allows another attempt."""
        spec = self.registry.tasks[job.task]
        job.attempts += 1
        if job.attempts <= spec.retry_attempts:
            log.warning("job %s failed (attempt %d); retrying", job.task, job.attempts, exc_info=True)
            self._submit_later(job, 0 if self._inbox is None else spec.retry_wait_seconds)
            return True
        log.error("job %s failed for good: %s", job.task, job.arguments, exc_info=True)
        return False

    def _submit_later(self, job: _Job, seconds: float) -> None:
        job = _Job(job.task, job.arguments, None, job.attempts)
        if seconds <= 0:
            self._submit(job)
            return
        timer = threading.Timer(seconds, self._submit, args=(job,))
        timer.daemon = True
        timer.start()

    # --- running in the background ---------------------------------------------------

    def start(
        self,
        context: Any,
        *,
        settings: Any,
        lock_path: Path | None = None,
        on_lead: Callable[[], object] | None = None,
        periodic: bool = True,
    ) -> None:
        """Run jobs from now on: CPU-bound ones in a process pool, the rest on a thread; and
        the periodic tasks on schedule, in one process of the deployment only (the one
        holding ``lock_path``, when given), which first calls ``on_lead``."""
        with self._mutex:
            self._inbox = queue.Queue()
            for job in self._waiting:
                self._inbox.put(job)
            self._waiting.clear()
        if self.child_factory is not None and any(s.cpu_bound for s in self.registry.tasks.values()):
            self._pool = ProcessPoolExecutor(
                max_workers=self.processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_child_start,
                initargs=(self.child_factory, settings),
            )
        self._spawn(self._dispatch, context)
        if periodic:
            self._spawn(self._schedule, context, lock_path, on_lead)

    def work_here(self, context: Any) -> bool:
        """Run deferred jobs in this process from now on (not the periodic ones: a
        command waiting for its batch must not deliver the deployment's notices)."""
        if self._inbox is None:
            self.start(context, settings=context.settings, periodic=False)
        return True

    def _spawn(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=f"sanad-{target.__name__}", daemon=True)
        thread.start()
        self._threads.append(thread)

    def _dispatch(self, context: Any) -> None:
        assert self._inbox is not None
        while (job := self._inbox.get()) is not None:
            self._started(job)
            spec = self.registry.tasks[job.task]
            if spec.cpu_bound and self._pool is not None:
                future = self._pool.submit(_child_run, job.task, job.arguments)
                future.add_done_callback(functools.partial(self._finished, job))
                continue
            try:
                spec.run(context, **job.arguments)
            except Exception:
                self._failed(job)

    def _finished(self, job: _Job, future: Future[None]) -> None:
        if future.cancelled() or self._stop.is_set():
            return
        if future.exception() is not None:
            try:
                raise future.exception()  # type: ignore[misc]  # for the log's traceback
            except Exception:
                self._failed(job)

    def _schedule(self, context: Any, lock_path: Path | None, on_lead: Callable[[], object] | None) -> None:
        if lock_path is not None:
            while not self._stop.is_set() and not self._hold(lock_path):
                self._stop.wait(10)
        if on_lead is not None:
            try:
                on_lead()
            except Exception:
                log.exception("the background work's start-up step failed")
        due = dict.fromkeys((name for name, _ in self.registry.periodic), 0.0)
        while not self._stop.is_set():
            now = time.monotonic()
            for name, schedule in self.registry.periodic:
                if due[name] <= now:
                    due[name] = now + schedule.every.total_seconds()
                    try:
                        self.registry.tasks[name].run(context)
                    except Exception:
                        log.exception("periodic task %s failed", name)
            self._stop.wait(max(0.5, min(due.values()) - time.monotonic()))

    def _hold(self, lock_path: Path) -> bool:
        """Take the deployment's lock on periodic work (released by the OS if we die)."""
        handle = lock_path.open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._lock_file = handle
        log.info("process %d runs the periodic background work", os.getpid())
        return True

    def close(self) -> None:
        self._stop.set()
        if self._inbox is not None:
            self._inbox.put(None)
        for thread in self._threads:
            thread.join(timeout=5)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        if self._lock_file is not None:
            self._lock_file.close()


_child: tuple[Any, Registry] | None = None


def _child_start(factory: ChildFactory, settings: Any) -> None:
    global _child  # one context per pool process, built once
    _child = factory(settings)


def _child_run(task: str, arguments: dict[str, JsonValue]) -> None:
    assert _child is not None, "the pool process was not initialised"
    context, registry = _child
    registry.tasks[task].run(context, **arguments)
