"""Checking an uploaded PDF's signatures in a worker process with a CPU budget.

A crafted PDF can make pyHanko spend seconds, or far longer, of CPU in parsing and
difference analysis; rate limits and checking slots bound how many such files run at
once, not what one costs. So the public verifier hands the check to a small pool of
warm worker processes (spawned once, pyHanko imported once), and each check runs under
``RLIMIT_CPU``: the kernel stops a worker that spends more than its budget, without
any cooperation from the code that is stuck. The caller then refuses the file (400),
and a fresh worker takes the dead one's place. A wall-clock limit (a multiple of the
budget, for a busy machine, and at least 30 seconds) covers a check that waits rather
than computes; it answers 503, since the fault may be the server's.

The worker gets the trust anchors as DER and the revocation sources as recipes (over its
own pipe, pickled by :mod:`multiprocessing`), and keeps what it builds from them: its
CRL and OCSP caches stay warm between checks.
Measured cost per check: see ``tests/security/test_security_pdf_sandbox.py``.
"""

from __future__ import annotations

import math
import multiprocessing
import queue
import resource
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from asn1crypto import x509 as asn1_x509

from sanad.errors import BadRequest, ServiceUnavailable
from trust.revocation import CrlFetcher, OcspFetcher
from verifier.pdf import TrustAnchors, check_signature
from verifier.verdict import SignatureCheck

#: The wall-clock limit, as a multiple of the CPU budget (other work shares the CPU),
#: and at least ``MIN_WALL_SECONDS``.
WALL_FACTOR = 4
MIN_WALL_SECONDS = 30.0
#: How long a new worker may take to start (import pyHanko) before it is given up on.
START_SECONDS = 60.0
#: How long a caller waits for a free worker before answering 503.
WORKER_WAIT_SECONDS = 5.0


class TooCostlyToCheck(BadRequest):
    code = "pdf_too_costly"

    def __init__(self, cpu_seconds: int) -> None:
        super().__init__(
            f"checking this PDF took more than {cpu_seconds} s of computation and was stopped; "
            "a certificate Sanad issued checks in well under a second"
        )


class CheckerUnavailable(ServiceUnavailable):
    code = "verifier_busy"
    retry_after_seconds = 5

    def __init__(self, why: str) -> None:
        super().__init__(f"the PDF could not be checked ({why}); try again shortly")


# --- what crosses to the worker -------------------------------------------------------------


@dataclass(frozen=True)
class _Fetcher:
    """A revocation fetcher to make in the worker: its cache is per process."""

    kind: str
    """``crl`` or ``ocsp``."""
    ttl: float
    timeout: float


@dataclass(frozen=True)
class _TrustRecipe:
    roots: tuple[bytes, ...]
    intermediates: tuple[bytes, ...]
    crls: object
    ocsp: object


def _recipe(trust: TrustAnchors) -> _TrustRecipe:
    def source(value: object) -> object:
        # Fetchers hold locks and caches; any other source (kept CRLs) pickles as it is.
        if isinstance(value, CrlFetcher):
            return _Fetcher("crl", value.ttl, value.timeout)
        if isinstance(value, OcspFetcher):
            return _Fetcher("ocsp", value.ttl, value.timeout)
        return value

    return _TrustRecipe(
        roots=tuple(c.dump() for c in trust.roots),
        intermediates=tuple(c.dump() for c in trust.intermediates),
        crls=source(trust.crls),
        ocsp=source(trust.ocsp),
    )


def _anchors(recipe: _TrustRecipe) -> TrustAnchors:
    def source(value: object) -> Any:
        if isinstance(value, _Fetcher):
            fetcher = CrlFetcher if value.kind == "crl" else OcspFetcher
            return fetcher(ttl=value.ttl, timeout=value.timeout)
        return value

    return TrustAnchors(
        roots=tuple(asn1_x509.Certificate.load(der) for der in recipe.roots),
        intermediates=tuple(asn1_x509.Certificate.load(der) for der in recipe.intermediates),
        crls=source(recipe.crls),
        ocsp=source(recipe.ocsp),
    )


# --- the worker ------------------------------------------------------------------------------


