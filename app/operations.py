"""Liveness and readiness, the probes an orchestrator and a load balancer call."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.context import AppContext
from issuer.render_libraries import missing_renderer_libraries
from sanad.errors import ServiceUnavailable
from sanad.storage import StorageUnavailable

RETRY_AFTER_SECONDS = str(ServiceUnavailable.retry_after_seconds)

router = APIRouter(tags=["operations"])


@router.get("/health")
async def health() -> dict[str, str]:
    """Liveness: the process answers."""
    # async: nothing here waits, so it runs on the event loop rather than a pool thread.
    return {"status": "ok"}


@router.get("/ready", responses={503: {"description": "A dependency is down."}})
def ready(request: Request) -> JSONResponse:
    """Readiness: the database and the object store are reachable, and the renderer is the
    Typst release the certificate templates are made for."""
    ctx: AppContext = request.app.state.context
    checks = {"database": "ok", "storage": "ok", "renderer": "ok"}
    try:
        with ctx.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        checks["database"] = "unavailable"
    try:
        ctx.store.ping()
    except StorageUnavailable:
        checks["storage"] = "unavailable"
    if missing := missing_renderer_libraries():
        checks["renderer"] = "; ".join(missing)
    ok = all(v == "ok" for v in checks.values())
    headers = None if ok else {"Retry-After": RETRY_AFTER_SECONDS}
    return JSONResponse({"status": "ok" if ok else "unavailable", **checks}, 200 if ok else 503, headers)
