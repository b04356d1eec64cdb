"""``GET /metrics``: what the processes counted, and figures read from the database when
Prometheus asks.

Queue depths and the Right to Service Act's pending and overdue counts are states, not
events: no process accumulates them, so they are read at scrape time (an indexed
group-by each) and added to the processes' counters. A database that cannot be read
makes ``sanad_scrape_figures_up`` 0 rather than failing the scrape: the request
metrics matter most exactly then.

The endpoint is for the deployment's Prometheus only: with ``SANAD_METRICS_TOKEN`` set a
scrape must present it as a bearer token; without it ``/metrics`` is open in development
and test and not served in production.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.context import AppContext
from intake.pendency import pendency
from sanad.clock import today_in_india
from sanad.errors import NotFound, Unauthorized
from sanad.jobs import uses_job_engine
from sanad.local_jobs import LocalQueue
from sanad.metrics import CONTENT_TYPE, exposition
from sanad.settings import Environment, Settings

log = logging.getLogger(__name__)

#: Jobs due to run (not those scheduled later) by queue, with the oldest one's due time:
#: its scheduled time, or when it was deferred for one that was due at once.
_PROCRASTINATE_BACKLOG = text(
    """
    SELECT j.queue_name, j.status::text, count(*),
           min(coalesce(j.scheduled_at, e.at))
    FROM procrastinate_jobs j
    LEFT JOIN procrastinate_events e ON e.job_id = j.id AND e.type = 'deferred'
    WHERE j.status IN ('todo', 'doing') AND (j.scheduled_at IS NULL OR j.scheduled_at <= now())
    GROUP BY j.queue_name, j.status
    """
)


class ScrapeFigures(Collector):
    """Gauges computed from the database for one scrape."""

    def __init__(self, context: AppContext) -> None:
        self.context = context

    def collect(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily("sanad_job_queue_depth", "Jobs waiting to run, by queue.", labels=["queue"])
        running = GaugeMetricFamily("sanad_job_queue_running", "Jobs running now, by queue.", labels=["queue"])
        age = GaugeMetricFamily(
            "sanad_job_queue_oldest_age_seconds", "How long the oldest waiting job has waited.", labels=["queue"]
        )
        pending = GaugeMetricFamily(
            "sanad_rts_open_applications",
            "Applications not yet disposed of, by department, service and status.",
            labels=["department", "service", "status"],
        )
        overdue = GaugeMetricFamily(
            "sanad_rts_overdue_applications",
            "Open applications past their due date under the Right to Service Act.",
            labels=["department", "service"],
        )
        up = 1.0
        try:
            with self.context.sessions() as session:
                self._jobs(session, depth, running, age)
                self._applications(session, pending, overdue)
        except Exception:
            log.warning("metrics: the database could not be read for the queue and pendency figures", exc_info=True)
            up = 0.0
        yield from (depth, running, age, pending, overdue)
        yield GaugeMetricFamily(
            "sanad_scrape_figures_up", "1 if the database figures of this scrape could be read.", value=up
        )

    def _jobs(
        self, session: Session, depth: GaugeMetricFamily, running: GaugeMetricFamily, age: GaugeMetricFamily
    ) -> None:
        now = time.time()
        if not uses_job_engine(self.context.settings):
            # The embedded runner keeps its jobs in memory: those of the process answering.
            if isinstance(self.context.jobs, LocalQueue):
                waiting, oldest = self.context.jobs.backlog()
                depth.add_metric(["local"], waiting)
                age.add_metric(["local"], 0.0 if oldest is None else max(0.0, now - oldest))
            return
        for queue, status, count, oldest in session.execute(_PROCRASTINATE_BACKLOG):
            if status == "doing":
                running.add_metric([queue], count)
                continue
            depth.add_metric([queue], count)
            if oldest is not None:
                age.add_metric([queue], max(0.0, now - oldest.timestamp()))

    def _applications(self, session: Session, pending: GaugeMetricFamily, overdue: GaugeMetricFamily) -> None:
        now = datetime.now(UTC)
        for row in pendency(session, today=today_in_india(now), since_month=now.strftime("%Y-%m")):
            for status, count in row.open_by_status.items():
                pending.add_metric([row.department, row.service, status], count)
            if row.open_by_status:
                overdue.add_metric([row.department, row.service], row.overdue)


def _require_scraper(request: Request, settings: Settings) -> None:
    if settings.metrics_token is None:
        if settings.env == Environment.PRODUCTION:
            raise NotFound("not found")
        return
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(presented.encode(), settings.metrics_token.encode()):
        raise Unauthorized("/metrics needs the deployment's metrics token (SANAD_METRICS_TOKEN) as a bearer token")


router = APIRouter()


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Prometheus text exposition of every metric."""
    context: AppContext = request.app.state.context
    _require_scraper(request, context.settings)
    return Response(exposition([ScrapeFigures(context)]), media_type=CONTENT_TYPE)