def _serve(connection: Connection) -> None:
    """A worker's loop: one check at a time, until the parent goes away."""
    # A worker the kernel stops for its CPU leaves no core file behind.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    connection.send(None)  # ready: everything is imported
    built: tuple[_TrustRecipe, TrustAnchors] | None = None
    while True:
        try:
            recipe, pdf, moment, cpu_seconds = connection.recv()
        except EOFError:
            return
        if built is None or built[0] != recipe:
            built = recipe, _anchors(recipe)
        used = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
        # SIGXCPU (whose default action ends the process) once this check has spent its budget.
        soft = math.ceil(used) + cpu_seconds
        resource.setrlimit(resource.RLIMIT_CPU, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))
        check = check_signature(pdf, built[1], moment=moment)
        resource.setrlimit(resource.RLIMIT_CPU, (hard, hard))
        connection.send(check)


@dataclass
class _Worker:
    process: BaseProcess
    connection: Connection

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(timeout=5)
        self.connection.close()


class PdfSandbox:
    """A pool of at most ``size`` worker processes, started on first use and kept warm.
    Thread-safe; one per process (:data:`SANDBOX`)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._idle: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._started = 0
        self._context = multiprocessing.get_context("spawn")  # a fork would copy the server's threads

    def check_signature(
        self, pdf: bytes, trust: TrustAnchors, *, cpu_seconds: int, moment: datetime | None = None
    ) -> SignatureCheck:
        """:func:`verifier.pdf.check_signature` in a worker, stopped after
        ``cpu_seconds`` of CPU (:class:`TooCostlyToCheck`, 400) or ``WALL_FACTOR`` times
        as long on the clock (:class:`CheckerUnavailable`, 503)."""
        worker = self._take()
        try:
            worker.connection.send((_recipe(trust), pdf, moment, cpu_seconds))
            if not worker.connection.poll(max(cpu_seconds * WALL_FACTOR, MIN_WALL_SECONDS)):
                raise CheckerUnavailable("it took too long")
            result: SignatureCheck = worker.connection.recv()
        except (EOFError, OSError) as ended:
            self._replace(worker)
            if worker.process.exitcode == -signal.SIGXCPU:
                raise TooCostlyToCheck(cpu_seconds) from ended
            raise CheckerUnavailable("the checker stopped") from ended
        except BaseException:
            self._replace(worker)
            raise
        self._idle.put(worker)
        return result

    def warm(self) -> None:
        """Start every worker now rather than on the first checks."""
        workers = []
        with self._lock:
            while self._started < self.size:
                workers.append(self._start())
        for worker in workers:
            self._idle.put(worker)

    def close(self) -> None:
        while True:
            try:
                worker = self._idle.get_nowait()
            except queue.Empty:
                return
            with self._lock:
                self._started -= 1
            worker.stop()

    def _take(self) -> _Worker:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            if self._started < self.size:
                return self._start()
        try:
            return self._idle.get(timeout=WORKER_WAIT_SECONDS)
        except queue.Empty:
            raise CheckerUnavailable("every checker is busy") from None

    def _start(self) -> _Worker:
        """A new worker, counted; call with the lock held."""
        parent, child = self._context.Pipe()
        process = self._context.Process(target=_serve, args=(child,), name="sanad-pdf-check", daemon=True)
        process.start()
        child.close()
        worker = _Worker(process, parent)
        try:
            # Ready once it has imported pyHanko: its first check's clock starts after that.
            if not parent.poll(START_SECONDS):
                raise CheckerUnavailable("the checker did not start")
            parent.recv()
        except (EOFError, OSError) as failed:
            worker.stop()
            raise CheckerUnavailable("the checker did not start") from failed
        except BaseException:
            worker.stop()
            raise
        self._started += 1
        return worker

    def _replace(self, worker: _Worker) -> None:
        worker.stop()
        with self._lock:
            self._started -= 1


_shared: PdfSandbox | None = None
_shared_lock = threading.Lock()


def sandbox(size: int) -> PdfSandbox:
    """The process's sandbox, made on first use with ``size`` workers: as many as checks
    may run at once (``verify_max_concurrent``). Every app of a process shares it."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = PdfSandbox(size)
        return _shared


def sandboxed_checker(size: int, cpu_seconds: int) -> Callable[..., SignatureCheck]:
    """A drop-in for :func:`verifier.pdf.check_signature` that runs in the sandbox."""
    pool = sandbox(size)

    def check(pdf: bytes, trust: TrustAnchors, *, moment: datetime | None = None) -> SignatureCheck:
        return pool.check_signature(pdf, trust, cpu_seconds=cpu_seconds, moment=moment)

    return check
