"""Prometheus metrics every domain records into, and their exposition.

The metrics are module-level objects of ``prometheus_client``: recording one costs a
lock and an addition, so the issuing and verifying paths call them directly. With
several server processes (``sanad serve`` runs one per core) each process writes its
values to files in ``PROMETHEUS_MULTIPROC_DIR`` and the process answering a scrape adds
them up (:func:`exposition`); the variable must be set before this module is first
imported, which :func:`prepare_multiprocess_dir` does for ``sanad serve``.

Label values come from small fixed sets (route templates, stage names, indications),
never from a request's raw path or data, so the number of series stays bounded.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Requests answer in milliseconds (lookups) to seconds (issuing at B-LTA, a large upload).
_REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# One stage of issuing: rendering and signing take tens to hundreds of milliseconds.
_STAGE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4)

HTTP_REQUEST_SECONDS = Histogram(
    "sanad_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by route template.",
    ["method", "route", "status"],
    buckets=_REQUEST_BUCKETS,
)
ISSUE_STAGE_SECONDS = Histogram(
    "sanad_issue_stage_duration_seconds",
    "Time spent in one stage of issuing a document (render, sign, store).",
    ["stage"],
    buckets=_STAGE_BUCKETS,
)
DOCUMENTS_ISSUED = Counter(
    "sanad_documents_issued",
    "Documents issued (replays excluded), by the PAdES level their signature reached.",
    ["level"],
)
ISSUE_ERRORS = Counter(
    "sanad_issue_errors",
    "Failures of an issuing stage: signing_unavailable is the TSA or revocation data "
    "out of reach, signing_key_unusable a department certificate that no longer validates.",
    ["stage", "error"],
)
VERIFICATIONS = Counter(
    "sanad_verifications",
    "PDFs judged by the verifier, by ETSI indication (files refused before any check are "
    "the 4xx answers of their route).",
    ["indication"],
)


@contextmanager
def issue_stage(stage: str) -> Iterator[None]:
    """Time one issuing stage; a failure is counted under the error's code (or class name)."""
    started = time.perf_counter()
    try:
        yield
    except Exception as error:
        ISSUE_ERRORS.labels(stage, str(getattr(error, "code", type(error).__name__))).inc()
        raise
    finally:
        ISSUE_STAGE_SECONDS.labels(stage).observe(time.perf_counter() - started)


def multiprocess_dir() -> Path | None:
    value = os.environ.get(MULTIPROC_ENV)
    return Path(value) if value else None


def share_metrics_between(processes: int) -> Path | None:
    """Before starting ``processes`` server processes: with more than one, point them all
    at one empty directory for their metric files (``PROMETHEUS_MULTIPROC_DIR`` if the
    operator set it, a new temporary one otherwise), so a scrape answered by any of them
    counts every process's requests. Files of an earlier run would add to this one's."""
    if processes <= 1:
        return None
    chosen = multiprocess_dir()
    if chosen is None:
        chosen = Path(tempfile.mkdtemp(prefix="sanad-metrics-"))
    elif chosen.exists():
        shutil.rmtree(chosen)
    chosen.mkdir(parents=True, exist_ok=True)
    os.environ[MULTIPROC_ENV] = str(chosen)
    return chosen


def exposition(extra: Iterable[Collector] = ()) -> bytes:
    """The text format of every metric: all server processes' values when they share a
    directory, this process's otherwise, and ``extra`` collectors (figures read at scrape
    time, such as queue depths, which no process accumulates)."""
    from prometheus_client import REGISTRY

    registry: CollectorRegistry
    if multiprocess_dir() is not None:
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Forward(REGISTRY))
    for collector in extra:
        registry.register(collector)
    return generate_latest(registry)


def serve_on_own_port(host: str, port: int) -> Callable[[], None]:
    """Serve this process's metrics at ``http://host:port/`` from a thread, for processes
    with no HTTP server of their own (``sanad worker``); returns what stops it. Keep the
    address private (loopback by default): this port has no token."""
    from prometheus_client import REGISTRY, start_http_server

    server, thread = start_http_server(port, addr=host, registry=REGISTRY)

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join()

    return stop


class _Forward(Collector):
    """This process's own metrics, in a registry the scrape-time collectors join for one
    answer (registering them on the global one would keep them past it)."""

    def __init__(self, source: CollectorRegistry) -> None:
        self.source = source

    def collect(self) -> Iterator[Metric]:
        yield from self.source.collect()
